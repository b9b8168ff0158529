"""Read-side queries of the assignments service: assignment views with derived due state."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, false, func, or_, true
from sqlmodel import Session, col, select

from services.assignments.access import scope_unit_ids
from services.assignments.auth import Actor
from services.assignments.domain import DueState, ReportingPeriod, Status, TaskKind, assignment_due_state
from services.assignments.models import Assignment, Plan, Task, Unit, UnitPlan
from services.assignments.schemas import AssignmentPublic, UnitCompleteness
from shared.due import period_bounds
from shared.vietnamese import VIETNAM_TZ, local_date

BEHIND = frozenset({DueState.OVERDUE, DueState.REPORT_MISSING})
"""Due states a summary counts as overdue: a missed deadline, or a missed period report."""


@dataclass(frozen=True)
class AssignmentFilter:
    """Filters of GET /assignments."""

    plan_id: int | None = None
    unit_id: int | None = None
    status: Status | None = None
    due_state: DueState | None = None


def _local_midnight(day: date) -> datetime:
    """The moment (UTC) a Vietnamese calendar day starts: `created_at < it` is `assigned on before day`."""
    return datetime.combine(day, time(), ZoneInfo(VIETNAM_TZ)).astimezone(UTC)


def _one_off_condition(state: DueState, today: date, soon_days: int) -> ColumnElement[bool]:
    done = col(Assignment.status) == Status.COMPLETED
    due = col(Assignment.due_on)
    completed_on = col(Assignment.completed_on)
    soon = today + timedelta(days=soon_days)
    conditions: dict[DueState, ColumnElement[bool]] = {
        DueState.NO_DEADLINE: due.is_(None),
        DueState.OVERDUE: and_(~done, due < today),
        DueState.DUE_SOON: and_(~done, due >= today, due <= soon),
        DueState.WITHIN_DEADLINE: and_(~done, due > soon),
        DueState.COMPLETED_ON_TIME: and_(done, due.is_not(None), completed_on <= due),
        DueState.COMPLETED_LATE: and_(done, due.is_not(None), completed_on > due),
    }
    return conditions.get(state, false())


def _ongoing_condition(state: DueState, period: ReportingPeriod, today: date, soon_days: int) -> ColumnElement[bool]:
    """SQL of shared.due.ongoing_due_state == `state` for a plan reporting each `period`."""
    done = col(Assignment.status) == Status.COMPLETED
    last = col(Assignment.last_reported_on)
    start, end = period_bounds(period, today)
    previous_start, _ = period_bounds(period, start - timedelta(days=1))
    reported = and_(last.is_not(None), last >= start)
    # assigned on or before the previous period's last day, and no report since it began
    missing = and_(col(Assignment.created_at) < _local_midnight(start), or_(last.is_(None), last < previous_start))
    open_ = and_(~done, ~reported, ~missing)
    closing = today >= end - timedelta(days=soon_days)
    conditions: dict[DueState, ColumnElement[bool]] = {
        DueState.NO_DEADLINE: done,
        DueState.REPORTED: and_(~done, reported),
        DueState.REPORT_MISSING: and_(~done, ~reported, missing),
        DueState.REPORT_DUE: and_(open_, true() if closing else false()),
        DueState.WITHIN_DEADLINE: and_(open_, false() if closing else true()),
    }
    return conditions.get(state, false())


def due_state_condition(state: DueState, today: date, soon_days: int) -> ColumnElement[bool]:
    """SQL equivalent of domain.assignment_due_state == `state`; the query joins Task and Plan.

    An ongoing task's period bounds depend on its plan's reporting period: they are computed here
    for `today`, one branch per kind of period."""
    ongoing = col(Task.kind) == TaskKind.ONGOING
    by_period = [and_(col(Plan.reporting_period) == period, _ongoing_condition(state, period, today, soon_days))
                 for period in ReportingPeriod]
    return or_(and_(~ongoing, _one_off_condition(state, today, soon_days)), and_(ongoing, or_(*by_period)))


def to_public(a: Assignment, task: Task, unit: Unit, plan: Plan, today: date, soon_days: int) -> AssignmentPublic:
    """Assemble the API view of an assignment."""
    return AssignmentPublic(
        id=a.id or 0, plan_id=a.plan_id, task_id=a.task_id, task_code=task.code, task_title=task.title,
        task_kind=TaskKind(task.kind), unit_id=a.unit_id, unit_code=unit.code, unit_name=unit.name,
        role=a.role,  # type: ignore[arg-type]
        due_on=a.due_on, status=Status(a.status), progress=a.progress,
        due_state=state_of(a, task, plan, today, soon_days), last_reported_on=a.last_reported_on,
        version=a.version, needs_resubmission=a.needs_resubmission, updated_at=a.updated_at,
    )


def state_of(a: Assignment, task: Task, plan: Plan, today: date, soon_days: int) -> DueState:
    """The assignment's due state on `today`."""
    return assignment_due_state(
        a.status, task.kind, a.due_on, today, completed_on=a.completed_on, period=plan.reporting_period,
        assigned_on=local_date(a.created_at), last_reported_on=a.last_reported_on, soon_days=soon_days,
    )


