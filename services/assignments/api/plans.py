"""Routes for plans: creation, import, lifecycle, bulk assignment, unit plans, review rounds."""

from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response, status
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from services.assignments import oversight, planning, queries, review_rounds
from services.assignments.access import require_role
from services.assignments.api.deps import ActorDep, AppState, PageDep, StateDep, page_of, parse_if_match
from services.assignments.auth import Actor
from services.assignments.domain import PlanStatus, Role
from services.assignments.errors import Invalid
from services.assignments.models import Plan, Task
from services.assignments.plan_documents import DOCX_TYPE, UnreadableDocument, document_text
from services.assignments.plan_import import ParseTimeout, time_limit
from services.assignments.schemas import (
    AssignmentCreate,
    AssignmentPublic,
    Page,
    PlanCreate,
    PlanImportResult,
    PlanPublic,
    PlanUpdate,
    ReviewRoundCreate,
    ReviewRoundPublic,
    TaskCreate,
    TaskPublic,
    TaskUpdate,
    UnitCompleteness,
    UnitPlanCreate,
    UnitPlanPublic,
)
from shared.problems import Problem
from shared.validation import DbId
from shared.vietnamese import local_date

router = APIRouter(prefix="/plans", tags=["plans"])

IMPORT_EXAMPLE = "ĐẢNG BỘ TỈNH TRÀ VINH\nĐẢNG ỦY KHỐI CÁC CƠ QUAN\n...\nSố 41 -KH/ĐUK\n..."


def _plan_public(plan: Plan, tasks: list[Task]) -> PlanPublic:
    return PlanPublic(
        **plan.model_dump(exclude={"created_at"}),
        tasks=[TaskPublic.model_validate(t, from_attributes=True) for t in tasks],
    )


@router.post("", status_code=status.HTTP_201_CREATED)
def create_plan(data: PlanCreate, actor: ActorDep, state: StateDep) -> PlanPublic:
    """Create a draft plan with its tasks (admin)."""
    with state.uow() as session:
        plan, tasks = planning.create_plan(session, actor=actor, data=data)
        return _plan_public(plan, tasks)


async def _read_document(request: Request, limit: int) -> bytes:
    """The request body, or 413 as soon as it passes `limit` bytes."""
    too_large = Problem(413, f"The document is larger than the limit of {limit} bytes.")
    length = request.headers.get("content-length", "")
    if length.isascii() and length.isdigit() and int(length) > limit:
        raise too_large
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


def _import_document(state: AppState, actor: Actor, document: bytes, content_type: str | None = None,
                     filename: str | None = None) -> PlanImportResult:
    """Read, parse and match a document within the import time limit (in a worker thread: it is CPU-bound)."""
    seconds = state.settings.import_timeout_seconds
    try:
        with time_limit(seconds):
            text = document_text(document, content_type=content_type, filename=filename)
            with state.uow() as session:
                return planning.import_plan(session, actor=actor, text=text)
    except ParseTimeout as exc:
        raise Invalid(f"Reading the document took longer than {seconds:g} seconds: split it into smaller "
                      "documents, or leave out what is not part of the plan.") from exc
    except ValidationError as exc:  # e.g. more tasks than a plan holds; over-long texts are cut instead
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error["loc"]) or "plan"
        raise Invalid(f"The document does not fit in a plan: {where}: {error['msg']}.") from exc


IMPORT_TYPES = ("text/plain", DOCX_TYPE, "application/pdf", "application/octet-stream")
BINARY_BODY = {"schema": {"type": "string", "format": "binary"}}


