"""Transactional outbox: events are rows written in the business transaction, published later."""

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import Column, DateTime, Index, Text, insert, text
from sqlmodel import Field, Session, SQLModel

from shared.events.base import Event, utcnow
from shared.messaging.wakeup import OUTBOX_CHANNEL, notify_on_commit


class OutboxMessage(SQLModel, table=True):
    """An event waiting to be (or already) published to RabbitMQ."""

    __tablename__ = "outbox"
    # what the relay claims: only the rows still to publish, however long the history
    __table_args__ = (Index("ix_outbox_due", "id", postgresql_where=text("sent_at IS NULL"),
                            sqlite_where=text("sent_at IS NULL")),)

    id: int | None = Field(default=None, primary_key=True)
    event_id: UUID = Field(unique=True)
    event_type: str = Field(max_length=120)
    correlation_id: str = Field(default="", max_length=120)
    body: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    available_at: datetime = Field(
        sa_column=Column(DateTime(timezone=True), nullable=False, index=True),
        description="Not published before this time: retry backoff or a relay's claim lease.",
    )
    sent_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True, index=True)
    )
    attempts: int = 0
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


def _values(event: Event) -> dict[str, Any]:
    """The columns of the outbox row that carries `event`, due now."""
    now = utcnow()
    return {"event_id": event.event_id, "event_type": event.event_type, "correlation_id": event.correlation_id,
            "body": event.model_dump_json(), "created_at": now, "available_at": now}


def outbox_row(event: Event) -> OutboxMessage:
    """The outbox row that carries `event`, due now."""
    return OutboxMessage(**_values(event))


def add_event(session: Session, event: Event) -> OutboxMessage:
    """Stage `event` in the caller's transaction; it is published only if that commits."""
    row = outbox_row(event)
    session.add(row)
    notify_on_commit(session, OUTBOX_CHANNEL)  # a relay in another process starts at once
    return row


_INSERT = insert(OutboxMessage.__table__)  # type: ignore[attr-defined]  # built once: compiled once


def insert_event(session: Session, event: Event) -> None:
    """`add_event` for hot paths: the row is inserted at once with a prepared statement, no ORM object."""
    session.connection().execute(_INSERT, {**_values(event), "attempts": 0})
    notify_on_commit(session, OUTBOX_CHANNEL)


def backoff(attempts: int, *, base: float = 1.0, cap: float = 30.0) -> timedelta:
    """Delay before retrying a row whose publish failed `attempts` times."""
    return timedelta(seconds=min(cap, base * 2 ** max(0, attempts - 1)))
