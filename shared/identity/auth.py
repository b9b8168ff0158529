"""Authenticating a bearer token against the identity tables, and the caller's scope."""

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine
from sqlmodel import Session, select
from starlette.exceptions import HTTPException

from shared.events.base import as_utc, utcnow
from shared.identity.models import IdentityOfficial, IdentityToken, IdentityUnit
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
    official = session.get(IdentityOfficial, row.official_id)
    if official is None or not official.active:
        return None
    tree = {u.id: (u.parent_id, u.kind) for u in session.exec(select(IdentityUnit)).all()}
    return Principal(official.id, official.role, official.unit_id, visible_units(official.role, official.unit_id, tree))


def unauthorized(detail: str) -> HTTPException:
    """A 401 that tells the client how to authenticate."""
    return HTTPException(401, detail, headers={"WWW-Authenticate": "Bearer"})


def bearer_auth(engine: Engine) -> Callable[..., Principal]:
    """A FastAPI dependency resolving `Authorization: Bearer <token>` to a Principal (401 otherwise)."""

    def principal(
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
    ) -> Principal:
        if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials.strip():
            raise unauthorized("Send an API token: 'Authorization: Bearer <token>'.")
        with Session(engine) as session:
            found = authenticate(session, credentials.credentials.strip())
        if found is None:
            raise unauthorized("The API token is unknown, expired or revoked.")
        return found

    return principal
