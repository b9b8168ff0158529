"""Consumers are correct under any arrival order and any duplication (property-based).

A history is generated the way the assignments service would raise it: units and officials
(numbered by the directory clock), status updates, reviews and review rounds, each raised under
the directory version of its moment. It is delivered to the notifications handlers once in order
and once shuffled with duplicates, an event that is not ready yet (DirectoryNotReady) going back
to the end of the queue as a redelivery would. Both must end with the same emails (recipient,
subject and body of every event) and the same directory.

PLANTRACK_PROPERTY_EXAMPLES sets how many histories (default 150 in the test run; the figure in
the README was measured with 3000).
"""

import os
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine
from sqlmodel import Session, SQLModel, select

from services.notifications import handlers
from services.notifications.mailroom import Mailroom
from services.notifications.models import DirectoryOfficial, NotificationsModel, OutgoingEmail
from services.notifications.settings import NotificationsSettings
from services.reporting import projections
from services.reporting.models import ReportingModel
from shared.db import make_engine
from shared.events import (
    AssignmentCreatedPayload,
    AssignmentCreatedV1,
    AssignmentStatusChangedPayload,
    AssignmentStatusChangedV1,
    Event,
    IndicatorPayload,
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
    StatusUpdateReviewedV1,
    TaskPayload,
    UnitCreatedV1,
    UnitPayload,
    UnitPlanPayload,
    UnitPlanRegisteredV1,
    UpdateReviewedPayload,
)
from shared.identity.models import IDENTITY_TABLES
from shared.messaging.inbox import ProcessedEvent

EXAMPLES = int(os.environ.get("PLANTRACK_PROPERTY_EXAMPLES", "150"))
PLACE = "Trà Vinh"
T0 = datetime(2024, 3, 1, 1, 0, tzinfo=UTC)

# two trees: DUK with its board BTG and three cells; KDN with its board and one cell
UNITS = [(1, "DUK", "bloc_committee", None), (2, "BTG", "advisory_board", 1), (3, "CB-A", "party_cell", 1),
         (4, "CB-B", "party_cell", 1), (5, "CB-C", "party_cell", 1), (10, "KDN", "bloc_committee", None),
         (11, "BTG2", "advisory_board", 10), (12, "CB-X", "party_cell", 10)]
CELLS = [3, 4, 5, 12]
SUPERVISING = [1, 2, 10, 11]


@dataclass
class Producer:
    """Raises events as the assignments service does: directory events take the next clock value."""

    events: list[Event] = field(default_factory=list)
    clock: int = 0
    officials: dict[int, OfficialPayload] = field(default_factory=dict)

    def at(self) -> datetime:
        return T0 + timedelta(minutes=len(self.events))

    def directory(self, cls: Callable[..., Event], payload: Any) -> None:
        self.clock += 1
        self.events.append(cls(payload=payload, occurred_at=self.at(), directory_version=self.clock))

    def other(self, cls: Callable[..., Event], payload: Any) -> None:
        self.events.append(cls(payload=payload, occurred_at=self.at(), directory_version=self.clock or None))


def official(oid: int, role: str, unit_id: int, active: bool = True) -> OfficialPayload:
    return OfficialPayload(id=oid, name=f"Cán bộ {oid}", email=f"cb{oid}@example.vn", unit_id=unit_id,
                           role=role, active=active)


def status(unit_id: int, n: int, reporter: int | None) -> AssignmentStatusChangedPayload:
    return AssignmentStatusChangedPayload(
        assignment_id=100 + unit_id, update_id=n, plan_id=1, plan_number="41-KH/ĐUK", task_id=7, task_code="II.1",
        task_title="Quán triệt, cụ thể hóa", unit_id=unit_id, unit_code=f"U{unit_id}", unit_name=f"Chi bộ {unit_id}",
        old_status="not_started", new_status="in_progress", progress=10 * (n % 10), summary=f"Lần {n}",
        reported_by_id=reporter, reported_by_name="Người báo cáo", reported_at=T0, version=n + 1)


