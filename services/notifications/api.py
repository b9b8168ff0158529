"""HTTP routes of the notifications service: the emails list, the deliveries log, preferences and
one-click unsubscribe."""

import html
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Literal, cast
from uuid import UUID

from fastapi import APIRouter, Depends, Query
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import func
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from services.notifications import preferences, unsubscribe
from services.notifications.mailroom import Mailroom
from services.notifications.models import OutgoingEmail
from services.notifications.preferences import Mode
from services.notifications.rules import CATEGORY_LABELS_VI, Category
from shared.events.base import utcnow
from shared.identity.auth import Principal, caller_auth
from shared.identity.models import IdentityOfficial
from shared.problems import Problem
from shared.validation import DbId, Limit, Offset

DeliveryStatus = Literal["pending", "sent", "failed", "unreachable"]
TOKEN_MAX = 200


class Delivery(BaseModel):
    """One outgoing email, or a warning that a unit could be reached by nobody."""

    id: int
    status: DeliveryStatus
    event_id: UUID
    event_type: str
    kind: str
    category: str
    recipient: str
    recipient_name: str
    recipient_unit_id: int | None
    subject: str
    correlation_id: str
    created_at: datetime
    sent_at: datetime | None
    failed_at: datetime | None
    attempts: int
    last_error: str | None

    @classmethod
    def of(cls, row: OutgoingEmail) -> "Delivery":
        """The public view of a row."""
        return cls(status=status_of(row), **row.model_dump(exclude={"body", "html", "message_id", "status"}))


def status_of(row: OutgoingEmail) -> DeliveryStatus:
    """Where an email stands."""
    if not row.recipient:
        return "unreachable"
    if row.sent_at is not None:
        return "sent"
    return "failed" if row.failed_at is not None else "pending"


def _where_status(query: SelectOfScalar[OutgoingEmail], status: DeliveryStatus) -> SelectOfScalar[OutgoingEmail]:
    if status == "unreachable":
        return query.where(OutgoingEmail.recipient == "")
    query = query.where(OutgoingEmail.recipient != "")
    if status == "sent":
        return query.where(col(OutgoingEmail.sent_at).is_not(None))
    if status == "failed":
        return query.where(col(OutgoingEmail.failed_at).is_not(None), col(OutgoingEmail.sent_at).is_(None))
    return query.where(col(OutgoingEmail.sent_at).is_(None), col(OutgoingEmail.failed_at).is_(None))


class Preferences(BaseModel):
    """How the caller is emailed."""

    model_config = ConfigDict(extra="forbid")

    mode: Mode = Field(description="immediate: each email at once; digest: one email a day at digest_hour.")
    digest_hour: int = Field(ge=0, le=23, strict=True, description="Local hour (Vietnam) of the daily digest.")
    muted: list[Category] = Field(default_factory=list, max_length=len(Category),
                                  description="Categories the caller receives nothing of.")

    @field_validator("muted")
    @classmethod
    def _unique(cls, value: list[Category]) -> list[Category]:
        return sorted(set(value))


class PreferencesPublic(Preferences):
    """The caller's preferences, and whether they are the defaults of their role."""

    official_id: int
    defaults: bool
    categories: dict[str, str] = Field(description="Every category, with its Vietnamese name.")


def _public(official_id: int, prefs: preferences.Effective) -> PreferencesPublic:
    return PreferencesPublic(official_id=official_id, mode=prefs.mode, digest_hour=prefs.digest_hour,
                             muted=sorted(Category(c) for c in prefs.muted), defaults=not prefs.stored,
                             categories={c.value: label for c, label in CATEGORY_LABELS_VI.items()})


