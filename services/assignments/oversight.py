"""Use cases for the units' own plans and for inspections (kiểm tra, giám sát)."""

from sqlmodel import Session, select

from services.assignments import audit, domain
from services.assignments.access import acting_unit, ensure_readable, ensure_supervises, scope_unit_ids
from services.assignments.auth import Actor
from services.assignments.domain import PlanStatus, Role, UnitKind
from services.assignments.errors import Conflict, Forbidden, Invalid, NotFound, rules_checked
from services.assignments.models import Assignment, Inspection, Plan, Unit, UnitPlan
from services.assignments.planning import get_plan
from services.assignments.schemas import InspectionCreate, UnitPlanCreate
from shared.events import InspectionPayload, InspectionRecordedV1, UnitPlanPayload, UnitPlanRegisteredV1


def assigned_unit_ids(session: Session, plan_id: int) -> list[int]:
    """Units holding at least one assignment of the plan."""
    rows = session.exec(select(Assignment.unit_id).where(Assignment.plan_id == plan_id).distinct()).all()
    return sorted(rows)


def _require_assigned(session: Session, plan: Plan, unit_id: int) -> Unit:
    unit = session.get(Unit, unit_id)
    if unit is None:
        raise NotFound("Unit", unit_id)
    if unit_id not in assigned_unit_ids(session, plan.id or 0):
        raise Conflict(f"Unit {unit.code} has no assignment in plan {plan.number}.")
    return unit


def register_unit_plan(session: Session, *, actor: Actor, plan_id: int, data: UnitPlanCreate) -> UnitPlan:
    """A unit registers the document that turns the plan into its own plan (unit officer)."""
    plan = get_plan(session, plan_id)
    unit_id = acting_unit(session, actor, data.unit_id, "register its own plan")
    with rules_checked():
        domain.check_plan_accepts_reports(PlanStatus(plan.status))
    unit = _require_assigned(session, plan, unit_id)
    duplicate = session.exec(select(UnitPlan).where(
        UnitPlan.plan_id == plan_id, UnitPlan.unit_id == unit_id, UnitPlan.number == data.number)).first()
    if duplicate is not None:
        raise Conflict(f"Document {data.number} is already registered for this plan.")
    row = UnitPlan(plan_id=plan_id, unit_id=unit_id, number=data.number, issued_on=data.issued_on,
                   title=data.title, link=str(data.link) if data.link else "", registered_by_id=actor.official_id)
    session.add(row)
    session.flush()
    event = UnitPlanRegisteredV1(correlation_id=actor.correlation_id, payload=UnitPlanPayload(
        id=row.id or 0, plan_id=plan_id, unit_id=unit_id, unit_code=unit.code, unit_name=unit.name,
        number=row.number, issued_on=row.issued_on, title=row.title, link=row.link))
    audit.record(session, actor, action="unit_plan.register", entity_type="unit_plan", entity_id=row.id,
                 changes=data.model_dump(mode="json") | {"unit_id": unit_id}, event=event)
    return row


def list_unit_plans(session: Session, *, actor: Actor, plan_id: int) -> list[UnitPlan]:
    """Registered unit plans of a plan, within the actor's scope."""
    get_plan(session, plan_id)
    query = select(UnitPlan).where(UnitPlan.plan_id == plan_id).order_by(UnitPlan.id)  # type: ignore[arg-type]
    scope = scope_unit_ids(session, actor)
    if scope is not None:
        query = query.where(UnitPlan.unit_id.in_(scope))  # type: ignore[attr-defined]
    return list(session.exec(query).all())


def record_inspection(session: Session, *, actor: Actor, data: InspectionCreate) -> Inspection:
    """An advisory board records an inspection or supervision of a unit under a plan."""
    plan = get_plan(session, data.plan_id)
    ensure_readable(session, actor, data.unit_id, "Unit", data.unit_id)
    ensure_supervises(session, actor, data.unit_id, "record an inspection")
    inspecting_id = data.inspecting_unit_id if actor.role == Role.ADMIN else actor.unit_id
    if data.inspecting_unit_id is not None and data.inspecting_unit_id != inspecting_id:
        raise Forbidden("A supervisor records inspections for their own board only.")
    inspecting = session.get(Unit, inspecting_id) if inspecting_id is not None else None
    if inspecting is None:
        raise Invalid("Name the inspecting board (inspecting_unit_id).")
    if inspecting.kind not in (UnitKind.ADVISORY_BOARD, UnitKind.BLOC_COMMITTEE):
        raise Forbidden("Inspections are recorded by advisory boards (Ban tham mưu) or the committee.")
    if PlanStatus(plan.status) is PlanStatus.DRAFT:
        raise Conflict("The plan is still a draft: nothing to inspect yet.")
    unit = _require_assigned(session, plan, data.unit_id)
    row = Inspection(**data.model_dump(exclude={"inspecting_unit_id"}), inspecting_unit_id=inspecting.id or 0,
                     recorded_by_id=actor.official_id)
    session.add(row)
    session.flush()
    event = InspectionRecordedV1(correlation_id=actor.correlation_id, payload=InspectionPayload(
        id=row.id or 0, plan_id=plan.id or 0, unit_id=unit.id or 0, unit_name=unit.name,
        inspecting_unit_id=inspecting.id or 0, inspecting_unit_name=inspecting.name, kind=row.kind,
        inspected_on=row.inspected_on, conclusion=row.conclusion, follow_ups=row.follow_ups))
    audit.record(session, actor, action="inspection.record", entity_type="inspection", entity_id=row.id,
                 changes=data.model_dump(mode="json") | {"inspecting_unit_id": inspecting.id}, event=event)
    return row


def list_inspections(
    session: Session, *, actor: Actor, plan_id: int | None, unit_id: int | None, offset: int, limit: int,
) -> tuple[list[Inspection], int]:
    """Inspections within the actor's scope, newest first."""
    query = select(Inspection)
    if plan_id is not None:
        query = query.where(Inspection.plan_id == plan_id)
    if unit_id is not None:
        query = query.where(Inspection.unit_id == unit_id)
    scope = scope_unit_ids(session, actor)
    if scope is not None:
        query = query.where(Inspection.unit_id.in_(scope))  # type: ignore[attr-defined]
    rows = list(session.exec(query.order_by(Inspection.id.desc())).all())  # type: ignore[union-attr]
    return rows[offset: offset + limit], len(rows)
