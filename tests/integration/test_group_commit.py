"""Group commit on PostgreSQL: events handled at the same moment share one transaction, each with
its inbox row; a failing event fails alone; through the real reporting app, a poison event in a
burst reaches the dead-letter queue and every other event of the burst is applied once."""

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import Engine, text
from sqlmodel import Session

from services.reporting import projections
from services.reporting.app import create_app
from services.reporting.models import ReportAssignment, ReportUnit
from services.reporting.settings import ReportingSettings
from shared.db import make_engine
from shared.events import AssignmentStatusChangedV1, Event
from shared.messaging.group_commit import GroupCommit
from shared.messaging.guard import DELIVERIES_HEADER
from shared.messaging.inbox import ProcessedEvent, handle_once
from tests.integration.conftest import Amqp, count_rows, status_event, unit_event, wait_until
from tests.support.asgi import lifespan

pytestmark = pytest.mark.integration

QUEUE = f"reporting.{AssignmentStatusChangedV1.TYPE}"


def recording_txid(engine: Engine, event: Event, txids: list[int], *, fail: bool = False) -> Callable[[], bool]:
    """A handler call: the event's inbox row, and the id of the transaction it ran in (or a failure)."""

    def work(session: Session) -> None:
        txids.append(int(session.execute(text("SELECT txid_current()")).scalar_one()))
        if fail:
            raise ValueError(f"event {event.event_id} cannot be handled")

    return lambda: handle_once(engine, event, "test", work)


async def test_calls_waiting_together_share_one_transaction(reporting_engine: Engine) -> None:
    commits = GroupCommit(reporting_engine, "test", batch_size=100)
    events = [unit_event(i) for i in range(20)]
    txids: list[int] = []

    results = await asyncio.gather(*(commits.run(recording_txid(reporting_engine, e, txids)) for e in events))

    assert results == [True] * 20
    assert len(txids) == 20 and len(set(txids)) == 1  # one transaction...
    assert count_rows(reporting_engine, ProcessedEvent) == 20  # ...and an inbox row each, committed on return


async def test_batch_size_bounds_a_transaction(reporting_engine: Engine) -> None:
    commits = GroupCommit(reporting_engine, "test", batch_size=5)
    txids: list[int] = []

    await asyncio.gather(*(commits.run(recording_txid(reporting_engine, unit_event(i), txids)) for i in range(12)))

    assert sorted(txids.count(t) for t in set(txids)) == [2, 5, 5]


async def test_a_failing_call_fails_alone_and_the_others_commit(reporting_engine: Engine) -> None:
    commits = GroupCommit(reporting_engine, "test", batch_size=100)
    events = [unit_event(i) for i in range(10)]
    txids: list[int] = []

    results = await asyncio.gather(
        *(commits.run(recording_txid(reporting_engine, e, txids, fail=i == 3)) for i, e in enumerate(events)),
        return_exceptions=True)

    assert isinstance(results[3], ValueError)
    assert [r for i, r in enumerate(results) if i != 3] == [True] * 9
    assert count_rows(reporting_engine, ProcessedEvent) == 9
    assert count_rows(reporting_engine, ProcessedEvent, ProcessedEvent.event_id == events[3].event_id) == 0
    # the batch was rolled back, then each call ran in a transaction of its own
    assert len(set(txids)) == 1 + len(events)


async def test_a_duplicate_in_the_same_batch_has_no_second_effect(reporting_engine: Engine) -> None:
    commits = GroupCommit(reporting_engine, "test", batch_size=100)
    event = unit_event(1)

    results = await asyncio.gather(*(commits.run(lambda: projections.apply_unit(reporting_engine, event))
                                     for _ in range(3)))

    assert results == [True, False, False]
    assert count_rows(reporting_engine, ReportUnit) == 1


async def test_the_same_row_changed_twice_in_one_batch_keeps_both_changes(reporting_engine: Engine) -> None:
    commits = GroupCommit(reporting_engine, "test", batch_size=100)
    older, newer = status_event(version=2, progress=20), with_payload(status_event(version=3, progress=70),
                                                                     update_id=12)

    results = await asyncio.gather(*(commits.run(lambda e=e: projections.apply_status_changed(reporting_engine, e))
                                     for e in (newer, older)))

    assert results == [True, True]
    with Session(reporting_engine) as session:
        row = session.get(ReportAssignment, 7)
        assert row is not None and (row.version, row.progress, row.update_id) == (3, 70, 12)


