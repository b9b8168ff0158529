"""Applying events to the read model (each in one transaction with its inbox row).

Each event type has its own queue, so events about one thing may arrive in any order, and are
applied concurrently: plan status only moves forward, assignment state follows the highest
`version`, and a row that an event needs but has not been created yet is started as a
placeholder that the creating event completes. Rows several projections change are locked
(FOR UPDATE) for the transaction, so those projections take turns.
"""

from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Engine
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

from services.reporting.models import (
    ReportAssignment,
    ReportingModel,
    ReportInspection,
    ReportPlan,
    ReportReviewRound,
    ReportReviewSubmission,
    ReportTask,
    ReportUnit,
    ReportUnitPlan,
)
from shared.due import ReportingPeriod
from shared.events import (
    ApiTokenIssuedV1,
    ApiTokenRevokedV1,
    AssignmentCreatedV1,
    AssignmentStatusChangedV1,
    InspectionRecordedV1,
    OfficialCreatedV1,
    OfficialUpdatedV1,
    PlanClosedV1,
    PlanCreatedV1,
    PlanPublishedV1,
    PlanUpdatedV1,
    ReviewRoundOpenedV1,
    ReviewSubmissionSubmittedV1,
    StatusUpdateReviewedV1,
    UnitCreatedV1,
    UnitPlanRegisteredV1,
    UnitUpdatedV1,
)
from shared.events.base import Event, as_utc
from shared.identity import projection as identity
from shared.messaging.inbox import handle_once
from shared.vietnamese import local_date

CONSUMER = "reporting"
PLAN_STATUS_ORDER = {"draft": 0, "published": 1, "closed": 2}
PLACEHOLDER_TASK_ID = 0  # an assignment known only from a review, until its own events arrive
PLAN_FIELDS = ("number", "kind", "title", "issuer_name", "place", "issued_on", "implements", "period",
               "vision_year", "signer", "reporting_period")
REPORTING_PERIODS = frozenset(p.value for p in ReportingPeriod)


Row = TypeVar("Row", bound=ReportingModel)


def _ensure(session: Session, placeholder: ReportingModel) -> None:
    """Insert `placeholder` unless a row with its key exists; projections racing to create the same
    row wait for each other instead of failing on the primary key."""
    table: Any = type(placeholder).__table__  # type: ignore[attr-defined]
    values = {c.name: getattr(placeholder, c.name) for c in table.columns}
    insert = postgres_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(insert(table).values(values).on_conflict_do_nothing())


def _locked(session: Session, placeholder: Row) -> Row:
    """The row with `placeholder`'s key (inserted from it if missing), locked until the commit."""
    _ensure(session, placeholder)
    key = type(placeholder).__table__.primary_key.columns  # type: ignore[attr-defined]
    row = session.get(type(placeholder), tuple(getattr(placeholder, c.name) for c in key), with_for_update=True)
    assert row is not None
    return row


def _plan(session: Session, plan_id: int, number: str) -> ReportPlan:
    """The plan's row, locked; a placeholder with just its number until plan.created arrives."""
    return _locked(session, ReportPlan(id=plan_id, number=number))



def _advance(plan: ReportPlan, status: str) -> None:
    """Move the plan's status forward (draft → published → closed), never back."""
    if PLAN_STATUS_ORDER.get(status, 0) >= PLAN_STATUS_ORDER.get(plan.status, 0):
        plan.status = status


def _assignment(session: Session, assignment_id: int, **identity: Any) -> ReportAssignment:
    """The assignment's row, locked: new, or a review's placeholder completed with `identity`."""
    row = _locked(session, ReportAssignment(id=assignment_id, **identity))
    if row.task_id == PLACEHOLDER_TASK_ID:
        for name, value in identity.items():
            setattr(row, name, value)
    return row


def _directory_order(event: Event) -> tuple[int, datetime]:
    """Where a directory event stands: by directory version (gap-free, in commit order), and between
    events from before the clock existed (version 0) by occurred_at."""
    return event.directory_version or 0, as_utc(event.occurred_at)