@router.post("/import", openapi_extra={"requestBody": {"required": True, "content": {
    "text/plain": {"example": IMPORT_EXAMPLE}, DOCX_TYPE: BINARY_BODY, "application/pdf": BINARY_BODY,
    "application/octet-stream": BINARY_BODY,
}}})
async def import_plan(request: Request, actor: ActorDep, state: StateDep) -> PlanImportResult:
    """Read a plan document into a draft to review (admin); saves nothing.

    Send the document as `text/plain` (UTF-8, UTF-16, Windows-1258, or text typed for the TCVN3 or VNI
    fonts; a `charset` parameter is honoured), as a Word file (`.docx`), as a PDF with a text layer, or
    as `application/octet-stream` to have its format recognised; other types are refused with 415. An
    old Word file (`.doc`), a scanned PDF or any other file without readable text is refused with 422.
    The answer holds a `plan` body ready for `POST /plans`, the assignments the document's responsible
    clauses suggest, and warnings for what was not found (texts longer than a plan allows are cut, with
    a warning). A document over `import_max_bytes` is refused with 413; one that takes longer than
    `import_timeout_seconds` to read, or that holds more tasks than a plan, with 422. Reading runs in a
    worker thread: the service keeps answering.
    """
    require_role(actor, Role.ADMIN)
    content_type = request.headers.get("content-type")
    media = (content_type or "").partition(";")[0].strip().lower()
    if media and media not in IMPORT_TYPES:
        raise Problem(415, f"A plan document is sent as one of: {', '.join(IMPORT_TYPES)}; not {media}.")
    raw = await _read_document(request, state.settings.import_max_bytes)
    try:
        return await run_in_threadpool(_import_document, state, actor, raw, content_type)
    except UnreadableDocument as exc:
        raise Invalid(str(exc)) from exc


@router.get("", response_model=Page[PlanPublic])
def list_plans(
    actor: ActorDep, state: StateDep, page: PageDep,
    status_: Annotated[PlanStatus | None, Query(alias="status")] = None,
) -> dict:
    """List plans (without their tasks), optionally by status."""
    where = [Plan.status == status_] if status_ else []
    with state.uow() as session:
        listing = page_of(session, Plan, where, Plan.id, page)
        return listing | {"data": [_plan_public(p, []) for p in listing["data"]]}


@router.get("/{plan_id:id}")  # ":id": "/plans/import" is no plan id (shared.validation)
def get_plan(plan_id: DbId, actor: ActorDep, state: StateDep, response: Response) -> PlanPublic:
    """One plan with its tasks; its ETag is the version to send back in If-Match when editing a draft."""
    with state.uow() as session:
        plan = planning.get_plan(session, plan_id)
        response.headers["ETag"] = f'"{plan.version}"'
        return _plan_public(plan, planning.plan_tasks(session, plan_id))


@router.patch("/{plan_id:id}")
def update_plan(
    plan_id: DbId, data: PlanUpdate, actor: ActorDep, state: StateDep, response: Response,
    if_match: Annotated[str | None, Header()] = None,
) -> PlanPublic:
    """Correct a draft plan's identity (admin); 409 once published, 412 on a stale If-Match."""
    with state.uow() as session:
        plan, tasks = planning.update_plan(session, actor=actor, plan_id=plan_id, data=data,
                                           if_match=parse_if_match(if_match))
        response.headers["ETag"] = f'"{plan.version}"'
        return _plan_public(plan, tasks)


@router.post("/{plan_id}/tasks", status_code=status.HTTP_201_CREATED)
def add_task(
    plan_id: DbId, data: TaskCreate, actor: ActorDep, state: StateDep, response: Response,
    if_match: Annotated[str | None, Header()] = None,
) -> PlanPublic:
    """Add a task to a draft plan (admin); 409 once published or when the code exists."""
    with state.uow() as session:
        plan, tasks = planning.add_task(session, actor=actor, plan_id=plan_id, data=data,
                                        if_match=parse_if_match(if_match))
        response.headers["ETag"] = f'"{plan.version}"'
        return _plan_public(plan, tasks)


@router.patch("/{plan_id}/tasks/{task_id}")
def update_task(
    plan_id: DbId, task_id: DbId, data: TaskUpdate, actor: ActorDep, state: StateDep, response: Response,
    if_match: Annotated[str | None, Header()] = None,
) -> PlanPublic:
    """Correct a task of a draft plan (admin); 409 once published or when the code is taken, 412 on a stale If-Match."""
    with state.uow() as session:
        plan, tasks = planning.update_task(session, actor=actor, plan_id=plan_id, task_id=task_id, data=data,
                                           if_match=parse_if_match(if_match))
        response.headers["ETag"] = f'"{plan.version}"'
        return _plan_public(plan, tasks)


