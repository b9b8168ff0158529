"""Applying events to the read model (each in one transaction with its inbox row).

Each event type has its own queue, so events about one thing may arrive in any order, and are
applied concurrently: plan status only moves forward, assignment state follows the highest
`version`, and a row that an event needs but has not been created yet is started as a
placeholder that the creating event completes. Rows several projections change are locked
(FOR UPDATE) for the transaction, so those projections take turns. Every event applied is also
kept in `event_archive`, in the same transaction (see `_handle`), for `rebuild.py` to replay.
"""

from collections.abc import Callable, Mapping
from datetime import datetime
from functools import cache
from typing import Any, TypeVar

from sqlalchemy import Engine, Executable, Row, Table, bindparam, delete, select
from sqlalchemy import update as sql_update
from sqlmodel import Session

from services.reporting.models import (
    EventArchive,
    ReportAssignment,
    ReportingModel,
    ReportInspection,
    ReportPendingReview,
    ReportPlan,
    ReportReviewRound,
    ReportReviewSubmission,
    ReportTask,
    ReportUnit,
    ReportUnitPlan,
    ReportUpdate,
)
from shared.db import insert_missing, insert_new, lock_or_insert
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
    SigninLinkRequestedV1,
    StatusUpdateReviewedV1,
    UnitCreatedV1,
    UnitPlanRegisteredV1,
    UnitUpdatedV1,
    WebSessionEndedV1,
    WebSessionStartedV1,
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


Model = TypeVar("Model", bound=ReportingModel)
ASSIGNMENTS: Table = ReportAssignment.__table__  # type: ignore[attr-defined]
UPDATES: Table = ReportUpdate.__table__  # type: ignore[attr-defined]
PENDING: Table = ReportPendingReview.__table__  # type: ignore[attr-defined]
PLANS: Table = ReportPlan.__table__  # type: ignore[attr-defined]
ARCHIVE: Table = EventArchive.__table__  # type: ignore[attr-defined]


# The hot path's statements, built once (compiled once per dialect) and run with parameters.
LOCK_ASSIGNMENT = (
    select(ASSIGNMENTS.c.version, ASSIGNMENTS.c.last_reported_on, ASSIGNMENTS.c.task_id,
           select(PLANS.c.id).where(PLANS.c.id == bindparam("plan_id")).exists().label("plan_known"))
    .where(ASSIGNMENTS.c.id == bindparam("assignment_id")).with_for_update(of=ASSIGNMENTS)
)
TAKE_PENDING_REVIEW = (
    delete(PENDING).where(PENDING.c.update_id == bindparam("update_id"))
    .returning(PENDING.c.review_state, PENDING.c.review_reason, PENDING.c.reviewed_at)
)
LATEST_UPDATE = (
    select(UPDATES).where(UPDATES.c.assignment_id == bindparam("assignment_id"))
    .order_by(UPDATES.c.version.desc(), UPDATES.c.id.desc()).limit(1)
)


@cache
def _set_assignment(columns: frozenset[str]) -> Executable:
    """UPDATE one assignment's `columns` (parameters `set_<column>`, and `assignment_id`)."""
    return (sql_update(ASSIGNMENTS).where(ASSIGNMENTS.c.id == bindparam("assignment_id"))
            .values({c: bindparam(f"set_{c}") for c in sorted(columns)}))


def _run(session: Session, statement: Executable, params: dict[str, Any]) -> Any:
    """Execute a Core statement on the session's connection (no ORM processing), with `params`."""
    return session.connection().execute(statement, params)


def _locked(session: Session, placeholder: Model) -> Model:
    """The row with `placeholder`'s key (inserted from it if missing), locked until the commit."""
    insert_missing(session, placeholder)
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


def archive(session: Session, event: Event) -> None:
    """Keep the event as received (once: a duplicate never gets this far)."""
    _run(session, insert_new(session.get_bind().dialect.name, ARCHIVE), {
        "event_id": event.event_id, "event_type": event.event_type, "occurred_at": event.occurred_at,
        "body": event.redacted().model_dump_json()})


