"""Routes for assignments and their status updates."""

from typing import Annotated

from fastapi import APIRouter, Header, Query, Response, status
from sqlmodel import Session, select
from starlette.concurrency import run_in_threadpool

from services.assignments import queries, tracking
from services.assignments.api.deps import ActingDep, ActorDep, PageDep, StateDep, parse_if_match
from services.assignments.domain import DueState, Status
from services.assignments.models import StatusUpdate
from services.assignments.schemas import AssignmentPublic, Page, StatusUpdateCreate, StatusUpdatePublic
from shared.validation import DbId, QueryId
from shared.vietnamese import local_date

router = APIRouter(prefix="/assignments", tags=["assignments"])


@router.get("", response_model=Page[AssignmentPublic])
def list_assignments(
    actor: ActorDep, state: StateDep, page: PageDep,
    plan_id: QueryId = None, unit_id: QueryId = None,
    status_: Annotated[Status | None, Query(alias="status")] = None,
    due_state: DueState | None = None,
) -> dict:
    """Assignments visible to the caller, filtered by plan, unit, status or due state."""
    filters = queries.AssignmentFilter(plan_id, unit_id, status_, due_state)
    with state.uow() as session:
        rows, total = queries.list_assignments(
            session, actor=actor, filters=filters, offset=page.offset, limit=page.limit,
            today=local_date(), soon_days=state.settings.due_soon_days,
        )
        return {"data": rows, "count": total, "offset": page.offset, "limit": page.limit}


@router.get("/{assignment_id}")
def get_assignment(assignment_id: DbId, actor: ActorDep, state: StateDep, response: Response) -> AssignmentPublic:
    """One assignment; its ETag is the version to send back in If-Match."""
    with state.uow() as session:
        a = tracking.visible_assignment(session, actor=actor, assignment_id=assignment_id)
        response.headers["ETag"] = f'"{a.version}"'
        return queries.assignment_view(session, a, local_date(), state.settings.due_soon_days)


@router.post("/{assignment_id}/updates", status_code=status.HTTP_201_CREATED, response_model=StatusUpdatePublic)
async def post_update(
    assignment_id: DbId, data: StatusUpdateCreate, acting: ActingDep,
    if_match: Annotated[str | None, Header()] = None,
) -> Response:
    """Report status and progress (officer of the assigned unit); 409 on an illegal transition or a
    plan not published, 412 when If-Match names an old version."""
    def report(session: Session) -> StatusUpdatePublic:
        return tracking.post_update(session, actor=acting.actor, assignment_id=assignment_id, data=data,
                                    if_match=parse_if_match(if_match))

    row = await run_in_threadpool(acting.run, report)  # the actor's transaction: one session, one hop
    return Response(row.model_dump_json(), status_code=status.HTTP_201_CREATED, media_type="application/json",
                    headers={"ETag": f'"{row.assignment_version}"'})


@router.get("/{assignment_id}/updates", response_model=Page[StatusUpdatePublic])
def list_updates(assignment_id: DbId, actor: ActorDep, state: StateDep, page: PageDep) -> dict:
    """The history of updates of an assignment, oldest first."""
    with state.uow() as session:
        tracking.visible_assignment(session, actor=actor, assignment_id=assignment_id)
        rows = session.exec(
            select(StatusUpdate).where(StatusUpdate.assignment_id == assignment_id)
            .order_by(StatusUpdate.id)  # type: ignore[arg-type]
        ).all()
        return {"data": rows[page.offset: page.offset + page.limit], "count": len(rows),
                "offset": page.offset, "limit": page.limit}
