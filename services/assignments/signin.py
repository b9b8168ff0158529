"""Sign-in by emailed link: a one-time link (rate-limited, never telling whether the email is known)
exchanged once for a browser session; ending sessions."""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode

from sqlalchemy import update
from sqlmodel import Session, col, select

from services.assignments import audit
from services.assignments.access import require_role
from services.assignments.auth import Actor, hash_token
from services.assignments.domain import Role
from services.assignments.errors import NotFound, TooManyRequests
from services.assignments.models import Official, SigninAttempt, SigninLink, WebSession
from services.assignments.settings import AssignmentsSettings
from shared.db import lock_or_insert
from shared.events import (
    SigninLinkPayload,
    SigninLinkRequestedV1,
    WebSessionEndedV1,
    WebSessionPayload,
    WebSessionStartedV1,
)
from shared.events.base import as_utc


@dataclass(frozen=True)
class Started:
    """A new browser session: its secret token (for the cookie only) and its official."""

    token: str
    official: Official


def _count(session: Session, key: str, now: datetime, window: timedelta, limit: int) -> bool:
    """Count one request under `key` in its fixed window; False once over `limit`."""
    row = lock_or_insert(session, SigninAttempt(key=key, window_start=now, count=0))
    if now - as_utc(row.window_start) >= window:
        row.window_start, row.count = now, 0
    row.count += 1
    session.add(row)
    return row.count <= limit


def request_link(
    session: Session, *, email: str, address: str, now: datetime, settings: AssignmentsSettings,
    correlation_id: str = "", next_page: str = "/",
) -> None:
    """Email a sign-in link to the active official with `email`, if any; the caller learns nothing
    either way. 429 past the per-email or per-address limit (counted for unknown emails too).
    The link leads on to `next_page` (a page an email linked to, which sent its reader to sign in)."""
    email = email.strip().lower()
    window = timedelta(minutes=settings.signin_window_minutes)
    email_key = "email:" + hashlib.sha256(email.encode()).hexdigest()
    allowed = _count(session, email_key, now, window, settings.signin_per_email)
    allowed = _count(session, f"address:{address}"[:120], now, window, settings.signin_per_address) and allowed
    if not allowed:
        session.commit()  # the counts stand even though this request is refused
        raise TooManyRequests("Too many sign-in requests; try again in a few minutes.")
    official = session.exec(select(Official).where(Official.email == email, Official.active)).first()  # type: ignore[arg-type]
    if official is None or official.id is None:
        return
    token = secrets.token_urlsafe(32)
    expires_at = now + timedelta(minutes=settings.signin_link_minutes)
    link = SigninLink(official_id=official.id, token_hash=hash_token(token), created_at=now, expires_at=expires_at)
    session.add(link)
    session.flush()
    url = f"{settings.public_url.rstrip('/')}/signin/{token}"
    if next_page != "/":
        url += "?" + urlencode({"next": next_page})
    audit.record(session, Actor.of(official, correlation_id), action="signin_link.request", entity_type="signin_link",
                 entity_id=link.id, changes={"official_id": official.id, "expires_at": expires_at},
                 event=SigninLinkRequestedV1(correlation_id=correlation_id, payload=SigninLinkPayload(
                     official_id=official.id, name=official.name, title=official.title, email=official.email,
                     link=url, expires_at=expires_at)))


def use_link(
    session: Session, *, token: str, now: datetime, settings: AssignmentsSettings, correlation_id: str = "",
) -> Started | None:
    """Spend a sign-in link (once, before it expires) on a new session; None when it cannot be."""
    link_id = session.execute(
        update(SigninLink)
        .where(col(SigninLink.token_hash) == hash_token(token), col(SigninLink.used_at).is_(None),
               col(SigninLink.expires_at) > now)
        .values(used_at=now).returning(col(SigninLink.official_id))
    ).scalar_one_or_none()
    official = session.get(Official, link_id) if link_id is not None else None
    if official is None or not official.active or official.id is None:
        return None
    secret = secrets.token_urlsafe(32)
    row = WebSession(official_id=official.id, session_hash=hash_token(secret), created_at=now,
                     expires_at=now + timedelta(minutes=settings.session_absolute_minutes))
    session.add(row)
    session.flush()
    actor = Actor.of(official, correlation_id)
    audit.record(session, actor, action="session.start", entity_type="web_session", entity_id=row.id,
                 changes={"official_id": official.id, "expires_at": row.expires_at},
                 event=WebSessionStartedV1(correlation_id=correlation_id, payload=_payload(row)))
    return Started(secret, official)


def resolve_session(session: Session, token: str, now: datetime) -> Official | None:
    """The active official of a live session (not ended, not past its absolute expiry)."""
    row = session.exec(select(WebSession).where(WebSession.session_hash == hash_token(token))).first()
    if row is None or row.ended_at is not None or as_utc(row.expires_at) <= now:
        return None
    official = session.get(Official, row.official_id)
    return official if official is not None and official.active else None


def end_session(session: Session, *, token: str, now: datetime, actor: Actor | None) -> None:
    """End the session of `token` (signing out); ending an ended session is harmless."""
    row = session.exec(select(WebSession).where(WebSession.session_hash == hash_token(token))).first()
    if row is not None and row.ended_at is None:
        _end(session, row, now, actor, "signed_out")


def end_sessions(session: Session, *, official_id: int, now: datetime, actor: Actor | None, reason: str) -> int:
    """End every live session of an official; return how many."""
    rows = session.exec(select(WebSession).where(
        WebSession.official_id == official_id, col(WebSession.ended_at).is_(None), col(WebSession.expires_at) > now,
    )).all()
    for row in rows:
        _end(session, row, now, actor, reason)
    return len(rows)


def end_official_sessions(session: Session, *, actor: Actor, official_id: int, now: datetime) -> int:
    """End every live session of an official (admin); return how many."""
    require_role(actor, Role.ADMIN)
    if session.get(Official, official_id) is None:
        raise NotFound("Official", official_id)
    return end_sessions(session, official_id=official_id, now=now, actor=actor, reason="ended_by_admin")


def _end(session: Session, row: WebSession, now: datetime, actor: Actor | None, reason: str) -> None:
    row.ended_at, row.ended_reason = now, reason
    session.add(row)
    session.flush()
    audit.record(session, actor, action="session.end", entity_type="web_session", entity_id=row.id,
                 changes={"official_id": row.official_id, "reason": reason},
                 event=WebSessionEndedV1(correlation_id=actor.correlation_id if actor else "", payload=_payload(row)))


def _payload(row: WebSession) -> WebSessionPayload:
    return WebSessionPayload.model_validate(row, from_attributes=True)
