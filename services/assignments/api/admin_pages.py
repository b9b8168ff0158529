"""An admin's pages: importing and publishing a plan, units, officials and their tokens."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel
from sqlmodel import col, select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from services.assignments import directory, planning, queries, signin
from services.assignments.api.board_pages import (
    Errors,
    attempt,
    checked,
    filled,
    gate,
    posted,
    problem_message,
    shell,
)
from services.assignments.api.deps import AppState, MaybeActorDep, StateDep
from services.assignments.api.pages import page, refuse
from services.assignments.api.plans import _import_document
from services.assignments.auth import Actor, new_token
from services.assignments.domain import PlanStatus, Role
from services.assignments.models import ApiToken, Official, Plan, Unit
from services.assignments.plan_documents import UnreadableDocument
from services.assignments.schemas import (
    AssignmentCreate,
    OfficialCreate,
    OfficialUpdate,
    PlanUpdate,
    SuggestedAssignment,
    TaskCreate,
    TaskUpdate,
    TokenCreate,
    UnitCreate,
    UnitUpdate,
)
from shared.problems import Problem
from shared.validation import DbId
from shared.vietnamese import import_warning, local_date

router = APIRouter(include_in_schema=False)

ADMIN = (Role.ADMIN,)
UNIT_KINDS = [("bloc_committee", "Đảng ủy Khối"), ("grassroots_committee", "Đảng ủy cơ sở"),
              ("party_cell", "Chi bộ"), ("advisory_board", "Ban tham mưu"),
              ("mass_organisation", "Đoàn thể"), ("state_agency", "Cơ quan nhà nước"),
              ("people_committee", "Ủy ban nhân dân"), ("external", "Đơn vị ngoài")]
KIND_LABELS = dict(UNIT_KINDS)
ROLES = [("unit_officer", "Cán bộ đơn vị"), ("supervisor", "Cán bộ theo dõi"), ("observer", "Người xem"),
         ("admin", "Quản trị")]
NO_FILE = "Hãy chọn tệp văn bản kế hoạch (.docx, .pdf hoặc .txt)."
TOO_LARGE = "Tệp lớn hơn giới hạn {limit} byte."
STALE_TASK = ("Trong lúc đồng chí sửa, kế hoạch đã được người khác thay đổi. Nhiệm vụ chưa được lưu: "
              "đồng chí xem nội dung hiện tại dưới đây rồi sửa lại.")


class Suggestions(BaseModel):
    """The suggested assignments an admin chose to apply, all or nothing."""

    items: list[AssignmentCreate]


def _context(actor: Actor) -> dict[str, Any]:
    return shell(actor) | {"unit_kinds": UNIT_KINDS, "roles": ROLES}


@router.get("/admin")
def admin_home(request: Request, state: StateDep, actor: MaybeActorDep) -> Response:
    """Links to the admin's pages and the plans to edit."""
    who = gate(request, state, actor, ADMIN)
    if isinstance(who, Response):
        return who
    with state.uow() as session:
        plans = list(session.exec(select(Plan).order_by(col(Plan.id).desc())).all())
    return page(request, state, "admin_home.html", "Quản trị", **_context(who), plans=plans)


# -- importing a plan ----------------------------------------------------------------------------
def _import_page(request: Request, state: AppState, actor: Actor, errors: Errors, status: int) -> Response:
    return page(request, state, "admin_import.html", "Nhập kế hoạch từ văn bản", status_code=status,
                **_context(actor), errors=errors)


@router.get("/admin/import")
def import_form(request: Request, state: StateDep, actor: MaybeActorDep) -> Response:
    """The upload form for a plan document."""
    who = gate(request, state, actor, ADMIN)
    return who if isinstance(who, Response) else _import_page(request, state, who, {}, 200)


async def _document_bytes(state: AppState, upload: object) -> tuple[bytes, UploadFile]:
    """The uploaded document's bytes; ValueError with the Vietnamese reason when there are none."""
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise ValueError(NO_FILE)
    limit = state.settings.import_max_bytes
    raw = await upload.read(limit + 1)
    if len(raw) > limit:
        raise ValueError(TOO_LARGE.format(limit=limit))
    if not raw.strip():
        raise ValueError(NO_FILE)
    return raw, upload


