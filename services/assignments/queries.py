"""Read-side queries of the assignments service: assignment views with derived due state."""

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func
from sqlmodel import Session, col, select

from services.assignments.access import scope_unit_ids
from services.assignments.auth import Actor
from services.assignments.domain import DueState, Status, due_state
from services.assignments.models import Assignment, Task, Unit, UnitPlan
from services.assignments.schemas import AssignmentPublic, UnitCompleteness


@dataclass(frozen=True)
class AssignmentFilter:
    """Filters of GET /assignments."""

    plan_id: int | None = None
    unit_id: int | None = None
    status: Status | None = None
    due_state: DueState | None = None


def due_state_condition(state: DueState, today: date, soon_days: int) -> ColumnElement[bool]:
    """SQL equivalent of domain.due_state == `state`."""
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
    return conditions[state]


def to_public(a: Assignment, task: Task, unit: Unit, today: date, soon_days: int) -> AssignmentPublic:
    """Assemble the API view of an assignment."""
    return AssignmentPublic(
        id=a.id or 0, plan_id=a.plan_id, task_id=a.task_id, task_code=task.code, task_title=task.title,
        unit_id=a.unit_id, unit_code=unit.code, unit_name=unit.name, role=a.role,  # type: ignore[arg-type]
        due_on=a.due_on, status=Status(a.status), progress=a.progress,
        due_state=due_state(Status(a.status), a.due_on, today, a.completed_on, soon_days=soon_days),
        version=a.version, needs_resubmission=a.needs_resubmission, updated_at=a.updated_at,
    )


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
    total = session.scalar(select(func.count()).select_from(Assignment).where(*where)) or 0
    rows = session.exec(
        select(Assignment, Task, Unit)
        .join(Task, Task.id == Assignment.task_id)  # type: ignore[arg-type]
        .join(Unit, Unit.id == Assignment.unit_id)  # type: ignore[arg-type]
        .where(*where)
        .order_by(Assignment.plan_id, Task.id, Unit.code, Assignment.id)  # type: ignore[arg-type]
        .offset(offset)
        .limit(limit)
    ).all()
    return [to_public(a, t, u, today, soon_days) for a, t, u in rows], total


def assignment_view(session: Session, a: Assignment, today: date, soon_days: int) -> AssignmentPublic:
    """The API view of one loaded assignment."""
    task = session.get(Task, a.task_id)
    unit = session.get(Unit, a.unit_id)
    assert task is not None and unit is not None
    return to_public(a, task, unit, today, soon_days)


def completeness(
    session: Session, *, actor: Actor, plan_id: int, today: date, soon_days: int,
) -> list[UnitCompleteness]:
    """Per assigned unit in the actor's scope: assignments, completed, overdue, own plan registered."""
    scope = scope_unit_ids(session, actor)
    rows = session.exec(
        select(Assignment, Unit).join(Unit, Unit.id == Assignment.unit_id)  # type: ignore[arg-type]
        .where(Assignment.plan_id == plan_id)
    ).all()
    plans: dict[int, list[str]] = {}
    for up in session.exec(select(UnitPlan).where(UnitPlan.plan_id == plan_id).order_by(UnitPlan.id)).all():  # type: ignore[arg-type]
        plans.setdefault(up.unit_id, []).append(up.number)
    out: dict[int, UnitCompleteness] = {}
    for a, unit in rows:
        if scope is not None and a.unit_id not in scope:
            continue
        entry = out.setdefault(a.unit_id, UnitCompleteness(
            unit_id=a.unit_id, unit_code=unit.code, unit_name=unit.name, assignments=0, completed=0, overdue=0,
            unit_plan_registered=a.unit_id in plans, unit_plan_numbers=plans.get(a.unit_id, [])))
        entry.assignments += 1
        entry.completed += a.status == Status.COMPLETED
        entry.overdue += due_state(a.status, a.due_on, today, a.completed_on, soon_days=soon_days) == DueState.OVERDUE
    return sorted(out.values(), key=lambda c: c.unit_code)
