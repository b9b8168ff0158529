"""Inbox: processed event ids, so a redelivered event has no second effect."""

from collections.abc import Callable
from datetime import datetime
from uuid import UUID

from sqlalchemy import Column, DateTime, Engine, Table
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel

from shared.db import insert_new, session_scope
from shared.events.base import Event, utcnow
from shared.messaging.group_commit import joined_session


class ProcessedEvent(SQLModel, table=True):
    """One row per (consumer, event) whose effects are committed."""

    __tablename__ = "processed_events"

    consumer: str = Field(primary_key=True, max_length=120)
    event_id: UUID = Field(primary_key=True)
    event_type: str = Field(max_length=120)
    processed_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


INBOX: Table = ProcessedEvent.__table__  # type: ignore[attr-defined]


def claim(session: Session, event: Event, consumer: str) -> bool:
    """Insert the event's inbox row in one round trip; False when it is there already. A concurrent
    duplicate's row blocks this until that transaction ends (then False if it committed)."""
    inserted = session.connection().execute(insert_new(session.get_bind().dialect.name, INBOX), {
        "consumer": consumer, "event_id": event.event_id, "event_type": event.event_type,
        "processed_at": utcnow()}).first()
    return inserted is not None


def handle_once(engine: Engine, event: Event, consumer: str, work: Callable[[Session], object]) -> bool:
    """Run `work` and record the event in one transaction, unless it was already processed.

    Returns False for a duplicate. The inbox row is written before the work, so a concurrent
    duplicate blocks on its primary key instead of doing the work twice. Inside a group commit
    (`group_commit.GroupCommit`) the transaction is the batch's.
    """
    joined = joined_session()
    if joined is not None:  # a group commit's transaction: it commits, or reruns each event alone
        if not claim(joined, event, consumer):
            return False
        work(joined)
        joined.flush()
        joined.expunge_all()  # the next event of the batch reads rows afresh, as in a session of its own
        return True
    key = (consumer, event.event_id)
    try:
        with session_scope(engine) as session:
            if not claim(session, event, consumer):
                return False
            work(session)
        return True
    except IntegrityError:
        with Session(engine) as session:
            if session.get(ProcessedEvent, key) is not None:
                return False
        raise
