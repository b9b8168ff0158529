"""The audit trail: every write leaves an entry in the same transaction; no route alters it."""

from typing import Any

from sqlalchemy import Table, insert
from sqlmodel import Session

from services.assignments.auth import Actor
from services.assignments.clock import stamp
from services.assignments.models import AuditEntry
from shared.events.base import Event, utcnow
from shared.messaging.outbox import OutboxMessage
from shared.messaging.wakeup import OUTBOX_CHANNEL, notify_on_commit

OUTBOX: Table = OutboxMessage.__table__  # type: ignore[attr-defined]
AUDIT_LOG: Table = AuditEntry.__table__  # type: ignore[attr-defined]
_INSERT_OUTBOX = insert(OUTBOX)  # built once: its SQL is compiled and cached once
_INSERT_AUDIT = insert(AUDIT_LOG)


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
        # the outbox row as shared.messaging.outbox.add_event stages it, inserted at once
        connection.execute(_INSERT_OUTBOX, {
            "event_id": event.event_id, "event_type": event.event_type, "correlation_id": event.correlation_id,
            "body": event.model_dump_json(), "created_at": now, "available_at": now, "attempts": 0,
        })
        notify_on_commit(session, OUTBOX_CHANNEL)  # a relay in another process starts at once
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
