"""Tables of the assignments service (its own metadata; shared outbox rows live beside them)."""

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, LargeBinary, Text, UniqueConstraint, text
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from shared.events.base import utcnow


class AssignmentsModel(SQLModel, registry=registry()):
    """Base of the assignments service's tables."""


def _ts(**kw: object) -> Column:  # type: ignore[type-arg]
    return Column(DateTime(timezone=True), **kw)  # type: ignore[arg-type]


class Unit(AssignmentsModel, table=True):
    """A node of the organisation tree."""

    __tablename__ = "units"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=40, unique=True)
    name: str = Field(max_length=300)
    kind: str = Field(max_length=40)
    parent_id: int | None = Field(default=None, foreign_key="units.id", index=True)
    email: str | None = Field(default=None, max_length=320, description="The unit's own mailbox.")
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))


class Official(AssignmentsModel, table=True):
    """A person acting for a unit."""

    __tablename__ = "officials"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    email: str = Field(max_length=320, unique=True)
    title: str = Field(default="", max_length=200)
    unit_id: int | None = Field(default=None, foreign_key="units.id", index=True)
    role: str = Field(max_length=20)
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))


class ApiToken(AssignmentsModel, table=True):
    """A bearer token of an official; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: int | None = Field(default=None, primary_key=True)
    official_id: int = Field(foreign_key="officials.id", index=True)
    name: str = Field(default="", max_length=100)
    token_hash: str = Field(max_length=64, unique=True)
    prefix: str = Field(max_length=12)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))
    last_used_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    revoked_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    expires_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    bootstrap: bool = Field(default=False, sa_column_kwargs={"server_default": "false"},
                            description="Installed from PLANTRACK_ADMIN_TOKEN; replaced when that changes.")


class Plan(AssignmentsModel, table=True):
    """A plan document (kế hoạch, chương trình...)."""

    __tablename__ = "plans"

    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(max_length=60, unique=True)
    kind: str = Field(default="ke_hoach", max_length=30)
    title: str = Field(sa_column=Column(Text, nullable=False))
    issuer_unit_id: int | None = Field(default=None, foreign_key="units.id")
    place: str = Field(default="", max_length=100)
    issued_on: date | None = None
    implements: str | None = Field(default=None, max_length=60)
    implements_date: date | None = None
    period: str = Field(default="", max_length=60)
    vision_year: int | None = None
    signer: str = Field(default="", max_length=200)
    signer_title: str = Field(default="", max_length=200)
    recipients: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    status: str = Field(default="draft", max_length=20)
    reporting_period: str = Field(default="quarterly", max_length=20,
                                  sa_column_kwargs={"server_default": "quarterly"},
                                  description="How often units report on ongoing tasks (shared.due.ReportingPeriod).")
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))
    published_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    closed_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    version: int = 1


class Task(AssignmentsModel, table=True):
    """A numbered task of a plan."""

    __tablename__ = "tasks"
    __table_args__ = (UniqueConstraint("plan_id", "code"),)

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plans.id", index=True)
    code: str = Field(max_length=30)
    title: str = Field(max_length=500)
    text: str = Field(default="", sa_column=Column(Text, nullable=False))
    parent_id: int | None = Field(default=None, foreign_key="tasks.id")
    kind: str = Field(default="one_off", max_length=20)
    due_on: date | None = None
    indicators: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False),
        description="[{code, name, unit_of_measure, target}]",
    )


class Assignment(AssignmentsModel, table=True):
    """A task given to a unit, with its current status."""

    __tablename__ = "assignments"
    __table_args__ = (UniqueConstraint("task_id", "unit_id"),)

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plans.id", index=True)
    task_id: int = Field(foreign_key="tasks.id", index=True)
    unit_id: int = Field(foreign_key="units.id", index=True)
    role: str = Field(default="lead", max_length=10)
    due_on: date | None = None
    status: str = Field(default="not_started", max_length=20, index=True)
    progress: int = 0
    version: int = 1
    completed_on: date | None = None
    last_reported_on: date | None = Field(default=None, description="Vietnamese day of the latest status update.")
    needs_resubmission: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))


class StatusUpdate(AssignmentsModel, table=True):
    """An immutable report of a unit on its assignment."""

    __tablename__ = "status_updates"

    id: int | None = Field(default=None, primary_key=True)
    assignment_id: int = Field(foreign_key="assignments.id", index=True)
    status: str = Field(max_length=20)
    progress: int
    summary: str = Field(default="", sa_column=Column(Text, nullable=False))
    difficulties: str = Field(default="", sa_column=Column(Text, nullable=False))
    indicator_values: dict[str, float] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    evidence_links: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    period: str = Field(default="", max_length=40, description="Reporting period of an ongoing task, e.g. 2026-Q4.")
    previous_status: str = Field(default="not_started", max_length=20)
    previous_progress: int = 0
    reported_by_id: int | None = Field(default=None, foreign_key="officials.id")
    correlation_id: str = Field(default="", max_length=120)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))
    review_state: str = Field(default="pending", max_length=20, index=True)
    reviewed_by_id: int | None = Field(default=None, foreign_key="officials.id")
    reviewed_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    review_reason: str = Field(default="", sa_column=Column(Text, nullable=False))


class UnitPlan(AssignmentsModel, table=True):
    """A unit's own implementing document (chương trình, kế hoạch) registered against a plan."""

    __tablename__ = "unit_plans"
    __table_args__ = (UniqueConstraint("plan_id", "unit_id", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plans.id", index=True)
    unit_id: int = Field(foreign_key="units.id", index=True)
    number: str = Field(max_length=60)
    issued_on: date
    title: str = Field(max_length=1000)
    link: str = Field(default="", max_length=2000)
    registered_by_id: int | None = Field(default=None, foreign_key="officials.id")
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))


