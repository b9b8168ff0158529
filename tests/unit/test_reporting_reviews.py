"""Reporting over the oversight events (plan status, reviews, unit plans, inspections, review rounds and
submissions) on FastStream's TestRabbitBroker and SQLite; the progress query, its route and the review export."""

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from fastapi.testclient import TestClient
from faststream.rabbit import RabbitBroker, RabbitQueue, TestRabbitBroker
from sqlalchemy import Engine, text
from sqlmodel import Session, select

from services.reporting import app as reporting_app
from services.reporting import consumers, exports
from services.reporting.models import (
    EventArchive,
    ReportAssignment,
    ReportInspection,
    ReportPlan,
    ReportReviewRound,
    ReportReviewSubmission,
    ReportTask,
    ReportUnit,
    ReportUnitPlan,
)
from services.reporting.progress import get_round, plan_progress, round_units, task_kinds
from services.reporting.rows import export_rows
from services.reporting.settings import ReportingSettings
from shared.db import make_engine, migrate
from shared.events import (
    EVENT_TYPES,
    ApiTokenIssuedV1,
    ApiTokenPayload,
    ApiTokenRevokedV1,
    AssignmentCreatedPayload,
    AssignmentCreatedV1,
    AssignmentStatusChangedPayload,
    AssignmentStatusChangedV1,
    Event,
    InspectionPayload,
    InspectionRecordedV1,
    OfficialCreatedV1,
    OfficialPayload,
    OfficialUpdatedV1,
    PlanClosedV1,
    PlanCreatedV1,
    PlanPayload,
    PlanPublishedV1,
    PlanStatusPayload,
    PlanUpdatedV1,
    ReviewRoundOpenedV1,
    ReviewRoundPayload,
    ReviewSubmissionPayload,
    ReviewSubmissionSubmittedV1,
    SigninLinkPayload,
    SigninLinkRequestedV1,
    StatusUpdateReviewedV1,
    TaskPayload,
    UnitCreatedV1,
    UnitPayload,
    UnitPlanPayload,
    UnitPlanRegisteredV1,
    UnitUpdatedV1,
    UpdateReviewedPayload,
    WebSessionEndedV1,
    WebSessionPayload,
    WebSessionStartedV1,
    parse_event,
)
from shared.identity.auth import hash_token
from shared.identity.models import IdentityOfficial, IdentitySession, IdentityUnit
from shared.messaging.broker import make_broker
from shared.messaging.inbox import ProcessedEvent
from tests.support.events import publish

AMQP = "amqp://guest:guest@127.0.0.1:5672/"  # never connected: TestRabbitBroker patches the broker
TODAY = date(2024, 7, 10)


@dataclass
class Reporting:
    broker: RabbitBroker
    engine: Engine
    url: str
    queues: list[RabbitQueue]

    def all(self, model: type) -> list:  # type: ignore[type-arg]
        with Session(self.engine) as s:
            return list(s.exec(select(model)).all())

    def get(self, model: type, id: int):  # type: ignore[no-untyped-def]
        with Session(self.engine) as s:
            return s.get(model, id)

    def inbox(self, event: Event) -> int:
        return len([p for p in self.all(ProcessedEvent) if p.event_id == event.event_id])


@pytest.fixture
def reporting(tmp_path: Path) -> Iterator[Reporting]:
    url = f"sqlite:///{tmp_path}/reporting.db"
    migrate(url, reporting_app.MIGRATIONS)
    engine = make_engine(url)
    broker = make_broker(AMQP)
    queues = consumers.register(broker, engine, ReportingSettings())
    yield Reporting(broker, engine, url, queues)
    engine.dispose()


# -- events of plan 3 (41-KH/ĐUK): three party cells, one task each ---------------------------

PLAN_ID = 3
UNIT_A = UnitPayload(id=21, code="CB-STC", name="Chi bộ Sở Tài chính", kind="party_cell", parent_id=1)
UNIT_B = UnitPayload(id=22, code="CB-SYT", name="Chi bộ Sở Y tế", kind="party_cell", parent_id=1)
UNIT_C = UnitPayload(id=23, code="CB-SGD", name="Chi bộ Sở Giáo dục", kind="party_cell", parent_id=1)


def at(month: int, day: int, hour: int = 2) -> datetime:
    return datetime(2024, month, day, hour, 0, tzinfo=UTC)


def plan_created(status: str = "draft") -> PlanCreatedV1:
    return PlanCreatedV1(payload=PlanPayload(
        id=PLAN_ID, number="41-KH/ĐUK", title="Kế hoạch thực hiện Chương trình 22-CTr/TU", status=status,
        period="2021-2025", vision_year=2030, signer="Nguyễn Văn A",
        tasks=[TaskPayload(id=31, code="III.1", title="Cụ thể hóa thành kế hoạch", due_on=date(2024, 6, 30))],
    ))


def plan_updated(version: int, title: str) -> PlanUpdatedV1:
    created = plan_created().payload
    tasks = [*created.tasks, TaskPayload(id=32, code="III.2", title="Kiểm tra, giám sát")]
    return PlanUpdatedV1(payload=created.model_copy(update={"version": version, "title": title, "tasks": tasks}))


