"""Use cases for plans: creation, lifecycle, assignment of tasks, and import from a document."""

import re
from typing import NamedTuple

from sqlmodel import Session, col, select

from services.assignments import audit, domain
from services.assignments.access import require_role, subtree
from services.assignments.auth import Actor
from services.assignments.domain import PlanStatus, Role
from services.assignments.errors import Conflict, Invalid, NotFound, Stale, rules_checked
from services.assignments.models import Assignment, ImportResult, Plan, Task, Unit
from services.assignments.plan_import import PlanDraft, TaskDraft, read_plan
from services.assignments.plan_import_duties import is_collective, same_body, unit_key
from services.assignments.plan_import_text import fold
from services.assignments.schemas import (
    AssignmentCreate,
    ImportWarning,
    IndicatorSpec,
    PlanCreate,
    PlanImportResult,
    PlanUpdate,
    SuggestedAssignment,
    SuggestedUnit,
    TaskCreate,
    TaskUpdate,
)
from shared.events import (
    AssignmentCreatedPayload,
    AssignmentCreatedV1,
    IndicatorPayload,
    PlanClosedV1,
    PlanCreatedV1,
    PlanPayload,
    PlanPublishedV1,
    PlanStatusPayload,
    PlanUpdatedV1,
    TaskPayload,
)
from shared.events.base import utcnow


def get_plan(session: Session, plan_id: int) -> Plan:
    """A plan or 404."""
    plan = session.get(Plan, plan_id)
    if plan is None:
        raise NotFound("Plan", plan_id)
    return plan


def plan_tasks(session: Session, plan_id: int) -> list[Task]:
    """The plan's tasks in document order."""
    return list(session.exec(select(Task).where(Task.plan_id == plan_id).order_by(Task.id)).all())  # type: ignore[arg-type]


def plan_payload(plan: Plan, tasks: list[Task], issuer: Unit | None) -> PlanPayload:
    """Event payload for a plan and its tasks."""
    codes = {t.id: t.code for t in tasks}
    return PlanPayload(
        id=plan.id or 0, number=plan.number, kind=plan.kind, title=plan.title,
        issuer_unit_id=plan.issuer_unit_id, issuer_name=issuer.name if issuer else "",
        place=plan.place, issued_on=plan.issued_on, implements=plan.implements, status=plan.status,
        period=plan.period, vision_year=plan.vision_year, signer=plan.signer,
        reporting_period=plan.reporting_period, version=plan.version,
        tasks=[
            TaskPayload(id=t.id or 0, code=t.code, title=t.title, kind=t.kind, due_on=t.due_on,
                        parent_code=codes.get(t.parent_id),
                        indicators=[IndicatorPayload.model_validate(i) for i in t.indicators or []])
            for t in tasks
        ],
    )


def create_plan(session: Session, *, actor: Actor, data: PlanCreate) -> tuple[Plan, list[Task]]:
    """Create a draft plan and its tasks in one go (admin)."""
    require_role(actor, Role.ADMIN)
    issuer = session.get(Unit, data.issuer_unit_id) if data.issuer_unit_id is not None else None
    if data.issuer_unit_id is not None and issuer is None:
        raise NotFound("Issuer unit", data.issuer_unit_id)
    if session.exec(select(Plan).where(Plan.number == data.number)).first() is not None:
        raise Conflict(f"A plan numbered '{data.number}' already exists.")
    codes = [t.code for t in data.tasks]
    if len(set(codes)) != len(codes):
        raise Invalid("Task codes must be unique within a plan.")
    plan = Plan(**data.model_dump(exclude={"tasks"}), status=PlanStatus.DRAFT)
    session.add(plan)
    session.flush()
    assert plan.id is not None
    by_code: dict[str, Task] = {}
    for item in data.tasks:
        by_code[item.code] = _add_task(session, plan.id, item, by_code)
    tasks = list(by_code.values())
    audit.record(session, actor, action="plan.create", entity_type="plan", entity_id=plan.id,
                 changes=data.model_dump(exclude={"tasks"}) | {"tasks": codes},
                 event=PlanCreatedV1(correlation_id=actor.correlation_id, payload=plan_payload(plan, tasks, issuer)))
    return plan, tasks