def review(unit_id: int, n: int, decision: str) -> UpdateReviewedPayload:
    return UpdateReviewedPayload(
        update_id=n, assignment_id=100 + unit_id, plan_id=1, plan_number="41-KH/ĐUK", task_code="II.1",
        task_title="Quán triệt", unit_id=unit_id, unit_name=f"Chi bộ {unit_id}", decision=decision,
        reason="Thiếu số liệu" if decision == "returned" else "", reviewer_id=1, reviewer_name="Người duyệt",
        assignment_status="not_started", assignment_progress=0, version=n + 2, reviewed_at=T0)


steps = st.lists(st.one_of(
    st.tuples(st.just("official"), st.sampled_from(["supervisor", "unit_officer", "observer"]),
              st.sampled_from([u for u, *_ in UNITS])),
    st.tuples(st.just("update"), st.integers(0, 50), st.sampled_from(["active", "role", "unit"]),
              st.sampled_from([u for u, *_ in UNITS])),
    st.tuples(st.just("status"), st.sampled_from(CELLS), st.integers(0, 50)),
    st.tuples(st.just("review"), st.sampled_from(CELLS), st.sampled_from(["returned", "accepted"])),
    st.tuples(st.just("round"), st.lists(st.sampled_from(CELLS), min_size=1, max_size=3, unique=True)),
), min_size=1, max_size=30)


def history(plan: list[tuple]) -> list[Event]:
    """The events of a generated plan of steps, in the order the producer raised them."""
    p = Producer()
    for uid, code, kind, parent in UNITS:
        p.directory(UnitCreatedV1, UnitPayload(id=uid, code=code, name=f"Đơn vị {code}", kind=kind, parent_id=parent))
    for step in plan:
        n = len(p.events)
        if step[0] == "official":
            oid = 1000 + len(p.officials)
            p.officials[oid] = official(oid, step[1], step[2])
            p.directory(OfficialCreatedV1, p.officials[oid])
        elif step[0] == "update" and p.officials:
            oid = sorted(p.officials)[step[1] % len(p.officials)]
            o = p.officials[oid]
            changed = {"active": {"active": not o.active},
                       "role": {"role": "supervisor" if o.role != "supervisor" else "unit_officer"},
                       "unit": {"unit_id": step[3]}}[step[2]]
            p.officials[oid] = o.model_copy(update=changed)
            p.directory(OfficialUpdatedV1, p.officials[oid])
        elif step[0] == "status":
            reporters = [oid for oid, o in p.officials.items() if o.unit_id == step[1]]
            p.other(AssignmentStatusChangedV1, status(step[1], n, reporters[0] if reporters else None))
        elif step[0] == "review":
            p.other(StatusUpdateReviewedV1, review(step[1], n, step[2]))
        elif step[0] == "round":
            p.other(ReviewRoundOpenedV1, ReviewRoundPayload(
                id=n, plan_id=1, plan_number="41-KH/ĐUK", kind="preliminary", title="Sơ kết",
                period_end=date(2024, 6, 30), submit_by=date(2024, 7, 15), unit_ids=step[1]))
    return p.events


HANDLERS: dict[str, Callable[[Mailroom, Any], object]] = {
    UnitCreatedV1.TYPE: handlers.record_unit,
    OfficialCreatedV1.TYPE: handlers.record_official,
    OfficialUpdatedV1.TYPE: handlers.record_official,
    AssignmentStatusChangedV1.TYPE: handlers.queue_status_emails,
    StatusUpdateReviewedV1.TYPE: handlers.queue_returned_emails,
    ReviewRoundOpenedV1.TYPE: handlers.queue_round_emails,
}
SETTINGS = NotificationsSettings(place=PLACE, supervisor_mode="immediate", unsubscribe_secret="order")


def fresh_engine() -> Engine:
    engine = make_engine("sqlite://")
    NotificationsModel.metadata.create_all(engine)
    SQLModel.metadata.create_all(engine, tables=[ProcessedEvent.__table__, *IDENTITY_TABLES])  # type: ignore[attr-defined]
    return engine


def deliver(events: list[Event]) -> Iterator[Engine]:
    """Deliver `events` in this order; one that is not ready goes back to the end of the queue."""
    engine = fresh_engine()
    room = Mailroom(engine, SETTINGS)
    queue = list(events)
    waits = 0
    while queue:
        event = queue.pop(0)
        try:
            HANDLERS[event.event_type](room, event)
        except handlers.DirectoryNotReady:
            waits += 1
            assert waits < 50 * len(events) + 100, "an event waits forever"
            queue.append(event)
    yield engine
    engine.dispose()


