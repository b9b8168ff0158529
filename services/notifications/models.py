"""Tables of the notifications service: its copy of the directory and of the assignment facts it
chases, preferences, claimed occasions, digest items and outgoing emails."""

from datetime import date, datetime
from uuid import UUID

from sqlalchemy import JSON, Column, DateTime, Index, Text, UniqueConstraint, event, text
from sqlalchemy.orm import Session, registry
from sqlmodel import Field, SQLModel

from shared.events.base import utcnow
from shared.messaging.wakeup import notify_on_commit


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
    email: str = Field(default="", max_length=320, description="The unit's own mailbox, if any.")
    as_of: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True),
        description="occurred_at of the event that last set this row; older events are ignored.",
    )


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
    unit_id: int | None = Field(default=None, description="unit.created/updated: the unit")
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


DUE = text("sent_at IS NULL AND failed_at IS NULL")


class OutgoingEmail(NotificationsModel, table=True):
    """An email to send; written with the inbox row, sent by the mail worker."""

    __tablename__ = "outgoing_emails"
    # a row with no recipient is a warning: the unit it names could be reached by nobody
    __table_args__ = (UniqueConstraint("event_id", "recipient", "recipient_unit_id",
                                       name="uq_outgoing_emails_event_recipient_unit"),
                      # what the mail sender claims: only the emails still to send, however long the history
                      Index("ix_outgoing_emails_due", "id", postgresql_where=DUE, sqlite_where=DUE))

    id: int | None = Field(default=None, primary_key=True)
    event_id: UUID = Field(index=True)
    event_type: str = Field(max_length=120)
    recipient: str = Field(max_length=320)
    recipient_name: str = Field(default="", max_length=200)
    recipient_official_id: int | None = Field(default=None, description="The official it was written for.")
    recipient_unit_id: int | None = Field(default=None, index=True,
                                          description="That official's unit: who may read this row.")
    kind: str = Field(default="", max_length=60, description="The rule that wrote it (its template's name).")
    category: str = Field(default="", max_length=40, index=True, description="What an official may mute.")
    subject: str = Field(max_length=500)
    body: str = Field(sa_column=Column(Text, nullable=False))
    html: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    unsubscribe_url: str = Field(default="", max_length=1000,
                                 description="One-click link muting this email's category for its recipient.")
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


def _ts(nullable: bool = False, **kw: object) -> Column:  # type: ignore[type-arg]
    return Column(DateTime(timezone=True), nullable=nullable, **kw)  # type: ignore[arg-type]


class PlanFact(NotificationsModel, table=True):
    """What this service knows of a plan, from plan events."""

    __tablename__ = "plan_facts"

    id: int = Field(primary_key=True)
    number: str = Field(default="", max_length=60)
    title: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    issuer_unit_id: int | None = None
    issuer_name: str = Field(default="", max_length=300)
    reporting_period: str = Field(default="quarterly", max_length=20)
    version: int = 0
    status: str = Field(default="draft", max_length=20)
    published_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


class AssignmentFact(NotificationsModel, table=True):
    """What this service knows of an assignment: its deadline and how far the unit got."""

    __tablename__ = "assignment_facts"

    id: int = Field(primary_key=True)
    plan_id: int = Field(index=True)
    task_id: int
    task_code: str = Field(max_length=30)
    task_title: str = Field(sa_column=Column(Text, nullable=False))
    task_kind: str = Field(default="one_off", max_length=20)
    unit_id: int = Field(index=True)
    role: str = Field(default="lead", max_length=10)
    due_on: date | None = None
    assigned_on: date
    status: str = Field(default="not_started", max_length=20)
    progress: int = 0
    completed_on: date | None = None
    last_reported_on: date | None = None
    version: int = 0
    given_notified: bool = Field(default=False, description="The unit was told it was given this task.")


class UnitPlanFact(NotificationsModel, table=True):
    """A unit registered its own plan implementing a plan."""

    __tablename__ = "unit_plan_facts"

    plan_id: int = Field(primary_key=True)
    unit_id: int = Field(primary_key=True)


class RoundFact(NotificationsModel, table=True):
    """A review round (sơ kết, tổng kết) and the units expected to submit."""

    __tablename__ = "round_facts"

    id: int = Field(primary_key=True)
    plan_id: int = Field(index=True)
    plan_number: str = Field(default="", max_length=60)
    kind: str = Field(max_length=20)
    title: str = Field(max_length=500)
    period_end: date
    submit_by: date
    opened_on: date | None = Field(default=None, description="Local date the round was opened.")
    unit_ids: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class SubmissionFact(NotificationsModel, table=True):
    """A unit submitted its report in a review round."""

    __tablename__ = "submission_facts"

    round_id: int = Field(primary_key=True)
    unit_id: int = Field(primary_key=True)


class Occasion(NotificationsModel, table=True):
    """A time-based occasion claimed once, in the transaction that writes its emails: its key is
    unique, so a restart or a second replica never sends it again."""

    __tablename__ = "occasions"

    key: str = Field(primary_key=True, max_length=200)
    claimed_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class Preference(NotificationsModel, table=True):
    """How an official (or, by a negative id, a unit's mailbox) wants to be emailed."""

    __tablename__ = "preferences"

    official_id: int = Field(primary_key=True)
    mode: str = Field(default="immediate", max_length=20)
    digest_hour: int = 7
    muted: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class DigestItem(NotificationsModel, table=True):
    """What an immediate email would have said, held for the recipient's next daily digest."""

    __tablename__ = "digest_items"
    __table_args__ = (UniqueConstraint("source_id", "official_id"),)

    id: int | None = Field(default=None, primary_key=True)
    source_id: UUID = Field(description="The event or occasion it comes from.")
    official_id: int = Field(index=True)
    recipient: str = Field(max_length=320)
    recipient_name: str = Field(default="", max_length=200)
    recipient_unit_id: int | None = None
    kind: str = Field(max_length=60)
    category: str = Field(max_length=40)
    subject: str = Field(max_length=500)
    text_content: str = Field(sa_column=Column(Text, nullable=False))
    html_content: str = Field(sa_column=Column(Text, nullable=False))
    link: str = Field(default="", max_length=1000)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts(index=True))
    digest_email_id: int | None = Field(default=None, index=True, description="The digest that carried it.")


class SigningKey(NotificationsModel, table=True):
    """A key generated once and shared by every replica (unless settings give one)."""

    __tablename__ = "signing_keys"

    name: str = Field(primary_key=True, max_length=40)
    value: str = Field(max_length=200)


MAIL_CHANNEL = "plantrack_mail"


@event.listens_for(Session, "before_flush")
def _wake_mail_senders(session: Session, _context: object, _instances: object) -> None:
    """A transaction that stages emails wakes the mail senders (in any process) when it commits."""
    if any(isinstance(row, OutgoingEmail) for row in session.new):
        notify_on_commit(session, MAIL_CHANNEL)