def _add_task(session: Session, plan_id: int, item: TaskCreate, by_code: dict[str, Task]) -> Task:
    parent = by_code.get(item.parent_code) if item.parent_code else None
    if item.parent_code and parent is None:
        raise Invalid(f"Task {item.code}: parent task '{item.parent_code}' must come before it.")
    indicator_codes = [i.code for i in item.indicators]
    if len(set(indicator_codes)) != len(indicator_codes):
        raise Invalid(f"Task {item.code}: indicator codes must be unique.")
    task = Task(plan_id=plan_id, parent_id=parent.id if parent else None,
                indicators=[i.model_dump() for i in item.indicators],
                **item.model_dump(exclude={"parent_code", "indicators"}))
    session.add(task)
    session.flush()
    return task


def _editable_draft(session: Session, plan_id: int, if_match: int | None) -> Plan:
    plan = get_plan(session, plan_id)
    if PlanStatus(plan.status) is not PlanStatus.DRAFT:
        raise Conflict(f"Plan {plan.number} is {plan.status}: only a draft can be edited.")
    if if_match is not None and if_match != plan.version:
        raise Stale(f"Plan {plan_id} is at version {plan.version}, not {if_match}: reload it and try again.")
    return plan


def _emit_plan_updated(session: Session, actor: Actor, plan: Plan, action: str, changes: dict) -> list[Task]:
    plan.version += 1
    session.add(plan)
    session.flush()
    tasks = plan_tasks(session, plan.id or 0)
    issuer = session.get(Unit, plan.issuer_unit_id) if plan.issuer_unit_id is not None else None
    audit.record(session, actor, action=action, entity_type="plan", entity_id=plan.id, changes=changes,
                 event=PlanUpdatedV1(correlation_id=actor.correlation_id, payload=plan_payload(plan, tasks, issuer)))
    return tasks


def update_plan(
    session: Session, *, actor: Actor, plan_id: int, data: PlanUpdate, if_match: int | None = None,
) -> tuple[Plan, list[Task]]:
    """Correct a draft plan's identity (admin); a published plan is a binding document."""
    require_role(actor, Role.ADMIN)
    plan = _editable_draft(session, plan_id, if_match)
    changes = data.model_dump(exclude_unset=True)
    if "issuer_unit_id" in changes and changes["issuer_unit_id"] is not None \
            and session.get(Unit, changes["issuer_unit_id"]) is None:
        raise NotFound("Issuer unit", changes["issuer_unit_id"])
    if changes.get("number") not in (None, plan.number) and \
            session.exec(select(Plan).where(Plan.number == changes["number"])).first() is not None:
        raise Conflict(f"A plan numbered '{changes['number']}' already exists.")
    for key in ("number", "title", "kind"):
        if key in changes and changes[key] is None:
            raise Invalid(f"{key} cannot be emptied.")
    before = {k: getattr(plan, k) for k in changes}
    for key, value in changes.items():
        setattr(plan, key, value)
    tasks = _emit_plan_updated(session, actor, plan, "plan.update", {"before": before, "after": changes})
    return plan, tasks


def add_task(
    session: Session, *, actor: Actor, plan_id: int, data: TaskCreate, if_match: int | None = None,
) -> tuple[Plan, list[Task]]:
    """Add a task to a draft plan (admin), after its parent if it has one."""
    require_role(actor, Role.ADMIN)
    plan = _editable_draft(session, plan_id, if_match)
    existing = {t.code: t for t in plan_tasks(session, plan_id)}
    if data.code in existing:
        raise Conflict(f"Plan {plan.number} already has a task {data.code}.")
    _add_task(session, plan_id, data, existing)
    tasks = _emit_plan_updated(session, actor, plan, "plan.add_task", data.model_dump(mode="json"))
    return plan, tasks


def update_task(
    session: Session, *, actor: Actor, plan_id: int, task_id: int, data: TaskUpdate, if_match: int | None = None,
) -> tuple[Plan, list[Task]]:
    """Correct a task of a draft plan (admin): its code, texts, parent, kind, due date or indicators."""
    require_role(actor, Role.ADMIN)
    plan = _editable_draft(session, plan_id, if_match)
    task = _task_of(session, plan_id, task_id)
    changes = data.model_dump(exclude_unset=True, mode="json")
    others = {t.code: t for t in plan_tasks(session, plan_id) if t.id != task.id}
    if changes.get("code") in others:
        raise Conflict(f"Plan {plan.number} already has a task {changes['code']}.")
    before = {"code": task.code, "title": task.title, "text": task.text, "kind": task.kind,
              "due_on": task.due_on.isoformat() if task.due_on else None, "indicators": task.indicators,
              "parent_code": next((t.code for t in others.values() if t.id == task.parent_id), None)}
    if "parent_code" in data.model_fields_set:
        task.parent_id = _new_parent(others, task, data.parent_code)
    if data.indicators is not None:
        codes = [i.code for i in data.indicators]
        if len(set(codes)) != len(codes):
            raise Invalid(f"Task {task.code}: indicator codes must be unique.")
        task.indicators = [i.model_dump() for i in data.indicators]
    for key in ("code", "title", "text", "kind"):
        if getattr(data, key) is not None:
            setattr(task, key, getattr(data, key))
    if "due_on" in data.model_fields_set:
        task.due_on = data.due_on
    if task.kind == domain.TaskKind.ONGOING and task.due_on is not None:
        if data.due_on is not None:
            raise Invalid(f"Task {task.code} is ongoing (thường xuyên): it has no due date.")
        task.due_on = None  # made ongoing: reported each period instead
    session.add(task)
    tasks = _emit_plan_updated(session, actor, plan, "plan.update_task",
                               {"task_id": task_id, "before": before, "after": changes})
    return plan, tasks


