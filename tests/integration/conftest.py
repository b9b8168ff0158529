"""Helpers of the integration tests: real RabbitMQ (a fresh vhost per test) and real PostgreSQL
(a fresh database per test), driven directly, without the service processes."""

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import aio_pika
import pytest
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage, AbstractQueue, AbstractRobustConnection
from sqlalchemy import Engine, func, update
from sqlmodel import Session, select

from services.assignments.app import MIGRATIONS as ASSIGNMENTS_MIGRATIONS
from services.reporting.app import MIGRATIONS as REPORTING_MIGRATIONS
from shared.db import make_engine, migrate, session_scope
from shared.events import (
    AssignmentStatusChangedPayload,
    AssignmentStatusChangedV1,
    UnitCreatedV1,
    UnitPayload,
)
from shared.events.base import utcnow
from shared.messaging.broker import make_broker
from shared.messaging.outbox import OutboxMessage, add_event
from shared.messaging.publisher import outbox_publisher
from shared.messaging.relay import outbox_relay, pending_count
from shared.messaging.topology import EVENTS_EXCHANGE_NAME
from tests.support.servers import Rabbit, run_name

# -- fresh vhosts, faster ---------------------------------------------------------------------

class VhostPool:
    """Fresh vhosts made one ahead and dropped behind, in a background thread.

    Each `rabbitmqctl` call boots an Erlang VM (~0.6 s) and a vhost takes three of them; doing
    them while the tests run keeps the suite fast. Names carry our pid like the root fixture's,
    so a killed run's leftovers are still dropped by the next run."""

    def __init__(self, rabbit: Rabbit) -> None:
        self.rabbit = rabbit
        self.worker = ThreadPoolExecutor(1, thread_name_prefix="vhosts")
        self.spare: Future[str] | None = None

    def _create(self) -> str:
        name = run_name()
        self.rabbit.create_vhost(name)
        return name

    def take(self) -> str:
        """A fresh vhost's name (and start making the next one)."""
        name = (self.spare or self.worker.submit(self._create)).result(timeout=60)
        self.spare = self.worker.submit(self._create)
        return name

    def drop(self, name: str) -> None:
        self.worker.submit(self.rabbit.delete_vhost, name)

    def close(self) -> None:
        if self.spare is not None:
            self.drop(self.spare.result(timeout=60))
        self.worker.shutdown(wait=True)


@pytest.fixture(scope="session")
def vhost_pool(rabbit: Rabbit) -> Iterator[VhostPool]:
    pool = VhostPool(rabbit)
    yield pool
    pool.close()


@pytest.fixture
def make_vhost(rabbit: Rabbit, vhost_pool: VhostPool) -> Iterator[Callable[[], str]]:
    """Like the root fixture (fresh vhosts, dropped after the test), made ahead and dropped behind."""
    made: list[str] = []

    def make() -> str:
        name = vhost_pool.take()
        made.append(name)
        return rabbit.vhost_url(name)

    yield make
    for name in made:
        vhost_pool.drop(name)


# -- PostgreSQL -------------------------------------------------------------------------------

@pytest.fixture
def assignments_engine(pg_url: str) -> Iterator[Engine]:
    """A fresh PostgreSQL database with the assignments schema (business tables + outbox)."""
    migrate(pg_url, ASSIGNMENTS_MIGRATIONS)
    engine = make_engine(pg_url)
    yield engine
    engine.dispose()


@pytest.fixture
def reporting_engine(pg_url: str) -> Iterator[Engine]:
    """A fresh PostgreSQL database with the reporting schema (read model + processed_events)."""
    migrate(pg_url, REPORTING_MIGRATIONS)
    engine = make_engine(pg_url)
    yield engine
    engine.dispose()


def count_rows(engine: Engine, model: Any, *where: Any) -> int:
    """SELECT count(*) FROM model WHERE ..."""
    with Session(engine) as session:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def outbox_rows(engine: Engine) -> list[OutboxMessage]:
    """All outbox rows in id order."""
    with Session(engine) as session:
        return list(session.exec(select(OutboxMessage).order_by(OutboxMessage.id)).all())  # type: ignore[arg-type]


def unit_event(i: int, correlation_id: str | None = None) -> UnitCreatedV1:
    """A unit.created.v1 event for unit `i`."""
    return UnitCreatedV1(
        correlation_id=correlation_id if correlation_id is not None else f"req-{i}",
        payload=UnitPayload(id=i, code=f"U{i}", name=f"Chi bộ số {i}", kind="party_cell"),
    )


def stage_events(engine: Engine, events: list[UnitCreatedV1]) -> list[str]:
    """Commit `events` to the outbox (as a use case would); return their event ids."""
    with session_scope(engine) as session:
        for event in events:
            add_event(session, event)
    return [str(e.event_id) for e in events]


def make_due(engine: Engine) -> None:
    """Make every unsent row due now (skip its retry backoff)."""
    with session_scope(engine) as session:
        session.execute(
            update(OutboxMessage).where(OutboxMessage.sent_at.is_(None)).values(available_at=utcnow())  # type: ignore[union-attr]
        )