async def test_a_call_made_as_the_last_runner_finishes_is_still_run(reporting_engine: Engine) -> None:
    commits = GroupCommit(reporting_engine, "test", batch_size=100, runners=1)
    txids: list[int] = []
    # the caller wakes before the finished runner's task is done: the next call must start a runner
    assert await commits.run(recording_txid(reporting_engine, unit_event(1), txids))
    async with asyncio.timeout(10):  # in this very step, not in a task of its own (as wait_for would)
        assert await commits.run(recording_txid(reporting_engine, unit_event(2), txids))
    assert count_rows(reporting_engine, ProcessedEvent) == 2


class Fatal(BaseException):
    """Not an Exception: what no handler catches (as SystemExit)."""


async def test_no_caller_waits_forever_when_a_batch_dies(reporting_engine: Engine) -> None:
    commits = GroupCommit(reporting_engine, "test", batch_size=100)

    def dies() -> bool:
        raise Fatal

    calls = [commits.run(dies), commits.run(lambda: projections.apply_unit(reporting_engine, unit_event(1)))]
    results = await asyncio.wait_for(asyncio.gather(*calls, return_exceptions=True), timeout=10)

    assert all(isinstance(r, asyncio.CancelledError) for r in results)
    assert count_rows(reporting_engine, ProcessedEvent) == 0  # the batch's transaction was rolled back


def batches_of_several() -> float:
    """Transactions of more than one event reporting has committed, so far in this process."""
    total = REGISTRY.get_sample_value("plantrack_consumer_batch_events_count", {"service": "reporting"})
    single = REGISTRY.get_sample_value("plantrack_consumer_batch_events_bucket", {"service": "reporting", "le": "1.0"})
    return (total or 0.0) - (single or 0.0)


@pytest.fixture
async def reporting(amqp_url: str, pg_url: str, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Engine]:
    """The real reporting app on PostgreSQL, whose status projection always fails for assignment 13."""
    real = projections.apply_status_changed

    def poisoned(engine: Engine, event: AssignmentStatusChangedV1) -> bool:
        if event.payload.assignment_id == 13:
            raise RuntimeError("assignment 13 breaks the projection")
        return real(engine, event)

    monkeypatch.setattr(projections, "apply_status_changed", poisoned)
    settings = ReportingSettings(amqp_url=amqp_url, database_url=pg_url, delivery_limit=3)
    engine = make_engine(pg_url)
    async with lifespan(create_app(settings)):
        yield engine
    engine.dispose()


def burst(n: int) -> list[AssignmentStatusChangedV1]:
    """`n` status updates of assignments 1..n."""
    return [with_payload(status_event(progress=i), assignment_id=i, update_id=100 + i) for i in range(1, n + 1)]


def with_payload(event: AssignmentStatusChangedV1, **changes: Any) -> AssignmentStatusChangedV1:
    """The event with these payload fields changed (same event id)."""
    return event.model_copy(update={"payload": event.payload.model_copy(update=changes)})


async def test_a_poison_event_in_a_burst_is_dead_lettered_and_the_rest_applied_once(
    reporting: Engine, amqp: Amqp,
) -> None:
    events = burst(40)
    before = batches_of_several()

    await asyncio.gather(*(amqp.publish(e.model_dump_json().encode(), AssignmentStatusChangedV1.TYPE,
                                        message_id=str(e.event_id)) for e in events))

    [parked] = await amqp.take(f"{QUEUE}.dlq", 1, within=30)
    assert parked.message_id == str(events[12].event_id)
    assert parked.headers[DELIVERIES_HEADER] == 3
    await wait_until(lambda: count_rows(reporting, ProcessedEvent) == 39, "the other 39 events applied")
    assert batches_of_several() > before, "no two events of the burst shared a transaction"
    with Session(reporting) as session:
        progress: dict[int, Any] = {i: session.get(ReportAssignment, i) for i in range(1, 41)}
    assert progress.pop(13) is None
    assert {i: row.progress for i, row in progress.items()} == {i: i for i in progress}
    assert await amqp.leftovers(QUEUE) == []