def outcome(engine: Engine) -> tuple[set[tuple[str, str, str, str]], list[tuple]]:
    with Session(engine) as s:
        emails = {(str(m.event_id), m.recipient, m.subject, m.body) for m in s.exec(select(OutgoingEmail)).all()}
        assert len(emails) == len(s.exec(select(OutgoingEmail)).all()), "an email was written twice"
        officials = s.exec(select(DirectoryOfficial)).all()
        directory = sorted((o.id, o.email, o.role, o.unit_id, o.active) for o in officials)
    return emails, directory


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(plan=steps, seed=st.integers(0, 2**32 - 1), duplicates=st.integers(0, 10))
def test_any_order_and_any_duplicates_give_the_emails_of_the_ordered_delivery(
    plan: list[tuple], seed: int, duplicates: int,
) -> None:
    events = history(plan)
    rng = random.Random(seed)
    shuffled = events + [rng.choice(events) for _ in range(duplicates)]
    rng.shuffle(shuffled)
    expected = outcome(next(deliver(events)))
    assert outcome(next(deliver(shuffled))) == expected


def test_an_official_created_after_an_update_does_not_receive_it() -> None:
    """The case that arrival order used to get wrong: the newcomer's creation arrives first."""
    p = Producer()
    for uid, code, kind, parent in UNITS:
        p.directory(UnitCreatedV1, UnitPayload(id=uid, code=code, name=f"Đơn vị {code}", kind=kind, parent_id=parent))
    p.directory(OfficialCreatedV1, official(1000, "supervisor", 2))
    p.other(AssignmentStatusChangedV1, status(3, 1, None))
    p.directory(OfficialCreatedV1, official(1001, "supervisor", 2))
    p.directory(OfficialUpdatedV1, official(1000, "supervisor", 2, active=False))
    late_first = [p.events[-1], p.events[-2], p.events[-3], *p.events[:-3]]
    emails, _ = outcome(next(deliver(late_first)))
    assert {recipient for _, recipient, _, _ in emails} == {"cb1000@example.vn"}


def test_an_update_that_arrives_before_its_supervisor_waits_for_it() -> None:
    p = Producer()
    for uid, code, kind, parent in UNITS:
        p.directory(UnitCreatedV1, UnitPayload(id=uid, code=code, name=f"Đơn vị {code}", kind=kind, parent_id=parent))
    p.directory(OfficialCreatedV1, official(1000, "supervisor", 2))
    p.other(AssignmentStatusChangedV1, status(3, 1, None))
    update_first = [p.events[-1], *p.events[:-1]]
    emails, _ = outcome(next(deliver(update_first)))
    assert {recipient for _, recipient, _, _ in emails} == {"cb1000@example.vn"}  # not skipped silently


# -- reporting: the read model ------------------------------------------------------------------

REPORT_UNITS = [UnitPayload(id=3, code="CB-A", name="Chi bộ A", kind="party_cell", parent_id=1),
                UnitPayload(id=4, code="CB-B", name="Chi bộ B", kind="party_cell", parent_id=1)]

report_steps = st.lists(st.one_of(
    st.tuples(st.just("update"), st.integers(0, 1), st.sampled_from(["in_progress", "completed"]),
              st.integers(0, 100)),
    st.tuples(st.just("review"), st.integers(0, 1), st.sampled_from(["returned", "accepted"])),
    st.tuples(st.just("review_older"), st.integers(0, 1)),
    st.tuples(st.just("edit")), st.tuples(st.just("close")),
    st.tuples(st.just("unit_plan"), st.integers(0, 1)),
    st.tuples(st.just("inspection"), st.integers(0, 1)),
    st.tuples(st.just("submit"), st.integers(0, 1)),
), max_size=25)


