"""API tokens: issued once, stored as SHA-256, resolved to the acting official."""

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Table, bindparam, select, update
from sqlmodel import Session, col

from services.assignments.domain import Role
from services.assignments.models import ApiToken, Official
from shared.events.base import as_utc, utcnow
from shared.identity.auth import hash_token

__all__ = ["Actor", "hash_token", "new_token", "resolve_actor", "resolve_token", "store_token"]

TOKEN_PREFIX = "pt_"
LAST_USED_GRANULARITY = timedelta(minutes=1)
TOKENS: Table = ApiToken.__table__  # type: ignore[attr-defined]
# built once, so each request only binds its values
_BY_TOKEN = (
    select(col(ApiToken.id), col(ApiToken.expires_at), col(ApiToken.last_used_at), col(Official.id),
           col(Official.name), col(Official.role), col(Official.unit_id), col(Official.active))
    .join(Official, col(Official.id) == col(ApiToken.official_id))
    .where(col(ApiToken.token_hash) == bindparam("token_hash"), col(ApiToken.revoked_at).is_(None))
)
_USED = update(TOKENS).where(TOKENS.c.id == bindparam("token_id")).values(last_used_at=bindparam("now"))


@dataclass(frozen=True)
class Actor:
    """Who is calling, and the request's correlation id."""

    official_id: int
    name: str
    role: Role
    unit_id: int | None
    correlation_id: str = ""

    @classmethod
    def of(cls, official: Official, correlation_id: str = "") -> "Actor":
        """The actor for an official row."""
        assert official.id is not None
        return cls(official.id, official.name, Role(official.role), official.unit_id, correlation_id)


def new_token() -> str:
    """A fresh random bearer token."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def store_token(
    session: Session, *, official_id: int, token: str, name: str = "", expires_at: datetime | None = None,
    bootstrap: bool = False,
) -> ApiToken:
    """Record the hash of `token` for an official."""
    row = ApiToken(official_id=official_id, name=name, token_hash=hash_token(token), prefix=token[:8],
                   expires_at=expires_at, bootstrap=bootstrap)
    session.add(row)
    session.flush()
    return row


def resolve_actor(session: Session, token: str, correlation_id: str = "") -> Actor | None:
    """The actor a bearer token belongs to, or None (unknown, revoked or expired token, inactive
    official); read as columns, with its last use recorded at most once a minute."""
    connection = session.connection()
    found = connection.execute(_BY_TOKEN, {"token_hash": hash_token(token)}).first()
    if found is None:
        return None
    token_id, expires_at, last_used_at, official_id, name, role, unit_id, active = found
    now = utcnow()
    if (expires_at is not None and as_utc(expires_at) <= now) or not active or official_id is None:
        return None
    if last_used_at is None or now - as_utc(last_used_at) > LAST_USED_GRANULARITY:
        # at most once a minute: reads should not all become writes
        connection.execute(_USED, {"token_id": token_id, "now": now})
    return Actor(official_id, name, Role(role), unit_id, correlation_id)


def resolve_token(session: Session, token: str) -> Official | None:
    """The active official a bearer token belongs to, or None (unknown, revoked or expired)."""
    actor = resolve_actor(session, token)
    return session.get(Official, actor.official_id) if actor is not None else None
