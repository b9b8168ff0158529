"""A unit officer's pages: the unit's assignments, an assignment with its history, the report form,
attachments, the unit's own plan and its review-round report."""

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, ValidationError
from sqlmodel import Session, col, select
from starlette.datastructures import UploadFile

from services.assignments import attachments, oversight, planning, queries, review_rounds, tracking
from services.assignments.access import ensure_acts_for, scope_unit_ids
from services.assignments.api.deps import MaybeActorDep, StateDep
from services.assignments.api.pages import bad_csrf, csrf_ok, page
from services.assignments.auth import Actor
from services.assignments.domain import ALLOWED_TRANSITIONS, DueState, ReviewState, Role, Status, TaskKind
from services.assignments.errors import Forbidden, Stale
from services.assignments.models import Assignment, Official, Plan, StatusUpdate, Task
from services.assignments.schemas import StatusUpdateCreate, SubmissionCreate, UnitPlanCreate
from shared.due import period_label
from shared.problems import Problem
from shared.validation import DbId
from shared.vietnamese import (
    DUE_STATE_LABELS,
    REPORTING_PERIOD_LABELS,
    ROLE_LABELS,
    STATUS_LABELS,
    local_date,
    local_time,
    review_kind_label,
    short_date,
)
from shared.web.forms import form_fields
from shared.web.pages import wants_html

router = APIRouter(include_in_schema=False)
LIST_LIMIT = 100
STALE = ("Trong lúc đồng chí điền biểu mẫu, nhiệm vụ này đã có báo cáo mới hoặc đã được xem xét. "
         "Báo cáo của đồng chí chưa được ghi nhận. Đồng chí xem tình trạng hiện tại dưới đây, "
         "kiểm tra lại nội dung rồi gửi lại.")
REFUSALS: dict[int, tuple[str, str]] = {
    403: ("Không có quyền", "Chỉ cán bộ của chính đơn vị được giao mới thực hiện được thao tác này."),
    404: ("Không tìm thấy", "Không tìm thấy nội dung này, hoặc đồng chí không có quyền xem."),
    409: ("Không thực hiện được", "Thao tác không phù hợp với tình trạng hiện tại (kế hoạch không còn nhận "
                                  "báo cáo, đã nộp, hoặc đơn vị không thuộc diện)."),
    413: ("Tệp quá lớn", "Tệp vượt quá dung lượng cho phép."),
    422: ("Nội dung chưa hợp lệ", "Nội dung gửi lên chưa hợp lệ."),
}
CONFLICTS = {  # what a 409 means on each form
    "report": "Không ghi nhận được: trạng thái hoặc tiến độ không phù hợp (chưa triển khai: 0%; đang thực hiện: "
              "0–99%; hoàn thành: 100%; nhiệm vụ đã hoàn thành thì không báo cáo tiếp), hoặc kế hoạch không "
              "còn nhận báo cáo.",
    "unit_plan": "Không đăng ký được: số văn bản này đã được đăng ký cho kế hoạch, đơn vị không được giao "
                 "nhiệm vụ của kế hoạch, hoặc kế hoạch không còn nhận báo cáo.",
    "review": "Không nộp được: đơn vị đã nộp báo cáo đợt này, đợt đã kết thúc, hoặc đơn vị không thuộc diện báo cáo.",
}
LABELS = {"due_state": DUE_STATE_LABELS, "status": STATUS_LABELS, "role": ROLE_LABELS,
          "period": REPORTING_PERIOD_LABELS}


# -- helpers -------------------------------------------------------------------------------------

def _to_signin(request: Request) -> Response:
    """Send someone without a session to sign in, then back here."""
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/signin?next={quote(target, safe='')}", status_code=303)


def _show(request: Request, state: Any, actor: Actor, template: str, title: str, **context: Any) -> Response:
    return page(request, state, template, title, user=actor.name, role=actor.role.value, labels=LABELS,
                short_date=short_date, **context)


def _refusal(request: Request, state: Any, actor: Actor, exc: Problem) -> Response:
    """A domain refusal as a Vietnamese page for a browser, problem+json for anything else."""
    if not wants_html(request):
        raise exc
    title, message = REFUSALS.get(exc.status, ("Không thực hiện được", exc.detail))
    return _show(request, state, actor, "message.html", title, status_code=exc.status, message=message,
                 link="/unit", link_label="Về danh sách nhiệm vụ của đơn vị")