def _task_of(session: Session, plan_id: int, task_id: int) -> Task:
    task = session.get(Task, task_id)
    if task is None or task.plan_id != plan_id:
        raise NotFound("Task", f"{task_id} of plan {plan_id}")
    return task


def _new_parent(others: dict[str, Task], task: Task, parent_code: str | None) -> int | None:
    """The id of the task's new parent, refusing an unknown one and a loop."""
    if parent_code is None:
        return None
    parent = others.get(parent_code)
    if parent is None:
        raise Invalid(f"Task {task.code}: the plan has no task '{parent_code}' to put it under.")
    by_id = {t.id: t for t in others.values()}
    ancestor: Task | None = parent
    while ancestor is not None:
        if ancestor.parent_id == task.id:
            raise Invalid(f"Task {task.code} cannot be put under its own sub-task {parent_code}.")
        ancestor = by_id.get(ancestor.parent_id)
    return parent.id


def remove_task(
    session: Session, *, actor: Actor, plan_id: int, task_id: int, if_match: int | None = None,
) -> tuple[Plan, list[Task]]:
    """Remove a task from a draft plan (admin), unless it has sub-tasks or assignments."""
    require_role(actor, Role.ADMIN)
    plan = _editable_draft(session, plan_id, if_match)
    task = _task_of(session, plan_id, task_id)
    if session.exec(select(Task).where(Task.parent_id == task_id)).first() is not None:
        raise Conflict(f"Task {task.code} has sub-tasks: remove or move them first.")
    if session.exec(select(Assignment).where(Assignment.task_id == task_id)).first() is not None:
        raise Conflict(f"Task {task.code} is already assigned: it cannot be removed.")
    session.delete(task)
    session.flush()
    tasks = _emit_plan_updated(session, actor, plan, "plan.remove_task", {"task_id": task_id, "code": task.code})
    return plan, tasks


def change_plan_status(session: Session, *, actor: Actor, plan_id: int, new: PlanStatus) -> Plan:
    """Publish or close a plan (admin)."""
    require_role(actor, Role.ADMIN)
    plan = get_plan(session, plan_id)
    tasks = plan_tasks(session, plan_id)
    current = PlanStatus(plan.status)
    with rules_checked():
        domain.check_plan_transition(current, new, task_count=len(tasks))
    now = utcnow()
    plan.status = new
    plan.version += 1
    if new is PlanStatus.PUBLISHED:
        plan.published_at = now
        if (kept := session.get(ImportResult, plan_id)) is not None:
            session.delete(kept)  # the import's review is over
    else:
        plan.closed_at = now
    session.add(plan)
    payload = PlanStatusPayload(plan_id=plan_id, number=plan.number, status=new, changed_at=now)
    event_cls = PlanPublishedV1 if new is PlanStatus.PUBLISHED else PlanClosedV1
    audit.record(session, actor, action=f"plan.{'publish' if new is PlanStatus.PUBLISHED else 'close'}",
                 entity_type="plan", entity_id=plan_id, changes={"status": [current, new]},
                 event=event_cls(correlation_id=actor.correlation_id, payload=payload))
    return plan