def apply_unit(engine: Engine, event: UnitCreatedV1 | UnitUpdatedV1) -> bool:
    """Record the unit as created or renamed, in the read model and in the identity tree; a unit's
    row keeps the latest event's values whichever arrives first."""
    p = event.payload

    def work(session: Session) -> None:
        version, at = _directory_order(event)
        row = _locked(session, ReportUnit(id=p.id, code=p.code, name=p.name, kind=p.kind, parent_id=p.parent_id,
                                          email=p.email, directory_version=version, as_of=at))
        if (row.directory_version, as_utc(row.as_of) if row.as_of else at) <= (version, at):
            row.code, row.name, row.kind, row.parent_id, row.email = p.code, p.name, p.kind, p.parent_id, p.email
            row.directory_version, row.as_of = version, at
            session.add(row)
        identity.apply_unit(session, event)

    return handle_once(engine, event, CONSUMER, work)


apply_unit_created = apply_unit  # the unit.created consumer's name for it


def apply_official(engine: Engine, event: OfficialCreatedV1 | OfficialUpdatedV1) -> bool:
    """Record the official's role, unit and active flag, to authenticate and scope callers."""
    return handle_once(engine, event, CONSUMER, lambda s: identity.apply_official(s, event))


def apply_token(engine: Engine, event: ApiTokenIssuedV1 | ApiTokenRevokedV1) -> bool:
    """Record an API token's hash, or its revocation."""
    return handle_once(engine, event, CONSUMER, lambda s: identity.apply_token(s, event))


def apply_plan_snapshot(engine: Engine, event: PlanCreatedV1 | PlanUpdatedV1) -> bool:
    """Record a plan and its tasks as created or edited (a newer snapshot or status is kept)."""
    p = event.payload

    def work(session: Session) -> None:
        plan = _plan(session, p.id, p.number)
        if p.version >= plan.version:
            for name in PLAN_FIELDS:
                setattr(plan, name, getattr(p, name))
            if plan.reporting_period not in REPORTING_PERIODS:  # a kind this version does not know
                plan.reporting_period = ReportingPeriod.QUARTERLY
            plan.version = p.version
        _advance(plan, p.status)
        for t in p.tasks:  # tasks are only ever added, so any snapshot's tasks are current
            session.merge(ReportTask(plan_id=p.id, **t.model_dump()))

    return handle_once(engine, event, CONSUMER, work)


def apply_plan_status(engine: Engine, event: PlanPublishedV1 | PlanClosedV1) -> bool:
    """Record that a plan was published or closed."""
    p = event.payload

    def work(session: Session) -> None:
        plan = _plan(session, p.plan_id, p.number)
        _advance(plan, p.status)
        if p.status == "published" and plan.published_at is None:
            plan.published_at = p.changed_at
        elif p.status == "closed" and plan.closed_at is None:
            plan.closed_at = p.changed_at

    return handle_once(engine, event, CONSUMER, work)


def apply_assignment_created(engine: Engine, event: AssignmentCreatedV1) -> bool:
    """Record an assignment (a status event that overtook it keeps its newer state)."""
    p = event.payload

    def work(session: Session) -> None:
        row = _assignment(session, p.id, plan_id=p.plan_id, task_id=p.task_id, task_code=p.task_code,
                          task_title=p.task_title, unit_id=p.unit_id, unit_code=p.unit_code, unit_name=p.unit_name)
        row.role, row.due_on, row.task_kind = p.role, p.due_on, p.task_kind
        row.assigned_on = local_date(event.occurred_at)
        if p.version > row.version:
            row.status, row.progress, row.version = p.status, p.progress, p.version
        session.add(row)

    return handle_once(engine, event, CONSUMER, work)


