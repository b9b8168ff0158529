"""Routes for supervision: reviewing updates, inspections, review rounds and the audit trail."""


from fastapi import APIRouter, status

from services.assignments import oversight, review_rounds, tracking
from services.assignments.access import require_role
from services.assignments.api.deps import ActorDep, PageDep, StateDep, page_of
from services.assignments.domain import Role
from services.assignments.models import AuditEntry
from services.assignments.schemas import (
    AuditPublic,
    InspectionCreate,
    InspectionPublic,
    Page,
    ReviewRoundPublic,
    StatusUpdatePublic,
    SubmissionCreate,
    SubmissionPublic,
    UpdateReview,
)
from shared.validation import DbId, QueryId, QueryText

router = APIRouter(tags=["oversight"])


@router.post("/updates/{update_id}/review", response_model=StatusUpdatePublic)
def review_update(update_id: DbId, data: UpdateReview, actor: ActorDep, state: StateDep) -> object:
    """Accept or return a unit's latest update (supervisor over the unit); a return needs a reason
    and the unit must report again."""
    with state.uow() as session:
        return tracking.review_update(session, actor=actor, update_id=update_id, data=data)


@router.post("/inspections", status_code=status.HTTP_201_CREATED, response_model=InspectionPublic)
def record_inspection(data: InspectionCreate, actor: ActorDep, state: StateDep) -> object:
    """Record an inspection or supervision of a unit (supervisor of an advisory board, or admin)."""
    with state.uow() as session:
        return oversight.record_inspection(session, actor=actor, data=data)


@router.get("/inspections", response_model=Page[InspectionPublic])
def list_inspections(
    actor: ActorDep, state: StateDep, page: PageDep, plan_id: QueryId = None, unit_id: QueryId = None,
) -> dict:
    """Inspections within the caller's scope, newest first."""
    with state.uow() as session:
        rows, total = oversight.list_inspections(session, actor=actor, plan_id=plan_id, unit_id=unit_id,
                                                 offset=page.offset, limit=page.limit)
        return {"data": rows, "count": total, "offset": page.offset, "limit": page.limit}


@router.get("/reviews/{round_id}")
def get_review(round_id: DbId, actor: ActorDep, state: StateDep) -> ReviewRoundPublic:
    """A review round with each expected unit's submission state (within the caller's scope)."""
    with state.uow() as session:
        round_ = review_rounds.get_round(session, round_id)
        return review_rounds.round_view(session, actor=actor, round_=round_)


@router.post("/reviews/{round_id}/submissions", status_code=status.HTTP_201_CREATED)
def submit_review(round_id: DbId, data: SubmissionCreate, actor: ActorDep, state: StateDep) -> SubmissionPublic:
    """Submit the unit's review report (officer of an expected unit), once per round."""
    with state.uow() as session:
        return review_rounds.submit(session, actor=actor, round_id=round_id, data=data)


@router.get("/reviews/{round_id}/submissions", response_model=list[SubmissionPublic])
def list_submissions(round_id: DbId, actor: ActorDep, state: StateDep) -> object:
    """Submitted reports of a round, within the caller's scope."""
    with state.uow() as session:
        return review_rounds.list_submissions(session, actor=actor, round_id=round_id)


@router.get("/audit", response_model=Page[AuditPublic])
def audit_trail(
    actor: ActorDep, state: StateDep, page: PageDep,
    entity_type: QueryText = None, entity_id: QueryText = None, actor_id: QueryId = None,
    action: QueryText = None, correlation_id: QueryText = None,
) -> dict:
    """The audit trail, newest first (admin). It has no write route: entries are append-only."""
    require_role(actor, Role.ADMIN)
    where = [c for c in (
        AuditEntry.entity_type == entity_type if entity_type else None,
        AuditEntry.entity_id == entity_id if entity_id else None,
        AuditEntry.actor_id == actor_id if actor_id is not None else None,
        AuditEntry.action == action if action else None,
        AuditEntry.correlation_id == correlation_id if correlation_id else None,
    ) if c is not None]
    with state.uow() as session:
        return page_of(session, AuditEntry, where, AuditEntry.id.desc(), page)  # type: ignore[union-attr]