def _handle(engine: Engine, event: Event, work: Callable[[Session], object]) -> bool:
    """Apply `work` once per event, in one transaction with the event's inbox row and its archive
    row (written first, so a rebuild that locks the archive waits for the projections in flight)."""

    def archived(session: Session) -> None:
        archive(session, event)
        work(session)

    return handle_once(engine, event, CONSUMER, archived)


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

    return _handle(engine, event, work)


apply_unit_created = apply_unit  # the unit.created consumer's name for it


def apply_official(engine: Engine, event: OfficialCreatedV1 | OfficialUpdatedV1) -> bool:
    """Record the official's role, unit and active flag, to authenticate and scope callers."""
    return _handle(engine, event, lambda s: identity.apply_official(s, event))


def apply_session(engine: Engine, event: WebSessionStartedV1 | WebSessionEndedV1) -> bool:
    """Learn a browser session's hash, or its end, to authenticate its cookie."""
    return _handle(engine, event, lambda s: identity.apply_session(s, event))


def apply_nothing(engine: Engine, event: Event) -> bool:
    """Record an event this read model has no use for (the relay publishes `mandatory`)."""
    return _handle(engine, event, lambda s: None)


def apply_token(engine: Engine, event: ApiTokenIssuedV1 | ApiTokenRevokedV1) -> bool:
    """Record an API token's hash, or its revocation."""
    return _handle(engine, event, lambda s: identity.apply_token(s, event))


def apply_plan_snapshot(engine: Engine, event: PlanCreatedV1 | PlanUpdatedV1) -> bool:
    """Record a plan and its tasks as created or edited (a newer snapshot or status is kept)."""
    p = event.payload

    def work(session: Session) -> None:
        plan = _plan(session, p.id, p.number)
        newest = p.version >= plan.version
        if newest:
            for name in PLAN_FIELDS:
                setattr(plan, name, getattr(p, name))
            if plan.reporting_period not in REPORTING_PERIODS:  # a kind this version does not know
                plan.reporting_period = ReportingPeriod.QUARTERLY
            plan.version = p.version
        _advance(plan, p.status)
        for t in p.tasks:  # tasks are only ever added: an older snapshot adds, the newest also edits
            task = ReportTask(plan_id=p.id, **t.model_dump())
            if newest:
                session.merge(task)
            else:
                insert_missing(session, task)

    return _handle(engine, event, work)


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

    return _handle(engine, event, work)


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

    return _handle(engine, event, work)


def _review_key(state: str, reason: str, at: datetime | None) -> tuple[datetime, str, str] | None:
    return None if at is None else (as_utc(at), state, reason)


def _take_review(update: ReportUpdate, state: str, reason: str, at: datetime) -> None:
    """Give the update this review, unless it has a later one (two reviews of one update: the later
    decides; same moment: a fixed order, so that arrival order does not matter)."""
    current = _review_key(update.review_state, update.review_reason, update.reviewed_at)
    if current is None or current <= (as_utc(at), state, reason):
        update.review_state, update.review_reason, update.reviewed_at = state, reason, at


def _follow_latest_update(session: Session, row: ReportAssignment) -> None:
    """Show on the assignment the content and review of its latest update (highest version): a
    function of the updates known, so the same whatever order they and their reviews came in."""
    session.flush()  # the read below is Core: it sees this transaction's changes once they are flushed
    latest = _latest_update(session, row.id)
    if latest is None:
        return
    for name, value in _shown(latest).items():
        setattr(row, name, value)
    session.add(row)


def _lock_assignment(session: Session, assignment_id: int, plan_id: int) -> Row[Any] | None:
    """The assignment's version, last report day and task, its row locked until the commit (None:
    no row yet), and whether its plan has a row (read unlocked: a miss only costs an idempotent insert)."""
    found: Row[Any] | None = _run(session, LOCK_ASSIGNMENT, {"assignment_id": assignment_id,
                                                            "plan_id": plan_id}).first()
    return found


def _latest_update(session: Session, assignment_id: int) -> Mapping[str, Any] | None:
    """The assignment's update with the highest version (then id), as stored."""
    found = _run(session, LATEST_UPDATE, {"assignment_id": assignment_id}).first()
    return None if found is None else dict(found._mapping)