def apply_status_changed(engine: Engine, event: AssignmentStatusChangedV1) -> bool:
    """Move an assignment to the reported state, unless a newer one is already applied.

    The update's content is also taken when only its review overtook it (the review already
    carried the assignment past this version)."""
    p = event.payload

    def work(session: Session) -> None:
        _ensure(session, ReportPlan(id=p.plan_id, number=p.plan_number))
        row = _assignment(session, p.assignment_id, plan_id=p.plan_id, task_id=p.task_id, task_code=p.task_code,
                          task_title=p.task_title, unit_id=p.unit_id, unit_code=p.unit_code,
                          unit_name=p.unit_name, due_on=p.due_on)
        reported_on = local_date(p.reported_at)
        if row.last_reported_on is None or row.last_reported_on < reported_on:  # whatever the arrival order
            row.last_reported_on = reported_on
            session.add(row)
        newer = p.version > row.version
        reviewed_first = p.update_id == row.reviewed_update_id and p.update_id > (row.update_id or 0)
        if not (newer or reviewed_first):
            return
        row.update_id, row.summary, row.difficulties = p.update_id, p.summary, p.difficulties
        row.reported_by, row.reported_at = p.reported_by_name, p.reported_at
        row.indicator_values, row.evidence_links = dict(p.indicator_values), list(p.evidence_links)
        row.period = p.period
        if (row.reviewed_update_id or 0) < p.update_id:  # the review on record is of an older update
            row.review_state, row.review_reason, row.reviewed_at = "pending", "", None
            row.reviewed_update_id = None
        if newer:
            row.status, row.progress, row.version = p.new_status, p.progress, p.version
            row.completed_on = local_date(p.reported_at) if p.new_status == "completed" else None
        session.add(row)

    return handle_once(engine, event, CONSUMER, work)


def apply_update_reviewed(engine: Engine, event: StatusUpdateReviewedV1) -> bool:
    """Record the review of an assignment's latest update; a returned update also resets the
    assignment to the state in the event, unless a newer version is already applied."""
    p = event.payload

    def work(session: Session) -> None:
        _ensure(session, ReportPlan(id=p.plan_id, number=p.plan_number))
        row = _assignment(session, p.assignment_id, plan_id=p.plan_id, task_id=PLACEHOLDER_TASK_ID,
                          task_code=p.task_code, task_title=p.task_title, unit_id=p.unit_id, unit_code="",
                          unit_name=p.unit_name)
        latest = max(row.update_id or 0, row.reviewed_update_id or 0)
        same_but_later = p.update_id == latest and (row.reviewed_at is None or p.reviewed_at >= as_utc(row.reviewed_at))
        if p.update_id > latest or same_but_later:
            row.review_state, row.review_reason = p.decision, p.reason
            row.reviewed_update_id, row.reviewed_at = p.update_id, p.reviewed_at
        if p.decision == "returned" and p.version > row.version:
            row.status, row.progress, row.version = p.assignment_status, p.assignment_progress, p.version
            if row.status != "completed":
                row.completed_on = None
        session.add(row)

    return handle_once(engine, event, CONSUMER, work)


def apply_unit_plan_registered(engine: Engine, event: UnitPlanRegisteredV1) -> bool:
    """Record a unit's implementing plan."""
    return handle_once(engine, event, CONSUMER, lambda s: s.merge(ReportUnitPlan(**event.payload.model_dump())))


def apply_inspection_recorded(engine: Engine, event: InspectionRecordedV1) -> bool:
    """Record an inspection or supervision."""
    return handle_once(engine, event, CONSUMER, lambda s: s.merge(ReportInspection(**event.payload.model_dump())))


def apply_review_round_opened(engine: Engine, event: ReviewRoundOpenedV1) -> bool:
    """Record a review round and the units expected to submit."""
    p = event.payload

    def work(session: Session) -> None:
        _ensure(session, ReportPlan(id=p.plan_id, number=p.plan_number))
        session.merge(ReportReviewRound(**p.model_dump(), opened_at=event.occurred_at))

    return handle_once(engine, event, CONSUMER, work)


def apply_review_submitted(engine: Engine, event: ReviewSubmissionSubmittedV1) -> bool:
    """Record a unit's review report (it may arrive before its round)."""
    return handle_once(engine, event, CONSUMER,
                       lambda s: s.merge(ReportReviewSubmission(**event.payload.model_dump())))
