"""The audit trail: every write leaves an entry in the same transaction; no route alters it."""

from typing import Any

from sqlalchemy import insert
from sqlmodel import Session

from services.assignments.auth import Actor
from services.assignments.clock import stamp
from services.assignments.models import AuditEntry
from shared.events.base import Event, utcnow
from shared.messaging.outbox import insert_event

_INSERT_AUDIT = insert(AuditEntry.__table__)  # type: ignore[attr-defined]  # built once: compiled once


def record(
    session: Session, actor: Actor | None, *, action: str, entity_type: str, entity_id: object,
    changes: dict[str, Any], event: Event | None = None, stamped: bool = False,
) -> None:
    """Write an audit entry, and the event (outbox) when there is one, in the caller's transaction;
    `stamped`: the event already carries its directory version (see clock.current_version)."""
    now = utcnow()
    connection = session.connection()
    if event is not None:
        if not stamped:
            event = stamp(session, event)
        insert_event(session, event)
    connection.execute(_INSERT_AUDIT, {
        "at": now, "actor_id": actor.official_id if actor else None, "actor_name": actor.name if actor else "system",
        "actor_role": actor.role if actor else "", "action": action, "entity_type": entity_type,
        "entity_id": str(entity_id), "changes": _jsonable(changes),
        "correlation_id": actor.correlation_id if actor else "", "event_id": str(event.event_id) if event else None,
    })


def _jsonable(value: Any) -> Any:
    """Dates, enums and other scalars as JSON-friendly values."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)
