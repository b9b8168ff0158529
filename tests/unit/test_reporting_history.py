"""The reporting read model keeps every status update with its review (`report_updates`), the
tasks' indicators and the review reports' texts, and archives every event it consumes; the
assignment's review state is that of its latest update, whatever order the events come in."""

import itertools
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, SQLModel, select

from services.reporting import projections
from services.reporting.models import (
    EventArchive,
    ReportAssignment,
    ReportingModel,
    ReportPendingReview,
    ReportReviewSubmission,
    ReportTask,
    ReportUpdate,
)
from shared.db import make_engine
from shared.events import (
    AssignmentCreatedPayload,
    AssignmentCreatedV1,
    AssignmentStatusChangedPayload,
    AssignmentStatusChangedV1,
    Event,
    IndicatorPayload,
    PlanCreatedV1,
    PlanPayload,
    PlanUpdatedV1,
    ReviewSubmissionPayload,
    ReviewSubmissionSubmittedV1,
    StatusUpdateReviewedV1,
    TaskPayload,
    UpdateReviewedPayload,
)
from shared.identity.models import IDENTITY_TABLES
from shared.messaging.inbox import ProcessedEvent
from tests.unit.test_order_independence import read_model

T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
AID = 100


@pytest.fixture
def engine() -> Iterator[Engine]:
    engine = make_engine("sqlite://")
    ReportingModel.metadata.create_all(engine)
    SQLModel.metadata.create_all(engine, tables=[ProcessedEvent.__table__, *IDENTITY_TABLES])  # type: ignore[attr-defined]
    yield engine
    engine.dispose()


def apply(engine: Engine, *events: Event) -> None:
    for event in events:
        projections.PROJECTIONS[event.event_type](engine, event)


def created() -> AssignmentCreatedV1:
    return AssignmentCreatedV1(occurred_at=T0, payload=AssignmentCreatedPayload(
        id=AID, plan_id=1, plan_number="41-KH", task_id=31, task_code="II.1", task_title="Quán triệt", unit_id=3,
        unit_code="CB-A", unit_name="Chi bộ A"))


def update(n: int, version: int, status: str = "in_progress", progress: int = 0) -> AssignmentStatusChangedV1:
    at = T0 + timedelta(days=n)
    return AssignmentStatusChangedV1(occurred_at=at, payload=AssignmentStatusChangedPayload(
        assignment_id=AID, update_id=n, plan_id=1, plan_number="41-KH", task_id=31, task_code="II.1",
        task_title="Quán triệt", unit_id=3, unit_code="CB-A", unit_name="Chi bộ A", old_status="in_progress",
        new_status=status, progress=progress or 10 * n, summary=f"Báo cáo {n}", reported_by_name="Cán bộ",
        reported_at=at, version=version, indicator_values={"CT1": float(n)}))


def review(n: int, decision: str, version: int, status: str, progress: int, day: int) -> StatusUpdateReviewedV1:
    at = T0 + timedelta(days=day, hours=1)
    return StatusUpdateReviewedV1(occurred_at=at, payload=UpdateReviewedPayload(
        update_id=n, assignment_id=AID, plan_id=1, plan_number="41-KH", task_code="II.1", task_title="Quán triệt",
        unit_id=3, unit_name="Chi bộ A", decision=decision, reason="Thiếu số liệu" if decision == "returned" else "",
        reviewer_id=1, reviewer_name="Lan", assignment_status=status, assignment_progress=progress,
        version=version, reviewed_at=at))


def assignment(engine: Engine) -> ReportAssignment:
    with Session(engine) as s:
        row = s.get(ReportAssignment, AID)
        assert row is not None
        return row


def updates(engine: Engine) -> dict[int, tuple[str, str]]:
    with Session(engine) as s:
        return {u.id: (u.status, u.review_state) for u in s.exec(select(ReportUpdate)).all()}


def test_each_status_update_is_kept_once_and_every_event_archived_once(engine: Engine) -> None:
    events = [created(), update(1, 2), update(2, 3)]
    apply(engine, *events, events[1], events[2])  # duplicates
    with Session(engine) as s:
        rows = s.exec(select(ReportUpdate).order_by(ReportUpdate.id)).all()  # type: ignore[arg-type]
        assert [(u.id, u.version, u.progress, u.summary, u.indicator_values, u.review_state) for u in rows] == [
            (1, 2, 10, "Báo cáo 1", {"CT1": 1.0}, "pending"), (2, 3, 20, "Báo cáo 2", {"CT1": 2.0}, "pending")]
        archived = s.exec(select(EventArchive)).all()
        assert sorted(a.event_id for a in archived) == sorted(e.event_id for e in events)
        assert {a.event_type for a in archived} == {e.event_type for e in events}
    row = assignment(engine)
    assert (row.update_id, row.progress, row.review_state, row.version) == (2, 20, "pending", 3)


