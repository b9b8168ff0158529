"""API tokens: issued once, stored as SHA-256, resolved to the acting official."""

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, select

from services.assignments.domain import Role
from services.assignments.models import ApiToken, Official
from shared.events.base import as_utc, utcnow
from shared.identity.auth import hash_token

__all__ = ["Actor", "hash_token", "new_token", "resolve_token", "store_token"]

TOKEN_PREFIX = "pt_"
LAST_USED_GRANULARITY = timedelta(minutes=1)


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


def resolve_token(session: Session, token: str) -> Official | None:
    """The active official a bearer token belongs to, or None (unknown, revoked or expired)."""
    found = session.exec(
        select(ApiToken, Official).join(Official, Official.id == ApiToken.official_id)  # type: ignore[arg-type]
        .where(ApiToken.token_hash == hash_token(token), ApiToken.revoked_at.is_(None))  # type: ignore[union-attr]
    ).first()
    now = utcnow()
    if found is None:
        return None
    row, official = found
    if (row.expires_at is not None and as_utc(row.expires_at) <= now) or not official.active:
        return None
    last = row.last_used_at
    if last is None or now - as_utc(last) > LAST_USED_GRANULARITY:
        row.last_used_at = now  # at most once a minute: reads should not all become writes
        session.add(row)
    return official