def plan_status(status: str, when: datetime) -> PlanPublishedV1 | PlanClosedV1:
    payload = PlanStatusPayload(plan_id=PLAN_ID, number="41-KH/ĐUK", status=status, changed_at=when)
    return PlanPublishedV1(payload=payload) if status == "published" else PlanClosedV1(payload=payload)


def assignment_created(id: int = 7, unit: UnitPayload = UNIT_A, due_on: date | None = date(2024, 6, 30)
                       ) -> AssignmentCreatedV1:
    return AssignmentCreatedV1(payload=AssignmentCreatedPayload(
        id=id, plan_id=PLAN_ID, task_id=31, task_code="III.1", task_title="Cụ thể hóa thành kế hoạch",
        unit_id=unit.id, unit_code=unit.code, unit_name=unit.name, due_on=due_on,
    ))


def status_changed(update_id: int = 11, version: int = 2, status: str = "in_progress", progress: int = 40, *,
                   assignment_id: int = 7, unit: UnitPayload = UNIT_A, **extra: object) -> AssignmentStatusChangedV1:
    return AssignmentStatusChangedV1(payload=AssignmentStatusChangedPayload(
        assignment_id=assignment_id, update_id=update_id, plan_id=PLAN_ID, plan_number="41-KH/ĐUK", task_id=31,
        task_code="III.1", task_title="Cụ thể hóa thành kế hoạch", unit_id=unit.id, unit_code=unit.code,
        unit_name=unit.name, old_status="not_started", new_status=status, progress=progress,
        summary=f"Báo cáo số {update_id}", due_on=date(2024, 6, 30), reported_by_name="Trần Văn Bình",
        reported_at=at(5, update_id), version=version, **extra,  # type: ignore[arg-type]
    ))


def reviewed(decision: str, update_id: int = 11, version: int = 3, status: str = "not_started", progress: int = 0,
             *, reason: str = "", assignment_id: int = 7, when: datetime | None = None) -> StatusUpdateReviewedV1:
    return StatusUpdateReviewedV1(payload=UpdateReviewedPayload(
        update_id=update_id, assignment_id=assignment_id, plan_id=PLAN_ID, plan_number="41-KH/ĐUK",
        task_code="III.1", task_title="Cụ thể hóa thành kế hoạch", unit_id=UNIT_A.id, unit_name=UNIT_A.name,
        decision=decision, reason=reason, reviewer_id=40, reviewer_name="Nguyễn Thị Lan",
        assignment_status=status, assignment_progress=progress, version=version,
        reviewed_at=when or at(6, update_id),
    ))


def unit_plan(id: int = 61, unit: UnitPayload = UNIT_A) -> UnitPlanRegisteredV1:
    return UnitPlanRegisteredV1(payload=UnitPlanPayload(
        id=id, plan_id=PLAN_ID, unit_id=unit.id, unit_code=unit.code, unit_name=unit.name,
        number=f"{id}-KH/CB", issued_on=date(2024, 1, 15), title="Kế hoạch thực hiện của chi bộ",
        link="https://example.vn/kh.pdf",
    ))


def inspection(id: int = 71, unit: UnitPayload = UNIT_B) -> InspectionRecordedV1:
    return InspectionRecordedV1(payload=InspectionPayload(
        id=id, plan_id=PLAN_ID, unit_id=unit.id, unit_name=unit.name, inspecting_unit_id=2,
        inspecting_unit_name="Ban Tuyên giáo", kind="supervision", inspected_on=date(2024, 5, 20),
        conclusion="Thực hiện tốt", follow_ups=["Bổ sung kế hoạch", "Báo cáo quý"],
    ))


def round_opened(id: int = 5, unit_ids: tuple[int, ...] = (21, 22, 23), kind: str = "preliminary"
                 ) -> ReviewRoundOpenedV1:
    return ReviewRoundOpenedV1(occurred_at=at(6, 1), payload=ReviewRoundPayload(
        id=id, plan_id=PLAN_ID, plan_number="41-KH/ĐUK", kind=kind, title="Sơ kết 6 tháng đầu năm 2024",
        period_end=date(2024, 6, 15), submit_by=date(2024, 6, 30), unit_ids=list(unit_ids),
    ))


def submission(id: int, unit: UnitPayload, on_time: bool, *, round_id: int = 5) -> ReviewSubmissionSubmittedV1:
    return ReviewSubmissionSubmittedV1(payload=ReviewSubmissionPayload(
        id=id, round_id=round_id, plan_id=PLAN_ID, unit_id=unit.id, unit_name=unit.name,
        submitted_at=at(6, 28) if on_time else at(7, 3), on_time=on_time, link=f"https://example.vn/bc-{id}.pdf",
    ))


