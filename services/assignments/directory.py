"""Use cases for the directory: units, officials and their API tokens."""

from datetime import datetime

from sqlmodel import Session, select

from services.assignments import audit, signin
from services.assignments.access import require_role
from services.assignments.auth import Actor, hash_token, store_token
from services.assignments.domain import Role
from services.assignments.errors import Conflict, Invalid, NotFound
from services.assignments.models import ApiToken, Official, Unit
from services.assignments.schemas import OfficialCreate, OfficialUpdate, UnitCreate, UnitUpdate
from shared.events import (
    ApiTokenIssuedV1,
    ApiTokenPayload,
    ApiTokenRevokedV1,
    OfficialCreatedV1,
    OfficialPayload,
    OfficialUpdatedV1,
    UnitCreatedV1,
    UnitPayload,
    UnitUpdatedV1,
)
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
    values = data.model_dump() | {"email": _mailbox(data.email)}
    unit = Unit(**values)
    session.add(unit)
    session.flush()
    audit.record(session, actor, action="unit.create", entity_type="unit", entity_id=unit.id, changes=values,
                 event=UnitCreatedV1(correlation_id=_cid(actor), payload=unit_payload(unit)))
    return unit


def _mailbox(email: str | None) -> str | None:
    """A unit's mailbox as stored: lower case, and None for none ("" clears it)."""
    return str(email).lower() if email else None


def update_unit(session: Session, *, actor: Actor, unit_id: int, data: UnitUpdate) -> Unit:
    """Rename a unit or change its mailbox (admin)."""
    require_role(actor, Role.ADMIN)
    unit = session.get(Unit, unit_id)
    if unit is None:
        raise NotFound("Unit", unit_id)
    changes = data.model_dump(exclude_unset=True)
    if "email" in changes:
        changes["email"] = _mailbox(changes["email"])
    before = {k: getattr(unit, k) for k in changes}
    for key, value in changes.items():
        setattr(unit, key, value)
    session.add(unit)
    session.flush()
    audit.record(session, actor, action="unit.update", entity_type="unit", entity_id=unit_id,
                 changes={"before": before, "after": changes},
                 event=UnitUpdatedV1(correlation_id=actor.correlation_id, payload=unit_payload(unit)))
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
    # checked before the row changes: a lookup would autoflush an unknown unit id into a foreign-key error
    _check_unit_for_role(session, Role(changes.get("role", official.role)), changes.get("unit_id", official.unit_id))
    for key, value in changes.items():
        setattr(official, key, value)
    session.add(official)
    session.flush()
    audit.record(session, actor, action="official.update", entity_type="official", entity_id=official_id,
                 changes={"before": before, "after": changes},
                 event=OfficialUpdatedV1(correlation_id=actor.correlation_id, payload=official_payload(official)))
    if changes.get("active") is False:
        signin.end_sessions(session, official_id=official_id, now=utcnow(), actor=actor, reason="deactivated")
    return official


def token_payload(row: ApiToken) -> ApiTokenPayload:
    """Event payload for a token: its hash and validity, never the token."""
    return ApiTokenPayload.model_validate(row, from_attributes=True)


def issue_token(
    session: Session, *, actor: Actor | None, official_id: int, token: str, name: str,
    expires_at: datetime | None = None, bootstrap: bool = False,
) -> ApiToken:
    """Store a new token for an official (admin, or the CLI and start-up with actor None)."""
    if actor is not None:
        require_role(actor, Role.ADMIN)
    official = session.get(Official, official_id)
    if official is None:
        raise NotFound("Official", official_id)
    if not official.active:
        raise Conflict(f"Official {official_id} is inactive; activate them before issuing a token.")
    if expires_at is not None and expires_at <= utcnow():
        raise Invalid("expires_at must be in the future.")
    row = store_token(session, official_id=official_id, token=token, name=name, expires_at=expires_at,
                      bootstrap=bootstrap)
    audit.record(session, actor, action="token.create", entity_type="api_token", entity_id=row.id,
                 changes={"official_id": official_id, "name": name, "prefix": row.prefix, "expires_at": expires_at},
                 event=ApiTokenIssuedV1(correlation_id=_cid(actor), payload=token_payload(row)))
    return row


def _revoke(session: Session, actor: Actor | None, row: ApiToken) -> None:
    row.revoked_at = utcnow()
    session.add(row)
    session.flush()
    audit.record(session, actor, action="token.revoke", entity_type="api_token", entity_id=row.id,
                 changes={"official_id": row.official_id, "bootstrap": row.bootstrap},
                 event=ApiTokenRevokedV1(correlation_id=_cid(actor), payload=token_payload(row)))


def revoke_token(session: Session, *, actor: Actor, official_id: int, token_id: int) -> ApiToken:
    """Revoke a token (admin); revoking twice is harmless."""
    require_role(actor, Role.ADMIN)
    row = session.get(ApiToken, token_id)
    if row is None or row.official_id != official_id:
        raise NotFound("Token", token_id)
    if row.revoked_at is None:
        _revoke(session, actor, row)
    return row


def ensure_bootstrap_admin(session: Session, token: str) -> None:
    """Make the environment's admin token the one bootstrap token: a changed token replaces the old
    one and an unset variable revokes it, so no stale bootstrap token stays valid."""
    wanted = hash_token(token) if token else None
    current = session.exec(
        select(ApiToken).where(ApiToken.bootstrap, ApiToken.revoked_at.is_(None))  # type: ignore[arg-type,union-attr]
    ).all()
    for row in current:
        if row.token_hash != wanted:
            _revoke(session, None, row)
    if wanted is None or any(row.token_hash == wanted for row in current):
        return
    existing = session.exec(select(ApiToken).where(ApiToken.token_hash == wanted)).first()
    if existing is not None:
        return  # the variable names a token issued otherwise (or revoked): it is not made a bootstrap token
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
    issue_token(session, actor=None, official_id=admin.id, token=token, name="bootstrap", bootstrap=True)