def router(room: Mailroom, wake_sender: Callable[[], None]) -> APIRouter:
    """The routes, bound to the service's database."""
    engine = room.engine
    api = APIRouter()
    caller = Annotated[Principal, Depends(caller_auth(engine, room.settings.session_cookies()))]

    def overseer(principal: caller) -> Principal:
        if principal.role not in {"admin", "supervisor"}:
            raise Problem(403, "Only administrators and supervisors read the deliveries log.")
        return principal

    @api.get("/emails", tags=["emails"])
    def list_emails(
        principal: caller,
        status: Annotated[str | None, Query(pattern="^(pending|sent|failed)$")] = None,
        limit: Annotated[int, Query(ge=1, le=200)] = 50,
    ) -> list[dict[str, Any]]:
        """Recent outgoing emails to officials in the caller's scope, and their delivery state (the
        deliveries log, /deliveries, has filters and warnings too)."""
        query = (select(OutgoingEmail).where(OutgoingEmail.recipient != "")
                 .order_by(col(OutgoingEmail.id).desc()).limit(limit))
        if principal.scope is not None:
            query = query.where(col(OutgoingEmail.recipient_unit_id).in_(principal.scope))
        if status is not None:
            query = _where_status(query, cast(DeliveryStatus, status))
        with Session(engine) as session:
            return [
                row.model_dump(include={"id", "event_id", "recipient", "recipient_unit_id", "subject", "correlation_id",
                                        "created_at", "sent_at", "failed_at", "attempts", "last_error"})
                for row in session.exec(query).all()
            ]

    @api.get("/deliveries", tags=["deliveries"])
    def list_deliveries(
        principal: Annotated[Principal, Depends(overseer)],
        recipient: Annotated[str | None, Query(max_length=320)] = None,
        status: DeliveryStatus | None = None,
        event_id: UUID | None = None,
        event_type: Annotated[str | None, Query(max_length=120, pattern=r"^[a-z0-9_.]+$")] = None,
        category: Category | None = None,
        offset: Offset = 0,
        limit: Limit = 50,
    ) -> list[Delivery]:
        """Outgoing emails and unreachable-unit warnings about units in the caller's scope, newest first."""
        query = select(OutgoingEmail).order_by(col(OutgoingEmail.id).desc()).offset(offset).limit(limit)
        if principal.scope is not None:
            query = query.where(col(OutgoingEmail.recipient_unit_id).in_(principal.scope))
        if recipient is not None:
            query = query.where(func.lower(OutgoingEmail.recipient) == recipient.strip().lower())
        if status is not None:
            query = _where_status(query, status)
        if event_id is not None:
            query = query.where(OutgoingEmail.event_id == event_id)
        if event_type is not None:
            query = query.where(OutgoingEmail.event_type == event_type)
        if category is not None:
            query = query.where(OutgoingEmail.category == category)
        with Session(engine) as session:
            return [Delivery.of(row) for row in session.exec(query).all()]

    @api.post("/deliveries/{delivery_id}/retry", tags=["deliveries"])
    def retry_delivery(delivery_id: DbId, principal: Annotated[Principal, Depends(overseer)]) -> Delivery:
        """Send a failed email again (its Message-ID stays, so a client shows it once)."""
        with Session(engine) as session:
            row = session.get(OutgoingEmail, delivery_id, with_for_update=True)
            if row is None or not principal.can_read(row.recipient_unit_id):
                raise Problem(404, f"Delivery {delivery_id} not found.")
            if status_of(row) != "failed":
                raise Problem(409, f"Delivery {delivery_id} is {status_of(row)}: only a failed email is retried.")
            row.failed_at = None
            row.attempts = 0
            row.available_at = utcnow()
            session.add(row)
            session.commit()
            session.refresh(row)
            result = Delivery.of(row)
        wake_sender()
        return result

    @api.get("/me/preferences", tags=["preferences"])
    def get_preferences(principal: caller) -> PreferencesPublic:
        """How the caller is emailed: immediately or in a daily digest, and what is muted."""
        defaults = room.paper().defaults
        with Session(engine) as session:
            return _public(principal.official_id, preferences.of_key(
                session, principal.official_id, principal.role, defaults))

    @api.put("/me/preferences", tags=["preferences"])
    def put_preferences(body: Preferences, principal: caller) -> PreferencesPublic:
        """Choose immediate emails or a daily digest at an hour, and the categories to mute."""
        defaults = room.paper().defaults
        with Session(engine) as session:
            preferences.store(session, principal.official_id, body.mode, body.digest_hour, list(body.muted))
            session.commit()
            return _public(principal.official_id, preferences.of_key(
                session, principal.official_id, principal.role, defaults))

    def _verified(t: str) -> tuple[int, Category]:
        try:
            key, category = unsubscribe.verify(t, room.paper().key)
            return key, Category(category)
        except ValueError as exc:
            raise Problem(400, "This unsubscribe link is not valid (it may have been revoked).") from exc

    token = Annotated[str, Query(min_length=1, max_length=TOKEN_MAX, description="The signed token of the link.")]

    @api.get("/unsubscribe", tags=["unsubscribe"], response_class=HTMLResponse, responses={400: {
        "description": "The link is not valid (or its key was rotated): a page saying so.",
        "content": {"text/html": {"schema": {"type": "string"}}}}})
    def unsubscribe_page(t: token) -> HTMLResponse:
        """The page an unsubscribe link opens: it asks to confirm (a GET changes nothing)."""
        try:
            _key, category = _verified(t)
        except Problem:
            return HTMLResponse(_page("Liên kết không hợp lệ", "Liên kết hủy nhận thư này không hợp lệ "
                                      "hoặc đã bị thu hồi."), status_code=400)
        label = CATEGORY_LABELS_VI[category]
        form = (f'<form method="post" action="?t={html.escape(t)}">'
                '<input type="hidden" name="List-Unsubscribe" value="One-Click">'
                '<button type="submit" style="font-size:16px;padding:10px 18px">Xác nhận hủy nhận</button></form>')
        return HTMLResponse(_page("Hủy nhận thư thông báo",
                                  f"Đồng chí sẽ không nhận thư loại “{html.escape(label)}” nữa.", form))

    @api.post("/unsubscribe", tags=["unsubscribe"], response_class=HTMLResponse,
              responses={400: {"description": "The link is not valid (or its key was rotated)."}})
    def unsubscribe_now(t: token) -> HTMLResponse:
        """RFC 8058 one-click unsubscribe: mutes the link's category for its recipient (no login)."""
        key, category = _verified(t)
        defaults = room.paper().defaults
        with Session(engine) as session:
            official = session.get(IdentityOfficial, key) if key > 0 else None
            role = official.role if official is not None else ""
            preferences.mute(session, key, category, role, defaults)
            session.commit()
        label = CATEGORY_LABELS_VI[category]
        return HTMLResponse(_page("Đã hủy nhận", f"Đồng chí sẽ không nhận thư loại “{html.escape(label)}” nữa. "
                                  "Có thể bật lại trong phần cài đặt thông báo."))

    return api


def _page(title: str, message: str, extra: str = "") -> str:
    return ("<!doctype html><html lang=\"vi\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{html.escape(title)}</title></head>"
            "<body style=\"font-family:Arial,sans-serif;max-width:600px;margin:24px auto;padding:0 16px;"
            f"font-size:16px;line-height:1.5\"><h1 style=\"font-size:20px\">{html.escape(title)}</h1>"
            f"<p>{message}</p>{extra}<p style=\"color:#666\">plantrack</p></body></html>")
