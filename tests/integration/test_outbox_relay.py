"""Transactional outbox and relay over a real PostgreSQL and a real RabbitMQ.

- a use case that fails leaves neither its business rows nor its events;
- the relay publishes committed rows persistent, confirmed, with the event's identity;
- an unroutable event is not lost: the row stays unsent with the error, and goes out later;
- two relays over one outbox never publish a row twice (FOR UPDATE SKIP LOCKED + lease).
"""

import asyncio
import json
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from aio_pika import DeliveryMode
from sqlalchemy import Engine, select
from sqlmodel import Session

from services.assignments import directory, planning
from services.assignments.auth import Actor
from services.assignments.domain import Role
from services.assignments.errors import NotFound
from services.assignments.models import Assignment, AuditEntry, Plan, Task, Unit
from services.assignments.schemas import AssignmentCreate, PlanCreate, TaskCreate, UnitCreate
from shared.db import session_scope
from shared.events import parse_event
from shared.messaging.broker import make_broker
from shared.messaging.outbox import OutboxMessage
from shared.messaging.publisher import connect_until_stopped, outbox_publisher
from shared.messaging.relay import claim_batch, outbox_relay, pending_count
from tests.integration.conftest import (
    Amqp,
    count_rows,
    make_due,
    outbox_rows,
    relay_outbox,
    stage_events,
    unit_event,
    wait_until,
)

pytestmark = pytest.mark.integration

ADMIN = Actor(official_id=1, name="Quản trị hệ thống", role=Role.ADMIN, unit_id=None, correlation_id="req-atomic")


class Boom(Exception):
    """Something fails after the use case wrote its rows, before the commit."""


# -- 1. atomicity ----------------------------------------------------------------------------

def test_failed_transaction_leaves_neither_business_row_nor_event(assignments_engine: Engine) -> None:
    engine = assignments_engine
    with pytest.raises(Boom), session_scope(engine) as session:
        unit = directory.create_unit(session, actor=ADMIN, data=UnitCreate(code="DUK", name="Đảng ủy Khối",
                                                                          kind="bloc_committee"))
        session.flush()
        # the unit, its audit entry and its event really were written in this transaction...
        assert session.get(Unit, unit.id) is not None
        assert len(list(session.scalars(select(OutboxMessage)))) == 1
        assert len(list(session.scalars(select(AuditEntry)))) == 1
        raise Boom("the request failed after the use case")
    # ...and none survived the rollback
    assert count_rows(engine, Unit) == 0
    assert count_rows(engine, OutboxMessage) == 0
    assert count_rows(engine, AuditEntry) == 0

    # the same use case, committed, leaves both: the assertions above can tell the difference
    with session_scope(engine) as session:
        directory.create_unit(session, actor=ADMIN, data=UnitCreate(code="DUK", name="Đảng ủy Khối",
                                                                   kind="bloc_committee"))
    assert count_rows(engine, Unit) == 1
    [row] = outbox_rows(engine)
    assert row.event_type == "unit.created.v1" and row.correlation_id == "req-atomic" and row.sent_at is None


def test_assign_with_one_unknown_unit_assigns_nobody_and_emits_nothing(assignments_engine: Engine) -> None:
    engine = assignments_engine
    with session_scope(engine) as session:
        units = [directory.create_unit(session, actor=ADMIN, data=UnitCreate(code=f"CB{i}", name=f"Chi bộ {i}",
                                                                            kind="party_cell"))
                 for i in range(5)]
        plan, [task] = planning.create_plan(session, actor=ADMIN, data=PlanCreate(
            number="41-KH/ĐUK", title="Kế hoạch", tasks=[TaskCreate(code="III.1", title="Quán triệt")]))
    before = count_rows(engine, OutboxMessage)
    assert before == 6  # five units and the plan

    unit_ids = [u.id for u in units[:4]] + [999_999] + [units[4].id]
    with pytest.raises(NotFound), session_scope(engine) as session:
        planning.assign(session, actor=ADMIN, plan_id=plan.id,
                       data=AssignmentCreate(task_id=task.id, unit_ids=unit_ids))
    assert count_rows(engine, Assignment) == 0
    assert count_rows(engine, OutboxMessage) == before
    assert count_rows(engine, AuditEntry, AuditEntry.action == "assignment.create") == 0
    assert count_rows(engine, Plan) == 1 and count_rows(engine, Task) == 1

    with session_scope(engine) as session:
        planning.assign(session, actor=ADMIN, plan_id=plan.id,
                       data=AssignmentCreate(task_id=task.id, unit_ids=[u.id for u in units]))
    assert count_rows(engine, Assignment) == 5
    assert count_rows(engine, OutboxMessage, OutboxMessage.event_type == "assignment.created.v1") == 5