@router.delete("/{plan_id}/tasks/{task_id}")
def remove_task(
    plan_id: DbId, task_id: DbId, actor: ActorDep, state: StateDep, response: Response,
    if_match: Annotated[str | None, Header()] = None,
) -> PlanPublic:
    """Remove a task from a draft plan (admin); 409 once published or while it has sub-tasks or assignments."""
    with state.uow() as session:
        plan, tasks = planning.remove_task(session, actor=actor, plan_id=plan_id, task_id=task_id,
                                           if_match=parse_if_match(if_match))
        response.headers["ETag"] = f'"{plan.version}"'
        return _plan_public(plan, tasks)


@router.post("/{plan_id}/publish")
def publish_plan(plan_id: DbId, actor: ActorDep, state: StateDep) -> PlanPublic:
    """Publish a draft plan: its assignments come into force and units can report (admin)."""
    with state.uow() as session:
        plan = planning.change_plan_status(session, actor=actor, plan_id=plan_id, new=PlanStatus.PUBLISHED)
        return _plan_public(plan, planning.plan_tasks(session, plan_id))


@router.post("/{plan_id}/close")
def close_plan(plan_id: DbId, actor: ActorDep, state: StateDep) -> PlanPublic:
    """Close a published plan: no more reports (admin)."""
    with state.uow() as session:
        plan = planning.change_plan_status(session, actor=actor, plan_id=plan_id, new=PlanStatus.CLOSED)
        return _plan_public(plan, planning.plan_tasks(session, plan_id))


@router.post("/{plan_id}/assignments", status_code=status.HTTP_201_CREATED)
def assign_task(plan_id: DbId, data: AssignmentCreate, actor: ActorDep, state: StateDep) -> list[AssignmentPublic]:
    """Assign a task of the plan to one or many units at once (admin); all or nothing."""
    today = local_date()
    soon = state.settings.due_soon_days
    with state.uow() as session:
        created = planning.assign(session, actor=actor, plan_id=plan_id, data=data)
        return [queries.assignment_view(session, a, today, soon) for a in created]


@router.post("/{plan_id}/unit-plans", status_code=status.HTTP_201_CREATED, response_model=UnitPlanPublic)
def register_unit_plan(plan_id: DbId, data: UnitPlanCreate, actor: ActorDep, state: StateDep) -> object:
    """Register the unit's own implementing document for this plan (officer of the unit)."""
    with state.uow() as session:
        return oversight.register_unit_plan(session, actor=actor, plan_id=plan_id, data=data)


@router.get("/{plan_id}/unit-plans", response_model=list[UnitPlanPublic])
def list_unit_plans(plan_id: DbId, actor: ActorDep, state: StateDep) -> object:
    """Registered unit plans, within the caller's scope."""
    with state.uow() as session:
        return oversight.list_unit_plans(session, actor=actor, plan_id=plan_id)


@router.get("/{plan_id}/completeness", response_model=list[UnitCompleteness])
def completeness(plan_id: DbId, actor: ActorDep, state: StateDep) -> object:
    """Per assigned unit: assignments done and overdue, and whether its own plan is registered."""
    with state.uow() as session:
        planning.get_plan(session, plan_id)
        return queries.completeness(session, actor=actor, plan_id=plan_id, today=local_date(),
                                    soon_days=state.settings.due_soon_days)


@router.post("/{plan_id}/reviews", status_code=status.HTTP_201_CREATED)
def open_review(plan_id: DbId, data: ReviewRoundCreate, actor: ActorDep, state: StateDep) -> ReviewRoundPublic:
    """Open a review round (sơ kết / tổng kết); every assigned unit is expected to report."""
    with state.uow() as session:
        round_ = review_rounds.open_round(session, actor=actor, plan_id=plan_id, data=data)
        return review_rounds.round_view(session, actor=actor, round_=round_)


@router.get("/{plan_id}/reviews", response_model=list[ReviewRoundPublic])
def list_reviews(plan_id: DbId, actor: ActorDep, state: StateDep) -> object:
    """Review rounds of the plan with completeness and timeliness."""
    with state.uow() as session:
        return [review_rounds.round_view(session, actor=actor, round_=r)
                for r in review_rounds.list_rounds(session, plan_id=plan_id)]