def status_event(*, version: int = 2, progress: int = 40, status: str = "in_progress",
                 correlation_id: str = "req-status") -> AssignmentStatusChangedV1:
    """An assignment.status_changed.v1 event for assignment 7 of plan 3."""
    return AssignmentStatusChangedV1(
        correlation_id=correlation_id,
        payload=AssignmentStatusChangedPayload(
            assignment_id=7, update_id=11, plan_id=3, plan_number="41-KH/ĐUK", task_id=5,
            task_code="III.1", task_title="Quán triệt, cụ thể hóa thành chương trình, kế hoạch",
            unit_id=2, unit_code="CB-STC", unit_name="Chi bộ Sở Tài chính",
            old_status="not_started", new_status=status, progress=progress,
            summary="Đã tổ chức hội nghị quán triệt", reported_by_name="Trần Văn Bình",
            reported_at=datetime(2024, 5, 6, 8, 30, tzinfo=UTC), version=version,
        ),
    )


# -- RabbitMQ, through aio-pika directly ------------------------------------------------------

@dataclass
class Amqp:
    """A plain aio-pika connection to the test vhost: declare, bind, publish and inspect."""

    connection: AbstractRobustConnection
    channel: AbstractChannel
    queues: dict[str, AbstractQueue] = field(default_factory=dict)

    async def events_exchange(self) -> aio_pika.abc.AbstractExchange:
        """`plantrack.events`, declared with the same arguments as the services use."""
        return await self.channel.declare_exchange(
            EVENTS_EXCHANGE_NAME, aio_pika.ExchangeType.TOPIC, durable=True
        )

    async def bind(self, name: str, routing_key: str) -> AbstractQueue:
        """A durable queue of our own bound to `routing_key` on the events exchange."""
        exchange = await self.events_exchange()
        queue = await self.channel.declare_queue(name, durable=True)
        await queue.bind(exchange, routing_key=routing_key)
        self.queues[name] = queue
        return queue

    async def publish(self, body: bytes, routing_key: str, *, message_id: str | None = None,
                      content_type: str = "application/json", **kw: Any) -> None:
        """Publish to the events exchange like a relay would (persistent, with the AMQP user_id
        of the connection: consumers dead-letter events that lack it)."""
        kw.setdefault("user_id", self.connection.url.user or "guest")
        exchange = await self.events_exchange()
        await exchange.publish(
            aio_pika.Message(body, message_id=message_id, content_type=content_type,
                             delivery_mode=aio_pika.DeliveryMode.PERSISTENT, **kw),
            routing_key=routing_key,
        )

    async def leftovers(self, queue: str, *, settle: float = 0.3) -> list[AbstractIncomingMessage]:
        """Whatever is (or within `settle` seconds becomes) ready in `queue`, taken out of it.

        A basic.get is the authoritative answer: on RabbitMQ 3.10 the counts of a quorum queue in
        a passive queue.declare and in `rabbitmqctl list_queues` lag behind (one kept reporting a
        ready message in an empty queue, the other reported none while a message was ready)."""
        return await self.take(queue, 0, settle=settle)

    async def take(self, queue: str, n: int, *, within: float = 10.0,
                   settle: float = 0.0) -> list[AbstractIncomingMessage]:
        """Get (and ack) messages from `queue` until `n` arrived or `within` seconds passed; then
        keep reading for `settle` seconds more, so that an extra (duplicate) message shows up too."""
        q = await self.channel.declare_queue(queue, passive=True)
        got: list[AbstractIncomingMessage] = []
        deadline = time.monotonic() + within
        settle_until: float | None = None
        while True:
            now = time.monotonic()
            if len(got) >= n and settle_until is None:
                settle_until = now + settle
            if (settle_until is not None and now >= settle_until) or (settle_until is None and now >= deadline):
                return got
            message = await q.get(no_ack=True, fail=False)
            if message is None:
                await asyncio.sleep(0.05)
            else:
                got.append(message)


@pytest.fixture
async def amqp(amqp_url: str) -> AsyncIterator[Amqp]:
    """A direct aio-pika connection to this test's vhost."""
    connection = await aio_pika.connect_robust(amqp_url)
    channel = await connection.channel()
    yield Amqp(connection, channel)
    await connection.close()


async def wait_until(check: Callable[[], bool | Awaitable[bool]], what: str, within: float = 15.0,
                     every: float = 0.05) -> None:
    """Poll `check` until it is true; fail the test with `what` after `within` seconds."""
    deadline = time.monotonic() + within
    while True:
        result = check()
        if asyncio.iscoroutine(result) or isinstance(result, Awaitable):
            result = await result  # type: ignore[misc]
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within}s waiting for: {what}")
        await asyncio.sleep(every)


async def relay_outbox(engine: Engine, amqp_url: str) -> None:
    """Run the outbox relay (as the service builds it from a broker) until every row is sent."""
    broker = make_broker(amqp_url)
    await broker.connect()
    try:
        relay = outbox_relay(engine, outbox_publisher(broker), poll_interval=0.05)
        stop = asyncio.Event()
        task = asyncio.create_task(relay.run(stop))
        try:
            await wait_until(lambda: pending_count(engine) == 0, "the relay marks every row sent")
        finally:
            stop.set()
            await task
    finally:
        await broker.stop()