# -- 2. the relay publishes for real ----------------------------------------------------------

async def test_relay_publishes_persistent_confirmed_messages_with_the_event_identity(
    assignments_engine: Engine, amqp_url: str, amqp: Amqp
) -> None:
    engine = assignments_engine
    await amqp.bind("probe.units", "unit.created.v1")
    events = [unit_event(1, "req-a"), unit_event(2, "req-b"), unit_event(3, "")]
    stage_events(engine, events)

    await relay_outbox(engine, amqp_url)

    rows = outbox_rows(engine)
    assert all(r.sent_at is not None and r.attempts == 0 and r.last_error is None for r in rows)

    messages = await amqp.take("probe.units", 3, settle=0.3)
    assert len(messages) == 3
    by_id = {m.message_id: m for m in messages}
    for event in events:
        m = by_id[str(event.event_id)]
        assert m.delivery_mode == DeliveryMode.PERSISTENT
        assert m.content_type == "application/json"
        assert m.routing_key == "unit.created.v1"
        assert m.type == "unit.created.v1"
        # an event without a correlation id is correlated by its own id
        assert m.correlation_id == (event.correlation_id or str(event.event_id))
        parsed = parse_event(m.body)
        assert parsed == event
        assert json.loads(m.body)["event_id"] == m.message_id


# -- 3. unroutable --------------------------------------------------------------------------

async def test_unroutable_event_stays_unsent_with_no_route_then_goes_out_once_a_queue_is_bound(
    assignments_engine: Engine, amqp_url: str, amqp: Amqp
) -> None:
    engine = assignments_engine
    await amqp.events_exchange()  # the exchange exists, but no queue is bound to unit.created.v1
    await amqp.bind("probe.other", "plan.created.v1")
    [event_id] = stage_events(engine, [unit_event(1)])

    broker = make_broker(amqp_url)
    stop = asyncio.Event()
    assert await connect_until_stopped(broker, stop)
    try:
        publish = outbox_publisher(broker, timeout=5)
        relay = outbox_relay(engine, publish)

        # the publish itself raises (mandatory + returns raise)...
        [row] = outbox_rows(engine)
        with pytest.raises(Exception) as raised:
            await publish(row)
        assert "NO_ROUTE" in repr(raised.value)

        # ...so the relay keeps the row, counts the attempt and records why
        assert await relay.run_once() == 0
        [row] = outbox_rows(engine)
        assert row.sent_at is None
        assert row.attempts == 1
        assert row.last_error is not None and "NO_ROUTE" in row.last_error
        assert row.available_at > row.created_at  # backed off, not retried in a hot loop
        assert await relay.run_once() == 0  # not due yet
        assert outbox_rows(engine)[0].attempts == 1

        await amqp.bind("probe.units", "unit.created.v1")
        make_due(engine)
        assert await relay.run_once() == 1
    finally:
        await broker.stop()

    [row] = outbox_rows(engine)
    assert row.sent_at is not None and row.attempts == 1
    [message] = await amqp.take("probe.units", 1, settle=0.3)
    assert message.message_id == event_id
    assert await amqp.leftovers("probe.other", settle=0) == []  # a NO_ROUTE message is not half-delivered