def report_history(plan: list[tuple]) -> list[Event]:
    """A plan's life as the assignments service raises it: each assignment's version moves with each
    update and each return, an accepted review leaves it; an older update may be accepted after a
    newer one was sent, and each plan edit changes the first task's indicator target."""
    tasks = [TaskPayload(id=31, code="II.1", title="Quán triệt", due_on=date(2024, 6, 30),
                         indicators=[IndicatorPayload(code="CT1", name="Tỷ lệ", unit_of_measure="%", target=90)])]
    events: list[Event] = [UnitCreatedV1(payload=u) for u in REPORT_UNITS]
    events.append(PlanCreatedV1(payload=PlanPayload(id=1, number="41-KH/ĐUK", title="Kế hoạch", tasks=tasks)))
    events.append(PlanPublishedV1(payload=PlanStatusPayload(plan_id=1, number="41-KH/ĐUK", status="published",
                                                            changed_at=T0)))
    state = {}
    for i, u in enumerate(REPORT_UNITS):
        aid = 100 + i
        events.append(AssignmentCreatedV1(payload=AssignmentCreatedPayload(
            id=aid, plan_id=1, task_id=31, task_code="II.1", task_title="Quán triệt", unit_id=u.id,
            unit_code=u.code, unit_name=u.name, due_on=date(2024, 6, 30))))
        state[i] = {"version": 1, "status": "not_started", "progress": 0, "update": None, "older": []}
    events.append(ReviewRoundOpenedV1(payload=ReviewRoundPayload(
        id=5, plan_id=1, plan_number="41-KH/ĐUK", kind="preliminary", title="Sơ kết", period_end=date(2024, 6, 30),
        submit_by=date(2024, 7, 15), unit_ids=[u.id for u in REPORT_UNITS])))
    plan_version, closed = 1, False
    for n, step in enumerate(plan, start=1):
        when = T0 + timedelta(hours=n)
        if step[0] == "update" and not closed and state[step[1]]["status"] != "completed":  # completed is final
            i, s = step[1], state[step[1]]
            u = REPORT_UNITS[i]
            new = step[2]
            events.append(AssignmentStatusChangedV1(occurred_at=when, payload=AssignmentStatusChangedPayload(
                assignment_id=100 + i, update_id=n, plan_id=1, plan_number="41-KH/ĐUK", task_id=31, task_code="II.1",
                task_title="Quán triệt", unit_id=u.id, unit_code=u.code, unit_name=u.name, old_status=s["status"],
                new_status=new, progress=100 if new == "completed" else step[3], summary=f"Báo cáo {n}",
                reported_by_name="Cán bộ", reported_at=when, version=s["version"] + 1,
                indicator_values={"lop": float(n)}, evidence_links=[f"https://example.vn/{n}.pdf"])))
            if s["update"] is not None and not s["reviewed"]:
                s["older"].append(s["update"])
            s.update(version=s["version"] + 1, before=(s["status"], s["progress"]), status=new,
                     progress=100 if new == "completed" else step[3], update=n, reviewed=False)
        elif step[0] == "review" and state[step[1]]["update"] is not None and not state[step[1]]["reviewed"] \
                and not (closed and step[2] == "returned"):  # the latest update, once; no return once closed
            i, s = step[1], state[step[1]]
            returned = step[2] == "returned"
            s["reviewed"] = True
            if returned:
                s["status"], s["progress"] = s["before"]
                s["version"] += 1
            events.append(StatusUpdateReviewedV1(occurred_at=when, payload=UpdateReviewedPayload(
                update_id=s["update"], assignment_id=100 + i, plan_id=1, plan_number="41-KH/ĐUK", task_code="II.1",
                task_title="Quán triệt", unit_id=REPORT_UNITS[i].id, unit_name=REPORT_UNITS[i].name,
                decision=step[2], reason="Thiếu số liệu" if returned else "", reviewer_id=1, reviewer_name="Lan",
                assignment_status=s["status"], assignment_progress=s["progress"], version=s["version"],
                reviewed_at=when)))
        elif step[0] == "review_older" and state[step[1]]["older"]:  # accepted late: the assignment keeps its state
            i, s = step[1], state[step[1]]
            events.append(StatusUpdateReviewedV1(occurred_at=when, payload=UpdateReviewedPayload(
                update_id=s["older"].pop(0), assignment_id=100 + i, plan_id=1, plan_number="41-KH/ĐUK",
                task_code="II.1", task_title="Quán triệt", unit_id=REPORT_UNITS[i].id,
                unit_name=REPORT_UNITS[i].name, decision="accepted", reviewer_id=1, reviewer_name="Lan",
                assignment_status=s["status"], assignment_progress=s["progress"], version=s["version"],
                reviewed_at=when)))
        elif step[0] == "edit" and not closed:
            plan_version += 1
            first = tasks[0].model_copy(update={"indicators": [IndicatorPayload(
                code="CT1", name="Tỷ lệ", unit_of_measure="%", target=90 + plan_version)]})
            tasks = [first, *tasks[1:],
                     TaskPayload(id=31 + plan_version, code=f"II.{plan_version}", title=f"Việc {plan_version}")]
            events.append(PlanUpdatedV1(occurred_at=when, payload=PlanPayload(
                id=1, number="41-KH/ĐUK", title=f"Kế hoạch (bản {plan_version})", tasks=tasks, version=plan_version,
                status="published")))
        elif step[0] == "close" and not closed:
            closed = True
            events.append(PlanClosedV1(occurred_at=when, payload=PlanStatusPayload(
                plan_id=1, number="41-KH/ĐUK", status="closed", changed_at=when)))
        elif step[0] == "unit_plan":
            u = REPORT_UNITS[step[1]]
            events.append(UnitPlanRegisteredV1(occurred_at=when, payload=UnitPlanPayload(
                id=n, plan_id=1, unit_id=u.id, unit_code=u.code, unit_name=u.name, number=f"{n}-KH/CB",
                issued_on=date(2024, 1, 1), title="Kế hoạch của chi bộ", link="")))
        elif step[0] == "inspection":
            u = REPORT_UNITS[step[1]]
            events.append(InspectionRecordedV1(occurred_at=when, payload=InspectionPayload(
                id=n, plan_id=1, unit_id=u.id, unit_name=u.name, inspecting_unit_id=2, inspecting_unit_name="BTG",
                kind="inspection", inspected_on=date(2024, 5, 1))))
        elif step[0] == "submit":
            u = REPORT_UNITS[step[1]]
            events.append(ReviewSubmissionSubmittedV1(occurred_at=when, payload=ReviewSubmissionPayload(
                id=n, round_id=5, plan_id=1, unit_id=u.id, unit_name=u.name, submitted_at=when, on_time=n % 2 == 0,
                summary=f"Tóm tắt {n}", results="Kết quả", difficulties="Khó khăn", proposals="Đề xuất")))
    return events