def assign(session: Session, *, actor: Actor, plan_id: int, data: AssignmentCreate) -> list[Assignment]:
    """Assign one task of a plan to each of the given units (admin); all or nothing."""
    require_role(actor, Role.ADMIN)
    plan = get_plan(session, plan_id)
    with rules_checked():
        domain.check_plan_accepts_assignments(PlanStatus(plan.status))
    task = _task_of(session, plan_id, data.task_id)
    if len(set(data.unit_ids)) != len(data.unit_ids):
        raise Invalid("unit_ids contains the same unit twice.")
    if task.kind == domain.TaskKind.ONGOING and data.due_on is not None:
        raise Invalid(f"Task {task.code} is ongoing (thường xuyên): it has no due date.")
    due_on = None if task.kind == domain.TaskKind.ONGOING else (data.due_on or task.due_on)
    # set-based: one read of the units, one of the task's assignments, one insert of them all
    units = {u.id: u for u in session.exec(select(Unit).where(col(Unit.id).in_(data.unit_ids))).all()}
    if missing := [u for u in data.unit_ids if u not in units]:
        raise NotFound("Unit", missing[0])
    taken = set(session.exec(select(Assignment.unit_id).where(
        Assignment.task_id == task.id, col(Assignment.unit_id).in_(data.unit_ids))).all())
    if clash := [u for u in data.unit_ids if u in taken]:
        raise Conflict(f"Task {task.code} is already assigned to unit {units[clash[0]].code}.")
    created = [Assignment(plan_id=plan_id, task_id=task.id or 0, unit_id=unit_id, role=data.role, due_on=due_on)
               for unit_id in data.unit_ids]
    session.add_all(created)
    session.flush()
    for assignment in created:
        unit, unit_id = units[assignment.unit_id], assignment.unit_id
        event = AssignmentCreatedV1(
            correlation_id=actor.correlation_id, occurred_at=assignment.created_at,  # the day it was assigned on
            payload=AssignmentCreatedPayload(
                id=assignment.id or 0, plan_id=plan_id, plan_number=plan.number, task_id=task.id or 0,
                task_code=task.code, task_title=task.title, task_kind=task.kind, unit_id=unit_id,
                unit_code=unit.code, unit_name=unit.name, role=assignment.role, due_on=due_on,
                version=assignment.version,
            ),
        )
        audit.record(session, actor, action="assignment.create", entity_type="assignment",
                     entity_id=assignment.id, changes={"task": task.code, "unit": unit.code,
                                                       "role": data.role, "due_on": due_on},
                     event=event)
    return created


def import_plan(session: Session, *, actor: Actor, text: str) -> PlanImportResult:
    """Parse a plan document into a draft for an admin to review; nothing is saved."""
    require_role(actor, Role.ADMIN)
    draft, warnings = read_plan(text)
    if not draft.number:
        warnings.append(ImportWarning(code="number_missing",
                                      text="Set the document number before saving: it was not found in the text."))
    units = list(session.exec(select(Unit)).all())
    issuer = _match_issuer(draft, units)
    tasks = [
        TaskCreate(code=t.code, title=t.title[:500] or t.code, text=t.text, parent_code=t.parent_code,
                   kind=domain.TaskKind.ONGOING if t.ongoing else domain.TaskKind.ONE_OFF,
                   due_on=None if t.ongoing else t.deadline, indicators=target_indicators(t))
        for t in draft.tasks
    ]
    plan = PlanCreate(
        number=draft.number or "?", kind=draft.kind or "ke_hoach", title=draft.title or draft.number or "?",
        issuer_unit_id=issuer.id if issuer else None, place=draft.place or "", issued_on=draft.issued_on,
        implements=draft.implements, implements_date=draft.implements_date, period=draft.period or "",
        vision_year=draft.vision_year, signer=draft.signer_name or "", signer_title=draft.signer_title or "",
        recipients=draft.recipients, tasks=tasks,
    )
    if issuer is not None:  # "the party cells" of a plan are the issuer's own, not another committee's
        inside = subtree(session, issuer.id or 0)
        units = [u for u in units if u.id in inside]
    suggestions, new_units = suggest_assignments(draft, units), suggest_units(draft, units)
    for task in draft.tasks:
        if not _owner(task, {t.code: t for t in draft.tasks}) and not _has_children(task, draft):
            warnings.append(ImportWarning(
                code="assign_by_hand", text=f"Task {task.code}: no responsible unit recognised; assign it by hand.",
                params={"task": task.code}))
    return PlanImportResult(plan=plan, suggested_assignments=suggestions, suggested_units=new_units,
                            warnings=[w.text for w in warnings],
                            warning_codes=warnings, draft=draft.model_dump(mode="json"))


def create_imported_plan(session: Session, *, actor: Actor, result: PlanImportResult) -> tuple[Plan, list[Task]]:
    """Save an import's plan as a draft, with its warnings and suggestions kept for the review (admin)."""
    plan, tasks = create_plan(session, actor=actor, data=result.plan)
    session.add(ImportResult(plan_id=plan.id or 0, warnings=[w.model_dump() for w in result.warning_codes],
                             suggestions=[s.model_dump(mode="json") for s in result.suggested_assignments],
                             new_units=[u.model_dump(mode="json") for u in result.suggested_units]))
    return plan, tasks