def _shown(latest: Mapping[str, Any]) -> dict[str, Any]:
    """What an assignment row shows of its latest update."""
    return {"update_id": latest["id"], "summary": latest["summary"], "difficulties": latest["difficulties"],
            "reported_by": latest["reported_by"], "reported_at": latest["reported_at"],
            "indicator_values": dict(latest["indicator_values"]), "evidence_links": list(latest["evidence_links"]),
            "period": latest["period"], "review_state": latest["review_state"],
            "review_reason": latest["review_reason"], "reviewed_at": latest["reviewed_at"],
            "reviewed_update_id": latest["id"] if latest["review_state"] != "pending" else None}


def _review_existing(session: Session, update_id: int, review: Row) -> None:
    """Give an update row that was already there a review that was waiting for it."""
    update = session.get(ReportUpdate, update_id, with_for_update=True, populate_existing=True)
    assert update is not None
    _take_review(update, review.review_state, review.review_reason, review.reviewed_at)
    session.add(update)
    session.flush()


def apply_status_changed(engine: Engine, event: AssignmentStatusChangedV1) -> bool:
    """Record the status update (one `report_updates` row, with its review if that came first) and
    move the assignment to the reported state, unless a newer version is already applied.

    The hot path, in Core statements: lock the assignment (creating it, and its plan, only when
    missing), take a waiting review, insert the update, then one UPDATE of the assignment."""
    p = event.payload
    identity: dict[str, Any] = {
        "plan_id": p.plan_id, "task_id": p.task_id, "task_code": p.task_code, "task_title": p.task_title,
        "unit_id": p.unit_id, "unit_code": p.unit_code, "unit_name": p.unit_name, "due_on": p.due_on}

    def work(session: Session) -> None:
        state = _lock_assignment(session, p.assignment_id, p.plan_id)
        if state is None or not state.plan_known:
            insert_missing(session, ReportPlan(id=p.plan_id, number=p.plan_number))
        if state is None:
            insert_missing(session, ReportAssignment(id=p.assignment_id, **identity))
            state = _lock_assignment(session, p.assignment_id, p.plan_id)
            assert state is not None
        changes: dict[str, Any] = dict(identity) if state.task_id == PLACEHOLDER_TASK_ID else {}
        reported_on = local_date(p.reported_at)
        if state.last_reported_on is None or state.last_reported_on < reported_on:  # whatever the arrival order
            changes["last_reported_on"] = reported_on
        if p.version > state.version:
            changes.update(status=p.new_status, progress=p.progress, version=p.version,
                           completed_on=reported_on if p.new_status == "completed" else None)
        review = _run(session, TAKE_PENDING_REVIEW, {"update_id": p.update_id}).first()
        update: dict[str, Any] = {
            "id": p.update_id, "assignment_id": p.assignment_id, "plan_id": p.plan_id, "unit_id": p.unit_id,
            "status": p.new_status, "progress": p.progress, "summary": p.summary, "difficulties": p.difficulties,
            "indicator_values": dict(p.indicator_values), "evidence_links": list(p.evidence_links),
            "period": p.period, "reported_by": p.reported_by_name, "reported_at": p.reported_at,
            "version": p.version, "review_state": "pending", "review_reason": "", "reviewed_at": None}
        if review is not None:
            update.update(review_state=review.review_state, review_reason=review.review_reason,
                          reviewed_at=review.reviewed_at)
        inserted = _run(session, insert_new(session.get_bind().dialect.name, UPDATES), update).first()
        latest: Mapping[str, Any] | None = update
        if inserted is None:  # the update's row was there already (a rebuild's replay, say)
            if review is not None:
                _review_existing(session, p.update_id, review)
            latest = _latest_update(session, p.assignment_id)
        elif p.version <= state.version:  # an older update arriving late: the latest may be another one
            latest = _latest_update(session, p.assignment_id)
        # else the new update is the latest: each update applied raised the assignment's version to its own
        assert latest is not None
        changes.update(_shown(latest))
        _run(session, _set_assignment(frozenset(changes)),
             {"assignment_id": p.assignment_id} | {f"set_{c}": v for c, v in changes.items()})

    return _handle(engine, event, work)


