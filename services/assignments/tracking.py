"""Use cases for carrying out assignments: status updates and their review."""

from datetime import date
from typing import Any, Protocol

from sqlalchemy import Select, Table, bindparam, insert, update
from sqlalchemy import select as select_columns
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, select

from services.assignments import audit, domain
from services.assignments.access import ensure_acts_for, ensure_readable, ensure_supervises
from services.assignments.auth import Actor
from services.assignments.clock import current_version
from services.assignments.domain import PlanStatus, ReviewDecision, ReviewState, Status
from services.assignments.errors import Invalid, NotFound, Stale, rules_checked
from services.assignments.models import Assignment, Plan, StatusUpdate, Task, Unit
from services.assignments.schemas import StatusUpdateCreate, StatusUpdatePublic, UpdateReview
from shared.events import (
    AssignmentStatusChangedPayload,
    AssignmentStatusChangedV1,
    StatusUpdateReviewedV1,
    UpdateReviewedPayload,
)
from shared.events.base import utcnow
from shared.vietnamese import local_date


def visible_assignment(session: Session, *, actor: Actor, assignment_id: int) -> Assignment:
    """Load an assignment the actor may see; others' assignments look missing (404)."""
    assignment = session.get(Assignment, assignment_id)
    if assignment is None:
        raise NotFound("Assignment", assignment_id)
    ensure_readable(session, actor, assignment.unit_id, "Assignment", assignment_id)
    return assignment


def _context(session: Session, assignment: Assignment) -> tuple[Plan, Task, Unit]:
    """The assignment's plan, task and unit, in one query."""
    row = session.exec(
        select(Plan, Task, Unit).select_from(Plan)
        .join(Task, (Task.plan_id == Plan.id) & (Task.id == assignment.task_id))  # type: ignore[arg-type]
        .join(Unit, Unit.id == assignment.unit_id)  # type: ignore[arg-type]
        .where(Plan.id == assignment.plan_id)
    ).one()
    return row[0], row[1], row[2]


class _Indicators(Protocol):
    """What the indicator check reads of a task."""

    code: str
    indicators: list[dict[str, Any]]


def _check_indicators(task: _Indicators, values: dict[str, float]) -> None:
    known = {i["code"] for i in task.indicators}
    unknown = sorted(set(values) - known)
    if unknown:
        raise Invalid(f"Task {task.code} has no indicator {', '.join(unknown)}; "
                      f"its indicators are: {', '.join(sorted(known)) or 'none'}.")
    negative = sorted(code for code, value in values.items() if value < 0)
    if negative:
        raise Invalid(f"Indicator values cannot be negative: {', '.join(negative)}.")


def _changed_meanwhile(assignment_id: object) -> Stale:
    return Stale(f"Assignment {assignment_id} was changed by someone else: reload it and try again.")


