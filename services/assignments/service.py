"""Use cases of the assignments service: each loads, applies the rules, writes rows and their
events (outbox) and leaves the single commit to the caller's unit of work."""

from datetime import date

from sqlalchemy import update
from sqlmodel import Session, select

from services.assignments import domain
from services.assignments.auth import Actor, hash_token, store_token
from services.assignments.domain import Role, RuleViolation, Status
from services.assignments.models import ApiToken, Assignment, Official, Plan, StatusUpdate, Task, Unit
from services.assignments.schemas import (
    AssignmentCreate,
    OfficialCreate,
    PlanCreate,
    StatusUpdateCreate,
    UnitCreate,
)
from shared.events import (
    AssignmentCreatedPayload,
    AssignmentCreatedV1,
    AssignmentStatusChangedPayload,
    AssignmentStatusChangedV1,
    OfficialCreatedV1,
    OfficialPayload,
    PlanCreatedV1,
    PlanPayload,
    TaskPayload,
    UnitCreatedV1,
    UnitPayload,
)
from shared.events.base import utcnow
from shared.messaging.outbox import add_event
from shared.problems import Problem


class NotFound(Problem):
    """A missing (or invisible to the caller) resource."""

    def __init__(self, what: str, ident: object) -> None:
        super().__init__(404, f"{what} {ident} was not found.")


class Forbidden(Problem):
    """The caller may not do this."""

    def __init__(self, detail: str) -> None:
        super().__init__(403, detail)


class Conflict(Problem):
    """The request contradicts current state or a rule."""

    def __init__(self, detail: str) -> None:
        super().__init__(409, detail)


def require_role(actor: Actor, *roles: Role) -> None:
    """Raise 403 unless the actor has one of `roles`."""
    if actor.role not in roles:
        raise Forbidden(f"This action needs one of the roles: {', '.join(roles)}.")


def unit_payload(unit: Unit) -> UnitPayload:
    """Event payload for a unit."""
    return UnitPayload.model_validate(unit, from_attributes=True)


def official_payload(official: Official) -> OfficialPayload:
    """Event payload for an official."""
    return OfficialPayload.model_validate(official, from_attributes=True)


def create_unit(session: Session, *, actor: Actor, data: UnitCreate) -> Unit:
    """Create a unit under an existing parent."""
    require_role(actor, Role.ADMIN)
    if data.parent_id is not None and session.get(Unit, data.parent_id) is None:
        raise NotFound("Parent unit", data.parent_id)
    if session.exec(select(Unit).where(Unit.code == data.code)).first() is not None:
        raise Conflict(f"A unit with code '{data.code}' already exists.")
    unit = Unit(**data.model_dump())
    session.add(unit)
    session.flush()
    add_event(session, UnitCreatedV1(correlation_id=actor.correlation_id, payload=unit_payload(unit)))
    return unit


def create_official(session: Session, *, actor: Actor | None, data: OfficialCreate) -> Official:
    """Create an official (actor None only for the bootstrap admin)."""
    if actor is not None:
        require_role(actor, Role.ADMIN)
    if data.unit_id is not None and session.get(Unit, data.unit_id) is None:
        raise NotFound("Unit", data.unit_id)
    if data.role != Role.ADMIN and data.unit_id is None:
        raise Problem(422, f"An official with role '{data.role}' belongs to a unit (unit_id).")
    email = str(data.email).lower()
    if session.exec(select(Official).where(Official.email == email)).first() is not None:
        raise Conflict(f"An official with email {email} already exists.")
    official = Official(**data.model_dump(exclude={"email"}), email=email)
    session.add(official)
    session.flush()
    add_event(
        session,
        OfficialCreatedV1(
            correlation_id=actor.correlation_id if actor else "", payload=official_payload(official)
        ),
    )
    return official


def issue_token(session: Session, *, actor: Actor, official_id: int, token: str, name: str) -> ApiToken:
    """Store a new token for an official (admins only)."""
    require_role(actor, Role.ADMIN)
    if session.get(Official, official_id) is None:
        raise NotFound("Official", official_id)
    return store_token(session, official_id=official_id, token=token, name=name)