@router.post("/admin/import")
async def import_upload(request: Request, state: StateDep, actor: MaybeActorDep) -> Response:
    """Read an uploaded plan document (as POST /plans/import) and save it as a draft to review."""
    form = await request.form()  # parsed once, by the CSRF check
    got = checked(request, state, {k: v for k, v in form.items() if isinstance(v, str)}, actor, ADMIN)
    if isinstance(got, Response):
        return got
    actor = got[1]
    try:
        raw, upload = await _document_bytes(state, form.get("document"))
        result = await run_in_threadpool(_import_document, state, actor, raw, upload.content_type, upload.filename)
        with state.uow() as session:
            plan, _ = planning.create_imported_plan(session, actor=actor, result=result)
    except UnreadableDocument as exc:
        return _import_page(request, state, actor, {"document": exc.vi}, 422)
    except ValueError as exc:
        return _import_page(request, state, actor, {"document": str(exc)}, 422)
    except Problem as exc:
        message = problem_message(exc)
        if exc.status == 409:
            message = "Đã có kế hoạch mang số này: hãy sửa kế hoạch đã có thay vì nhập lại."
        return _import_page(request, state, actor, {"document": message}, exc.status)
    return _plan_page(request, state, actor, plan.id or 0, status_code=201)


# -- a draft plan --------------------------------------------------------------------------------
def _suggestions(suggested: list[SuggestedAssignment], task_ids: dict[str, int],
                 units: dict[int, str]) -> list[dict[str, Any]]:
    """The import's suggested assignments, each with the value its checkbox posts."""
    return [{"task_code": s.task_code, "role": s.role, "text": s.responsible_text,
             "units": [units.get(u, str(u)) for u in s.unit_ids],
             "value": f"{task_ids[s.task_code]}:{s.role}:{','.join(map(str, s.unit_ids))}"}
            for s in suggested if s.task_code in task_ids]


def _plan_page(request: Request, state: AppState, actor: Actor, plan_id: int, *,
               errors: Errors | None = None, status_code: int = 200,
               values: dict[str, str] | None = None) -> Response:
    try:
        with state.uow() as session:
            plan = planning.get_plan(session, plan_id)
            tasks = planning.plan_tasks(session, plan_id)
            assigned, _ = queries.list_assignments(
                session, actor=actor, filters=queries.AssignmentFilter(plan_id=plan_id), offset=0, limit=1000,
                today=local_date(), soon_days=state.settings.due_soon_days)
            units = {u.id or 0: u.name for u in session.exec(select(Unit)).all()}
            warnings, suggested, new_units = planning.import_review(session, plan_id)
    except Problem as exc:
        return refuse(request, state, exc.status, exc.detail, "Không mở được kế hoạch", problem_message(exc))
    suggestions = _suggestions(suggested, {t.code: t.id or 0 for t in tasks}, units)
    codes = {t.id: t.code for t in tasks}
    return page(request, state, "admin_plan.html", f"Kế hoạch {plan.number}", status_code=status_code,
                **_context(actor), plan=plan, tasks=tasks, assigned=assigned, suggestions=suggestions,
                new_units=[{"name": u.name, "kind": KIND_LABELS.get(u.kind, u.kind), "tasks": ", ".join(u.task_codes)}
                           for u in new_units],
                warnings=[import_warning(w.code, w.params) for w in warnings], parent_codes=codes,
                errors=errors or {}, values=values or {},
                draft=plan.status == PlanStatus.DRAFT)


@router.get("/admin/plans/{plan_id}")
def admin_plan(plan_id: DbId, request: Request, state: StateDep, actor: MaybeActorDep) -> Response:
    """A plan with its tasks and assignments; a draft's corrections and its publishing."""
    who = gate(request, state, actor, ADMIN)
    return who if isinstance(who, Response) else _plan_page(request, state, who, plan_id)


