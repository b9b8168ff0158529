"""The real reporting consumers on RabbitMQ and PostgreSQL: review rounds and submissions published as
the relay publishes (persistent, confirmed, mandatory) end up in the plan's progress; renamed units and
ongoing tasks' reporting periods too, consumed concurrently from their own queues; every event type
is routable; the 0002 schema upgrade keeps existing rows valid on PostgreSQL."""

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, text
from sqlmodel import Session

from services.reporting import consumers
from services.reporting.app import MIGRATIONS
from services.reporting.models import ReportAssignment, ReportPlan, ReportUnit
from services.reporting.progress import PlanProgress, plan_progress
from services.reporting.settings import ReportingSettings
from shared.db import make_engine, migrate
from shared.events import EVENT_TYPES, Event, UnitCreatedV1, UnitUpdatedV1
from shared.events.base import utcnow
from shared.identity.models import IdentityUnit
from shared.messaging.broker import declare_dead_letter_queues, make_broker
from shared.messaging.inbox import ProcessedEvent
from shared.messaging.outbox import OutboxMessage
from shared.messaging.publisher import outbox_publisher
from shared.messaging.relay import Publish
from tests.integration.conftest import Amqp, count_rows, wait_until
from tests.unit.test_reporting_reviews import (
    ONGOING_PLAN,
    PLAN_ID,
    SAMPLES,
    TODAY,
    UNIT_A,
    UNIT_B,
    UNIT_C,
    assignment_created,
    ongoing_assigned,
    ongoing_plan,
    ongoing_report,
    plan_created,
    round_opened,
    submission,
    unit_event,
)

pytestmark = pytest.mark.integration


@dataclass
class Reporting:
    """The reporting consumers, running, and a relay-style publisher on the same vhost."""

    engine: Engine
    publish: Publish

    async def send(self, *events: Event) -> None:
        """Publish each event as the outbox relay would (it raises if no queue takes it)."""
        for event in events:
            now = utcnow()
            await self.publish(OutboxMessage(
                event_id=event.event_id, event_type=event.event_type, correlation_id=event.correlation_id,
                body=event.model_dump_json(), created_at=now, available_at=now,
            ))

    def progress(self) -> PlanProgress | None:
        with Session(self.engine) as session:
            return plan_progress(session, PLAN_ID, TODAY)


@pytest.fixture
async def reporting(amqp_url: str, make_database: Callable[[str], str]) -> AsyncIterator[Reporting]:
    """The reporting service's consumers, registered and started as its app does, on a fresh database."""
    url = make_database("reporting")
    migrate(url, MIGRATIONS)
    engine = make_engine(url)
    settings = ReportingSettings(database_url=url, amqp_url=amqp_url, delivery_limit=5)
    broker = make_broker(amqp_url, prefetch=settings.prefetch, graceful_timeout=5)
    queues = consumers.register(broker, engine, settings)
    await broker.connect()
    await declare_dead_letter_queues(broker, queues)
    await broker.start()
    publisher = make_broker(amqp_url)  # the relay's own connection: confirms, returns raise
    await publisher.connect()
    try:
        yield Reporting(engine, outbox_publisher(publisher))
    finally:
        await publisher.stop()
        await broker.stop()
        engine.dispose()


async def dead_lettered(amqp: Amqp, event_types: list[str]) -> list[str]:
    """Queues among `event_types`' whose dead-letter queue holds a message."""
    return [t for t in event_types if await amqp.leftovers(f"reporting.{t}.dlq", settle=0.1)]


async def test_review_round_and_submissions_reach_the_progress(reporting: Reporting, amqp: Amqp) -> None:
    await reporting.send(plan_created(), assignment_created(7, UNIT_A), assignment_created(8, UNIT_B))
    await reporting.send(submission(81, UNIT_A, True))  # may well be consumed before its round
    await reporting.send(round_opened(5), submission(82, UNIT_B, False))

    def done() -> bool:
        result = reporting.progress()
        return bool(result and result.review_rounds and result.review_rounds[0].submitted == 2
                    and count_rows(reporting.engine, ReportAssignment) == 2)

    await wait_until(done, "the round and both submissions are in the read model")
    result = reporting.progress()
    assert result is not None
    (round_,) = result.review_rounds
    assert (round_.expected, round_.submitted, round_.on_time, round_.late, round_.missing) == (3, 2, 1, 1, 1)
    assert [(u.unit_id, u.state) for u in round_.units] == [
        (UNIT_A.id, "on_time"), (UNIT_B.id, "late"), (UNIT_C.id, "missing")]
    units = {u.unit_id: u for u in result.units}
    assert units[UNIT_C.id].review_rounds[0].state == "missing" and units[UNIT_A.id].assignments_total == 1

    await reporting.send(submission(82, UNIT_B, False))  # the relay published it again (new event id, same row)
    await wait_until(lambda: count_rows(reporting.engine, ProcessedEvent) == 7, "the repeat is consumed")
    assert reporting.progress().review_rounds[0].submitted == 2  # type: ignore[union-attr]
    assert await dead_lettered(amqp, list(EVENT_TYPES)) == []