def _field_errors(exc: ValidationError) -> dict[str, str]:
    """The first problem of each form field, in Vietnamese."""
    errors: dict[str, str] = {}
    for error in exc.errors():
        name = str(error["loc"][0]) if error["loc"] else "form"
        kind = error["type"]
        if kind in ("missing", "string_too_short") or error.get("input") in (None, ""):
            text = "Đồng chí chưa nhập mục này."
        elif kind == "string_too_long":
            text = f"Nội dung quá dài (tối đa {error.get('ctx', {}).get('max_length', '')} ký tự)."
        elif kind.startswith("url") or name in ("link", "evidence_links"):
            text = "Đường dẫn phải là địa chỉ đầy đủ, bắt đầu bằng http:// hoặc https://."
        elif kind.startswith("date"):
            text = "Ngày chưa đúng."
        elif kind == "too_long":
            text = "Quá nhiều mục."
        else:
            text = "Giá trị chưa hợp lệ."
        errors.setdefault(name, text)
    return errors


def _parsed(model: type[BaseModel], values: dict[str, Any]) -> tuple[Any, dict[str, str]]:
    try:
        return model.model_validate(values), {}
    except ValidationError as exc:
        return None, _field_errors(exc)


def _run(request: Request, state: Any, actor: Actor, action: Callable[[Session], Any],
         on_problem: Callable[[Problem], Response | None]) -> Response | None:
    """Run a use case in a transaction; a refusal becomes `on_problem`'s answer (or a refusal page)."""
    try:
        with state.uow() as session:
            action(session)
    except Problem as exc:
        return on_problem(exc) or _refusal(request, state, actor, exc)
    return None


# -- the unit's assignments ----------------------------------------------------------------------

def _choice(enum: type[Any], value: str) -> Any:
    try:
        return enum(value) if value else None
    except ValueError:
        return None


@router.get("/unit")
def unit_assignments(request: Request, state: StateDep, actor: MaybeActorDep, status: str = "",
                     due_state: str = "", plan_id: str = "", offset: int = 0) -> Response:
    """The unit's assignments with their due state, filtered by status, due state and plan."""
    if actor is None:
        return _to_signin(request)
    filters = queries.AssignmentFilter(int(plan_id) if plan_id.isdigit() else None, None,
                                       _choice(Status, status), _choice(DueState, due_state))
    offset = max(offset, 0)
    with state.uow() as session:
        rows, total = queries.list_assignments(
            session, actor=actor, filters=filters, offset=offset, limit=LIST_LIMIT, today=local_date(),
            soon_days=state.settings.due_soon_days)
        plans = _plans_in_scope(session, actor)
    return _show(request, state, actor, "unit_list.html", "Nhiệm vụ của đơn vị", rows=rows, total=total,
                 plans=plans, offset=offset, limit=LIST_LIMIT, chosen={"status": status, "due_state": due_state,
                                                                     "plan_id": plan_id},
                 statuses=list(Status), due_states=list(DueState))


def _plans_in_scope(session: Session, actor: Actor) -> dict[int, Plan]:
    """Plans with an assignment the actor may see, by id."""
    assigned = select(Assignment.plan_id)
    scope = scope_unit_ids(session, actor)
    if scope is not None:
        assigned = assigned.where(col(Assignment.unit_id).in_(scope))
    query = select(Plan).where(col(Plan.id).in_(assigned)).order_by(col(Plan.id))
    return {p.id or 0: p for p in session.exec(query).all()}


# -- one assignment: history, attachments, report form -------------------------------------------

def _may_report(actor: Actor, assignment: Assignment) -> bool:
    try:
        ensure_acts_for(actor, assignment.unit_id, "report")
    except Forbidden:
        return False
    return True


