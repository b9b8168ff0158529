"""Use cases for the directory: units, officials and their API tokens."""

from sqlmodel import Session, select

from services.assignments import audit
from services.assignments.access import require_role
from services.assignments.auth import Actor, hash_token, store_token
from services.assignments.domain import Role
from services.assignments.errors import Conflict, Invalid, NotFound
from services.assignments.models import ApiToken, Official, Unit
from services.assignments.schemas import OfficialCreate, OfficialUpdate, UnitCreate
from shared.events import OfficialCreatedV1, OfficialPayload, OfficialUpdatedV1, UnitCreatedV1, UnitPayload
from shared.events.base import utcnow


def unit_payload(unit: Unit) -> UnitPayload:
    """Event payload for a unit."""
    return UnitPayload.model_validate(unit, from_attributes=True)


def official_payload(official: Official) -> OfficialPayload:
    """Event payload for an official."""
    return OfficialPayload.model_validate(official, from_attributes=True)


def _cid(actor: Actor | None) -> str:
    return actor.correlation_id if actor else ""


def create_unit(session: Session, *, actor: Actor, data: UnitCreate) -> Unit:
    """Create a unit under an existing parent (admin)."""
    require_role(actor, Role.ADMIN)
    if data.parent_id is not None and session.get(Unit, data.parent_id) is None:
        raise NotFound("Parent unit", data.parent_id)
    if session.exec(select(Unit).where(Unit.code == data.code)).first() is not None:
        raise Conflict(f"A unit with code '{data.code}' already exists.")
    unit = Unit(**data.model_dump())
    session.add(unit)
    session.flush()
    audit.record(session, actor, action="unit.create", entity_type="unit", entity_id=unit.id,
                 changes=data.model_dump(),
                 event=UnitCreatedV1(correlation_id=_cid(actor), payload=unit_payload(unit)))
    return unit


def _check_unit_for_role(session: Session, role: Role, unit_id: int | None) -> None:
    if unit_id is not None and session.get(Unit, unit_id) is None:
        raise NotFound("Unit", unit_id)
    if role != Role.ADMIN and unit_id is None:
        raise Invalid(f"An official with role '{role}' belongs to a unit (unit_id).")


def create_official(session: Session, *, actor: Actor | None, data: OfficialCreate) -> Official:
    """Create an official (admin; actor None only for the bootstrap admin)."""
    if actor is not None:
        require_role(actor, Role.ADMIN)
    _check_unit_for_role(session, data.role, data.unit_id)
    email = str(data.email).lower()
    if session.exec(select(Official).where(Official.email == email)).first() is not None:
        raise Conflict(f"An official with email {email} already exists.")
    official = Official(**data.model_dump(exclude={"email"}), email=email)
    session.add(official)
    session.flush()
    audit.record(session, actor, action="official.create", entity_type="official", entity_id=official.id,
                 changes={**data.model_dump(exclude={"email"}), "email": email},
                 event=OfficialCreatedV1(correlation_id=_cid(actor), payload=official_payload(official)))
    return official


def update_official(session: Session, *, actor: Actor, official_id: int, data: OfficialUpdate) -> Official:
    """Change an official's name, title, role, unit or active flag (admin)."""
    require_role(actor, Role.ADMIN)
    official = session.get(Official, official_id)
    if official is None:
        raise NotFound("Official", official_id)
    changes = data.model_dump(exclude_unset=True)
    if official_id == actor.official_id and (changes.get("active") is False or
                                             changes.get("role", Role.ADMIN) != Role.ADMIN):
        raise Conflict("An admin cannot deactivate or demote themself.")
    before = {k: getattr(official, k) for k in changes}
    for key, value in changes.items():
        setattr(official, key, value)
    _check_unit_for_role(session, Role(official.role), official.unit_id)
    session.add(official)
    session.flush()
    audit.record(session, actor, action="official.update", entity_type="official", entity_id=official_id,
                 changes={"before": before, "after": changes},
                 event=OfficialUpdatedV1(correlation_id=actor.correlation_id, payload=official_payload(official)))
    return official


def issue_token(session: Session, *, actor: Actor | None, official_id: int, token: str, name: str) -> ApiToken:
    """Store a new token for an official (admin, or the CLI with actor None)."""
    if actor is not None:
        require_role(actor, Role.ADMIN)
    official = session.get(Official, official_id)
    if official is None:
        raise NotFound("Official", official_id)
    if not official.active:
        raise Conflict(f"Official {official_id} is inactive; activate them before issuing a token.")
    row = store_token(session, official_id=official_id, token=token, name=name)
    audit.record(session, actor, action="token.create", entity_type="api_token", entity_id=row.id,
                 changes={"official_id": official_id, "name": name, "prefix": row.prefix})
    return row


def revoke_token(session: Session, *, actor: Actor, official_id: int, token_id: int) -> ApiToken:
    """Revoke a token (admin); revoking twice is harmless."""
    require_role(actor, Role.ADMIN)
    row = session.get(ApiToken, token_id)
    if row is None or row.official_id != official_id:
        raise NotFound("Token", token_id)
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        session.add(row)
        audit.record(session, actor, action="token.revoke", entity_type="api_token", entity_id=token_id,
                     changes={"official_id": official_id})
    return row


def ensure_bootstrap_admin(session: Session, token: str) -> None:
    """Install the environment's admin token on first start."""
    if not token:
        return
    if session.exec(select(ApiToken).where(ApiToken.token_hash == hash_token(token))).first():
        return
    admin = session.exec(
        select(Official).where(Official.role == Role.ADMIN, Official.active).order_by(Official.id)  # type: ignore[arg-type]
    ).first()
    if admin is None:
        admin = create_official(
            session, actor=None,
            data=OfficialCreate(name="Quản trị hệ thống", email="admin@plantrack.example.org",
                                title="Quản trị", role=Role.ADMIN),
        )
    assert admin.id is not None
    issue_token(session, actor=None, official_id=admin.id, token=token, name="bootstrap")
