"""The inbox over real redelivery: the real reporting consumers on RabbitMQ and PostgreSQL.

A duplicate event (same event_id) has no second effect; a failed attempt leaves no trace and the
redelivered message is applied exactly once.
"""

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from faststream.rabbit import RabbitBroker
from sqlalchemy import Engine
from sqlmodel import Session, select

from services.reporting import consumers, projections
from services.reporting.models import ReportAssignment, ReportPlan
from services.reporting.settings import ReportingSettings
from shared.events import AssignmentStatusChangedV1
from shared.messaging.broker import declare_dead_letter_queues, make_broker
from shared.messaging.inbox import ProcessedEvent
from tests.integration.conftest import Amqp, count_rows, status_event, wait_until

pytestmark = pytest.mark.integration

EVENT_TYPE = AssignmentStatusChangedV1.TYPE
QUEUE = f"reporting.{EVENT_TYPE}"


@dataclass
class Calls:
    """What the status projection returned (True applied, False duplicate) or raised, per call."""

    results: list[Any] = field(default_factory=list)


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> Calls:
    """Record every call of the real status projection the consumer makes."""
    real = projections.apply_status_changed
    record = Calls()

    def spy(engine: Engine, event: AssignmentStatusChangedV1) -> bool:
        try:
            result = real(engine, event)
        except Exception as exc:
            record.results.append(exc)
            raise
        record.results.append(result)
        return result

    monkeypatch.setattr(projections, "apply_status_changed", spy)
    return record


@pytest.fixture
async def reporting(amqp_url: str, pg_url: str, reporting_engine: Engine, calls: Calls) -> AsyncIterator[RabbitBroker]:
    """The reporting service's consumers, registered and started as its app does."""
    settings = ReportingSettings(database_url=pg_url, amqp_url=amqp_url, delivery_limit=5)
    broker = make_broker(amqp_url, prefetch=settings.prefetch, graceful_timeout=5)
    queues = consumers.register(broker, reporting_engine, settings)
    await broker.connect()
    await declare_dead_letter_queues(broker, queues)
    await broker.start()
    yield broker
    await broker.stop()


def assignment(engine: Engine) -> ReportAssignment:
    with Session(engine) as session:
        [row] = session.exec(select(ReportAssignment)).all()
        return row


def fail_first(
    monkeypatch: pytest.MonkeyPatch, make_failure: Callable[[Callable[..., bool]], Callable[..., bool]]
) -> None:
    """Make the first call of `projections.handle_once` fail as `make_failure` says; later calls are real."""
    real = projections.handle_once
    state = {"calls": 0}

    def once(*args: Any, **kwargs: Any) -> bool:
        state["calls"] += 1
        if state["calls"] == 1:
            return make_failure(real)(*args, **kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(projections, "handle_once", once)


async def test_duplicate_event_has_one_effect(reporting: RabbitBroker, reporting_engine: Engine, amqp: Amqp,
                                              calls: Calls) -> None:
    event = status_event(progress=40)
    for _ in range(2):  # the relay published it twice (e.g. it died before marking the row sent)
        await amqp.publish(event.model_dump_json().encode(), EVENT_TYPE, message_id=str(event.event_id))

    await wait_until(lambda: len(calls.results) == 2, "both copies are consumed")
    assert calls.results == [True, False]  # applied once, then recognised as a duplicate
    assert count_rows(reporting_engine, ProcessedEvent) == 1
    row = assignment(reporting_engine)
    assert (row.status, row.progress, row.version) == ("in_progress", 40, 2)
    assert count_rows(reporting_engine, ReportPlan) == 1
    await assert_settled(reporting, amqp)


async def assert_settled(broker: RabbitBroker, amqp: Amqp) -> None:
    """Stop the consumers: nothing may go back to the queue (all acked) or be in the DLQ."""
    await broker.stop()
    assert await amqp.leftovers(QUEUE) == []
    assert await amqp.leftovers(f"{QUEUE}.dlq", settle=0) == []


async def test_failed_db_work_is_redelivered_and_applied_once(
    monkeypatch: pytest.MonkeyPatch, reporting: RabbitBroker, reporting_engine: Engine, amqp: Amqp, calls: Calls
) -> None:
    def dies_before_commit(real: Callable[..., bool]) -> Callable[..., bool]:
        def attempt(engine: Engine, event: Any, consumer: str, work: Callable[[Session], None]) -> bool:
            def work_then_fail(session: Session) -> None:
                work(session)  # the inbox row and the read-model rows are written (flushed)...
                session.flush()
                raise ConnectionError("the database went away before the commit")
            return real(engine, event, consumer, work_then_fail)
        return attempt

    fail_first(monkeypatch, dies_before_commit)
    event = status_event(progress=60)
    await amqp.publish(event.model_dump_json().encode(), EVENT_TYPE, message_id=str(event.event_id))

    await wait_until(lambda: len(calls.results) == 2, "the failed message is redelivered")
    first, second = calls.results
    assert isinstance(first, ConnectionError)
    assert second is True  # applied on redelivery: the failed attempt left no inbox row behind
    assert count_rows(reporting_engine, ProcessedEvent) == 1
    row = assignment(reporting_engine)
    assert (row.progress, row.version) == (60, 2)
    await assert_settled(reporting, amqp)
    assert len(calls.results) == 2


async def test_handler_failing_after_commit_is_redelivered_without_second_effect(
    monkeypatch: pytest.MonkeyPatch, reporting: RabbitBroker, reporting_engine: Engine, amqp: Amqp, calls: Calls
) -> None:
    def dies_after_commit(real: Callable[..., bool]) -> Callable[..., bool]:
        def attempt(*args: Any) -> bool:
            real(*args)  # committed...
            raise ConnectionError("...but the ack never made it")
        return attempt

    fail_first(monkeypatch, dies_after_commit)
    event = status_event(progress=80)
    await amqp.publish(event.model_dump_json().encode(), EVENT_TYPE, message_id=str(event.event_id))

    await wait_until(lambda: len(calls.results) == 2, "the failed message is redelivered")
    assert isinstance(calls.results[0], ConnectionError)
    assert calls.results[1] is False  # the inbox recognises the redelivery
    assert count_rows(reporting_engine, ProcessedEvent) == 1
    row = assignment(reporting_engine)
    assert (row.progress, row.version) == (80, 2)
    await assert_settled(reporting, amqp)
