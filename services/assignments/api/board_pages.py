"""A supervisor's pages: the plan board, reports waiting for review, review rounds, inspections.

Also the portal's small helpers for role-gated pages and their forms (used by the admin pages):
a page answers with the same domain functions as the API, and a refused rule becomes a
Vietnamese message next to its field or on the page.
"""

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, ValidationError
from sqlalchemy import func
from sqlmodel import Session, col, select

from services.assignments import oversight, planning, queries, review_rounds, tracking
from services.assignments.access import scope_unit_ids
from services.assignments.api.deps import AppState, MaybeActorDep, StateDep
from services.assignments.api.pages import bad_csrf, csrf_ok, page, refuse
from services.assignments.auth import Actor
from services.assignments.domain import DueState, ReviewState, Role
from services.assignments.models import Assignment, Plan, StatusUpdate, Task, Unit
from services.assignments.schemas import InspectionCreate, ReviewRoundCreate, UpdateReview
from shared.problems import Problem
from shared.validation import DbId
from shared.vietnamese import local_date
from shared.web.forms import form_fields

router = APIRouter(include_in_schema=False)

BOARD_ROLES = (Role.SUPERVISOR, Role.OBSERVER, Role.ADMIN)
WRITERS = (Role.SUPERVISOR, Role.ADMIN)
REASON_REQUIRED = "Cần ghi lý do trả lại để đơn vị biết phải sửa gì."
DATE_HINT = "Ngày chưa đúng, ví dụ: 2026-12-31."
FIELD_MESSAGES = {
    "missing": "Cần điền mục này.", "string_too_short": "Cần điền mục này.",
    "string_too_long": "Nội dung quá dài.", "date_from_datetime_parsing": DATE_HINT, "date_parsing": DATE_HINT,
    "date_type": DATE_HINT, "enum": "Hãy chọn một giá trị trong danh sách.", "int_parsing": "Cần một số.",
    "int_type": "Cần một số.", "value_error": "Giá trị chưa đúng.", "url_parsing": "Địa chỉ chưa đúng.",
}
PROBLEM_MESSAGES = {
    403: "Đồng chí không có quyền thực hiện thao tác này.",
    404: "Không tìm thấy dữ liệu này, hoặc dữ liệu nằm ngoài phạm vi của đồng chí.",
    409: "Thao tác không thực hiện được với trạng thái hiện tại của dữ liệu (có thể đã có người xử lý trước).",
    412: "Dữ liệu đã thay đổi: đồng chí hãy tải lại trang và thử lại.",
    422: "Dữ liệu chưa hợp lệ: đồng chí hãy kiểm tra lại.",
}
KIND_LABELS = {"preliminary": "Sơ kết", "final": "Tổng kết", "inspection": "Kiểm tra", "supervision": "Giám sát"}
STATUS_LABELS = {"not_started": "Chưa bắt đầu", "in_progress": "Đang thực hiện", "completed": "Hoàn thành",
                 "draft": "Bản nháp", "published": "Đã ban hành", "closed": "Đã kết thúc"}
Errors = dict[str, str]


# -- helpers shared by the portal's role-gated pages --------------------------------------------
def gate(request: Request, state: AppState, actor: Actor | None, roles: tuple[Role, ...]) -> Actor | Response:
    """The actor when they may open the page; else the way to sign in, or a Vietnamese 403."""
    if actor is None:
        return RedirectResponse(f"/signin?next={quote(request.url.path)}", status_code=303)
    if actor.role not in roles:
        return refuse(request, state, 403, f"This page needs one of the roles: {', '.join(roles)}.",
                      "Không có quyền truy cập", "Trang này không dành cho vai trò của đồng chí.")
    return actor


async def posted(request: Request, state: AppState, actor: Actor | None,
                 roles: tuple[Role, ...]) -> tuple[dict[str, str], Actor] | Response:
    """The fields of a page's form post by an actor of `roles`, or the refusal (CSRF first: 403)."""
    fields = await form_fields(request)
    return checked(request, state, fields, actor, roles)


def checked(request: Request, state: AppState, fields: dict[str, str], actor: Actor | None,
            roles: tuple[Role, ...]) -> tuple[dict[str, str], Actor] | Response:
    """`fields` and the actor when the form's CSRF token is good and the actor has one of `roles`."""
    if not csrf_ok(request, state, fields):
        return bad_csrf(request, state)
    who = gate(request, state, actor, roles)
    return who if isinstance(who, Response) else (fields, who)