def _assignment_context(session: Session, state: Any, actor: Actor, assignment_id: int) -> dict[str, Any]:
    a = tracking.visible_assignment(session, actor=actor, assignment_id=assignment_id)
    today = local_date()
    view = queries.assignment_view(session, a, today, state.settings.due_soon_days)
    plan, task = session.get(Plan, a.plan_id), session.get(Task, a.task_id)
    assert plan is not None and task is not None
    updates = list(session.exec(select(StatusUpdate).where(StatusUpdate.assignment_id == a.id)
                                .order_by(col(StatusUpdate.id))).all())
    people = {o.id: o.name for o in session.exec(select(Official).where(
        col(Official.id).in_({u.reported_by_id for u in updates} | {u.reviewed_by_id for u in updates}))).all()}
    latest = updates[-1] if updates else None
    returned = latest if latest is not None and latest.review_state == ReviewState.RETURNED else None
    ongoing = task.kind == TaskKind.ONGOING
    return {"a": view, "plan": plan, "task": task, "updates": updates, "people": people, "returned": returned,
            "files": attachments.attachments_of(session, assignment_id), "ongoing": ongoing,
            "current_period": period_label(plan.reporting_period, today) if ongoing else "",
            "can_report": _may_report(actor, a),
            "next_statuses": [s for s in Status if s in ALLOWED_TRANSITIONS[Status(a.status)]],  # workflow order
            "local_time": local_time}


def _assignment_page(request: Request, state: Any, actor: Actor, assignment_id: int, *, status_code: int = 200,
                     values: dict[str, str] | None = None, errors: dict[str, str] | None = None,
                     form_error: str = "", notice: str = "") -> Response:
    try:
        with state.uow() as session:
            context = _assignment_context(session, state, actor, assignment_id)
    except Problem as exc:
        return _refusal(request, state, actor, exc)
    title = f"Nhiệm vụ {context['task'].code}: {context['task'].title}"
    return _show(request, state, actor, "unit_assignment.html", title, status_code=status_code,
                 values=values or {}, errors=errors or {}, form_error=form_error, notice=notice, **context)


NOTICES = {"reported": "Đã ghi nhận báo cáo. Cấp trên sẽ xem xét báo cáo này.",
           "attached": "Đã tải tệp đính kèm lên."}


@router.get("/unit/assignments/{assignment_id}")
def assignment_page(request: Request, state: StateDep, actor: MaybeActorDep, assignment_id: DbId,
                    done: str = "") -> Response:
    """An assignment with its history, reviews and attachments; the report form for its unit's officer."""
    if actor is None:
        return _to_signin(request)
    return _assignment_page(request, state, actor, assignment_id, notice=NOTICES.get(done, ""))