# -- 4. competing relays ----------------------------------------------------------------------

async def test_two_relays_over_one_outbox_publish_every_row_exactly_once(
    assignments_engine: Engine, amqp_url: str, amqp: Amqp
) -> None:
    engine = assignments_engine
    total = 300
    await amqp.bind("probe.units", "unit.created.v1")
    ids = stage_events(engine, [unit_event(i) for i in range(1, total + 1)])

    brokers = [make_broker(amqp_url), make_broker(amqp_url)]
    published: list[Counter[str]] = [Counter(), Counter()]

    def counting(i: int):  # type: ignore[no-untyped-def]
        publish = outbox_publisher(brokers[i])

        async def run(row: OutboxMessage) -> None:
            await publish(row)
            published[i][str(row.event_id)] += 1

        return run

    for b in brokers:
        await b.connect()
    stop = asyncio.Event()
    relays = [outbox_relay(engine, counting(i), batch_size=10, poll_interval=0.05) for i in range(2)]
    tasks = [asyncio.create_task(r.run(stop)) for r in relays]
    try:
        await wait_until(lambda: pending_count(engine) == 0, "both relays drain the outbox", within=30)
    finally:
        stop.set()
        await asyncio.gather(*tasks)
        for b in brokers:
            await b.stop()

    # both relays really worked, and never on the same row
    assert all(sum(c.values()) > 0 for c in published), published
    assert not set(published[0]) & set(published[1])
    assert sum(published[0].values()) + sum(published[1].values()) == total

    messages = await amqp.take("probe.units", total, within=20, settle=0.5)
    per_id = Counter(m.message_id for m in messages)
    assert len(messages) == total
    assert len(per_id) == total and set(per_id) == set(ids)
    assert max(per_id.values()) == 1
    assert all(r.sent_at is not None and r.attempts == 0 for r in outbox_rows(engine))


def test_claim_batch_skips_rows_locked_by_another_transaction(assignments_engine: Engine) -> None:
    engine = assignments_engine
    stage_events(engine, [unit_event(i) for i in range(1, 101)])
    ids = [r.id for r in outbox_rows(engine)]
    locked_ids = set(ids[:50])

    pool = ThreadPoolExecutor(1)
    try:
        with Session(engine) as holder:  # another relay, mid-claim: holds row locks on the first 50
            list(holder.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(locked_ids)).with_for_update()))  # type: ignore[union-attr]
            started = time.monotonic()
            claiming = pool.submit(claim_batch, engine, OutboxMessage, limit=100, lease=timedelta(minutes=1))
            try:
                claimed = claiming.result(timeout=5)
            finally:
                holder.rollback()  # release the locks even when the claim is stuck behind them
            elapsed = time.monotonic() - started
    finally:
        pool.shutdown()

    # it neither waited for the lock holder nor took its rows
    assert elapsed < 5
    assert {r.id for r in claimed} == set(ids[50:])
    # the lease keeps them from a second claim; the unleased, now unlocked rows are claimable
    again = claim_batch(engine, OutboxMessage, limit=100, lease=timedelta(minutes=1))
    assert {r.id for r in again} == locked_ids


def test_concurrent_claims_get_disjoint_rows(assignments_engine: Engine) -> None:
    engine = assignments_engine
    stage_events(engine, [unit_event(i) for i in range(1, 201)])
    workers, limit = 8, 40  # more claim capacity (320) than rows (200)
    barrier = threading.Barrier(workers)

    def claim() -> list[int]:
        barrier.wait(timeout=10)
        return [r.id for r in claim_batch(engine, OutboxMessage, limit=limit, lease=timedelta(minutes=1))]  # type: ignore[misc]

    with ThreadPoolExecutor(workers) as pool:
        results = [f.result(timeout=30) for f in [pool.submit(claim) for _ in range(workers)]]

    claimed = [i for r in results for i in r]
    assert len(claimed) == len(set(claimed)), "a row was claimed by two workers"
    assert set(claimed) <= {r.id for r in outbox_rows(engine)}