SAMPLES: list[Event] = [
    UnitCreatedV1(payload=UNIT_A),
    UnitUpdatedV1(payload=UNIT_A.model_copy(update={"name": "Chi bộ Sở Tài chính tỉnh"})),
    OfficialCreatedV1(payload=OfficialPayload(id=9, name="Lê Văn C", email="c@example.vn", role="unit_officer")),
    OfficialUpdatedV1(payload=OfficialPayload(id=9, name="Lê Văn C", email="c@example.vn", role="supervisor")),
    plan_created(), plan_updated(2, "Kế hoạch (bản sửa)"), plan_status("published", at(1, 2)),
    plan_status("closed", at(12, 2)),
    assignment_created(), status_changed(), reviewed("accepted", version=2, status="in_progress", progress=40),
    unit_plan(), inspection(), round_opened(), submission(81, UNIT_A, True),
    ApiTokenIssuedV1(payload=ApiTokenPayload(id=3, official_id=9, token_hash=hash_token("pt_c"))),
    ApiTokenRevokedV1(payload=ApiTokenPayload(id=3, official_id=9, token_hash=hash_token("pt_c"),
                                              revoked_at=at(2, 1))),
    SigninLinkRequestedV1(payload=SigninLinkPayload(official_id=9, name="Lê Văn C", email="c@example.vn",
                                                    link="https://example.vn/signin/secret-link", expires_at=at(2, 1))),
    WebSessionStartedV1(payload=WebSessionPayload(id=4, official_id=9, session_hash=hash_token("s"),
                                                  expires_at=at(2, 2))),
    WebSessionEndedV1(payload=WebSessionPayload(id=4, official_id=9, session_hash=hash_token("s"),
                                                expires_at=at(2, 2), ended_at=at(2, 1))),
]


# -- every event type has a queue ---------------------------------------------------------------


def test_reporting_binds_a_queue_to_every_event_type(reporting: Reporting) -> None:
    # the relay publishes `mandatory`: an event type without a bound queue would be retried forever
    routing_keys = [q.routing_key for q in reporting.queues]
    assert sorted(routing_keys) == sorted(EVENT_TYPES)
    assert all(q.name == f"reporting.{q.routing_key}" for q in reporting.queues)


async def test_reporting_consumes_one_event_of_every_type(reporting: Reporting) -> None:
    assert {e.event_type for e in SAMPLES} == set(EVENT_TYPES)
    async with TestRabbitBroker(reporting.broker) as br:
        await publish(br, *SAMPLES)
    assert sorted(p.event_type for p in reporting.all(ProcessedEvent)) == sorted(EVENT_TYPES)
    assert [s.ended_at is not None for s in reporting.all(IdentitySession)] == [True]
    archived = " ".join(row.body for row in reporting.all(EventArchive))
    assert "signin_link.requested.v1" in archived and "secret-link" not in archived  # the link is not kept


async def test_official_events_only_reach_the_identity_tables(reporting: Reporting) -> None:
    async with TestRabbitBroker(reporting.broker) as br:
        await publish(br, SAMPLES[3], SAMPLES[3])
    assert reporting.inbox(SAMPLES[3]) == 1
    assert [(o.id, o.role) for o in reporting.all(IdentityOfficial)] == [(9, "supervisor")]
    assert reporting.all(ReportPlan) == [] and reporting.all(ReportAssignment) == []


# -- plan status --------------------------------------------------------------------------------


async def test_plan_status_moves_forward_whatever_the_arrival_order(reporting: Reporting) -> None:
    async with TestRabbitBroker(reporting.broker) as br:
        await publish(br, plan_status("closed", at(12, 1)))  # overtook everything: a placeholder plan
        assert reporting.get(ReportPlan, PLAN_ID).status == "closed"
        await publish(br, plan_status("published", at(1, 2)), plan_created("draft"))
    plan = reporting.get(ReportPlan, PLAN_ID)
    assert (plan.status, plan.title, plan.period, plan.vision_year, plan.signer) == (
        "closed", "Kế hoạch thực hiện Chương trình 22-CTr/TU", "2021-2025", 2030, "Nguyễn Văn A")
    assert plan.published_at is not None and plan.closed_at is not None
    assert (plan.published_at.month, plan.closed_at.month) == (1, 12)


async def test_plan_edits_keep_the_newest_version_whatever_the_arrival_order(reporting: Reporting) -> None:
    async with TestRabbitBroker(reporting.broker) as br:
        await publish(br, plan_updated(3, "Bản sửa lần 2"), plan_updated(2, "Bản sửa lần 1"), plan_created())
    plan = reporting.get(ReportPlan, PLAN_ID)
    assert (plan.title, plan.version, plan.period) == ("Bản sửa lần 2", 3, "2021-2025")
    assert sorted(t.code for t in reporting.all(ReportTask)) == ["III.1", "III.2"]


async def test_plan_published_after_created_and_idempotent(reporting: Reporting) -> None:
    published = plan_status("published", at(1, 2))
    async with TestRabbitBroker(reporting.broker) as br:
        await publish(br, plan_created(), published, published, parse_event(published.model_dump_json()))
    plan = reporting.get(ReportPlan, PLAN_ID)
    assert plan.status == "published" and plan.closed_at is None
    assert reporting.inbox(published) == 1


# -- reviews of status updates ------------------------------------------------------------------