REPORT_HANDLERS: dict[str, Callable[[Engine, Any], object]] = {
    UnitCreatedV1.TYPE: projections.apply_unit_created,
    PlanCreatedV1.TYPE: projections.apply_plan_snapshot,
    PlanUpdatedV1.TYPE: projections.apply_plan_snapshot,
    PlanPublishedV1.TYPE: projections.apply_plan_status,
    PlanClosedV1.TYPE: projections.apply_plan_status,
    AssignmentCreatedV1.TYPE: projections.apply_assignment_created,
    AssignmentStatusChangedV1.TYPE: projections.apply_status_changed,
    StatusUpdateReviewedV1.TYPE: projections.apply_update_reviewed,
    UnitPlanRegisteredV1.TYPE: projections.apply_unit_plan_registered,
    InspectionRecordedV1.TYPE: projections.apply_inspection_recorded,
    ReviewRoundOpenedV1.TYPE: projections.apply_review_round_opened,
    ReviewSubmissionSubmittedV1.TYPE: projections.apply_review_submitted,
}


def read_model(events: list[Event]) -> dict[str, list[tuple]]:
    """Every row of the read model after delivering `events` in this order."""
    engine = make_engine("sqlite://")
    ReportingModel.metadata.create_all(engine)
    SQLModel.metadata.create_all(engine, tables=[ProcessedEvent.__table__, *IDENTITY_TABLES])  # type: ignore[attr-defined]
    try:
        for event in events:
            REPORT_HANDLERS[event.event_type](engine, event)
        with Session(engine) as s:
            return {table.name: sorted(tuple(map(repr, row)) for row in s.execute(table.select()).all())
                    for table in ReportingModel.metadata.sorted_tables}
    finally:
        engine.dispose()


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(plan=report_steps, seed=st.integers(0, 2**32 - 1), duplicates=st.integers(0, 10))
def test_any_order_and_any_duplicates_give_the_read_model_of_the_ordered_delivery(
    plan: list[tuple], seed: int, duplicates: int,
) -> None:
    events = report_history(plan)
    rng = random.Random(seed)
    shuffled = events + [rng.choice(events) for _ in range(duplicates)]
    rng.shuffle(shuffled)
    assert read_model(shuffled) == read_model(events)