async def test_renamed_units_and_ongoing_tasks_reach_the_progress(reporting: Reporting, amqp: Amqp) -> None:
    events: list[Event] = [
        unit_event(UnitUpdatedV1, 7, "Chi bộ Sở Tài chính tỉnh", "stc@example.vn"),  # before its creation
        unit_event(UnitCreatedV1, 1, "Chi bộ Sở Tài chính"), UnitCreatedV1(payload=UNIT_B),
        ongoing_plan(2, "monthly"), ongoing_plan(1, "yearly"),
        ongoing_report(41, UNIT_A, 101, 3, datetime(2024, 7, 2, 2, 0, tzinfo=UTC)),
        ongoing_assigned(41, UNIT_A, datetime(2024, 3, 1, 2, 0, tzinfo=UTC)),
        ongoing_report(41, UNIT_A, 100, 2, datetime(2024, 6, 3, 2, 0, tzinfo=UTC)),
        ongoing_assigned(42, UNIT_B, datetime(2024, 3, 1, 2, 0, tzinfo=UTC)),
        ongoing_report(42, UNIT_B, 102, 2, datetime(2024, 5, 20, 2, 0, tzinfo=UTC)),
    ]
    await reporting.send(*events)
    await wait_until(lambda: count_rows(reporting.engine, ProcessedEvent) == len(events), "every event consumed")
    with Session(reporting.engine) as session:
        unit, identity = session.get(ReportUnit, UNIT_A.id), session.get(IdentityUnit, UNIT_A.id)
        result = plan_progress(session, ONGOING_PLAN, TODAY)
    assert unit is not None and (unit.name, unit.email) == ("Chi bộ Sở Tài chính tỉnh", "stc@example.vn")
    assert identity is not None and identity.kind == "party_cell"
    assert result is not None and result.reporting_period == "monthly"
    assert {u.unit_name: u.assignments_overdue for u in result.units} == {
        "Chi bộ Sở Tài chính tỉnh": 0, "Chi bộ Sở Y tế": 1}  # B missed June's report
    assert {k: v for k, v in result.assignments.by_due_state.items() if v} == {"reported": 1, "report_missing": 1}
    assert await dead_lettered(amqp, list(EVENT_TYPES)) == []


async def test_every_event_type_is_routable_and_consumed(reporting: Reporting, amqp: Amqp) -> None:
    # `mandatory`: publishing would raise for an event type no queue is bound to
    await reporting.send(*SAMPLES)
    await wait_until(lambda: count_rows(reporting.engine, ProcessedEvent) == len(EVENT_TYPES),
                     "one inbox row per event type")
    assert await dead_lettered(amqp, list(EVENT_TYPES)) == []
    # the queues are consumed concurrently, in any order; the outcome is the same
    with Session(reporting.engine) as session:
        plan, row = session.get(ReportPlan, PLAN_ID), session.get(ReportAssignment, 7)
    # the edit (version 2) wins over the creation (version 1), whichever arrived first
    assert plan is not None and (plan.status, plan.title, plan.version) == ("closed", "Kế hoạch (bản sửa)", 2)
    assert row is not None and (row.task_id, row.status, row.progress, row.version) == (31, "in_progress", 40, 2)
    assert (row.review_state, row.reviewed_update_id, row.update_id) == ("accepted", 11, 11)


def test_schema_0002_upgrades_existing_rows_on_postgres(make_database: Callable[[str], str]) -> None:
    url = make_database("upgrade")
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    command.upgrade(cfg, "0001")
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO report_assignments (id, plan_id, task_id, task_code, task_title, unit_id, unit_code, "
                "unit_name, role, due_on, status, progress, summary, difficulties, reported_by, version) VALUES "
                "(7, 3, 31, 'III.1', 'x', 21, 'CB', 'Chi bộ', 'lead', :due, 'in_progress', 40, '', '', '', 2)"),
                {"due": date(2024, 6, 30)})
        migrate(url, MIGRATIONS)
        with Session(engine) as session:
            row = session.get(ReportAssignment, 7)
        assert row is not None
        assert (row.review_state, row.review_reason, row.period, row.indicator_values, row.evidence_links) == (
            "", "", "", {}, [])
    finally:
        engine.dispose()
