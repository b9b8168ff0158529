"""Applying events to the read model (each in one transaction with its inbox row)."""

from sqlalchemy import Engine
from sqlmodel import Session

from services.reporting.models import ReportAssignment, ReportPlan, ReportTask, ReportUnit
from shared.events import AssignmentCreatedV1, AssignmentStatusChangedV1, PlanCreatedV1, UnitCreatedV1
from shared.messaging.inbox import handle_once

CONSUMER = "reporting"


def apply_unit_created(engine: Engine, event: UnitCreatedV1) -> bool:
    """Record a unit."""
    return handle_once(engine, event, CONSUMER, lambda s: s.merge(ReportUnit(**event.payload.model_dump())))


def apply_plan_created(engine: Engine, event: PlanCreatedV1) -> bool:
    """Record a plan and its tasks."""
    p = event.payload

    def work(session: Session) -> None:
        session.merge(ReportPlan(**p.model_dump(exclude={"tasks", "issuer_unit_id"})))
        for t in p.tasks:
            session.merge(ReportTask(plan_id=p.id, **t.model_dump()))

    return handle_once(engine, event, CONSUMER, work)


def apply_assignment_created(engine: Engine, event: AssignmentCreatedV1) -> bool:
    """Record an assignment (a status event that overtook it keeps its newer state)."""
    p = event.payload

    def work(session: Session) -> None:
        row = session.get(ReportAssignment, p.id) or ReportAssignment(
            id=p.id, plan_id=p.plan_id, task_id=p.task_id, task_code=p.task_code, task_title=p.task_title,
            unit_id=p.unit_id, unit_code=p.unit_code, unit_name=p.unit_name,
        )
        row.role, row.due_on = p.role, p.due_on
        if p.version > row.version:
            row.status, row.progress, row.version = p.status, p.progress, p.version
        session.add(row)

    return handle_once(engine, event, CONSUMER, work)


def apply_status_changed(engine: Engine, event: AssignmentStatusChangedV1) -> bool:
    """Move an assignment to the reported state, unless a newer one is already applied."""
    p = event.payload

    def work(session: Session) -> None:
        if session.get(ReportPlan, p.plan_id) is None:
            session.add(ReportPlan(id=p.plan_id, number=p.plan_number))
        row = session.get(ReportAssignment, p.assignment_id) or ReportAssignment(
            id=p.assignment_id, plan_id=p.plan_id, task_id=p.task_id, task_code=p.task_code,
            task_title=p.task_title, unit_id=p.unit_id, unit_code=p.unit_code, unit_name=p.unit_name,
            due_on=p.due_on,
        )
        if p.version <= row.version:
            return
        row.status, row.progress, row.version = p.new_status, p.progress, p.version
        row.summary, row.difficulties = p.summary, p.difficulties
        row.reported_by, row.reported_at = p.reported_by_name, p.reported_at
        row.completed_on = p.reported_at.date() if p.new_status == "completed" else None
        session.add(row)

    return handle_once(engine, event, CONSUMER, work)
