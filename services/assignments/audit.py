"""The audit trail: every write leaves an entry in the same transaction; no route alters it."""

from typing import Any

from sqlmodel import Session

from services.assignments.auth import Actor
from services.assignments.clock import stamp
from services.assignments.models import AuditEntry
from shared.events.base import Event
from shared.messaging.outbox import add_event


def record(
    session: Session, actor: Actor | None, *, action: str, entity_type: str, entity_id: object,
    changes: dict[str, Any], event: Event | None = None,
) -> AuditEntry:
    """Write an audit entry, and the event (outbox) when there is one, in the caller's transaction."""
    if event is not None:
        event = stamp(session, event)
        add_event(session, event)
    entry = AuditEntry(
        actor_id=actor.official_id if actor else None, actor_name=actor.name if actor else "system",
        actor_role=actor.role if actor else "", action=action, entity_type=entity_type,
        entity_id=str(entity_id), changes=_jsonable(changes), correlation_id=actor.correlation_id if actor else "",
        event_id=str(event.event_id) if event else None,
    )
    session.add(entry)
    return entry


def _jsonable(value: Any) -> Any:
    """Dates, enums and other scalars as JSON-friendly values."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)
