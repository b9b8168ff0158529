"""What the notifications service does with each event (sync, one transaction each)."""

import logging
from collections.abc import Callable

from sqlalchemy import Engine
from sqlmodel import Session

from services.notifications import directory
from services.notifications.directory import DirectoryNotReady as DirectoryNotReady  # what the handlers raise
from services.notifications.models import DirectoryOfficial, DirectoryUnit, OutgoingEmail
from services.notifications.recipients import supervisors_for, unit_officers
from services.notifications.templates import (
    Rendered,
    review_round_email,
    status_changed_email,
    update_returned_email,
)
from shared.events import (
    ApiTokenIssuedV1,
    ApiTokenRevokedV1,
    AssignmentStatusChangedV1,
    Event,
    OfficialCreatedV1,
    OfficialUpdatedV1,
    ReviewRoundOpenedV1,
    StatusUpdateReviewedV1,
    UnitCreatedV1,
)
from shared.events.base import as_utc
from shared.identity import projection as identity
from shared.messaging.inbox import handle_once

CONSUMER = "notifications"
log = logging.getLogger("plantrack.notifications")


def _merge(session: Session, row: DirectoryUnit | DirectoryOfficial) -> None:
    session.merge(row)


def record_unit(engine: Engine, event: UnitCreatedV1) -> bool:
    """Add the unit to the directory and to the identity tree."""

    def work(session: Session) -> None:
        _merge(session, DirectoryUnit(**event.payload.model_dump()))
        identity.apply_unit(session, event)
        directory.record(session, event)

    return handle_once(engine, event, CONSUMER, work)


def record_token(engine: Engine, event: ApiTokenIssuedV1 | ApiTokenRevokedV1) -> bool:
    """Learn an API token's hash, or its revocation, to authenticate callers."""
    return handle_once(engine, event, CONSUMER, lambda s: identity.apply_token(s, event))



def _set_official(session: Session, event: OfficialCreatedV1 | OfficialUpdatedV1) -> None:
    """Write the official as the event says, unless a later event already did (each event type has
    its own queue, so an update may overtake the creation)."""
    identity.apply_official(session, event)
    directory.record(session, event)
    row = session.get(DirectoryOfficial, event.payload.id, with_for_update=True)
    if row is not None and row.as_of is not None and as_utc(row.as_of) > as_utc(event.occurred_at):
        log.info("older official event ignored", extra={"event_id": str(event.event_id)})
        return
    _merge(session, DirectoryOfficial(**event.payload.model_dump(), as_of=event.occurred_at))


def record_official(engine: Engine, event: OfficialCreatedV1) -> bool:
    """Add the official to the directory."""
    return handle_once(engine, event, CONSUMER, lambda s: _set_official(s, event))


def update_official(engine: Engine, event: OfficialUpdatedV1) -> bool:
    """Apply a change of an official's data, role or active flag to the directory."""
    return handle_once(engine, event, CONSUMER, lambda s: _set_official(s, event))


def _email(event: Event, official: DirectoryOfficial, mail: Rendered) -> OutgoingEmail:
    """The outgoing email row of `event` for `official` (its Message-ID is stable across retries)."""
    return OutgoingEmail(
        event_id=event.event_id, event_type=event.event_type, recipient=official.email,
        recipient_name=official.name, recipient_official_id=official.id, recipient_unit_id=official.unit_id,
        subject=mail.subject, body=mail.body,
        message_id=f"<{event.event_id}.{official.id}@plantrack>", correlation_id=event.correlation_id,
    )


def _queue(engine: Engine, event: Event, what: str, build: Callable[[Session], list[OutgoingEmail]]) -> int:
    """Write the emails `build` makes for `event`, with its inbox row, once; return how many."""
    queued: list[OutgoingEmail] = []

    def work(session: Session) -> None:
        queued.extend(build(session))
        session.add_all(queued)

    if not handle_once(engine, event, CONSUMER, work):
        log.info("duplicate event ignored", extra={"event_id": str(event.event_id)})
        return 0
    log.info(f"{what} emails queued",
             extra={"event_id": str(event.event_id), "recipients": [r.recipient for r in queued]})
    return len(queued)


def queue_status_emails(engine: Engine, event: AssignmentStatusChangedV1, *, place: str) -> int:
    """Write one outgoing email per supervising official; return how many were queued."""
    p = event.payload

    def build(session: Session) -> list[OutgoingEmail]:
        found = directory.as_of(session, event, [p.unit_id])
        recipients = supervisors_for(p.unit_id, found.units, found.officials, exclude_official_id=p.reported_by_id)
        return [_email(event, o, status_changed_email(event, o.name, place)) for o in recipients]

    return _queue(engine, event, "status change", build)


def queue_returned_emails(engine: Engine, event: StatusUpdateReviewedV1, *, place: str) -> int:
    """When a supervisor returned an update, write one email per officer of the unit; return how many."""
    p = event.payload

    def build(session: Session) -> list[OutgoingEmail]:
        if p.decision != "returned":
            return []  # an accepted update needs no email
        found = directory.as_of(session, event, [p.unit_id])
        return [_email(event, o, update_returned_email(event, o.name, place))
                for o in unit_officers([p.unit_id], found.officials)]

    return _queue(engine, event, "review", build)


def queue_round_emails(engine: Engine, event: ReviewRoundOpenedV1, *, place: str) -> int:
    """Write one email per officer of every unit expected to submit in the round; return how many."""
    p = event.payload

    def build(session: Session) -> list[OutgoingEmail]:
        found = directory.as_of(session, event, p.unit_ids)
        return [_email(event, o, review_round_email(event, o.name, found.units[o.unit_id].name, place))  # type: ignore[index]
                for o in unit_officers(p.unit_ids, found.officials)]

    return _queue(engine, event, "review round", build)
