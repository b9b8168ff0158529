"""Routes for units, officials and their API tokens."""


from fastapi import APIRouter, status
from sqlmodel import select

from services.assignments import directory, signin
from services.assignments.access import require_role, scope_unit_ids
from services.assignments.api.deps import ActorDep, PageDep, StateDep, page_of
from services.assignments.auth import new_token
from services.assignments.domain import Role, UnitKind
from services.assignments.errors import NotFound
from services.assignments.models import ApiToken, Official, Unit
from services.assignments.schemas import (
    OfficialCreate,
    OfficialPublic,
    OfficialUpdate,
    Page,
    SessionsEnded,
    TokenCreate,
    TokenIssued,
    TokenPublic,
    UnitCreate,
    UnitPublic,
    UnitUpdate,
)
from shared.validation import DbId, QueryId

router = APIRouter(tags=["directory"])


@router.post("/units", status_code=status.HTTP_201_CREATED, response_model=UnitPublic)
def create_unit(data: UnitCreate, actor: ActorDep, state: StateDep) -> Unit:
    """Create a unit (admin)."""
    with state.uow() as session:
        return directory.create_unit(session, actor=actor, data=data)


@router.get("/units", response_model=Page[UnitPublic])
def list_units(
    actor: ActorDep, state: StateDep, page: PageDep,
    kind: UnitKind | None = None, parent_id: QueryId = None,
) -> dict:
    """List units (the organisation tree is visible to every official)."""
    where = [c for c in (Unit.kind == kind if kind else None,
                         Unit.parent_id == parent_id if parent_id is not None else None) if c is not None]
    with state.uow() as session:
        return page_of(session, Unit, where, Unit.id, page)


@router.get("/units/{unit_id}", response_model=UnitPublic)
def get_unit(unit_id: DbId, actor: ActorDep, state: StateDep) -> Unit:
    """One unit."""
    with state.uow() as session:
        unit = session.get(Unit, unit_id)
        if unit is None:
            raise NotFound("Unit", unit_id)
        return unit


@router.patch("/units/{unit_id}", response_model=UnitPublic)
def update_unit(unit_id: DbId, data: UnitUpdate, actor: ActorDep, state: StateDep) -> Unit:
    """Rename a unit or change its mailbox (admin); send `"email": ""` to remove the mailbox."""
    with state.uow() as session:
        return directory.update_unit(session, actor=actor, unit_id=unit_id, data=data)


@router.post("/officials", status_code=status.HTTP_201_CREATED, response_model=OfficialPublic)
def create_official(data: OfficialCreate, actor: ActorDep, state: StateDep) -> Official:
    """Create an official (admin)."""
    with state.uow() as session:
        return directory.create_official(session, actor=actor, data=data)


@router.get("/officials", response_model=Page[OfficialPublic])
def list_officials(
    actor: ActorDep, state: StateDep, page: PageDep, unit_id: QueryId = None,
) -> dict:
    """Officials of the units in the caller's scope (all of them for an admin)."""
    with state.uow() as session:
        scope = scope_unit_ids(session, actor)
        where = []
        if scope is not None:
            where.append(Official.unit_id.in_(scope))  # type: ignore[union-attr]
        if unit_id is not None:
            where.append(Official.unit_id == unit_id)
        return page_of(session, Official, where, Official.id, page)


@router.get("/officials/{official_id}", response_model=OfficialPublic)
def get_official(official_id: DbId, actor: ActorDep, state: StateDep) -> Official:
    """One official, if in the caller's scope."""
    with state.uow() as session:
        official = session.get(Official, official_id)
        scope = scope_unit_ids(session, actor)
        if official is None or (scope is not None and official.unit_id not in scope
                                and official.id != actor.official_id):
            raise NotFound("Official", official_id)
        return official


@router.patch("/officials/{official_id}", response_model=OfficialPublic)
def update_official(official_id: DbId, data: OfficialUpdate, actor: ActorDep, state: StateDep) -> Official:
    """Change an official's name, title, role, unit or active flag (admin)."""
    with state.uow() as session:
        return directory.update_official(session, actor=actor, official_id=official_id, data=data)


@router.get("/me", response_model=OfficialPublic)
def whoami(actor: ActorDep, state: StateDep) -> Official:
    """The official the token belongs to."""
    with state.uow() as session:
        official = session.get(Official, actor.official_id)
        assert official is not None
        return official


@router.post("/officials/{official_id}/tokens", status_code=status.HTTP_201_CREATED)
def create_token(official_id: DbId, data: TokenCreate, actor: ActorDep, state: StateDep) -> TokenIssued:
    """Issue an API token for an official (admin); the token is shown only in this response."""
    token = new_token()
    with state.uow() as session:
        row = directory.issue_token(session, actor=actor, official_id=official_id, token=token, name=data.name,
                                    expires_at=data.expires_at)
        return TokenIssued(id=row.id or 0, official_id=official_id, name=row.name, token=token,
                           expires_at=row.expires_at)


@router.get("/officials/{official_id}/tokens", response_model=list[TokenPublic])
def list_tokens(official_id: DbId, actor: ActorDep, state: StateDep) -> list[ApiToken]:
    """An official's tokens, without their secrets (admin)."""
    require_role(actor, Role.ADMIN)
    with state.uow() as session:
        return list(session.exec(select(ApiToken).where(ApiToken.official_id == official_id)
                                 .order_by(ApiToken.id)).all())  # type: ignore[arg-type]


@router.delete("/officials/{official_id}/tokens/{token_id}", response_model=TokenPublic)
def revoke_token(official_id: DbId, token_id: DbId, actor: ActorDep, state: StateDep) -> ApiToken:
    """Revoke a token (admin)."""
    with state.uow() as session:
        return directory.revoke_token(session, actor=actor, official_id=official_id, token_id=token_id)


@router.delete("/officials/{official_id}/sessions", response_model=SessionsEnded)
def end_sessions(official_id: DbId, actor: ActorDep, state: StateDep) -> SessionsEnded:
    """End every browser session of an official, on every service (admin)."""
    with state.uow() as session:
        return SessionsEnded(ended=signin.end_official_sessions(session, actor=actor, official_id=official_id,
                                                                now=state.now()))