def test_a_review_that_overtakes_its_update_waits_for_it(engine: Engine) -> None:
    apply(engine, created(), review(1, "accepted", 2, "in_progress", 10, day=1))
    with Session(engine) as s:
        assert [p.update_id for p in s.exec(select(ReportPendingReview)).all()] == [1]
    assert assignment(engine).review_state == ""  # no update known yet

    apply(engine, update(1, 2))

    with Session(engine) as s:
        assert s.exec(select(ReportPendingReview)).all() == []
    assert updates(engine) == {1: ("in_progress", "accepted")}
    row = assignment(engine)
    assert (row.review_state, row.reviewed_update_id, row.update_id) == ("accepted", 1, 1)


def test_an_older_update_arriving_after_a_review_does_not_reset_it(engine: Engine) -> None:
    apply(engine, created(), update(2, 3), review(2, "accepted", 3, "in_progress", 20, day=2), update(1, 2))
    row = assignment(engine)
    assert (row.update_id, row.review_state, row.reviewed_update_id, row.progress) == (2, "accepted", 2, 20)
    assert updates(engine) == {1: ("in_progress", "pending"), 2: ("in_progress", "accepted")}


def test_a_review_of_an_older_update_is_kept_on_that_update_only(engine: Engine) -> None:
    apply(engine, created(), update(1, 2), update(2, 3), review(1, "accepted", 3, "in_progress", 20, day=3))
    row = assignment(engine)
    assert (row.update_id, row.review_state, row.reviewed_update_id) == (2, "pending", None)
    assert updates(engine) == {1: ("in_progress", "accepted"), 2: ("in_progress", "pending")}


def test_an_older_update_does_not_override_the_state_a_return_carried(engine: Engine) -> None:
    # update 1 (v2) reported 10%, returned (v3: back to not_started, 0%); update 1 arrives last
    apply(engine, created(), review(1, "returned", 3, "not_started", 0, day=1), update(1, 2))
    row = assignment(engine)
    assert (row.status, row.progress, row.version) == ("not_started", 0, 3)
    assert (row.update_id, row.review_state, row.review_reason) == (1, "returned", "Thiếu số liệu")


def history() -> list[Event]:
    return [created(), update(1, 2), review(1, "returned", 3, "not_started", 0, day=1), update(2, 4),
            review(2, "accepted", 4, "in_progress", 20, day=2), update(3, 5, "completed", 100)]


@pytest.mark.parametrize("shift", range(6))
def test_every_order_of_a_history_gives_the_same_read_model(shift: int) -> None:
    events = history()
    expected = read_model(events)
    orders = list(itertools.permutations(events))
    for order in orders[shift::6][:40]:  # 240 of the 720 orders over the six cases
        assert read_model([*order, order[0]]) == expected


def test_tasks_keep_the_newest_plan_snapshots_indicators(engine: Engine) -> None:
    def snapshot(version: int, target: float) -> PlanCreatedV1 | PlanUpdatedV1:
        cls = PlanCreatedV1 if version == 1 else PlanUpdatedV1
        return cls(payload=PlanPayload(id=1, number="41-KH", title="KH", version=version, tasks=[
            TaskPayload(id=31, code="II.1", title="Quán triệt", indicators=[
                IndicatorPayload(code="CT1", name="Tỷ lệ", unit_of_measure="%", target=target)])]))

    apply(engine, snapshot(2, 95), snapshot(1, 90))
    with Session(engine) as s:
        task = s.get(ReportTask, 31)
        assert task is not None
        assert task.indicators == [{"code": "CT1", "name": "Tỷ lệ", "unit_of_measure": "%", "target": 95.0,
                                    "comparison": "at_least"}]


def test_a_review_report_keeps_its_texts(engine: Engine) -> None:
    apply(engine, ReviewSubmissionSubmittedV1(payload=ReviewSubmissionPayload(
        id=9, round_id=5, plan_id=1, unit_id=3, unit_name="Chi bộ A", submitted_at=T0, on_time=True,
        summary="Tóm tắt", results="Kết quả", difficulties="Khó khăn", proposals="Đề xuất")))
    with Session(engine) as s:
        row = s.get(ReportReviewSubmission, 9)
        assert row is not None
        assert (row.summary, row.results, row.difficulties, row.proposals) == (
            "Tóm tắt", "Kết quả", "Khó khăn", "Đề xuất")
        assert row.submitted_at.date() == date(2026, 3, 2)