async def test_accepted_review_keeps_the_assignment_state(reporting: Reporting) -> None:
    async with TestRabbitBroker(reporting.broker) as br:
        await publish(br, assignment_created(), status_changed(),
                      reviewed("accepted", version=2, status="in_progress", progress=40))
    row = reporting.get(ReportAssignment, 7)
    assert (row.status, row.progress, row.version) == ("in_progress", 40, 2)
    assert (row.review_state, row.review_reason, row.reviewed_update_id) == ("accepted", "", 11)


async def test_returned_review_resets_the_assignment_then_a_new_update_is_pending(reporting: Reporting) -> None:
    async with TestRabbitBroker(reporting.broker) as br:
        await publish(br, assignment_created(), status_changed(11, 2),
                      reviewed("returned", 11, 3, "not_started", 0, reason="Thiếu số liệu minh chứng."))
        row = reporting.get(ReportAssignment, 7)
        assert (row.status, row.progress, row.version) == ("not_started", 0, 3)
        assert (row.review_state, row.review_reason) == ("returned", "Thiếu số liệu minh chứng.")
        assert row.summary == "Báo cáo số 11"  # the returned update is still the latest report
        await publish(br, status_changed(12, 4, "in_progress", 50))  # resubmitted
    row = reporting.get(ReportAssignment, 7)
    assert (row.status, row.progress, row.version, row.update_id) == ("in_progress", 50, 4, 12)
    assert (row.review_state, row.review_reason, row.reviewed_at) == ("pending", "", None)


async def test_returned_review_of_an_older_update_changes_nothing(reporting: Reporting) -> None:
    async with TestRabbitBroker(reporting.broker) as br:
        await publish(br, assignment_created(), status_changed(11, 2), status_changed(12, 4, "in_progress", 60),
                      reviewed("returned", 11, 3, reason="Trả lại bản cũ"))  # version 3 < 4: too late
    row = reporting.get(ReportAssignment, 7)
    assert (row.status, row.progress, row.version, row.update_id) == ("in_progress", 60, 4, 12)
    assert (row.review_state, row.review_reason) == ("pending", "")


async def test_review_that_overtook_its_update(reporting: Reporting) -> None:
    async with TestRabbitBroker(reporting.broker) as br:
        await publish(br, reviewed("returned", 11, 3, "not_started", 0, reason="Sai biểu mẫu"))
        row = reporting.get(ReportAssignment, 7)  # a placeholder from the review's labels
        assert (row.task_code, row.unit_name, row.status, row.version) == ("III.1", UNIT_A.name, "not_started", 3)
        await publish(br, status_changed(11, 2), assignment_created())
    row = reporting.get(ReportAssignment, 7)
    assert (row.task_id, row.unit_code, row.due_on) == (31, "CB-STC", date(2024, 6, 30))  # completed by the others
    assert (row.status, row.progress, row.version) == ("not_started", 0, 3)  # the review's newer state stays
    assert (row.summary, row.update_id) == ("Báo cáo số 11", 11)  # the update's content still arrives
    assert (row.review_state, row.review_reason) == ("returned", "Sai biểu mẫu")


async def test_the_later_review_of_the_same_update_wins(reporting: Reporting) -> None:
    accepted = reviewed("accepted", version=2, status="in_progress", progress=40)
    returned = reviewed("returned", reason="Xem lại số liệu", when=at(6, 12))  # a day after the acceptance
    async with TestRabbitBroker(reporting.broker) as br:
        await publish(br, assignment_created(), status_changed(11, 2), returned, accepted)  # acceptance late
    row = reporting.get(ReportAssignment, 7)
    assert (row.review_state, row.review_reason, row.status, row.version) == ("returned", "Xem lại số liệu",
                                                                              "not_started", 3)


async def test_duplicate_review_has_one_effect(reporting: Reporting) -> None:
    event = reviewed("returned", 11, 3, reason="Thiếu số liệu")
    async with TestRabbitBroker(reporting.broker) as br:
        await publish(br, assignment_created(), status_changed(11, 2), event,
                      status_changed(12, 4, "in_progress", 70), event, parse_event(event.model_dump_json()))
    assert reporting.inbox(event) == 1
    row = reporting.get(ReportAssignment, 7)
    assert (row.status, row.progress, row.version, row.review_state) == ("in_progress", 70, 4, "pending")


async def test_status_change_keeps_indicators_evidence_and_period(reporting: Reporting) -> None:
    event = status_changed(indicator_values={"ty_le_dang_vien": 98.5}, evidence_links=["https://example.vn/a"],
                           period="2024-Q2")
    async with TestRabbitBroker(reporting.broker) as br:
        await publish(br, assignment_created(), event)
    row = reporting.get(ReportAssignment, 7)
    assert (row.indicator_values, row.evidence_links, row.period) == (
        {"ty_le_dang_vien": 98.5}, ["https://example.vn/a"], "2024-Q2")
    assert row.review_state == "pending"


# -- unit plans, inspections, review rounds and submissions -------------------------------------


