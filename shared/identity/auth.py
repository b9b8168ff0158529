"""Authenticating a caller (bearer token or browser session) against the identity tables, and its scope."""

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine
from sqlmodel import Session, select
from starlette.exceptions import HTTPException

from shared.events.base import as_utc, utcnow
from shared.identity.cookies import SessionCookies, by_cookie, submitted_csrf
from shared.identity.models import IdentityOfficial, IdentitySession, IdentityToken, IdentityUnit
from shared.identity.scope import visible_units

bearer_scheme = HTTPBearer(
    auto_error=False, scheme_name="bearerToken",
    description="An API token issued by the assignments service (`POST /officials/{id}/tokens`); "
                "the same token works on every plantrack service.",
)


@dataclass(frozen=True)
class Principal:
    """The authenticated caller and the units whose data it may read (None: all)."""

    official_id: int
    role: str
    unit_id: int | None
    scope: frozenset[int] | None

    def can_read(self, unit_id: int | None) -> bool:
        """True when data of `unit_id` is inside the caller's scope."""
        return self.scope is None or unit_id in self.scope


def hash_token(token: str) -> str:
    """The stored form of a token (SHA-256, hex)."""
    return hashlib.sha256(token.encode()).hexdigest()



def authenticate(session: Session, token: str, *, now: datetime | None = None) -> Principal | None:
    """The principal a bearer token stands for: known, not revoked, not expired, of an active official."""
    row = session.exec(select(IdentityToken).where(IdentityToken.token_hash == hash_token(token))).first()
    now = now or utcnow()
    if row is None or row.revoked_at is not None or (row.expires_at is not None and as_utc(row.expires_at) <= now):
        return None
    return _principal(session, row.official_id)


def authenticate_session(session: Session, token: str, *, now: datetime | None = None) -> Principal | None:
    """The principal a browser session stands for: known, not ended, not past its absolute expiry,
    of an active official (the idle timeout is the cookie's)."""
    row = session.exec(select(IdentitySession).where(IdentitySession.session_hash == hash_token(token))).first()
    if row is None or row.ended_at is not None or as_utc(row.expires_at) <= (now or utcnow()):
        return None
    return _principal(session, row.official_id)


def _principal(session: Session, official_id: int) -> Principal | None:
    official = session.get(IdentityOfficial, official_id)
    if official is None or not official.active:
        return None
    tree = {u.id: (u.parent_id, u.kind) for u in session.exec(select(IdentityUnit)).all()}
    return Principal(official.id, official.role, official.unit_id, visible_units(official.role, official.unit_id, tree))


def unauthorized(detail: str) -> HTTPException:
    """A 401 that tells the client how to authenticate."""
    return HTTPException(401, detail, headers={"WWW-Authenticate": "Bearer"})


def caller_auth(
    engine: Engine, cookies: SessionCookies, now: Callable[[], datetime] = utcnow,
) -> Callable[..., Principal]:
    """A FastAPI dependency resolving `Authorization: Bearer <token>`, or else the browser session
    cookie (CSRF-checked on unsafe methods), to a Principal (401 otherwise)."""

    def principal(
        request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
        csrf: Annotated[str, Depends(submitted_csrf)],
    ) -> Principal:
        token = credentials.credentials.strip() if credentials else ""
        at = now()
        with Session(engine) as session:
            if token:
                found = authenticate(session, token, now=at)
                if found is None:
                    raise unauthorized("The API token is unknown, expired or revoked.")
                return found
            by_session = by_cookie(request, cookies, csrf, at,
                                   lambda secret: authenticate_session(session, secret, now=at))
        if by_session is None:
            raise unauthorized("Send an API token: 'Authorization: Bearer <token>', or sign in.")
        return by_session

    return principal