def _after(request: Request, state: AppState, actor: Actor, plan_id: int, errors: Errors, status: int,
           fields: dict[str, str], prefix: str) -> Response:
    if not errors:
        return RedirectResponse(f"/admin/plans/{plan_id}", status_code=303)
    return _plan_page(request, state, actor, plan_id, errors={f"{prefix}{k}": v for k, v in errors.items()},
                      status_code=status, values=fields)


@router.post("/admin/plans/{plan_id}")
async def correct_plan(plan_id: DbId, request: Request, state: StateDep, actor: MaybeActorDep) -> Response:
    """Correct a draft plan's number and title (as PATCH /plans/{id})."""
    got = await posted(request, state, actor, ADMIN)
    if isinstance(got, Response):
        return got
    fields, who = got
    errors, status = attempt(state, PlanUpdate, filled(fields, "number", "title", "period", "signer"),
                             lambda s, body: planning.update_plan(s, actor=who, plan_id=plan_id, data=body))
    return _after(request, state, who, plan_id, errors, status, fields, "plan_")


@router.post("/admin/plans/{plan_id}/tasks")
async def add_task(plan_id: DbId, request: Request, state: StateDep, actor: MaybeActorDep) -> Response:
    """Add a task to a draft plan (as POST /plans/{id}/tasks)."""
    got = await posted(request, state, actor, ADMIN)
    if isinstance(got, Response):
        return got
    fields, who = got
    data = filled(fields, "code", "title", "parent_code", "kind", "due_on")
    errors, status = attempt(state, TaskCreate, data,
                             lambda s, body: planning.add_task(s, actor=who, plan_id=plan_id, data=body))
    return _after(request, state, who, plan_id, errors, status, fields, "task_")


@router.post("/admin/plans/{plan_id}/tasks/{task_id}")
async def correct_task(plan_id: DbId, task_id: DbId, request: Request, state: StateDep,
                       actor: MaybeActorDep) -> Response:
    """Correct a task of a draft plan (as PATCH /plans/{id}/tasks/{task_id}, If-Match from the form)."""
    got = await posted(request, state, actor, ADMIN)
    if isinstance(got, Response):
        return got
    fields, who = got
    version = fields.get("version", "")
    if_match = int(version) if version.isascii() and version.isdigit() and len(version) <= 10 else 0
    data = filled(fields, "code", "title", "kind") | {
        "text": fields.get("text", ""), "parent_code": fields.get("parent_code", "").strip() or None,
        "due_on": None if fields.get("kind") == "ongoing" else (fields.get("due_on", "").strip() or None)}
    errors, status = attempt(state, TaskUpdate, data, lambda s, body: planning.update_task(
        s, actor=who, plan_id=plan_id, task_id=task_id, data=body, if_match=if_match))
    if status == 412:
        errors = {"form": STALE_TASK}
    return _after(request, state, who, plan_id, errors, status, fields, f"t{task_id}_")


def _number(value: str) -> int | str:
    return int(value) if value.isascii() and value.isdigit() else value


def _chosen(values: list[str]) -> list[dict[str, Any]]:
    """Assignments from the checkboxes' values "task_id:role:unit,unit"."""
    out = []
    for value in values:
        task_id, _, rest = value.partition(":")
        role, _, unit_ids = rest.partition(":")
        out.append({"task_id": _number(task_id), "role": role, "unit_ids": [_number(u) for u in unit_ids.split(",")]})
    return out


@router.post("/admin/plans/{plan_id}/assignments")
async def apply_suggestions(plan_id: DbId, request: Request, state: StateDep, actor: MaybeActorDep) -> Response:
    """Apply the chosen suggested assignments (as POST /plans/{id}/assignments, once per task)."""
    got = await posted(request, state, actor, ADMIN)
    if isinstance(got, Response):
        return got
    fields, who = got
    chosen = _chosen([v for v in (await request.form()).getlist("suggestion") if isinstance(v, str)])
    if not chosen:
        return _after(request, state, who, plan_id, {"form": "Hãy chọn ít nhất một đề xuất giao nhiệm vụ."}, 422,
                      fields, "assign_")
    errors, status = attempt(state, Suggestions, {"items": chosen}, lambda s, body: [
        planning.assign(s, actor=who, plan_id=plan_id, data=item) for item in body.items])
    return _after(request, state, who, plan_id, errors, status, fields, "assign_")