def _report_values(fields: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The report form as the API's body; fields that cannot be read yet, with their message."""
    errors: dict[str, str] = {}
    progress_text = fields.get("progress", "").strip()
    progress = int(progress_text) if progress_text.isascii() and progress_text.isdigit() else None
    if progress_text and progress is None:
        errors["progress"] = "Tiến độ là một số nguyên từ 0 đến 100."
    indicators: dict[str, float] = {}
    for name, text in fields.items():
        if name.startswith("indicator_") and text.strip():
            try:
                indicators[name.removeprefix("indicator_")] = float(text.strip().replace(",", "."))
            except ValueError:
                errors[name] = "Giá trị chỉ tiêu là một số, ví dụ 12 hoặc 12,5."
    links = [line.strip() for line in fields.get("evidence_links", "").splitlines() if line.strip()]
    return {"status": fields.get("status", ""), "progress": progress, "summary": fields.get("summary", ""),
            "difficulties": fields.get("difficulties", ""), "indicator_values": indicators,
            "evidence_links": links, "period": fields.get("period", "").strip()}, errors


@router.post("/unit/assignments/{assignment_id}/report")
async def post_report(request: Request, state: StateDep, actor: MaybeActorDep,
                      assignment_id: DbId) -> Response:
    """Record the unit's report through the API's use case; a form older than the assignment is refused."""
    fields = await form_fields(request)
    if not csrf_ok(request, state, fields):
        return bad_csrf(request, state)
    if actor is None:
        return _to_signin(request)
    values, errors = _report_values(fields)
    data, invalid = _parsed(StatusUpdateCreate, values)
    errors = invalid | errors
    if errors:
        return _assignment_page(request, state, actor, assignment_id, status_code=422, values=fields,
                                errors=errors, form_error="Báo cáo chưa gửi được: đồng chí xem các mục được đánh dấu.")
    version = fields.get("version", "")
    if_match = int(version) if version.isascii() and version.isdigit() and len(version) <= 10 else 0

    def refused(exc: Problem) -> Response | None:
        if isinstance(exc, Stale):
            return _assignment_page(request, state, actor, assignment_id, status_code=409, values=fields,
                                    form_error=STALE)
        if exc.status in (409, 422):
            return _assignment_page(request, state, actor, assignment_id, status_code=exc.status, values=fields,
                                    form_error=CONFLICTS["report"])
        return None

    failed = _run(request, state, actor, lambda s: tracking.post_update(
        s, actor=actor, assignment_id=assignment_id, data=data, if_match=if_match), refused)
    return failed or RedirectResponse(f"/unit/assignments/{assignment_id}?done=reported", status_code=303)


# -- attachments ---------------------------------------------------------------------------------

@router.post("/unit/assignments/{assignment_id}/attachments")
async def upload_attachment(request: Request, state: StateDep, actor: MaybeActorDep,
                            assignment_id: DbId) -> Response:
    """Attach a file (PDF, DOCX, XLSX, PNG, JPEG) to the assignment; its type is read from its bytes."""
    form = await request.form(max_files=1, max_fields=10)
    fields = {name: value for name, value in form.items() if isinstance(value, str)}
    if not csrf_ok(request, state, fields):
        return bad_csrf(request, state)
    if actor is None:
        return _to_signin(request)
    upload = form.get("file")
    limit = state.settings.attachment_max_bytes
    if not isinstance(upload, UploadFile) or not upload.filename:
        return _assignment_page(request, state, actor, assignment_id, status_code=422,
                                errors={"file": "Đồng chí chưa chọn tệp."})
    content = await upload.read(limit + 1)
    update_id = fields.get("update_id", "")

    def refused(exc: Problem) -> Response | None:
        messages = {413: f"Tệp lớn hơn mức cho phép ({limit / 1_000_000:g} MB).",
                    422: "Chỉ nhận tệp PDF, Word (DOCX), Excel (XLSX), ảnh PNG hoặc JPEG: nội dung tệp "
                         "này không thuộc loại nào trong số đó."}
        if exc.status not in messages:
            return None
        return _assignment_page(request, state, actor, assignment_id, status_code=exc.status,
                                errors={"file": messages[exc.status]})

    failed = _run(request, state, actor, lambda s: attachments.attach(
        s, actor=actor, assignment_id=assignment_id, file_name=upload.filename or "", content=content,
        max_bytes=limit, update_id=int(update_id) if update_id.isdigit() else None), refused)
    return failed or RedirectResponse(f"/unit/assignments/{assignment_id}?done=attached", status_code=303)


@router.get("/attachments/{attachment_id}")
def download_attachment(request: Request, state: StateDep, actor: MaybeActorDep, attachment_id: DbId) -> Response:
    """An attached file, for whoever may read its assignment (anyone else: 404)."""
    if actor is None:
        return _to_signin(request)
    try:
        with state.uow() as session:
            row, content = attachments.read(session, actor=actor, attachment_id=attachment_id)
    except Problem as exc:
        return _refusal(request, state, actor, exc)
    return Response(content, media_type=row.media_type, headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(row.file_name, safe='')}",
        "X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store"})


# -- the unit's own plan -------------------------------------------------------------------------

def _unit_plan_page(request: Request, state: Any, actor: Actor, plan_id: int, *, status_code: int = 200,
                    values: dict[str, str] | None = None, errors: dict[str, str] | None = None,
                    form_error: str = "", notice: str = "") -> Response:
    try:
        with state.uow() as session:
            plan = planning.get_plan(session, plan_id)
            registered = oversight.list_unit_plans(session, actor=actor, plan_id=plan_id)
    except Problem as exc:
        return _refusal(request, state, actor, exc)
    return _show(request, state, actor, "unit_plan.html", f"Kế hoạch của đơn vị thực hiện {plan.number}",
                 status_code=status_code, plan=plan, registered=registered, values=values or {},
                 errors=errors or {}, form_error=form_error, notice=notice,
                 can_register=actor.role is Role.UNIT_OFFICER)


