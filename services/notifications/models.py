"""Tables of the notifications service: its copy of the directory, and outgoing emails."""

from datetime import datetime
from uuid import UUID

from sqlalchemy import Column, DateTime, Text, UniqueConstraint
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from shared.events.base import utcnow


class NotificationsModel(SQLModel, registry=registry()):
    """Base of the notifications service's tables."""


class DirectoryUnit(NotificationsModel, table=True):
    """A unit, as learnt from unit.created events."""

    __tablename__ = "directory_units"

    id: int = Field(primary_key=True)
    code: str = Field(max_length=40)
    name: str = Field(max_length=300)
    kind: str = Field(max_length=40)
    parent_id: int | None = None


class DirectoryOfficial(NotificationsModel, table=True):
    """An official, as learnt from official.created and official.updated events."""

    __tablename__ = "directory_officials"

    id: int = Field(primary_key=True)
    name: str = Field(max_length=200)
    email: str = Field(max_length=320)
    title: str = Field(default="", max_length=200)
    unit_id: int | None = Field(default=None, index=True)
    role: str = Field(max_length=20)
    active: bool = True
    as_of: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True),
        description="occurred_at of the event that last set this row; older events are ignored.",
    )


class DirectoryEntry(NotificationsModel, table=True):
    """One directory event as it was numbered by the producer (unit.created, official.*): the
    history recipients are computed from, as of the directory version an event was raised under."""

    __tablename__ = "directory_log"

    version: int = Field(primary_key=True, description="The event's directory_version, gap-free from 1.")
    event_type: str = Field(max_length=120)
    unit_id: int | None = Field(default=None, description="unit.created: the unit")
    official_id: int | None = Field(default=None, index=True, description="official.*: the official")
    code: str = Field(default="", max_length=40)
    name: str = Field(default="", max_length=300)
    kind: str = Field(default="", max_length=40)
    parent_id: int | None = None
    email: str = Field(default="", max_length=320)
    title: str = Field(default="", max_length=200)
    official_unit_id: int | None = None
    role: str = Field(default="", max_length=20)
    active: bool = True


class OutgoingEmail(NotificationsModel, table=True):
    """An email to send; written with the inbox row, sent by the mail worker."""

    __tablename__ = "outgoing_emails"
    __table_args__ = (UniqueConstraint("event_id", "recipient"),)

    id: int | None = Field(default=None, primary_key=True)
    event_id: UUID = Field(index=True)
    event_type: str = Field(max_length=120)
    recipient: str = Field(max_length=320)
    recipient_name: str = Field(default="", max_length=200)
    recipient_official_id: int | None = Field(default=None, description="The official it was written for.")
    recipient_unit_id: int | None = Field(default=None, index=True,
                                          description="That official's unit: who may read this row.")
    subject: str = Field(max_length=500)
    body: str = Field(sa_column=Column(Text, nullable=False))
    message_id: str = Field(max_length=200, description="RFC 5322 Message-ID; stable across retries.")
    correlation_id: str = Field(default="", max_length=120)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False))
    available_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False, index=True)
    )
    sent_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))
    failed_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))
    attempts: int = 0
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