def _joined(query: Any) -> Any:
    return (query.join(Task, col(Task.id) == col(Assignment.task_id))
            .join(Plan, col(Plan.id) == col(Assignment.plan_id)))


def list_assignments(
    session: Session, *, actor: Actor, filters: AssignmentFilter, offset: int, limit: int,
    today: date, soon_days: int,
) -> tuple[list[AssignmentPublic], int]:
    """Assignments the actor may see, filtered, in plan and document order; and the total count."""
    where: list[Any] = []
    scope = scope_unit_ids(session, actor)
    if scope is not None:
        where.append(Assignment.unit_id.in_(scope))  # type: ignore[attr-defined]
    if filters.plan_id is not None:
        where.append(Assignment.plan_id == filters.plan_id)
    if filters.unit_id is not None:
        where.append(Assignment.unit_id == filters.unit_id)
    if filters.status is not None:
        where.append(Assignment.status == filters.status)
    if filters.due_state is not None:
        where.append(due_state_condition(filters.due_state, today, soon_days))
    total = session.scalar(_joined(select(func.count()).select_from(Assignment)).where(*where)) or 0
    rows = session.exec(
        _joined(select(Assignment, Task, Unit, Plan))
        .join(Unit, col(Unit.id) == col(Assignment.unit_id))
        .where(*where)
        .order_by(Assignment.plan_id, Task.id, Unit.code, Assignment.id)
        .offset(offset)
        .limit(limit)
    ).all()
    return [to_public(a, t, u, p, today, soon_days) for a, t, u, p in rows], total


def assignment_view(session: Session, a: Assignment, today: date, soon_days: int) -> AssignmentPublic:
    """The API view of one loaded assignment."""
    task = session.get(Task, a.task_id)
    unit = session.get(Unit, a.unit_id)
    plan = session.get(Plan, a.plan_id)
    assert task is not None and unit is not None and plan is not None
    return to_public(a, task, unit, plan, today, soon_days)


def completeness(
    session: Session, *, actor: Actor, plan_id: int, today: date, soon_days: int,
) -> list[UnitCompleteness]:
    """Per assigned unit in the actor's scope: assignments, completed, behind (overdue or a period
    report missing), own plan registered."""
    scope = scope_unit_ids(session, actor)
    plan = session.get(Plan, plan_id)
    assert plan is not None
    rows = session.exec(
        select(Assignment, Unit, Task).join(Unit, col(Unit.id) == col(Assignment.unit_id))
        .join(Task, col(Task.id) == col(Assignment.task_id))
        .where(Assignment.plan_id == plan_id)
    ).all()
    plans: dict[int, list[str]] = {}
    for up in session.exec(select(UnitPlan).where(UnitPlan.plan_id == plan_id).order_by(col(UnitPlan.id))).all():
        plans.setdefault(up.unit_id, []).append(up.number)
    out: dict[int, UnitCompleteness] = {}
    for a, unit, task in rows:
        if scope is not None and a.unit_id not in scope:
            continue
        entry = out.setdefault(a.unit_id, UnitCompleteness(
            unit_id=a.unit_id, unit_code=unit.code, unit_name=unit.name, assignments=0, completed=0, overdue=0,
            unit_plan_registered=a.unit_id in plans, unit_plan_numbers=plans.get(a.unit_id, [])))
        entry.assignments += 1
        entry.completed += a.status == Status.COMPLETED
        entry.overdue += state_of(a, task, plan, today, soon_days) in BEHIND
    return sorted(out.values(), key=lambda c: c.unit_code)