@router.get("/unit/plans/{plan_id}/unit-plan")
def unit_plan_form(request: Request, state: StateDep, actor: MaybeActorDep, plan_id: DbId,
                   done: str = "") -> Response:
    """The unit's implementing documents for a plan, and the form registering one."""
    if actor is None:
        return _to_signin(request)
    notice = "Đã đăng ký kế hoạch của đơn vị." if done == "registered" else ""
    return _unit_plan_page(request, state, actor, plan_id, notice=notice)


@router.post("/unit/plans/{plan_id}/unit-plan")
async def register_unit_plan(request: Request, state: StateDep, actor: MaybeActorDep,
                             plan_id: DbId) -> Response:
    """Register the unit's own implementing plan through the API's use case."""
    fields = await form_fields(request)
    if not csrf_ok(request, state, fields):
        return bad_csrf(request, state)
    if actor is None:
        return _to_signin(request)
    data, errors = _parsed(UnitPlanCreate, {key: fields.get(key, "").strip() or None
                                            for key in ("number", "issued_on", "title", "link")})
    if errors:
        return _unit_plan_page(request, state, actor, plan_id, status_code=422, values=fields, errors=errors)

    def refused(exc: Problem) -> Response | None:
        if exc.status != 409:
            return None
        return _unit_plan_page(request, state, actor, plan_id, status_code=409, values=fields,
                               form_error=CONFLICTS["unit_plan"])

    failed = _run(request, state, actor, lambda s: oversight.register_unit_plan(
        s, actor=actor, plan_id=plan_id, data=data), refused)
    return failed or RedirectResponse(f"/unit/plans/{plan_id}/unit-plan?done=registered", status_code=303)


# -- the unit's review-round report --------------------------------------------------------------

def _review_page(request: Request, state: Any, actor: Actor, round_id: int, *, status_code: int = 200,
                 values: dict[str, str] | None = None, errors: dict[str, str] | None = None,
                 form_error: str = "", notice: str = "") -> Response:
    try:
        with state.uow() as session:
            round_ = review_rounds.get_round(session, round_id)
            view = review_rounds.round_view(session, actor=actor, round_=round_)
            plan = planning.get_plan(session, round_.plan_id)
    except Problem as exc:
        return _refusal(request, state, actor, exc)
    mine = next((u for u in view.units if u.unit_id == actor.unit_id), None)
    title = f"Báo cáo {review_kind_label(round_.kind)}: {round_.title}"
    return _show(request, state, actor, "unit_review.html", title, status_code=status_code, round=view,
                 plan=plan, mine=mine, today=local_date(), values=values or {}, errors=errors or {},
                 form_error=form_error, notice=notice)


@router.get("/unit/reviews/{round_id}")
def review_form(request: Request, state: StateDep, actor: MaybeActorDep, round_id: DbId, done: str = "") -> Response:
    """A review round's deadline, whether the unit has submitted, and the form to submit its report."""
    if actor is None:
        return _to_signin(request)
    notice = "Đã nộp báo cáo của đơn vị." if done == "submitted" else ""
    return _review_page(request, state, actor, round_id, notice=notice)


@router.post("/unit/reviews/{round_id}")
async def submit_review(request: Request, state: StateDep, actor: MaybeActorDep, round_id: DbId) -> Response:
    """Submit the unit's review report through the API's use case."""
    fields = await form_fields(request)
    if not csrf_ok(request, state, fields):
        return bad_csrf(request, state)
    if actor is None:
        return _to_signin(request)
    values: dict[str, Any] = {key: fields.get(key, "") for key in ("summary", "results", "difficulties", "proposals")}
    data, errors = _parsed(SubmissionCreate, values | {"link": fields.get("link", "").strip() or None})
    if errors:
        return _review_page(request, state, actor, round_id, status_code=422, values=fields, errors=errors)

    def refused(exc: Problem) -> Response | None:
        if exc.status != 409:
            return None
        return _review_page(request, state, actor, round_id, status_code=409, values=fields,
                            form_error=CONFLICTS["review"])

    failed = _run(request, state, actor, lambda s: review_rounds.submit(s, actor=actor, round_id=round_id, data=data),
                  refused)
    return failed or RedirectResponse(f"/unit/reviews/{round_id}?done=submitted", status_code=303)