class ImportReview(NamedTuple):
    """What an import left with its draft for the admin to review."""

    warnings: list[ImportWarning]
    suggestions: list[SuggestedAssignment]
    new_units: list[SuggestedUnit]


def import_review(session: Session, plan_id: int) -> ImportReview:
    """The warnings, suggested assignments and new units of the import that made a draft, until it is published."""
    row = session.get(ImportResult, plan_id)
    if row is None:
        return ImportReview([], [], [])
    return ImportReview([ImportWarning.model_validate(w) for w in row.warnings],
                        [SuggestedAssignment.model_validate(s) for s in row.suggestions],
                        [SuggestedUnit.model_validate(u) for u in row.new_units])



def target_indicators(task: TaskDraft) -> list[IndicatorSpec]:
    """A task's numeric targets ("đạt trên 90%") as its indicators, to report against."""
    return [IndicatorSpec(code=f"CT{n}", name=t.text[:300] or f"{t.value:g}{t.unit}", unit_of_measure=t.unit[:50],
                          target=t.value, comparison=domain.Comparison(t.comparison))
            for n, t in enumerate(task.targets[:50], 1)]


def guess_kind(name: str) -> str:
    """The unit kind a body's name suggests: a People's Committee, another State body, else external."""
    folded = fold(name)
    if re.match(r"(?:ủy ban nhân dân|ubnd)\b", folded):
        return domain.UnitKind.PEOPLE_COMMITTEE
    if re.match(r"(?:sở|bộ|cục|chi cục|tổng cục|công an|bộ chỉ huy|kho bạc|thanh tra|văn phòng ubnd)\b", folded):
        return domain.UnitKind.STATE_AGENCY
    return domain.UnitKind.EXTERNAL


def _has_children(task: TaskDraft, draft: PlanDraft) -> bool:
    return any(t.parent_code == task.code for t in draft.tasks)


def _owner(task: TaskDraft, by_code: dict[str, TaskDraft]) -> TaskDraft | None:
    """The task itself or the nearest ancestor that names who is responsible."""
    current: TaskDraft | None = task
    while current is not None and not current.responsible:
        current = by_code.get(current.parent_code) if current.parent_code else None
    return current


def _match_issuer(draft: PlanDraft, units: list[Unit]) -> Unit | None:
    if not draft.issuer:
        return None
    wanted = draft.issuer.casefold()
    matches = [u for u in units if u.name.casefold().startswith(wanted) or wanted.startswith(u.name.casefold())]
    return matches[0] if len(matches) == 1 else None


def suggest_units(draft: PlanDraft, units: list[Unit]) -> list[SuggestedUnit]:
    """The bodies tasks are given to by name that no unit of the organisation is (to add, or assign by hand)."""
    found: dict[str, SuggestedUnit] = {}
    for task in draft.tasks:
        for resp in task.responsible:
            if resp.unit_codes or is_collective(resp.text) or any(same_body(resp.text, u.name) for u in units):
                continue
            key = unit_key(resp.text)
            if key not in found:
                kind = next(iter(resp.unit_kinds), None) or guess_kind(resp.text)
                found[key] = SuggestedUnit(name=resp.text[:300], kind=kind, task_codes=[])
            if task.code not in found[key].task_codes:
                found[key].task_codes.append(task.code)
    return list(found.values())


def suggest_assignments(draft: PlanDraft, units: list[Unit]) -> list[SuggestedAssignment]:
    """For each leaf task, the existing units its (inherited) responsible clause names."""
    by_code = {t.code: t for t in draft.tasks}
    out: list[SuggestedAssignment] = []
    for task in draft.tasks:
        if _has_children(task, draft):
            continue
        owner = _owner(task, by_code)
        taken: set[int] = set()  # a unit named twice for one task keeps its first role
        for resp in owner.responsible if owner else []:
            ids = sorted(u.id for u in units if u.id is not None and u.id not in taken and
                         (u.kind in resp.unit_kinds or u.code in resp.unit_codes or same_body(resp.text, u.name)))
            taken.update(ids)
            if ids:
                out.append(SuggestedAssignment(task_code=task.code, role=resp.role,  # type: ignore[arg-type]
                                               responsible_text=resp.text, unit_ids=ids))
    return out