@router.post("/admin/plans/{plan_id}/publish")
async def publish(plan_id: DbId, request: Request, state: StateDep, actor: MaybeActorDep) -> Response:
    """Publish a draft plan (as POST /plans/{id}/publish)."""
    got = await posted(request, state, actor, ADMIN)
    if isinstance(got, Response):
        return got
    fields, who = got
    try:
        with state.uow() as session:
            planning.change_plan_status(session, actor=who, plan_id=plan_id, new=PlanStatus.PUBLISHED)
    except Problem as exc:
        return _after(request, state, who, plan_id, {"form": problem_message(exc)}, exc.status, fields, "")
    return RedirectResponse(f"/admin/plans/{plan_id}", status_code=303)


# -- units ---------------------------------------------------------------------------------------
def _units_page(request: Request, state: AppState, actor: Actor, errors: Errors | None = None,
                status_code: int = 200, values: dict[str, str] | None = None) -> Response:
    with state.uow() as session:
        units = list(session.exec(select(Unit).order_by(col(Unit.code))).all())
    return page(request, state, "admin_units.html", "Đơn vị", status_code=status_code, **_context(actor),
                units=units, unit_options=[("", "(không có)")] + [(u.id, u.name) for u in units],
                errors=errors or {}, values=values or {})


@router.get("/admin/units")
def units_page(request: Request, state: StateDep, actor: MaybeActorDep) -> Response:
    """The units, a form to add one, and each unit's mailbox."""
    who = gate(request, state, actor, ADMIN)
    return who if isinstance(who, Response) else _units_page(request, state, who)


def _units_after(request: Request, state: AppState, actor: Actor, errors: Errors, status: int,
                 fields: dict[str, str], prefix: str) -> Response:
    if not errors:
        return RedirectResponse("/admin/units", status_code=303)
    return _units_page(request, state, actor, {f"{prefix}{k}": v for k, v in errors.items()}, status, fields)


@router.post("/admin/units")
async def create_unit(request: Request, state: StateDep, actor: MaybeActorDep) -> Response:
    """Add a unit (as POST /units)."""
    got = await posted(request, state, actor, ADMIN)
    if isinstance(got, Response):
        return got
    fields, who = got
    errors, status = attempt(state, UnitCreate, filled(fields, "code", "name", "kind", "parent_id", "email"),
                             lambda s, body: directory.create_unit(s, actor=who, data=body))
    return _units_after(request, state, who, errors, status, fields, "unit_")


@router.post("/admin/units/{unit_id}")
async def update_unit(unit_id: DbId, request: Request, state: StateDep, actor: MaybeActorDep) -> Response:
    """Change a unit's mailbox; an empty one removes it (as PATCH /units/{id})."""
    got = await posted(request, state, actor, ADMIN)
    if isinstance(got, Response):
        return got
    fields, who = got
    errors, status = attempt(state, UnitUpdate, {"email": fields.get("email", "").strip()},
                             lambda s, body: directory.update_unit(s, actor=who, unit_id=unit_id, data=body))
    return _units_after(request, state, who, errors, status, fields, f"mail{unit_id}_")


# -- officials and tokens ------------------------------------------------------------------------
def _officials_page(request: Request, state: AppState, actor: Actor, *, errors: Errors | None = None,
                    status_code: int = 200, values: dict[str, str] | None = None,
                    issued: dict[str, Any] | None = None) -> Response:
    with state.uow() as session:
        officials = list(session.exec(select(Official).order_by(col(Official.id))).all())
        units = list(session.exec(select(Unit).order_by(col(Unit.code))).all())
        tokens: dict[int, list[ApiToken]] = {}
        for token in session.exec(select(ApiToken).order_by(col(ApiToken.id))).all():
            tokens.setdefault(token.official_id, []).append(token)
    return page(request, state, "admin_officials.html", "Cán bộ và mã truy cập", status_code=status_code,
                **_context(actor), officials=officials, tokens=tokens, unit_names={u.id: u.name for u in units},
                unit_options=[("", "(không thuộc đơn vị)")] + [(u.id, u.name) for u in units],
                errors=errors or {}, values=values or {}, issued=issued)