def _bump(session: Session, assignment: Assignment, expected_version: int, **values: object) -> None:
    """Write new assignment state only if nobody changed it meanwhile (optimistic concurrency)."""
    changes = {"version": expected_version + 1, "updated_at": utcnow(), **values}
    result = session.execute(
        update(Assignment)
        .where(Assignment.id == assignment.id, Assignment.version == expected_version)  # type: ignore[arg-type]
        .values(**changes).execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise _changed_meanwhile(assignment.id)
    for name, value in changes.items():  # what the row now holds, without reading it back
        set_committed_value(assignment, name, value)


# the status update path works on columns and prebuilt statements (compiled once, values bound per call):
# loading entities and flushing them cost more CPU than the rest of the request
_ASSIGNMENTS: Table = Assignment.__table__  # type: ignore[attr-defined]
_STATUS_UPDATES: Table = StatusUpdate.__table__  # type: ignore[attr-defined]

# what a report needs to know, as columns in one query (no entities to load): the assignment, its
# plan, task and unit, and the directory clock in the same snapshot
_REPORT_CONTEXT: Select[*tuple[Any, ...]] = (
    select_columns(
        col(Assignment.unit_id), col(Assignment.version), col(Assignment.status), col(Assignment.progress),
        col(Assignment.due_on), col(Plan.id).label("plan_id"), col(Plan.number).label("plan_number"),
        col(Plan.status).label("plan_status"), col(Task.id).label("task_id"), col(Task.code), col(Task.title),
        col(Task.indicators), col(Unit.code).label("unit_code"), col(Unit.name).label("unit_name"),
        current_version().label("directory_version"),
    )
    .join(Plan, col(Plan.id) == col(Assignment.plan_id))
    .join(Task, col(Task.id) == col(Assignment.task_id))
    .join(Unit, col(Unit.id) == col(Assignment.unit_id))
    .where(col(Assignment.id) == bindparam("assignment_id"))
)
_BUMP = (
    update(_ASSIGNMENTS)
    .where(_ASSIGNMENTS.c.id == bindparam("assignment_id"), _ASSIGNMENTS.c.version == bindparam("expected"))
    .values({name: bindparam(f"new_{name}") for name in (
        "version", "updated_at", "status", "progress", "completed_on", "last_reported_on", "needs_resubmission")})
)
_INSERT_UPDATE = insert(_STATUS_UPDATES).returning(_STATUS_UPDATES.c.id)


def post_update(
    session: Session, *, actor: Actor, assignment_id: int, data: StatusUpdateCreate,
    if_match: int | None = None, today: date | None = None,
) -> StatusUpdatePublic:
    """Record a unit's status update and emit assignment.status_changed.v1."""
    connection = session.connection()
    found = connection.execute(_REPORT_CONTEXT, {"assignment_id": assignment_id}).first()
    if found is None:
        raise NotFound("Assignment", assignment_id)
    ensure_readable(session, actor, found.unit_id, "Assignment", assignment_id)
    ensure_acts_for(actor, found.unit_id, "report on its assignment")
    if if_match is not None and if_match != found.version:
        raise Stale(f"Assignment {assignment_id} is at version {found.version}, not {if_match}: "
                    "reload it and try again.")
    current = Status(found.status)
    with rules_checked():
        domain.check_plan_accepts_reports(PlanStatus(found.plan_status))
        domain.check_transition(current, data.status)
        progress = domain.normalise_progress(data.status, data.progress)
    _check_indicators(found, data.indicator_values)
    now = utcnow()
    reported_on = today or local_date(now)
    version = found.version + 1
    bumped = connection.execute(_BUMP, {
        "assignment_id": assignment_id, "expected": found.version, "new_version": version, "new_updated_at": now,
        "new_status": data.status, "new_progress": progress, "new_last_reported_on": reported_on,
        "new_completed_on": reported_on if data.status == Status.COMPLETED else None, "new_needs_resubmission": False,
    })
    if bumped.rowcount != 1:  # optimistic concurrency: someone changed it since it was read
        raise _changed_meanwhile(assignment_id)
    links = [str(link) for link in data.evidence_links]
    update_id: int = connection.execute(_INSERT_UPDATE, {
        "assignment_id": assignment_id, "status": data.status, "progress": progress, "summary": data.summary,
        "difficulties": data.difficulties, "indicator_values": data.indicator_values, "evidence_links": links,
        "period": data.period, "previous_status": current, "previous_progress": found.progress,
        "reported_by_id": actor.official_id, "correlation_id": actor.correlation_id, "created_at": now,
        "review_state": ReviewState.PENDING, "reviewed_by_id": None, "reviewed_at": None, "review_reason": "",
    }).scalar_one()
    event = AssignmentStatusChangedV1(
        correlation_id=actor.correlation_id, occurred_at=now, directory_version=found.directory_version or None,
        payload=AssignmentStatusChangedPayload(
            assignment_id=assignment_id, update_id=update_id, plan_id=found.plan_id, plan_number=found.plan_number,
            task_id=found.task_id, task_code=found.code, task_title=found.title, unit_id=found.unit_id,
            unit_code=found.unit_code, unit_name=found.unit_name, old_status=current, new_status=data.status,
            progress=progress, summary=data.summary, difficulties=data.difficulties, due_on=found.due_on,
            reported_by_id=actor.official_id, reported_by_name=actor.name, reported_at=now,
            version=version, indicator_values=data.indicator_values, evidence_links=links,
            period=data.period,
        ),
    )
    audit.record(session, actor, action="assignment.report", entity_type="assignment", entity_id=assignment_id,
                 changes={"update_id": update_id, "status": [current, data.status],
                          "progress": [found.progress, progress]},
                 event=event, stamped=True)
    return StatusUpdatePublic(
        id=update_id, assignment_id=assignment_id, status=data.status, progress=progress, summary=data.summary,
        difficulties=data.difficulties, reported_by_id=actor.official_id, created_at=now,
        indicator_values=data.indicator_values, evidence_links=links, period=data.period,
        assignment_version=version,
    )


def review_update(session: Session, *, actor: Actor, update_id: int, data: UpdateReview) -> StatusUpdate:
    """Accept or return a status update (supervisor over the unit, or admin).

    A returned update puts the assignment back where it was before that update and marks it as
    needing a new report from the unit.
    """
    row = session.get(StatusUpdate, update_id)
    if row is None:
        raise NotFound("Update", update_id)
    assignment = visible_assignment(session, actor=actor, assignment_id=row.assignment_id)
    ensure_supervises(session, actor, assignment.unit_id, "review a unit's update")
    latest = session.exec(
        select(StatusUpdate.id).where(StatusUpdate.assignment_id == assignment.id)
        .order_by(StatusUpdate.id.desc())  # type: ignore[union-attr]
    ).first()
    with rules_checked():
        domain.check_reviewable(ReviewState(row.review_state), is_latest=latest == row.id)
    if data.decision is ReviewDecision.RETURNED and not data.reason.strip():
        raise Invalid("Say why the update is returned (reason), so the unit knows what to fix.")
    plan, task, unit = _context(session, assignment)
    if data.decision is ReviewDecision.RETURNED:
        # the unit must be able to report again
        with rules_checked("A returned update could not be resubmitted: accept it instead."):
            domain.check_plan_accepts_reports(PlanStatus(plan.status))
    now = utcnow()
    row.review_state = ReviewState(data.decision)
    row.reviewed_by_id, row.reviewed_at, row.review_reason = actor.official_id, now, data.reason
    session.add(row)
    if data.decision is ReviewDecision.RETURNED:
        _bump(session, assignment, assignment.version, status=row.previous_status,
              progress=row.previous_progress, completed_on=None, needs_resubmission=True)
    event = StatusUpdateReviewedV1(
        correlation_id=actor.correlation_id, occurred_at=now,
        payload=UpdateReviewedPayload(
            update_id=update_id, assignment_id=assignment.id or 0, plan_id=plan.id or 0, plan_number=plan.number,
            task_code=task.code, task_title=task.title, unit_id=unit.id or 0, unit_name=unit.name,
            decision=data.decision, reason=data.reason, reviewer_id=actor.official_id, reviewer_name=actor.name,
            assignment_status=assignment.status, assignment_progress=assignment.progress,
            version=assignment.version, reviewed_at=now,
        ),
    )
    audit.record(session, actor, action=f"update.{data.decision}", entity_type="status_update",
                 entity_id=update_id, changes={"decision": data.decision, "reason": data.reason,
                                               "assignment_status": assignment.status},
                 event=event)
    return row
