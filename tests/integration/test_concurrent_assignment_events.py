"""Many events about one assignment, handled by the real reporting consumers (RabbitMQ, PostgreSQL)
concurrently, or together in group commits: status updates published out of order and reviews
racing them on their own queue end in the state of the newest version, with every update and its
review, and nothing dead-lettered."""

import threading
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import Engine
from sqlmodel import Session, select

from services.reporting import consumers, projections
from services.reporting.app import MIGRATIONS
from services.reporting.models import ReportAssignment, ReportPendingReview, ReportUpdate
from services.reporting.settings import ReportingSettings
from shared.db import make_engine, migrate
from shared.events import EVENT_TYPES, Event
from shared.events.base import utcnow
from shared.messaging.broker import declare_dead_letter_queues, make_broker
from shared.messaging.inbox import ProcessedEvent
from shared.messaging.outbox import OutboxMessage
from shared.messaging.publisher import outbox_publisher
from tests.integration.conftest import Amqp, count_rows, wait_until
from tests.unit.test_reporting_reviews import assignment_created, reviewed, status_changed

pytestmark = pytest.mark.integration

UPDATES = 30  # status updates of assignment 7, versions (and update ids, days of May) 2..31


class InFlight:
    """Counts status projections running at once (each held a moment, so that they overlap)."""

    def __init__(self) -> None:
        self.now = self.most = 0
        self.guard = threading.Lock()

    def wrap(self, apply: Callable[..., bool]) -> Callable[..., bool]:
        def counted(*args: Any) -> bool:
            with self.guard:
                self.now += 1
                self.most = max(self.most, self.now)
            try:
                time.sleep(0.02)
                return apply(*args)
            finally:
                with self.guard:
                    self.now -= 1
        return counted


@pytest.fixture(params=[1, 100], ids=["transaction-each", "group-commit"])
def batch_size(request: pytest.FixtureRequest) -> int:
    """1: each event in a transaction of its own, concurrently (as replicas would); 100: as deployed."""
    return int(request.param)


@pytest.fixture
async def engine(amqp_url: str, make_database: Callable[[str], str], monkeypatch: pytest.MonkeyPatch,
                 in_flight: InFlight, batch_size: int) -> AsyncIterator[Engine]:
    """The reporting consumers, started as the app starts them, on a fresh database."""
    monkeypatch.setattr(projections, "apply_status_changed", in_flight.wrap(projections.apply_status_changed))
    url = make_database("reporting")
    migrate(url, MIGRATIONS)
    engine = make_engine(url)
    settings = ReportingSettings(database_url=url, amqp_url=amqp_url, batch_size=batch_size)
    broker = make_broker(amqp_url, prefetch=settings.prefetch, graceful_timeout=5)
    queues = consumers.register(broker, engine, settings)
    await broker.connect()
    await declare_dead_letter_queues(broker, queues)
    await broker.start()
    try:
        yield engine
    finally:
        await broker.stop()
        engine.dispose()


@pytest.fixture
def in_flight() -> InFlight:
    return InFlight()


def batched_events() -> float:
    """Transactions of more than one event reporting has committed (the batch histogram's count
    less its one-event bucket)."""
    single = REGISTRY.get_sample_value("plantrack_consumer_batch_events_bucket", {"service": "reporting", "le": "1.0"})
    total = REGISTRY.get_sample_value("plantrack_consumer_batch_events_count", {"service": "reporting"})
    return (total or 0.0) - (single or 0.0)


async def publish(amqp_url: str, events: list[Event]) -> None:
    """Publish as the outbox relay does (persistent, confirmed, mandatory)."""
    broker = make_broker(amqp_url)
    await broker.connect()
    try:
        send = outbox_publisher(broker)
        for event in events:
            now = utcnow()
            await send(OutboxMessage(event_id=event.event_id, event_type=event.event_type,
                                     correlation_id=event.correlation_id, body=event.model_dump_json(),
                                     created_at=now, available_at=now))
    finally:
        await broker.stop()


async def test_concurrent_events_of_one_assignment_end_in_the_newest_state(
    engine: Engine, amqp_url: str, amqp: Amqp, in_flight: InFlight, batch_size: int,
) -> None:
    batches_before = batched_events()
    updates = [status_changed(update_id=v, version=v, progress=v) for v in range(2, UPDATES + 2)]
    # newest first, then the rest: the newest is applied while older ones are still arriving
    ordered: list[Event] = [updates[-1], *updates[:-1]]
    # reviews of some updates, racing their updates; none is newer than the newest update
    reviews: list[Event] = [reviewed("accepted", update_id=v, version=v, status="in_progress", progress=v)
                            for v in range(3, UPDATES + 1, 4)]
    await publish(amqp_url, [assignment_created(7), *reviews, *ordered])

    total = 1 + len(reviews) + len(updates)
    await wait_until(lambda: count_rows(engine, ProcessedEvent) == total, "every event consumed", within=60)
    if batch_size == 1:
        assert in_flight.most >= 2, "status events were handled one at a time"
    else:
        assert batched_events() > batches_before, "no two events shared a transaction"
    newest = updates[-1].payload
    with Session(engine) as session:
        row = session.get(ReportAssignment, 7)
        assert row is not None
        assert (row.version, row.progress, row.update_id, row.summary) == (
            newest.version, newest.progress, newest.update_id, newest.summary)
        assert row.review_state == "pending" and row.reviewed_update_id is None  # the newest was not reviewed
        assert row.last_reported_on is not None and row.task_id == 31
        stored = {u.id: u for u in session.exec(select(ReportUpdate)).all()}
        assert sorted(stored) == [u.payload.update_id for u in updates]
        reviewed_ids = {e.payload.update_id for e in reviews}  # type: ignore[attr-defined]
        assert {i for i, u in stored.items() if u.review_state == "accepted"} == reviewed_ids
        assert session.exec(select(ReportPendingReview)).all() == []
    assert [t for t in EVENT_TYPES if await amqp.leftovers(f"reporting.{t}.dlq", settle=0.1)] == []