async def test_unit_plans_and_inspections_are_recorded_once(reporting: Reporting) -> None:
    up, ins = unit_plan(), inspection()
    async with TestRabbitBroker(reporting.broker) as br:
        await publish(br, up, up, ins, ins)
    (row,) = reporting.all(ReportUnitPlan)
    assert (row.unit_id, row.number, row.issued_on, row.link) == (21, "61-KH/CB", date(2024, 1, 15),
                                                                   "https://example.vn/kh.pdf")
    (found,) = reporting.all(ReportInspection)
    assert (found.unit_id, found.kind, found.inspecting_unit_name) == (22, "supervision", "Ban Tuyên giáo")
    assert found.follow_ups == ["Bổ sung kế hoạch", "Báo cáo quý"]
    assert reporting.inbox(up) == 1 and reporting.inbox(ins) == 1


async def test_review_round_and_submissions_are_recorded_once(reporting: Reporting) -> None:
    opened, early = round_opened(), submission(81, UNIT_A, True)
    async with TestRabbitBroker(reporting.broker) as br:
        await publish(br, early)  # overtook the round's own event
        await publish(br, opened, opened, early, submission(82, UNIT_B, False))
    (round_,) = reporting.all(ReportReviewRound)
    assert (round_.kind, round_.unit_ids, round_.submit_by) == ("preliminary", [21, 22, 23], date(2024, 6, 30))
    assert round_.opened_at is not None
    assert sorted((s.unit_id, s.on_time) for s in reporting.all(ReportReviewSubmission)) == [(21, True), (22, False)]
    assert reporting.get(ReportPlan, PLAN_ID).number == "41-KH/ĐUK"  # a placeholder until plan.created
    assert reporting.inbox(opened) == 1 and reporting.inbox(early) == 1


# -- progress -----------------------------------------------------------------------------------


async def load_plan(broker: RabbitBroker) -> None:
    """Unit A completed its task and registered a plan, B is overdue, C has no deadline; in round 5 A
    submitted on time, B late, C not at all."""
    await publish(
        broker, UnitCreatedV1(payload=UNIT_A), UnitCreatedV1(payload=UNIT_B), plan_created(),
        plan_status("published", at(1, 2)),
        assignment_created(7, UNIT_A), assignment_created(8, UNIT_B), assignment_created(9, UNIT_C, due_on=None),
        status_changed(11, 2, "completed", 100, assignment_id=7),
        status_changed(12, 2, "in_progress", 30, assignment_id=8, unit=UNIT_B),
        unit_plan(61, UNIT_A), inspection(71, UNIT_B),
        round_opened(5), submission(81, UNIT_A, True), submission(82, UNIT_B, False),
        round_opened(6, unit_ids=(21,), kind="final"),
    )


async def test_plan_progress_counts_assignments_units_and_rounds(reporting: Reporting) -> None:
    async with TestRabbitBroker(reporting.broker) as br:
        await load_plan(br)
    with Session(reporting.engine) as s:
        result = plan_progress(s, PLAN_ID, TODAY)
        assert plan_progress(s, 999, TODAY) is None
    assert result is not None
    assert (result.number, result.status, result.period, result.as_of) == ("41-KH/ĐUK", "published", "2021-2025", TODAY)
    assert result.assignments.total == 3
    assert result.assignments.by_status == {"not_started": 1, "in_progress": 1, "completed": 1}
    assert result.assignments.by_due_state == {
        "within_deadline": 0, "due_soon": 0, "overdue": 1, "completed_on_time": 1, "completed_late": 0,
        "no_deadline": 1, "reported": 0, "report_due": 0, "report_missing": 0,
    }
    units = {u.unit_code: u for u in result.units}
    assert list(units) == ["CB-SGD", "CB-STC", "CB-SYT"]
    a, b, c = units["CB-STC"], units["CB-SYT"], units["CB-SGD"]
    assert (a.unit_name, a.assignments_total, a.assignments_completed, a.assignments_overdue) == (
        "Chi bộ Sở Tài chính", 1, 1, 0)
    assert (b.assignments_total, b.assignments_completed, b.assignments_overdue, b.inspections) == (1, 0, 1, 1)
    assert a.unit_plan_registered and [p.number for p in a.unit_plans] == ["61-KH/CB"]
    assert not b.unit_plan_registered and b.unit_plans == []
    assert [(r.round_id, r.state) for r in a.review_rounds] == [(5, "on_time"), (6, "missing")]
    assert [(r.round_id, r.state) for r in b.review_rounds] == [(5, "late")]
    assert [(r.round_id, r.state) for r in c.review_rounds] == [(5, "missing")]
    first, final = result.review_rounds
    assert (first.id, first.kind, first.expected, first.submitted, first.on_time, first.late, first.missing) == (
        5, "preliminary", 3, 2, 1, 1, 1)
    assert [(u.unit_id, u.state) for u in first.units] == [(21, "on_time"), (22, "late"), (23, "missing")]
    assert (final.id, final.expected, final.submitted, final.missing) == (6, 1, 0, 1)


