"""The assignment facts this service chases, kept from events (never read from another service).

Each event type has its own queue, so events about one plan or assignment may arrive in any order:
plan rows keep the highest version and the furthest status, assignment rows the highest version.
"""

from datetime import date
from zoneinfo import ZoneInfo

from sqlmodel import Session

from services.notifications.models import (
    AssignmentFact,
    PlanFact,
    RoundFact,
    SubmissionFact,
    UnitPlanFact,
)
from shared.db import insert_missing, lock_or_insert
from shared.events import (
    AssignmentCreatedV1,
    AssignmentStatusChangedV1,
    PlanClosedV1,
    PlanCreatedV1,
    PlanPublishedV1,
    PlanUpdatedV1,
    ReviewRoundOpenedV1,
    ReviewSubmissionSubmittedV1,
    StatusUpdateReviewedV1,
    UnitPlanRegisteredV1,
)

PLAN_STATUS_RANK = {"draft": 0, "published": 1, "closed": 2}


def _plan(session: Session, plan_id: int) -> PlanFact:
    return lock_or_insert(session, PlanFact(id=plan_id))


def apply_plan(session: Session, event: PlanCreatedV1 | PlanUpdatedV1) -> None:
    """Keep the plan's identity and reporting period, from its newest version."""
    p = event.payload
    row = _plan(session, p.id)
    if p.version >= row.version:
        row.number, row.title, row.issuer_unit_id, row.issuer_name = p.number, p.title, p.issuer_unit_id, p.issuer_name
        row.reporting_period, row.version = p.reporting_period, p.version
    _advance(row, p.status)
    session.add(row)


def apply_plan_status(session: Session, event: PlanPublishedV1 | PlanClosedV1) -> None:
    """A plan was published (its assignments are in force) or closed (nothing more is chased)."""
    p = event.payload
    row = _plan(session, p.plan_id)
    row.number = row.number or p.number
    if p.status == "published" and row.published_at is None:
        row.published_at = p.changed_at
    _advance(row, p.status)
    session.add(row)


def _advance(row: PlanFact, status: str) -> None:
    if PLAN_STATUS_RANK.get(status, 0) > PLAN_STATUS_RANK.get(row.status, 0):
        row.status = status


def apply_assignment(session: Session, event: AssignmentCreatedV1, tz: ZoneInfo) -> None:
    """Learn an assignment: task, unit, role and deadline (a status the unit already reported stays)."""
    p = event.payload
    assigned_on = event.occurred_at.astimezone(tz).date()
    row = lock_or_insert(session, AssignmentFact(id=p.id, plan_id=p.plan_id, task_id=p.task_id, task_code=p.task_code,
                                          task_title=p.task_title, unit_id=p.unit_id, assigned_on=assigned_on,
                                          status=p.status, progress=p.progress, version=p.version))
    row.task_kind, row.role, row.due_on, row.assigned_on = p.task_kind, p.role, p.due_on, assigned_on
    session.add(row)


def apply_status(session: Session, event: AssignmentStatusChangedV1, tz: ZoneInfo) -> None:
    """A unit reported: its status, progress and the day of its latest report."""
    p = event.payload
    reported_on = p.reported_at.astimezone(tz).date()
    # if the report overtook the assignment's creation, that event fills in the rest
    row = lock_or_insert(session, AssignmentFact(id=p.assignment_id, plan_id=p.plan_id, task_id=p.task_id,
                                          task_code=p.task_code, task_title=p.task_title, unit_id=p.unit_id,
                                          due_on=p.due_on, assigned_on=reported_on))
    if row.last_reported_on is None or reported_on > row.last_reported_on:
        row.last_reported_on = reported_on
    if p.version > row.version:
        _set_status(row, p.new_status, p.progress, p.version, reported_on)
    session.add(row)


def apply_review(session: Session, event: StatusUpdateReviewedV1, tz: ZoneInfo) -> None:
    """A returned update puts the assignment back where the review left it."""
    p = event.payload
    row = session.get(AssignmentFact, p.assignment_id, with_for_update=True)
    if row is not None and p.version > row.version:
        _set_status(row, p.assignment_status, p.assignment_progress, p.version, p.reviewed_at.astimezone(tz).date())
        session.add(row)


def _set_status(row: AssignmentFact, status: str, progress: int, version: int, on: date) -> None:
    row.status, row.progress, row.version = status, progress, version
    row.completed_on = (row.completed_on or on) if status == "completed" else None


def apply_unit_plan(session: Session, event: UnitPlanRegisteredV1) -> None:
    """The unit turned the plan into its own plan."""
    p = event.payload
    insert_missing(session, UnitPlanFact(plan_id=p.plan_id, unit_id=p.unit_id))


def apply_round(session: Session, event: ReviewRoundOpenedV1, tz: ZoneInfo) -> None:
    """A review round and the units expected to submit."""
    p = event.payload
    insert_missing(session, RoundFact(id=p.id, plan_id=p.plan_id, plan_number=p.plan_number, kind=p.kind, title=p.title,
                            period_end=p.period_end, submit_by=p.submit_by, unit_ids=list(p.unit_ids),
                            opened_on=event.occurred_at.astimezone(tz).date()))


def apply_submission(session: Session, event: ReviewSubmissionSubmittedV1) -> None:
    """A unit submitted its review report."""
    p = event.payload
    insert_missing(session, SubmissionFact(round_id=p.round_id, unit_id=p.unit_id))