def filled(fields: dict[str, str], *names: str) -> dict[str, Any]:
    """The named fields the form filled in (an empty field is left out: the model's default); ids as numbers,
    as the API's strict id fields take them."""
    values = {name: fields[name].strip() for name in names if fields.get(name, "").strip()}
    return {name: int(v) if name.endswith("_id") and v.isascii() and v.isdigit() else v for name, v in values.items()}


def problem_message(exc: Problem) -> str:
    """A Vietnamese sentence for a refused use case."""
    return PROBLEM_MESSAGES.get(exc.status, PROBLEM_MESSAGES[422])


def attempt(state: AppState, model: type[BaseModel] | None, data: dict[str, Any],
            action: Callable[[Session, Any], object]) -> tuple[Errors, int]:
    """Validate `data` as `model` (if any), then run `action(session, body)` in one transaction.

    Returns the Vietnamese errors by field ("form" for the page) and the status to answer with."""
    try:
        body = model.model_validate(data) if model is not None else None
    except ValidationError as exc:
        return {str(e["loc"][0]) if e["loc"] else "form": FIELD_MESSAGES.get(e["type"], "Giá trị chưa hợp lệ.")
                for e in exc.errors()}, 422
    try:
        with state.uow() as session:
            action(session, body)
    except Problem as exc:
        return {"form": problem_message(exc)}, exc.status
    return {}, 200


def shell(actor: Actor) -> dict[str, Any]:
    """The shell's context of an actor's page."""
    return {"user": actor.name, "role": actor.role.value, "kind_labels": KIND_LABELS, "status_labels": STATUS_LABELS}


# -- the board -----------------------------------------------------------------------------------
def pending_updates(session: Session, actor: Actor, plan_id: int) -> list[dict[str, Any]]:
    """The plan's updates waiting for review in the actor's scope: each assignment's latest, if pending."""
    latest = (select(func.max(StatusUpdate.id)).join(Assignment, col(Assignment.id) == col(StatusUpdate.assignment_id))
              .where(Assignment.plan_id == plan_id).group_by(col(StatusUpdate.assignment_id)))
    rows = session.exec(
        select(StatusUpdate, Assignment, Task, Unit)
        .join(Assignment, col(Assignment.id) == col(StatusUpdate.assignment_id))
        .join(Task, col(Task.id) == col(Assignment.task_id)).join(Unit, col(Unit.id) == col(Assignment.unit_id))
        .where(col(StatusUpdate.id).in_(latest), StatusUpdate.review_state == ReviewState.PENDING)
        .order_by(col(StatusUpdate.id))
    ).all()
    scope = scope_unit_ids(session, actor)
    return [{"row": u, "task": t, "unit": n} for u, a, t, n in rows if scope is None or a.unit_id in scope]


def _behind(session: Session, actor: Actor, plan_id: int, today: Any, soon: int) -> list[Any]:
    """The plan's assignments past their deadline or missing a period report (first 200 of each)."""
    out = []
    for due_state in (DueState.OVERDUE, DueState.REPORT_MISSING):
        filters = queries.AssignmentFilter(plan_id=plan_id, due_state=due_state)
        out += queries.list_assignments(session, actor=actor, filters=filters, offset=0, limit=200,
                                        today=today, soon_days=soon)[0]
    return out


def _plan_page(request: Request, state: AppState, actor: Actor, plan_id: int, *, errors: Errors | None = None,
               status_code: int = 200, values: dict[str, str] | None = None) -> Response:
    today, soon = local_date(), state.settings.due_soon_days
    try:
        with state.uow() as session:
            plan = planning.get_plan(session, plan_id)
            context: dict[str, Any] = {
                "plan": plan, "units": queries.completeness(session, actor=actor, plan_id=plan_id, today=today,
                                                             soon_days=soon),
                "behind": _behind(session, actor, plan_id, today, soon),
                "pending": pending_updates(session, actor, plan_id),
                "rounds": [review_rounds.round_view(session, actor=actor, round_=r)
                           for r in review_rounds.list_rounds(session, plan_id=plan_id)],
                "inspections": oversight.list_inspections(session, actor=actor, plan_id=plan_id, unit_id=None,
                                                          offset=0, limit=50)[0],
            }
    except Problem as exc:
        return refuse(request, state, exc.status, exc.detail, "Không xem được kế hoạch", problem_message(exc))
    return page(request, state, "board_plan.html", f"Theo dõi {plan.number}", status_code=status_code,
                **shell(actor), **context, can_write=actor.role in WRITERS, errors=errors or {},
                values=values or {}, today=today.isoformat(),
                unit_options=[(u.unit_id, u.unit_name) for u in context["units"]])