async def test_an_unexpected_submitter_is_listed_but_not_expected(reporting: Reporting) -> None:
    async with TestRabbitBroker(reporting.broker) as br:
        await publish(br, round_opened(5, unit_ids=(21,)), submission(83, UNIT_C, True))
    with Session(reporting.engine) as s:
        round_ = get_round(s, PLAN_ID, 5)
        assert round_ is not None and get_round(s, PLAN_ID + 1, 5) is None
        units = round_units(s, round_)
    assert [(u.unit_id, u.unit_name, u.expected, u.state) for u in units] == [
        (21, "#21", True, "missing"), (23, "Chi bộ Sở Giáo dục", False, "on_time")]


ADMIN = OfficialPayload(id=1, name="Quản trị", email="admin@example.vn", role="admin")
ADMIN_TOKEN = "pt_reporting-admin"


async def test_progress_route_and_review_export(reporting: Reporting) -> None:
    async with TestRabbitBroker(reporting.broker) as br:
        await load_plan(br)
        await publish(br, OfficialCreatedV1(payload=ADMIN), ApiTokenIssuedV1(payload=ApiTokenPayload(
            id=1, official_id=ADMIN.id, token_hash=hash_token(ADMIN_TOKEN))))
    # the HTTP app on the same database; its lifespan (RabbitMQ) is not started
    client = TestClient(reporting_app.create_app(ReportingSettings(database_url=reporting.url)),
                        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    response = client.get(f"/plans/{PLAN_ID}/progress")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["plan_id"] == PLAN_ID and body["assignments"]["total"] == 3
    assert body["review_rounds"][0]["units"][1] == {
        "unit_id": 22, "unit_name": "Chi bộ Sở Y tế", "expected": True, "state": "late",
        "submitted_at": "2024-07-03T02:00:00Z", "link": "https://example.vn/bc-82.pdf",
    }
    assert client.get("/plans/999/progress").status_code == 404

    response = client.get(f"/plans/{PLAN_ID}/reviews/5/export.csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"].startswith(
        'attachment; filename="nop-bao-cao-so-ket-41-KH-DUK-dot-5-')
    text_ = response.content.decode("utf-8")
    assert text_.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text_[1:])))
    # the original columns first (the report's content follows them)
    assert [row[:len(exports.REVIEW_CSV_HEADER)] for row in rows] == [
        exports.REVIEW_CSV_HEADER,
        ["1", "Chi bộ Sở Tài chính", "Đã nộp đúng hạn", "28/06/2024 09:00", "https://example.vn/bc-81.pdf"],
        ["2", "Chi bộ Sở Y tế", "Nộp trễ hạn", "03/07/2024 09:00", "https://example.vn/bc-82.pdf"],
        ["3", "Chi bộ Sở Giáo dục", "Chưa nộp", "", ""],
    ]
    assert client.get(f"/plans/{PLAN_ID + 1}/reviews/5/export.csv").status_code == 404  # another plan's round
    assert client.get(f"/plans/{PLAN_ID}/reviews/99/export.csv").status_code == 404


def test_review_filename_is_ascii() -> None:
    round_ = ReportReviewRound(id=6, plan_id=3, plan_number="41-KH/ĐUK", kind="final", title="x",
                               period_end=date(2025, 12, 1), submit_by=date(2025, 12, 15))
    assert exports.review_filename(round_, date(2025, 12, 20)) == "nop-bao-cao-tong-ket-41-KH-DUK-dot-6-2025-12-20.csv"


# -- schema upgrade -----------------------------------------------------------------------------


def test_migration_0002_keeps_existing_rows_valid(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/old.db"
    cfg = Config()
    cfg.set_main_option("script_location", str(reporting_app.MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url)
    command.upgrade(cfg, "0001")
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO report_plans (id, number, kind, title, issuer_name, place, status) "
                              "VALUES (3, '41-KH/ĐUK', 'ke_hoach', 'x', '', '', 'draft')"))
            conn.execute(text(
                "INSERT INTO report_assignments (id, plan_id, task_id, task_code, task_title, unit_id, unit_code, "
                "unit_name, role, status, progress, summary, difficulties, reported_by, version) "
                "VALUES (7, 3, 31, 'III.1', 'x', 21, 'CB', 'Chi bộ', 'lead', 'in_progress', 40, '', '', '', 2)"))
        migrate(url, reporting_app.MIGRATIONS)
        with Session(engine) as s:
            row = s.get(ReportAssignment, 7)
            plan = s.get(ReportPlan, 3)
        assert row is not None and plan is not None
        assert (row.review_state, row.review_reason, row.period) == ("", "", "")
        assert (row.indicator_values, row.evidence_links, row.update_id) == ({}, [], None)
        assert (plan.period, plan.signer, plan.vision_year) == ("", "", None)
    finally:
        engine.dispose()


# -- units renamed --------------------------------------------------------------------------------


def unit_event(cls: type[UnitCreatedV1] | type[UnitUpdatedV1], version: int, name: str,
               email: str | None = None) -> UnitCreatedV1 | UnitUpdatedV1:
    return cls(occurred_at=at(1, version), directory_version=version,
               payload=UNIT_A.model_copy(update={"name": name, "email": email}))


