"""What the notifications service does with each event (sync, one transaction each)."""

import logging

from sqlalchemy import Engine
from sqlmodel import Session, select

from services.notifications.models import DirectoryOfficial, DirectoryUnit, OutgoingEmail
from services.notifications.recipients import supervisors_for
from services.notifications.templates import status_changed_email
from shared.events import AssignmentStatusChangedV1, OfficialCreatedV1, UnitCreatedV1
from shared.messaging.inbox import handle_once

CONSUMER = "notifications"
log = logging.getLogger("plantrack.notifications")


class DirectoryNotReady(Exception):
    """The event names a unit this service has not heard of yet; retry after the directory fills."""


def _merge(session: Session, row: DirectoryUnit | DirectoryOfficial) -> None:
    session.merge(row)


def record_unit(engine: Engine, event: UnitCreatedV1) -> bool:
    """Add the unit to the directory."""
    return handle_once(engine, event, CONSUMER,
                       lambda s: _merge(s, DirectoryUnit(**event.payload.model_dump())))


def record_official(engine: Engine, event: OfficialCreatedV1) -> bool:
    """Add the official to the directory."""
    return handle_once(engine, event, CONSUMER,
                       lambda s: _merge(s, DirectoryOfficial(**event.payload.model_dump())))


def queue_status_emails(engine: Engine, event: AssignmentStatusChangedV1, *, place: str) -> int:
    """Write one outgoing email per supervising official; return how many were queued."""
    queued: list[OutgoingEmail] = []

    def work(session: Session) -> None:
        units = {u.id: u for u in session.exec(select(DirectoryUnit)).all()}
        if event.payload.unit_id not in units:
            raise DirectoryNotReady(f"unit {event.payload.unit_id} not in the directory yet")
        officials = session.exec(select(DirectoryOfficial).where(DirectoryOfficial.role == "supervisor")).all()
        recipients = supervisors_for(event.payload.unit_id, units, officials,
                                     exclude_official_id=event.payload.reported_by_id)
        for official in recipients:
            mail = status_changed_email(event, official.name, place)
            row = OutgoingEmail(
                event_id=event.event_id, event_type=event.event_type, recipient=official.email,
                recipient_name=official.name, subject=mail.subject, body=mail.body,
                message_id=f"<{event.event_id}.{official.id}@plantrack>",
                correlation_id=event.correlation_id,
            )
            session.add(row)
            queued.append(row)

    if not handle_once(engine, event, CONSUMER, work):
        log.info("duplicate event ignored", extra={"event_id": str(event.event_id)})
        return 0
    log.info("status change emails queued",
             extra={"event_id": str(event.event_id), "recipients": [r.recipient for r in queued]})
    return len(queued)
