"""Reporting's units and reporting periods are correct under any arrival order and any duplicate
(property-based): renamed units, plans whose reporting period is edited, and the days ongoing
assignments were assigned and reported on, delivered in order and shuffled, give the same read
model and the same progress."""

import os
import random
from datetime import UTC, date, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine
from sqlmodel import Session, SQLModel

from services.reporting import projections
from services.reporting.models import ReportingModel
from services.reporting.progress import plan_progress
from shared.db import make_engine
from shared.events import (
    AssignmentCreatedPayload,
    AssignmentCreatedV1,
    AssignmentStatusChangedPayload,
    AssignmentStatusChangedV1,
    Event,
    PlanCreatedV1,
    PlanPayload,
    PlanUpdatedV1,
    TaskPayload,
    UnitCreatedV1,
    UnitPayload,
    UnitUpdatedV1,
)
from shared.identity.models import IDENTITY_TABLES
from shared.messaging.inbox import ProcessedEvent

EXAMPLES = int(os.environ.get("PLANTRACK_PROPERTY_EXAMPLES", "150"))
T0 = datetime(2026, 1, 1, 1, 0, tzinfo=UTC)
UNITS = [(3, "CB-A"), (4, "CB-B")]
PERIODS = ["monthly", "quarterly", "half_yearly", "yearly"]

steps = st.lists(st.one_of(
    st.tuples(st.just("rename"), st.sampled_from(UNITS), st.booleans()),
    st.tuples(st.just("period"), st.sampled_from(PERIODS)),
    st.tuples(st.just("report"), st.integers(0, 1), st.integers(0, 200)),  # days after T0
), max_size=25)


def history(plan: list[tuple]) -> list[Event]:
    """The events as the assignments service raises them, directory events numbered by its clock."""
    clock, events = 0, []
    for uid, code in UNITS:
        clock += 1
        events.append(UnitCreatedV1(occurred_at=T0, directory_version=clock, payload=UnitPayload(
            id=uid, code=code, name=f"Chi bộ {code}", kind="party_cell", parent_id=1)))
    tasks = [TaskPayload(id=41, code="I", title="Tuyên truyền", kind="ongoing")]
    events.append(PlanCreatedV1(payload=PlanPayload(id=1, number="50-KH", title="KH", status="published",
                                                    tasks=tasks)))
    versions = {}
    for i, (uid, code) in enumerate(UNITS):
        events.append(AssignmentCreatedV1(occurred_at=T0 + timedelta(days=40 * i), payload=AssignmentCreatedPayload(
            id=100 + i, plan_id=1, plan_number="50-KH", task_id=41, task_code="I", task_title="Tuyên truyền",
            task_kind="ongoing", unit_id=uid, unit_code=code, unit_name=f"Chi bộ {code}")))
        versions[i] = 1
    plan_version = 1
    for n, step in enumerate(plan, start=1):
        when = T0 + timedelta(hours=n)
        if step[0] == "rename":
            (uid, code), with_mailbox = step[1], step[2]
            clock += 1
            events.append(UnitUpdatedV1(occurred_at=when, directory_version=clock, payload=UnitPayload(
                id=uid, code=code, name=f"Chi bộ {code} ({n})", kind="party_cell", parent_id=1,
                email=f"{code.lower()}{n}@example.vn" if with_mailbox else None)))
        elif step[0] == "period":
            plan_version += 1
            events.append(PlanUpdatedV1(occurred_at=when, payload=PlanPayload(
                id=1, number="50-KH", title="KH", status="published", tasks=tasks, version=plan_version,
                reporting_period=step[1])))
        elif step[0] == "report":
            i, uid, code = step[1], *UNITS[step[1]]
            versions[i] += 1
            reported_at = T0 + timedelta(days=step[2], hours=n % 24)
            events.append(AssignmentStatusChangedV1(occurred_at=reported_at, payload=AssignmentStatusChangedPayload(
                assignment_id=100 + i, update_id=n, plan_id=1, plan_number="50-KH", task_id=41, task_code="I",
                task_title="Tuyên truyền", unit_id=uid, unit_code=code, unit_name=f"Chi bộ {code}",
                old_status="in_progress", new_status="in_progress", progress=n % 100, reported_at=reported_at,
                version=versions[i])))
    return events


HANDLERS = {
    UnitCreatedV1.TYPE: projections.apply_unit_created,
    UnitUpdatedV1.TYPE: projections.apply_unit,
    PlanCreatedV1.TYPE: projections.apply_plan_snapshot,
    PlanUpdatedV1.TYPE: projections.apply_plan_snapshot,
    AssignmentCreatedV1.TYPE: projections.apply_assignment_created,
    AssignmentStatusChangedV1.TYPE: projections.apply_status_changed,
}


def fresh_engine() -> Engine:
    engine = make_engine("sqlite://")
    ReportingModel.metadata.create_all(engine)
    SQLModel.metadata.create_all(engine, tables=[ProcessedEvent.__table__, *IDENTITY_TABLES])  # type: ignore[attr-defined]
    return engine


def outcome(events: list[Event]) -> tuple[dict[str, list[tuple]], list[str]]:
    """Every row of the read model and identity tables, and the progress on a few days."""
    engine = fresh_engine()
    try:
        for event in events:
            HANDLERS[event.event_type](engine, event)
        with Session(engine) as s:
            tables = [*ReportingModel.metadata.sorted_tables, *IDENTITY_TABLES]
            rows = {t.name: sorted(tuple(map(repr, row)) for row in s.execute(t.select()).all()) for t in tables}
            progress = [plan_progress(s, 1, day).model_dump_json()  # type: ignore[union-attr]
                        for day in (date(2026, 3, 31), date(2026, 6, 27), date(2026, 9, 1))]
        return rows, progress
    finally:
        engine.dispose()


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(plan=steps, seed=st.integers(0, 2**32 - 1), duplicates=st.integers(0, 10))
def test_any_order_and_any_duplicates_give_the_read_model_of_the_ordered_delivery(
    plan: list[tuple], seed: int, duplicates: int,
) -> None:
    events = history(plan)
    rng = random.Random(seed)
    shuffled = events + [rng.choice(events) for _ in range(duplicates)]
    rng.shuffle(shuffled)
    assert outcome(shuffled) == outcome(events)


def test_the_ordered_delivery_keeps_the_latest_of_everything() -> None:
    events = history([("rename", UNITS[0], True), ("period", "monthly"), ("report", 0, 80), ("report", 0, 20),
                      ("rename", UNITS[0], False), ("period", "yearly")])
    rows, _ = outcome(list(reversed(events)))
    (unit_a,) = [r for r in rows["report_units"] if r[0] == "3"]
    assert "'Chi bộ CB-A (5)'" in unit_a and "None" in unit_a  # the second rename, without a mailbox
    (plan,) = rows["report_plans"]
    assert "'yearly'" in plan
    (assignment,) = [r for r in rows["report_assignments"] if r[0] == "100"]
    assert repr(date(2026, 3, 22)) in assignment and repr(date(2026, 1, 1)) in assignment  # last report, assigned