@router.get("/board")
def board(request: Request, state: StateDep, actor: MaybeActorDep) -> Response:
    """The plans to follow."""
    who = gate(request, state, actor, BOARD_ROLES)
    if isinstance(who, Response):
        return who
    with state.uow() as session:
        plans = list(session.exec(select(Plan).order_by(col(Plan.id).desc())).all())
    if who.role != Role.ADMIN:
        plans = [p for p in plans if p.status != "draft"]
    return page(request, state, "board_index.html", "Bảng theo dõi thực hiện", **shell(who), plans=plans)


@router.get("/board/plans/{plan_id}")
def board_plan(plan_id: DbId, request: Request, state: StateDep, actor: MaybeActorDep) -> Response:
    """Per-unit progress, the overdue list, updates waiting for review, rounds and inspections."""
    who = gate(request, state, actor, BOARD_ROLES)
    if isinstance(who, Response):
        return who
    return _plan_page(request, state, who, plan_id)


def _back_or_errors(request: Request, state: AppState, actor: Actor, plan_id: int, errors: Errors, status: int,
                    fields: dict[str, str]) -> Response:
    if not errors:
        return RedirectResponse(f"/board/plans/{plan_id}", status_code=303)
    return _plan_page(request, state, actor, plan_id, errors=errors, status_code=status, values=fields)


@router.post("/board/updates/{update_id}/review")
async def review(update_id: DbId, request: Request, state: StateDep, actor: MaybeActorDep) -> Response:
    """Accept or return a unit's update (a return needs its reason)."""
    got = await posted(request, state, actor, WRITERS)
    if isinstance(got, Response):
        return got
    fields, actor_ = got
    plan_id = int(fields["plan_id"]) if fields.get("plan_id", "").isdigit() else 0
    data = filled(fields, "decision", "reason")
    if data.get("decision") == "returned" and not data.get("reason"):
        errors, status = {f"reason-{update_id}": REASON_REQUIRED}, 422
    else:
        errors, status = attempt(state, UpdateReview, data, lambda s, body: tracking.review_update(
            s, actor=actor_, update_id=update_id, data=body))
    return _back_or_errors(request, state, actor_, plan_id, errors, status, fields)


@router.post("/board/plans/{plan_id}/reviews")
async def open_round(plan_id: DbId, request: Request, state: StateDep, actor: MaybeActorDep) -> Response:
    """Open a review round (sơ kết / tổng kết) on the plan."""
    got = await posted(request, state, actor, WRITERS)
    if isinstance(got, Response):
        return got
    fields, actor_ = got
    errors, status = attempt(state, ReviewRoundCreate, filled(fields, "kind", "title", "period_end", "submit_by"),
                             lambda s, body: review_rounds.open_round(s, actor=actor_, plan_id=plan_id, data=body))
    return _back_or_errors(request, state, actor_, plan_id, {f"round_{k}": v for k, v in errors.items()},
                           status, fields)


@router.post("/board/plans/{plan_id}/inspections")
async def record_inspection(plan_id: DbId, request: Request, state: StateDep, actor: MaybeActorDep) -> Response:
    """Record an inspection or supervision of a unit under the plan."""
    got = await posted(request, state, actor, WRITERS)
    if isinstance(got, Response):
        return got
    fields, actor_ = got
    data = filled(fields, "unit_id", "kind", "inspected_on", "findings", "conclusion") | {"plan_id": plan_id}
    errors, status = attempt(state, InspectionCreate, data,
                             lambda s, body: oversight.record_inspection(s, actor=actor_, data=body))
    return _back_or_errors(request, state, actor_, plan_id, {f"insp_{k}": v for k, v in errors.items()},
                           status, fields)


@router.get("/board/reviews/{round_id}")
def board_round(round_id: DbId, request: Request, state: StateDep, actor: MaybeActorDep) -> Response:
    """A review round: each expected unit's submission (on time, late or missing) with its text."""
    who = gate(request, state, actor, BOARD_ROLES)
    if isinstance(who, Response):
        return who
    try:
        with state.uow() as session:
            round_ = review_rounds.round_view(session, actor=who, round_=review_rounds.get_round(session, round_id))
            texts = {s.unit_id: s for s in review_rounds.list_submissions(session, actor=who, round_id=round_id)}
            plan = planning.get_plan(session, round_.plan_id)
    except Problem as exc:
        return refuse(request, state, exc.status, exc.detail, "Không xem được đợt báo cáo", problem_message(exc))
    return page(request, state, "board_round.html", round_.title, **shell(who), round=round_, texts=texts,
                plan=plan)
