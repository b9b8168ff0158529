"""Turning a rule's occasion into emails: per recipient, by their preferences, an immediate email,
an item for their next digest, or nothing (muted); a unit that nobody can be reached at becomes a
warning in the deliveries log."""

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5
from zoneinfo import ZoneInfo

from sqlmodel import Session

from services.notifications import preferences, unsubscribe
from services.notifications.models import DigestItem, OutgoingEmail
from services.notifications.preferences import Mode
from services.notifications.recipients import Recipient
from services.notifications.rendering import Rendered, render
from services.notifications.rules import CATEGORY_LABELS_VI, Category, Rule
from shared.events.base import utcnow

log = logging.getLogger("plantrack.notifications")


def occasion_id(key: str) -> UUID:
    """The stable id of a time-based occasion (its emails' event id)."""
    return uuid5(NAMESPACE_URL, f"plantrack:occasion:{key}")


@dataclass(frozen=True)
class Stationery:
    """What every email needs from settings: place, links, the unsubscribe key, the time zone."""

    place: str
    public_url: str
    unsubscribe_url: str
    key: bytes
    tz: ZoneInfo
    defaults: preferences.Defaults

    def today(self, now: datetime | None = None) -> date:
        """The local date at `now`."""
        return (now or utcnow()).astimezone(self.tz).date()

    def link(self, path: str) -> str:
        """An absolute link into the portal users open."""
        return f"{self.public_url.rstrip('/')}/{path.lstrip('/')}"

    def unsubscribe_link(self, recipient: Recipient, category: Category) -> str:
        """The signed one-click link muting `category` for `recipient`."""
        return unsubscribe.link(self.unsubscribe_url, unsubscribe.sign(recipient.key, category, self.key))


@dataclass(frozen=True)
class Source:
    """Where the emails come from: an event, or a claimed occasion."""

    id: UUID
    event_type: str
    correlation_id: str = ""
    unit_id: int | None = None  # the unit concerned, for a warning when nobody is reached


@dataclass
class Outcome:
    """What one delivery wrote."""

    emails: int = 0
    held: int = 0
    muted: int = 0
    warnings: int = 0

    def __iadd__(self, other: "Outcome") -> "Outcome":
        self.emails += other.emails
        self.held += other.held
        self.muted += other.muted
        self.warnings += other.warnings
        return self


def deliver(
    session: Session, paper: Stationery, source: Source, rule: Rule, recipients: list[Recipient],
    context: Mapping[str, Any], *, link: str = "", now: datetime | None = None, dated: datetime | None = None,
) -> Outcome:
    """Write what `rule` says to each recipient, as their preferences ask (the date line shows the
    local day of `dated`, by default `now`)."""
    now = now or utcnow()
    outcome = Outcome()
    if not recipients:
        session.add(_warning(source, rule, now))
        outcome.warnings += 1
        log.warning("nobody to email", extra={"rule": rule.name, "unit_id": source.unit_id,
                                              "event_id": str(source.id)})
        return outcome
    for recipient in recipients:
        prefs = preferences.effective(session, recipient, paper.defaults)
        if not prefs.wants(rule.category):
            outcome.muted += 1
            continue
        unsubscribe_url = paper.unsubscribe_link(recipient, rule.category)
        rendered = _render(paper, source, rule.template, recipient, context, link, dated or now, {
            "unsubscribe_url": unsubscribe_url, "category": rule.category.value,
            "category_label": CATEGORY_LABELS_VI[rule.category]})
        if prefs.mode is Mode.DIGEST and recipient.official_id is not None:
            session.add(DigestItem(
                source_id=source.id, official_id=recipient.official_id, recipient=recipient.email,
                recipient_name=recipient.name, recipient_unit_id=recipient.unit_id, kind=rule.template,
                category=rule.category, subject=rendered.subject, text_content=rendered.text_content,
                html_content=rendered.html_content, link=link, created_at=now,
            ))
            outcome.held += 1
            continue
        session.add(_email(source, recipient, rule.template, rule.category, rendered, now, unsubscribe_url))
        outcome.emails += 1
    return outcome


def deliver_always(
    session: Session, paper: Stationery, source: Source, template: str, recipient: Recipient,
    context: Mapping[str, Any], *, link: str, now: datetime,
) -> Outcome:
    """Write one email that no preference mutes nor holds for a digest (a sign-in link)."""
    rendered = _render(paper, source, template, recipient, context, link, now, {})
    session.add(_email(source, recipient, template, "", rendered, now, ""))
    return Outcome(emails=1)


def _render(paper: Stationery, source: Source, template: str, recipient: Recipient, context: Mapping[str, Any],
            link: str, dated: datetime, extra: Mapping[str, Any]) -> Rendered:
    return render(template, {
        "recipient_name": recipient.name, "recipient_title": recipient.title, "place": paper.place,
        "today": paper.today(dated), "link": link, "reference": source.correlation_id or str(source.id),
        **extra, **context,
    })


def _email(source: Source, recipient: Recipient, kind: str, category: str, rendered: Rendered, now: datetime,
           unsubscribe_url: str) -> OutgoingEmail:
    return OutgoingEmail(
        event_id=source.id, event_type=source.event_type, recipient=recipient.email,
        recipient_name=recipient.name, recipient_official_id=recipient.official_id,
        recipient_unit_id=recipient.unit_id, kind=kind, category=category,
        subject=rendered.subject, body=rendered.text, html=rendered.html, unsubscribe_url=unsubscribe_url,
        message_id=f"<{source.id}.{_who(recipient)}@plantrack>", correlation_id=source.correlation_id,
        created_at=now, available_at=now,
    )


def _who(recipient: Recipient) -> str:
    return str(recipient.official_id) if recipient.official_id is not None else f"unit{recipient.unit_id}"


def _warning(source: Source, rule: Rule, now: datetime) -> OutgoingEmail:
    """A deliveries-log row saying the unit could be reached by nobody (never sent)."""
    who = "no active officer and no unit mailbox" if rule.audience == "unit" else "no active supervisor"
    return OutgoingEmail(
        event_id=source.id, event_type=source.event_type, recipient="", recipient_unit_id=source.unit_id,
        kind=rule.template, category=rule.category, subject=f"({rule.name}: unit {source.unit_id} unreachable)",
        body="", message_id=f"<{source.id}.warning{source.unit_id}@plantrack>", correlation_id=source.correlation_id,
        created_at=now, available_at=now, failed_at=now,
        last_error=f"unreachable: unit {source.unit_id} has {who}; nothing was sent",
    )
