"""Routes for plans, their tasks and bulk assignment."""

from fastapi import APIRouter, status
from sqlalchemy import func
from sqlmodel import select

from services.assignments import queries, service
from services.assignments.api.deps import ActorDep, PageDep, StateDep
from services.assignments.models import Plan, Task
from services.assignments.schemas import (
    AssignmentCreate,
    AssignmentPublic,
    Page,
    PlanCreate,
    PlanPublic,
    TaskPublic,
)
from shared.events.base import utcnow

router = APIRouter(prefix="/plans", tags=["plans"])


def _plan_public(plan: Plan, tasks: list[Task]) -> PlanPublic:
    return PlanPublic(
        **plan.model_dump(exclude={"created_at"}),
        tasks=[TaskPublic.model_validate(t, from_attributes=True) for t in tasks],
    )


@router.post("", status_code=status.HTTP_201_CREATED)
def create_plan(data: PlanCreate, actor: ActorDep, state: StateDep) -> PlanPublic:
    """Create a plan with its tasks (admin)."""
    with state.uow() as session:
        plan, tasks = service.create_plan(session, actor=actor, data=data)
        return _plan_public(plan, tasks)


@router.get("", response_model=Page[PlanPublic])
def list_plans(actor: ActorDep, state: StateDep, page: PageDep) -> dict:
    """List plans (without their tasks)."""
    with state.uow() as session:
        total = session.scalar(select(func.count()).select_from(Plan)) or 0
        rows = session.exec(select(Plan).order_by(Plan.id).offset(page.offset).limit(page.limit)).all()  # type: ignore[arg-type]
        return {"data": [_plan_public(p, []) for p in rows], "count": total,
                "offset": page.offset, "limit": page.limit}


@router.get("/{plan_id}")
def get_plan(plan_id: int, actor: ActorDep, state: StateDep) -> PlanPublic:
    """One plan with its tasks."""
    with state.uow() as session:
        plan = session.get(Plan, plan_id)
        if plan is None:
            raise service.NotFound("Plan", plan_id)
        tasks = session.exec(select(Task).where(Task.plan_id == plan_id).order_by(Task.id)).all()  # type: ignore[arg-type]
        return _plan_public(plan, list(tasks))


@router.post("/{plan_id}/assignments", status_code=status.HTTP_201_CREATED)
def assign_task(plan_id: int, data: AssignmentCreate, actor: ActorDep, state: StateDep) -> list[AssignmentPublic]:
    """Assign a task of the plan to one or many units at once (admin)."""
    today = utcnow().date()
    soon = state.settings.due_soon_days
    with state.uow() as session:
        created = service.assign(session, actor=actor, plan_id=plan_id, data=data)
        return [queries.assignment_view(session, a, today, soon) for a in created]