def ensure_bootstrap_admin(session: Session, token: str) -> None:
    """Install the environment's admin token on first start."""
    if not token:
        return
    if session.exec(select(ApiToken).where(ApiToken.token_hash == hash_token(token))).first():
        return
    admin = session.exec(select(Official).where(Official.role == Role.ADMIN).order_by(Official.id)).first()  # type: ignore[arg-type]
    if admin is None:
        admin = create_official(
            session,
            actor=None,
            data=OfficialCreate(
                name="Quản trị hệ thống", email="admin@plantrack.example.org", title="Quản trị", role=Role.ADMIN
            ),
        )
    assert admin.id is not None
    store_token(session, official_id=admin.id, token=token, name="bootstrap")


def plan_payload(plan: Plan, tasks: list[Task], issuer: Unit | None) -> PlanPayload:
    """Event payload for a plan and its tasks."""
    codes = {t.id: t.code for t in tasks}
    return PlanPayload(
        id=plan.id or 0, number=plan.number, kind=plan.kind, title=plan.title,
        issuer_unit_id=plan.issuer_unit_id, issuer_name=issuer.name if issuer else "",
        place=plan.place, issued_on=plan.issued_on, implements=plan.implements, status=plan.status,
        tasks=[
            TaskPayload(id=t.id or 0, code=t.code, title=t.title, kind=t.kind, due_on=t.due_on,
                        parent_code=codes.get(t.parent_id))
            for t in tasks
        ],
    )


def create_plan(session: Session, *, actor: Actor, data: PlanCreate) -> tuple[Plan, list[Task]]:
    """Create a plan and its tasks in one go."""
    require_role(actor, Role.ADMIN)
    issuer = session.get(Unit, data.issuer_unit_id) if data.issuer_unit_id is not None else None
    if data.issuer_unit_id is not None and issuer is None:
        raise NotFound("Issuer unit", data.issuer_unit_id)
    if session.exec(select(Plan).where(Plan.number == data.number)).first() is not None:
        raise Conflict(f"A plan numbered '{data.number}' already exists.")
    codes = [t.code for t in data.tasks]
    if len(set(codes)) != len(codes):
        raise Problem(422, "Task codes must be unique within a plan.")
    plan = Plan(**data.model_dump(exclude={"tasks"}))
    session.add(plan)
    session.flush()
    assert plan.id is not None
    by_code: dict[str, Task] = {}
    for item in data.tasks:
        parent = by_code.get(item.parent_code) if item.parent_code else None
        if item.parent_code and parent is None:
            raise Problem(422, f"Task {item.code}: parent task '{item.parent_code}' must come before it.")
        task = Task(plan_id=plan.id, parent_id=parent.id if parent else None,
                    **item.model_dump(exclude={"parent_code"}))
        session.add(task)
        session.flush()
        by_code[item.code] = task
    tasks = list(by_code.values())
    add_event(session, PlanCreatedV1(correlation_id=actor.correlation_id,
                                     payload=plan_payload(plan, tasks, issuer)))
    return plan, tasks


def assign(session: Session, *, actor: Actor, plan_id: int, data: AssignmentCreate) -> list[Assignment]:
    """Assign one task of a plan to each of the given units."""
    require_role(actor, Role.ADMIN)
    plan = session.get(Plan, plan_id)
    if plan is None:
        raise NotFound("Plan", plan_id)
    task = session.get(Task, data.task_id)
    if task is None or task.plan_id != plan_id:
        raise NotFound("Task", f"{data.task_id} of plan {plan_id}")
    if len(set(data.unit_ids)) != len(data.unit_ids):
        raise Problem(422, "unit_ids contains the same unit twice.")
    due_on = None if task.kind == domain.TaskKind.ONGOING else (data.due_on or task.due_on)
    created = []
    for unit_id in data.unit_ids:
        unit = session.get(Unit, unit_id)
        if unit is None:
            raise NotFound("Unit", unit_id)
        exists = session.exec(
            select(Assignment).where(Assignment.task_id == task.id, Assignment.unit_id == unit_id)
        ).first()
        if exists is not None:
            raise Conflict(f"Task {task.code} is already assigned to unit {unit.code}.")
        assignment = Assignment(plan_id=plan_id, task_id=task.id or 0, unit_id=unit_id,
                                role=data.role, due_on=due_on)
        session.add(assignment)
        session.flush()
        add_event(session, AssignmentCreatedV1(
            correlation_id=actor.correlation_id,
            payload=AssignmentCreatedPayload(
                id=assignment.id or 0, plan_id=plan_id, task_id=task.id or 0, task_code=task.code,
                task_title=task.title, unit_id=unit_id, unit_code=unit.code, unit_name=unit.name,
                role=assignment.role, due_on=due_on, version=assignment.version,
            ),
        ))
        created.append(assignment)
    return created


