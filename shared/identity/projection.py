"""Keeping the identity tables in step with the events, inside the consumer's own transaction.

Each event type has its own queue, so these events arrive in any order: an official keeps the
state of the latest `occurred_at`, and a token once revoked stays revoked even when its
`api_token.issued.v1` comes after the revocation (and a session once ended stays ended).
"""


from sqlmodel import Session

from shared.db import insert_missing, lock_or_insert
from shared.events import (
    ApiTokenIssuedV1,
    ApiTokenRevokedV1,
    OfficialCreatedV1,
    OfficialUpdatedV1,
    UnitCreatedV1,
    UnitUpdatedV1,
    WebSessionEndedV1,
    WebSessionStartedV1,
)
from shared.events.base import as_utc
from shared.identity.models import IdentityOfficial, IdentitySession, IdentityToken, IdentityUnit


def apply_unit(session: Session, event: UnitCreatedV1 | UnitUpdatedV1) -> None:
    """Record a unit of the tree. A unit's place and kind never change (an update changes its name or
    mailbox), so a creation and an update write the same row whichever arrives first."""
    p = event.payload
    insert_missing(session, IdentityUnit(id=p.id, parent_id=p.parent_id, kind=p.kind))


def apply_official(session: Session, event: OfficialCreatedV1 | OfficialUpdatedV1) -> None:
    """Record an official's role, unit and active flag, unless a later event already did."""
    p = event.payload
    fresh = IdentityOfficial(id=p.id, role=p.role, unit_id=p.unit_id, active=p.active, as_of=event.occurred_at)
    row = lock_or_insert(session, fresh)  # a concurrent event about the same official waits for this one
    if as_utc(row.as_of) > as_utc(event.occurred_at):
        return
    row.sqlmodel_update(fresh.model_dump())
    session.add(row)


def apply_token(session: Session, event: ApiTokenIssuedV1 | ApiTokenRevokedV1) -> None:
    """Record a token's hash and validity; revocation is final."""
    p = event.payload
    # insert-or-nothing, then lock: a read of "no row yet" followed by a write would let the issue
    # event, committed second, overwrite a revocation committed in between (PostgreSQL, two queues)
    row = lock_or_insert(session, IdentityToken(id=p.id, official_id=p.official_id, token_hash=p.token_hash,
                                                expires_at=p.expires_at, revoked_at=p.revoked_at))
    row.official_id, row.token_hash, row.expires_at = p.official_id, p.token_hash, p.expires_at
    row.revoked_at = row.revoked_at or p.revoked_at
    session.add(row)


def apply_session(session: Session, event: WebSessionStartedV1 | WebSessionEndedV1) -> None:
    """Record a browser session's hash and absolute expiry; ending is final."""
    p = event.payload
    row = lock_or_insert(session, IdentitySession(id=p.id, official_id=p.official_id, session_hash=p.session_hash,
                                                  expires_at=p.expires_at, ended_at=p.ended_at))
    row.ended_at = row.ended_at or p.ended_at
    session.add(row)
