"""Daily digests: at an official's chosen hour, one email with everything held for them since the
last one, each item as the immediate email would have said it."""

import logging
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from services.notifications import preferences
from services.notifications.claims import claiming
from services.notifications.directory import Directory
from services.notifications.dispatch import Outcome, Stationery, occasion_id
from services.notifications.mailroom import Mailroom
from services.notifications.models import DigestItem, OutgoingEmail
from services.notifications.recipients import Recipient
from services.notifications.rendering import render
from services.notifications.rules import CATEGORY_LABELS_VI, Category

log = logging.getLogger("plantrack.notifications")
DROPPED = -1  # digest_email_id of items whose official left before their digest went out


def send_due(room: Mailroom, paper: Stationery, here: Directory, now: datetime) -> Outcome:
    """Write the digests whose hour has come today (local time), once per official and day."""
    outcome = Outcome()
    local = now.astimezone(paper.tz)
    with Session(room.engine) as session:
        waiting = sorted(set(session.exec(select(DigestItem.official_id).where(
            col(DigestItem.digest_email_id).is_(None), col(DigestItem.created_at) <= now)).all()))
        due = [o for o in waiting if local.hour >= preferences.of_key(session, o, "", paper.defaults).digest_hour]
    for official_id in due:
        outcome.emails += _send(room, paper, here, official_id, now)
    return outcome


def _send(room: Mailroom, paper: Stationery, here: Directory, official_id: int, now: datetime) -> int:
    local = now.astimezone(paper.tz)
    key = f"digest:{official_id}:{local.date()}"
    try:
        with claiming(room.engine, [key], now) as session:
            items = session.exec(select(DigestItem).where(
                DigestItem.official_id == official_id, col(DigestItem.digest_email_id).is_(None),
                col(DigestItem.created_at) <= now).order_by(col(DigestItem.created_at), col(DigestItem.id))).all()
            official = next((o for o in here.officials if o.id == official_id), None)
            if official is None or not official.active or not items:
                for item in items:
                    item.digest_email_id = DROPPED
                    session.add(item)
                return 0
            recipient = Recipient.official(official)
            unsubscribe_url = paper.unsubscribe_link(recipient, Category.DIGEST)
            rendered = render("digest", {
                "recipient_name": official.name, "recipient_title": official.title, "place": paper.place,
                "today": local.date(), "link": "", "unsubscribe_url": unsubscribe_url,
                "category": Category.DIGEST.value, "category_label": CATEGORY_LABELS_VI[Category.DIGEST],
                "reference": key, "count": len(items),
                "items": [{"subject": i.subject, "category_label": CATEGORY_LABELS_VI[Category(i.category)],
                           "at": i.created_at, "text_content": i.text_content, "html_content": i.html_content,
                           "link": i.link} for i in items],
            })
            source_id = occasion_id(key)
            email = OutgoingEmail(
                event_id=source_id, event_type="occasion.digest", recipient=official.email,
                recipient_name=official.name, recipient_official_id=official.id, recipient_unit_id=official.unit_id,
                kind="digest", category=Category.DIGEST, subject=rendered.subject, body=rendered.text,
                html=rendered.html, unsubscribe_url=unsubscribe_url, correlation_id=key,
                message_id=f"<{source_id}.{official.id}@plantrack>", created_at=now, available_at=now,
            )
            session.add(email)
            session.flush()
            for item in items:
                item.digest_email_id = email.id
                session.add(item)
            log.info("digest written", extra={"official_id": official_id, "items": len(items)})
            return 1
    except IntegrityError:
        log.info("digest claimed elsewhere", extra={"occasion": key})
        return 0