@router.get("/admin/officials")
def officials_page(request: Request, state: StateDep, actor: MaybeActorDep) -> Response:
    """Officials with their tokens; forms to add, deactivate, end sessions, issue and revoke."""
    who = gate(request, state, actor, ADMIN)
    return who if isinstance(who, Response) else _officials_page(request, state, who)


def _officials_after(request: Request, state: AppState, actor: Actor, errors: Errors, status: int,
                     fields: dict[str, str], prefix: str) -> Response:
    if not errors:
        return RedirectResponse("/admin/officials", status_code=303)
    return _officials_page(request, state, actor, errors={f"{prefix}{k}": v for k, v in errors.items()},
                           status_code=status, values=fields)


@router.post("/admin/officials")
async def create_official(request: Request, state: StateDep, actor: MaybeActorDep) -> Response:
    """Add an official (as POST /officials)."""
    got = await posted(request, state, actor, ADMIN)
    if isinstance(got, Response):
        return got
    fields, who = got
    errors, status = attempt(state, OfficialCreate, filled(fields, "name", "email", "title", "unit_id", "role"),
                             lambda s, body: directory.create_official(s, actor=who, data=body))
    return _officials_after(request, state, who, errors, status, fields, "off_")


@router.post("/admin/officials/{official_id}/deactivate")
async def deactivate(official_id: DbId, request: Request, state: StateDep, actor: MaybeActorDep) -> Response:
    """Deactivate an official: their tokens and sessions stop working (as PATCH /officials/{id})."""
    got = await posted(request, state, actor, ADMIN)
    if isinstance(got, Response):
        return got
    fields, who = got
    errors, status = attempt(state, OfficialUpdate, {"active": False}, lambda s, body: directory.update_official(
        s, actor=who, official_id=official_id, data=body))
    return _officials_after(request, state, who, errors, status, fields, f"o{official_id}_")


@router.post("/admin/officials/{official_id}/sessions")
async def end_sessions(official_id: DbId, request: Request, state: StateDep, actor: MaybeActorDep) -> Response:
    """End every browser session of an official (as DELETE /officials/{id}/sessions)."""
    got = await posted(request, state, actor, ADMIN)
    if isinstance(got, Response):
        return got
    fields, who = got
    try:
        with state.uow() as session:
            signin.end_official_sessions(session, actor=who, official_id=official_id, now=state.now())
    except Problem as exc:
        return _officials_after(request, state, who, {"form": problem_message(exc)}, exc.status, fields,
                                f"o{official_id}_")
    return RedirectResponse("/admin/officials", status_code=303)


@router.post("/admin/officials/{official_id}/tokens")
async def issue_token(official_id: DbId, request: Request, state: StateDep, actor: MaybeActorDep) -> Response:
    """Issue an API token; the page shows it this once (as POST /officials/{id}/tokens)."""
    got = await posted(request, state, actor, ADMIN)
    if isinstance(got, Response):
        return got
    fields, who = got
    token = new_token()
    errors, status = attempt(state, TokenCreate, filled(fields, "name"), lambda s, body: directory.issue_token(
        s, actor=who, official_id=official_id, token=token, name=body.name, expires_at=body.expires_at))
    if errors:
        return _officials_after(request, state, who, errors, status, fields, f"o{official_id}_")
    return _officials_page(request, state, who, status_code=201,
                           issued={"official_id": official_id, "token": token})


@router.post("/admin/officials/{official_id}/tokens/{token_id}/revoke")
async def revoke_token(official_id: DbId, token_id: DbId, request: Request, state: StateDep,
                       actor: MaybeActorDep) -> Response:
    """Revoke an API token (as DELETE /officials/{id}/tokens/{token_id})."""
    got = await posted(request, state, actor, ADMIN)
    if isinstance(got, Response):
        return got
    fields, who = got
    errors, status = attempt(state, None, {}, lambda s, body: directory.revoke_token(
        s, actor=who, official_id=official_id, token_id=token_id))
    return _officials_after(request, state, who, errors, status, fields, f"o{official_id}_")