async def test_a_renamed_unit_keeps_its_latest_name_whatever_the_arrival_order(reporting: Reporting) -> None:
    created = unit_event(UnitCreatedV1, 1, "Chi bộ Sở Tài chính")
    renamed = unit_event(UnitUpdatedV1, 4, "Chi bộ Sở Tài chính tỉnh", "stc@example.vn")
    renamed_again = unit_event(UnitUpdatedV1, 9, "Chi bộ Sở Tài chính tỉnh Trà Vinh")
    async with TestRabbitBroker(reporting.broker) as br:
        await publish(br, renamed)  # overtook the creation, from its own queue
        assert reporting.get(ReportUnit, UNIT_A.id).name == "Chi bộ Sở Tài chính tỉnh"
        assert reporting.get(IdentityUnit, UNIT_A.id).kind == "party_cell"  # scope works already
        await publish(br, created, renamed_again, renamed, parse_event(renamed.model_dump_json()))
    unit = reporting.get(ReportUnit, UNIT_A.id)
    assert (unit.name, unit.email, unit.code, unit.directory_version) == (
        "Chi bộ Sở Tài chính tỉnh Trà Vinh", None, "CB-STC", 9)
    assert reporting.inbox(renamed) == 1
    (identity,) = reporting.all(IdentityUnit)
    assert (identity.id, identity.parent_id, identity.kind) == (UNIT_A.id, 1, "party_cell")


async def test_unnumbered_unit_events_are_ordered_by_time(reporting: Reporting) -> None:
    old = UnitCreatedV1(occurred_at=at(1, 1), payload=UNIT_A)
    new = UnitUpdatedV1(occurred_at=at(1, 2), payload=UNIT_A.model_copy(update={"name": "Tên mới"}))
    async with TestRabbitBroker(reporting.broker) as br:
        await publish(br, new, old)
    assert reporting.get(ReportUnit, UNIT_A.id).name == "Tên mới"