def apply_update_reviewed(engine: Engine, event: StatusUpdateReviewedV1) -> bool:
    """Record the review on its update's row (kept aside until the update arrives); a returned
    update also resets the assignment to the state in the event, unless a newer version is applied.

    The assignment shows the review of its latest update only: a review of an older one changes
    that update's row, not the assignment's review state."""
    p = event.payload

    def work(session: Session) -> None:
        insert_missing(session, ReportPlan(id=p.plan_id, number=p.plan_number))
        row = _assignment(session, p.assignment_id, plan_id=p.plan_id, task_id=PLACEHOLDER_TASK_ID,
                          task_code=p.task_code, task_title=p.task_title, unit_id=p.unit_id, unit_code="",
                          unit_name=p.unit_name)
        update = session.get(ReportUpdate, p.update_id, with_for_update=True)
        if update is not None:
            _take_review(update, p.decision, p.reason, p.reviewed_at)
            session.add(update)
        else:
            pending = lock_or_insert(session, ReportPendingReview(
                update_id=p.update_id, assignment_id=p.assignment_id, review_state=p.decision,
                review_reason=p.reason, reviewed_at=p.reviewed_at))
            if (as_utc(pending.reviewed_at), pending.review_state, pending.review_reason) < \
                    (as_utc(p.reviewed_at), p.decision, p.reason):
                pending.review_state, pending.review_reason, pending.reviewed_at = p.decision, p.reason, p.reviewed_at
                session.add(pending)
        if p.decision == "returned" and p.version > row.version:
            row.status, row.progress, row.version = p.assignment_status, p.assignment_progress, p.version
            if row.status != "completed":
                row.completed_on = None
        session.add(row)
        session.flush()
        _follow_latest_update(session, row)

    return _handle(engine, event, work)


def apply_unit_plan_registered(engine: Engine, event: UnitPlanRegisteredV1) -> bool:
    """Record a unit's implementing plan."""
    return _handle(engine, event, lambda s: s.merge(ReportUnitPlan(**event.payload.model_dump())))


def apply_inspection_recorded(engine: Engine, event: InspectionRecordedV1) -> bool:
    """Record an inspection or supervision."""
    return _handle(engine, event, lambda s: s.merge(ReportInspection(**event.payload.model_dump())))


def apply_review_round_opened(engine: Engine, event: ReviewRoundOpenedV1) -> bool:
    """Record a review round and the units expected to submit."""
    p = event.payload

    def work(session: Session) -> None:
        insert_missing(session, ReportPlan(id=p.plan_id, number=p.plan_number))
        session.merge(ReportReviewRound(**p.model_dump(), opened_at=event.occurred_at))

    return _handle(engine, event, work)


def apply_review_submitted(engine: Engine, event: ReviewSubmissionSubmittedV1) -> bool:
    """Record a unit's review report (it may arrive before its round)."""
    return _handle(engine, event, lambda s: s.merge(ReportReviewSubmission(**event.payload.model_dump())))


PROJECTIONS: dict[str, Callable[[Engine, Any], bool]] = {
    UnitCreatedV1.TYPE: apply_unit,
    UnitUpdatedV1.TYPE: apply_unit,
    OfficialCreatedV1.TYPE: apply_official,
    OfficialUpdatedV1.TYPE: apply_official,
    ApiTokenIssuedV1.TYPE: apply_token,
    ApiTokenRevokedV1.TYPE: apply_token,
    WebSessionStartedV1.TYPE: apply_session,
    WebSessionEndedV1.TYPE: apply_session,
    SigninLinkRequestedV1.TYPE: apply_nothing,
    PlanCreatedV1.TYPE: apply_plan_snapshot,
    PlanUpdatedV1.TYPE: apply_plan_snapshot,
    PlanPublishedV1.TYPE: apply_plan_status,
    PlanClosedV1.TYPE: apply_plan_status,
    AssignmentCreatedV1.TYPE: apply_assignment_created,
    AssignmentStatusChangedV1.TYPE: apply_status_changed,
    StatusUpdateReviewedV1.TYPE: apply_update_reviewed,
    UnitPlanRegisteredV1.TYPE: apply_unit_plan_registered,
    InspectionRecordedV1.TYPE: apply_inspection_recorded,
    ReviewRoundOpenedV1.TYPE: apply_review_round_opened,
    ReviewSubmissionSubmittedV1.TYPE: apply_review_submitted,
}
"""The projection of each event type reporting consumes (what the consumers and a rebuild call)."""
