"""Routes for units, officials and their API tokens."""

from fastapi import APIRouter, status
from sqlalchemy import func
from sqlmodel import select

from services.assignments import service
from services.assignments.api.deps import ActorDep, PageDep, StateDep
from services.assignments.auth import new_token
from services.assignments.models import Official, Unit
from services.assignments.schemas import (
    OfficialCreate,
    OfficialPublic,
    Page,
    TokenCreate,
    TokenIssued,
    UnitCreate,
    UnitPublic,
)

router = APIRouter(tags=["directory"])


@router.post("/units", status_code=status.HTTP_201_CREATED, response_model=UnitPublic)
def create_unit(data: UnitCreate, actor: ActorDep, state: StateDep) -> Unit:
    """Create a unit (admin)."""
    with state.uow() as session:
        return service.create_unit(session, actor=actor, data=data)


@router.get("/units", response_model=Page[UnitPublic])
def list_units(actor: ActorDep, state: StateDep, page: PageDep) -> dict:
    """List units."""
    with state.uow() as session:
        total = session.scalar(select(func.count()).select_from(Unit)) or 0
        rows = session.exec(select(Unit).order_by(Unit.id).offset(page.offset).limit(page.limit)).all()  # type: ignore[arg-type]
        return {"data": rows, "count": total, "offset": page.offset, "limit": page.limit}


@router.get("/units/{unit_id}", response_model=UnitPublic)
def get_unit(unit_id: int, actor: ActorDep, state: StateDep) -> Unit:
    """One unit."""
    with state.uow() as session:
        unit = session.get(Unit, unit_id)
        if unit is None:
            raise service.NotFound("Unit", unit_id)
        return unit


@router.post("/officials", status_code=status.HTTP_201_CREATED, response_model=OfficialPublic)
def create_official(data: OfficialCreate, actor: ActorDep, state: StateDep) -> Official:
    """Create an official (admin)."""
    with state.uow() as session:
        return service.create_official(session, actor=actor, data=data)


@router.get("/officials", response_model=Page[OfficialPublic])
def list_officials(actor: ActorDep, state: StateDep, page: PageDep) -> dict:
    """List officials."""
    with state.uow() as session:
        total = session.scalar(select(func.count()).select_from(Official)) or 0
        rows = session.exec(
            select(Official).order_by(Official.id).offset(page.offset).limit(page.limit)  # type: ignore[arg-type]
        ).all()
        return {"data": rows, "count": total, "offset": page.offset, "limit": page.limit}


@router.get("/me", response_model=OfficialPublic)
def whoami(actor: ActorDep, state: StateDep) -> Official:
    """The official the token belongs to."""
    with state.uow() as session:
        official = session.get(Official, actor.official_id)
        assert official is not None
        return official


@router.post("/officials/{official_id}/tokens", status_code=status.HTTP_201_CREATED)
def create_token(official_id: int, data: TokenCreate, actor: ActorDep, state: StateDep) -> TokenIssued:
    """Issue an API token for an official (admin); the token is shown only in this response."""
    token = new_token()
    with state.uow() as session:
        row = service.issue_token(session, actor=actor, official_id=official_id, token=token, name=data.name)
        return TokenIssued(id=row.id or 0, official_id=official_id, name=row.name, token=token)