def visible_assignment(session: Session, *, actor: Actor, assignment_id: int) -> Assignment:
    """Load an assignment the actor may see; others' assignments look missing (404)."""
    assignment = session.get(Assignment, assignment_id)
    if assignment is None:
        raise NotFound("Assignment", assignment_id)
    if actor.role == Role.UNIT_OFFICER and assignment.unit_id != actor.unit_id:
        raise NotFound("Assignment", assignment_id)
    return assignment


def post_update(
    session: Session, *, actor: Actor, assignment_id: int, data: StatusUpdateCreate,
    if_match: int | None = None, today: date | None = None,
) -> tuple[StatusUpdate, Assignment]:
    """Record a unit's status update and emit assignment.status_changed.v1."""
    assignment = visible_assignment(session, actor=actor, assignment_id=assignment_id)
    if actor.role not in (Role.UNIT_OFFICER, Role.ADMIN):
        raise Forbidden("Only an officer of the assigned unit (or an admin) reports on an assignment.")
    if if_match is not None and if_match != assignment.version:
        raise Problem(412, f"Assignment {assignment_id} is at version {assignment.version}, "
                           f"not {if_match}: reload it and try again.")
    current = Status(assignment.status)
    try:
        domain.check_transition(current, data.status)
        progress = domain.normalise_progress(data.status, data.progress)
    except RuleViolation as exc:
        raise Conflict(str(exc)) from exc
    now = utcnow()
    old_version = assignment.version
    completed_on = (today or now.date()) if data.status == Status.COMPLETED else None
    result = session.execute(
        update(Assignment)
        .where(Assignment.id == assignment_id, Assignment.version == old_version)  # type: ignore[arg-type]
        .values(status=data.status, progress=progress, version=old_version + 1, updated_at=now,
                completed_on=completed_on)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise Problem(412, f"Assignment {assignment_id} was changed by someone else: reload it and try again.")
    session.refresh(assignment)
    update_row = StatusUpdate(
        assignment_id=assignment_id, status=data.status, progress=progress, summary=data.summary,
        difficulties=data.difficulties, reported_by_id=actor.official_id,
        correlation_id=actor.correlation_id, created_at=now,
    )
    session.add(update_row)
    session.flush()
    task = session.get(Task, assignment.task_id)
    unit = session.get(Unit, assignment.unit_id)
    plan = session.get(Plan, assignment.plan_id)
    assert task and unit and plan
    add_event(session, AssignmentStatusChangedV1(
        correlation_id=actor.correlation_id, occurred_at=now,
        payload=AssignmentStatusChangedPayload(
            assignment_id=assignment_id, update_id=update_row.id or 0, plan_id=plan.id or 0,
            plan_number=plan.number, task_id=task.id or 0, task_code=task.code, task_title=task.title,
            unit_id=unit.id or 0, unit_code=unit.code, unit_name=unit.name, old_status=current,
            new_status=data.status, progress=progress, summary=data.summary,
            difficulties=data.difficulties, due_on=assignment.due_on,
            reported_by_id=actor.official_id, reported_by_name=actor.name, reported_at=now,
            version=assignment.version,
        ),
    ))
    return update_row, assignment