async def test_the_export_and_progress_show_a_units_new_name(reporting: Reporting) -> None:
    async with TestRabbitBroker(reporting.broker) as br:
        await load_plan(br)
        await publish(br, unit_event(UnitUpdatedV1, 5, "Chi bộ Sở Tài chính (mới)"),
                      OfficialCreatedV1(payload=ADMIN), ApiTokenIssuedV1(payload=ApiTokenPayload(
                          id=1, official_id=ADMIN.id, token_hash=hash_token(ADMIN_TOKEN))))
    client = TestClient(reporting_app.create_app(ReportingSettings(database_url=reporting.url)),
                        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    rows = list(csv.reader(io.StringIO(client.get(f"/plans/{PLAN_ID}/export.csv").content.decode("utf-8-sig"))))
    assert {row[3] for row in rows[1:]} == {"Chi bộ Sở Tài chính (mới)", "Chi bộ Sở Y tế", "Chi bộ Sở Giáo dục"}
    units = {u["unit_id"]: u["unit_name"] for u in client.get(f"/plans/{PLAN_ID}/progress").json()["units"]}
    assert units[UNIT_A.id] == "Chi bộ Sở Tài chính (mới)"


# -- ongoing tasks and reporting periods ----------------------------------------------------------

# plan 4 reports monthly; its task 41 is ongoing (thường xuyên); today is 10 July 2024
ONGOING_PLAN = 4


def ongoing_plan(version: int = 1, period: str = "monthly") -> PlanCreatedV1 | PlanUpdatedV1:
    cls = PlanCreatedV1 if version == 1 else PlanUpdatedV1
    return cls(payload=PlanPayload(
        id=ONGOING_PLAN, number="50-KH/ĐUK", title="Tuyên truyền thường xuyên", status="published",
        reporting_period=period, version=version,
        tasks=[TaskPayload(id=41, code="I", title="Tuyên truyền", kind="ongoing")]))


def ongoing_assigned(id: int, unit: UnitPayload, when: datetime, task_kind: str = "ongoing") -> AssignmentCreatedV1:
    return AssignmentCreatedV1(occurred_at=when, payload=AssignmentCreatedPayload(
        id=id, plan_id=ONGOING_PLAN, plan_number="50-KH/ĐUK", task_id=41, task_code="I", task_title="Tuyên truyền",
        task_kind=task_kind, unit_id=unit.id, unit_code=unit.code, unit_name=unit.name))


def ongoing_report(assignment_id: int, unit: UnitPayload, update_id: int, version: int,
                   when: datetime) -> AssignmentStatusChangedV1:
    return AssignmentStatusChangedV1(occurred_at=when, payload=AssignmentStatusChangedPayload(
        assignment_id=assignment_id, update_id=update_id, plan_id=ONGOING_PLAN, plan_number="50-KH/ĐUK", task_id=41,
        task_code="I", task_title="Tuyên truyền", unit_id=unit.id, unit_code=unit.code, unit_name=unit.name,
        old_status="in_progress", new_status="in_progress", progress=50, reported_at=when, version=version,
        period=f"{when.year}-{when.month:02d}"))


async def load_ongoing(broker: RabbitBroker) -> None:
    """A reported in July; B last reported in May (June missed); C was assigned in July."""
    await publish(
        broker, ongoing_plan(),
        ongoing_assigned(41, UNIT_A, at(3, 1)), ongoing_assigned(42, UNIT_B, at(3, 1)),
        ongoing_assigned(43, UNIT_C, datetime(2024, 6, 30, 17, 30, tzinfo=UTC)),  # 1 July in Vietnam
        ongoing_report(41, UNIT_A, 101, 2, at(7, 2)), ongoing_report(41, UNIT_A, 100, 2, at(6, 3)),  # late, older
        ongoing_report(42, UNIT_B, 102, 2, at(5, 20)),
    )


async def test_the_read_model_learns_assignment_and_report_days(reporting: Reporting) -> None:
    async with TestRabbitBroker(reporting.broker) as br:
        await publish(br, ongoing_report(41, UNIT_A, 101, 3, datetime(2024, 7, 1, 18, 0, tzinfo=UTC)))
        assert reporting.get(ReportAssignment, 41).last_reported_on == date(2024, 7, 2)  # Vietnamese day
        await publish(br, ongoing_report(41, UNIT_A, 100, 2, at(6, 3)),  # an older report, late
                      ongoing_assigned(41, UNIT_A, datetime(2024, 2, 29, 17, 0, tzinfo=UTC)), ongoing_plan())
    row = reporting.get(ReportAssignment, 41)
    assert (row.task_kind, row.assigned_on, row.last_reported_on) == ("ongoing", date(2024, 3, 1), date(2024, 7, 2))
    assert (row.update_id, row.version) == (101, 3)
    assert reporting.get(ReportPlan, ONGOING_PLAN).reporting_period == "monthly"


async def test_plan_reporting_period_follows_the_newest_version(reporting: Reporting) -> None:
    async with TestRabbitBroker(reporting.broker) as br:
        await publish(br, ongoing_plan(2, "yearly"), ongoing_plan(1, "monthly"))
        assert reporting.get(ReportPlan, ONGOING_PLAN).reporting_period == "yearly"
        await publish(br, ongoing_plan(3, "fortnightly"))  # a kind this version does not know
    assert reporting.get(ReportPlan, ONGOING_PLAN).reporting_period == "quarterly"


async def test_progress_of_ongoing_tasks_by_reporting_period(reporting: Reporting) -> None:
    async with TestRabbitBroker(reporting.broker) as br:
        await publish(br, UnitCreatedV1(payload=UNIT_A), UnitCreatedV1(payload=UNIT_B), UnitCreatedV1(payload=UNIT_C))
        await load_ongoing(br)
    with Session(reporting.engine) as s:
        result = plan_progress(s, ONGOING_PLAN, TODAY)
        late_july = plan_progress(s, ONGOING_PLAN, date(2024, 7, 25))
    assert result is not None and late_july is not None
    assert result.reporting_period == "monthly"
    assert {k: v for k, v in result.assignments.by_due_state.items() if v} == {
        "reported": 1, "report_missing": 1, "within_deadline": 1}
    assert {k: v for k, v in late_july.assignments.by_due_state.items() if v} == {
        "reported": 1, "report_missing": 1, "report_due": 1}
    overdue = {u.unit_id: u.assignments_overdue for u in result.units}
    assert overdue == {UNIT_A.id: 0, UNIT_B.id: 1, UNIT_C.id: 0}  # a missed period report counts as overdue


async def test_a_task_kind_from_the_plan_wins_over_an_older_assignment_event(reporting: Reporting) -> None:
    async with TestRabbitBroker(reporting.broker) as br:
        await publish(br, ongoing_plan(), ongoing_assigned(41, UNIT_A, at(3, 1), task_kind="one_off"))  # no kind
    with Session(reporting.engine) as s:
        result = plan_progress(s, ONGOING_PLAN, TODAY)
    assert result is not None and result.assignments.by_due_state["report_missing"] == 1


async def test_the_export_labels_ongoing_tasks_in_vietnamese(reporting: Reporting) -> None:
    async with TestRabbitBroker(reporting.broker) as br:
        await load_ongoing(br)
    with Session(reporting.engine) as s:
        plan = exports.get_plan(s, ONGOING_PLAN)
        assert plan is not None
        rows = export_rows(s, ONGOING_PLAN)
        text_ = exports.export_csv(plan, rows, date(2024, 7, 25), 7, kinds=task_kinds(s, ONGOING_PLAN))
    table = list(csv.reader(io.StringIO(text_[1:])))
    col = {name: i for i, name in enumerate(table[0])}
    assert [(r[col["Đơn vị"]], r[col["Thời hạn"]], r[col["Tình trạng thời hạn"]]) for r in table[1:]] == [
        ("Chi bộ Sở Giáo dục", "Báo cáo hằng tháng", "Đến kỳ báo cáo"),
        ("Chi bộ Sở Tài chính", "Báo cáo hằng tháng", "Đã báo cáo kỳ này"),
        ("Chi bộ Sở Y tế", "Báo cáo hằng tháng", "Chưa báo cáo kỳ trước"),
    ]