class Inspection(AssignmentsModel, table=True):
    """An inspection or supervision (kiểm tra, giám sát) of a unit under a plan."""

    __tablename__ = "inspections"

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plans.id", index=True)
    unit_id: int = Field(foreign_key="units.id", index=True)
    inspecting_unit_id: int = Field(foreign_key="units.id")
    kind: str = Field(max_length=20, description="inspection (kiểm tra) or supervision (giám sát)")
    inspected_on: date
    findings: str = Field(default="", sa_column=Column(Text, nullable=False))
    conclusion: str = Field(default="", sa_column=Column(Text, nullable=False))
    follow_ups: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    recorded_by_id: int | None = Field(default=None, foreign_key="officials.id")
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))


class ReviewRound(AssignmentsModel, table=True):
    """A preliminary (sơ kết) or final (tổng kết) review of a plan."""

    __tablename__ = "review_rounds"

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plans.id", index=True)
    kind: str = Field(max_length=20, description="preliminary or final")
    title: str = Field(max_length=500)
    period_end: date
    submit_by: date
    status: str = Field(default="open", max_length=20)
    opened_by_id: int | None = Field(default=None, foreign_key="officials.id")
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))


class ReviewSubmission(AssignmentsModel, table=True):
    """A unit's review report in a review round."""

    __tablename__ = "review_submissions"
    __table_args__ = (UniqueConstraint("round_id", "unit_id"),)

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="review_rounds.id", index=True)
    unit_id: int = Field(foreign_key="units.id", index=True)
    summary: str = Field(default="", sa_column=Column(Text, nullable=False))
    results: str = Field(default="", sa_column=Column(Text, nullable=False))
    difficulties: str = Field(default="", sa_column=Column(Text, nullable=False))
    proposals: str = Field(default="", sa_column=Column(Text, nullable=False))
    link: str = Field(default="", max_length=2000)
    submitted_by_id: int | None = Field(default=None, foreign_key="officials.id")
    submitted_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))


class DirectoryClock(AssignmentsModel, table=True):
    """One row: how many directory events (units and officials) have been raised, gap-free."""

    __tablename__ = "directory_clock"

    id: int = Field(default=1, primary_key=True)
    version: int = 0


class AuditEntry(AssignmentsModel, table=True):
    """Who changed what, when, under which request. Append-only."""

    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False, index=True))
    actor_id: int | None = Field(default=None, index=True)
    actor_name: str = Field(default="", max_length=200)
    actor_role: str = Field(default="", max_length=20)
    action: str = Field(max_length=80, index=True)
    entity_type: str = Field(max_length=40, index=True)
    entity_id: str = Field(max_length=40, index=True)
    changes: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    correlation_id: str = Field(default="", max_length=120, index=True)
    event_id: str | None = Field(default=None, max_length=36)


class SigninLink(AssignmentsModel, table=True):
    """A one-time sign-in link emailed to an official; only its SHA-256 is stored."""

    __tablename__ = "signin_links"

    id: int | None = Field(default=None, primary_key=True)
    official_id: int = Field(foreign_key="officials.id", index=True)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))
    expires_at: datetime = Field(sa_column=_ts(nullable=False))
    used_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


class WebSession(AssignmentsModel, table=True):
    """A browser session opened by a sign-in link; only its token's SHA-256 is stored."""

    __tablename__ = "web_sessions"

    id: int | None = Field(default=None, primary_key=True)
    official_id: int = Field(foreign_key="officials.id", index=True)
    session_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))
    expires_at: datetime = Field(sa_column=_ts(nullable=False))
    ended_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    ended_reason: str = Field(default="", max_length=40, sa_column_kwargs={"server_default": ""})


class SigninAttempt(AssignmentsModel, table=True):
    """Sign-in link requests counted in a fixed window, per email (hashed) or per client address."""

    __tablename__ = "signin_attempts"

    key: str = Field(primary_key=True, max_length=120)
    window_start: datetime = Field(sa_column=_ts(nullable=False))
    count: int = Field(default=0, sa_column_kwargs={"server_default": "0"})


class AttachmentBlob(AssignmentsModel, table=True):
    """The bytes of an attached file, once per content (keyed by their SHA-256)."""

    __tablename__ = "attachment_blobs"

    sha256: str = Field(primary_key=True, max_length=64)
    size: int
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))


class Attachment(AssignmentsModel, table=True):
    """A file a unit attached to its assignment (optionally to one of its reports)."""

    __tablename__ = "attachments"

    id: int | None = Field(default=None, primary_key=True)
    assignment_id: int = Field(foreign_key="assignments.id", index=True)
    update_id: int | None = Field(default=None, foreign_key="status_updates.id")
    blob_sha256: str = Field(foreign_key="attachment_blobs.sha256", max_length=64, index=True)
    file_name: str = Field(max_length=255)
    media_type: str = Field(max_length=100)
    size: int
    uploaded_by_id: int | None = Field(default=None, foreign_key="officials.id")
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))


class ImportResult(AssignmentsModel, table=True):
    """What the importer reported on the draft it made (warnings, suggested assignments and units), kept until
    publishing."""

    __tablename__ = "import_results"

    plan_id: int = Field(foreign_key="plans.id", primary_key=True)
    warnings: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False), description="[{code, text, params}]",
    )
    suggestions: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False),
        description="[{task_code, role, responsible_text, unit_ids}]",
    )
    new_units: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False, server_default=text("'[]'")),
        description="[{name, kind, task_codes}]: bodies the document names that no unit is",
    )
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))
