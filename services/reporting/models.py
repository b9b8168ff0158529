"""The reporting read model: what the review exports are built from, fed only by events."""

from datetime import date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import JSON, Column, DateTime, Index, Text, text
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel


class ReportingModel(SQLModel, registry=registry()):
    """Base of the reporting service's tables."""


class ReportUnit(ReportingModel, table=True):
    """A unit."""

    __tablename__ = "report_units"

    id: int = Field(primary_key=True)
    code: str = Field(max_length=40)
    name: str = Field(max_length=300)
    kind: str = Field(max_length=40)
    parent_id: int | None = None
    email: str | None = Field(default=None, max_length=320)
    directory_version: int = Field(default=0, sa_column_kwargs={"server_default": "0"},
                                   description="directory_version of the event that set this row (0: none).")
    as_of: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True),
                                   description="occurred_at of that event; between unnumbered events the later wins.")


class ReportPlan(ReportingModel, table=True):
    """A plan's identity."""

    __tablename__ = "report_plans"

    id: int = Field(primary_key=True)
    number: str = Field(max_length=60)
    kind: str = Field(default="ke_hoach", max_length=30)
    title: str = Field(default="", sa_column=Column(Text, nullable=False))
    issuer_name: str = Field(default="", max_length=300)
    place: str = Field(default="", max_length=100)
    issued_on: date | None = None
    implements: str | None = Field(default=None, max_length=60)
    status: str = Field(default="draft", max_length=20, description="draft, published or closed; never moves back.")
    period: str = Field(default="", max_length=40, sa_column_kwargs={"server_default": ""})
    vision_year: int | None = None
    signer: str = Field(default="", max_length=200, sa_column_kwargs={"server_default": ""})
    reporting_period: str = Field(default="quarterly", max_length=20, sa_column_kwargs={"server_default": "quarterly"})
    published_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))
    closed_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))
    version: int = Field(default=0, sa_column_kwargs={"server_default": "0"},
                         description="Highest plan version applied; older snapshots are ignored.")


class ReportTask(ReportingModel, table=True):
    """A task of a plan."""

    __tablename__ = "report_tasks"

    id: int = Field(primary_key=True)
    plan_id: int = Field(index=True)
    code: str = Field(max_length=30)
    title: str = Field(max_length=500)
    parent_code: str | None = Field(default=None, max_length=30)
    kind: str = Field(default="one_off", max_length=20)
    due_on: date | None = None
    indicators: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False, server_default=text("'[]'")),
        description="[{code, name, unit_of_measure, target}]",
    )


class ReportAssignment(ReportingModel, table=True):
    """An assignment with its latest reported state."""

    __tablename__ = "report_assignments"

    id: int = Field(primary_key=True)
    plan_id: int = Field(index=True)
    task_id: int
    task_code: str = Field(max_length=30)
    task_title: str = Field(max_length=500)
    task_kind: str = Field(default="one_off", max_length=20, sa_column_kwargs={"server_default": "one_off"},
                           description="As assignment.created said; the plan's task, once known, has the say.")
    unit_id: int = Field(index=True)
    unit_code: str = Field(max_length=40)
    unit_name: str = Field(max_length=300)
    role: str = Field(default="lead", max_length=10)
    due_on: date | None = None
    assigned_on: date | None = Field(default=None, description="Vietnamese day assignment.created occurred on.")
    last_reported_on: date | None = Field(default=None, description="Vietnamese day of the latest status update.")
    status: str = Field(default="not_started", max_length=20)
    progress: int = 0
    summary: str = Field(default="", sa_column=Column(Text, nullable=False))
    difficulties: str = Field(default="", sa_column=Column(Text, nullable=False))
    reported_by: str = Field(default="", max_length=200)
    reported_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))
    completed_on: date | None = None
    version: int = Field(default=0, description="Highest assignment version applied; older events are ignored.")
    update_id: int | None = Field(default=None, description="The latest status update applied.")
    indicator_values: dict[str, float] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False, server_default=text("'{}'"))
    )
    evidence_links: list[str] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False, server_default=text("'[]'"))
    )
    period: str = Field(default="", max_length=40, sa_column_kwargs={"server_default": ""})
    review_state: str = Field(
        default="", max_length=20, sa_column_kwargs={"server_default": ""},
        description="Review of the latest update: pending, accepted or returned ('' before any update).",
    )
    review_reason: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    reviewed_update_id: int | None = Field(default=None, description="The update the review state is about.")
    reviewed_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))


class ReportUnitPlan(ReportingModel, table=True):
    """A unit's own implementing document registered against a plan."""

    __tablename__ = "report_unit_plans"

    id: int = Field(primary_key=True)
    plan_id: int = Field(index=True)
    unit_id: int = Field(index=True)
    unit_code: str = Field(max_length=40)
    unit_name: str = Field(max_length=300)
    number: str = Field(max_length=60)
    issued_on: date
    title: str = Field(sa_column=Column(Text, nullable=False))
    link: str = Field(default="", max_length=2000)


class ReportInspection(ReportingModel, table=True):
    """An inspection or supervision of a unit under a plan."""

    __tablename__ = "report_inspections"

    id: int = Field(primary_key=True)
    plan_id: int = Field(index=True)
    unit_id: int = Field(index=True)
    unit_name: str = Field(max_length=300)
    inspecting_unit_id: int
    inspecting_unit_name: str = Field(max_length=300)
    kind: str = Field(max_length=20)
    inspected_on: date
    conclusion: str = Field(default="", sa_column=Column(Text, nullable=False))
    follow_ups: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class ReportReviewRound(ReportingModel, table=True):
    """A review round (sơ kết / tổng kết) of a plan and the units expected to submit."""

    __tablename__ = "report_review_rounds"

    id: int = Field(primary_key=True)
    plan_id: int = Field(index=True)
    plan_number: str = Field(max_length=60)
    kind: str = Field(max_length=20)
    title: str = Field(max_length=500)
    period_end: date
    submit_by: date
    unit_ids: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    opened_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))


class ReportReviewSubmission(ReportingModel, table=True):
    """A unit's report in a review round."""

    __tablename__ = "report_review_submissions"

    id: int = Field(primary_key=True)
    round_id: int = Field(index=True)
    plan_id: int = Field(index=True)
    unit_id: int
    unit_name: str = Field(max_length=300)
    submitted_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    on_time: bool
    link: str = Field(default="", max_length=2000)
    summary: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    results: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    difficulties: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    proposals: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))


class ReportUpdate(ReportingModel, table=True):
    """One status update, as reported, with its review: the history progress as of a date is
    computed from."""

    __tablename__ = "report_updates"
    # an assignment's newest update by a day (progress and exports as of a date)
    __table_args__ = (Index("ix_report_updates_assignment_time", "assignment_id", "reported_at", "version", "id"),)

    id: int = Field(primary_key=True, description="The update's id in the assignments service.")
    assignment_id: int = Field(index=True)
    plan_id: int = Field(index=True)
    unit_id: int = Field(index=True)
    status: str = Field(max_length=20)
    progress: int = 0
    summary: str = Field(default="", sa_column=Column(Text, nullable=False))
    difficulties: str = Field(default="", sa_column=Column(Text, nullable=False))
    indicator_values: dict[str, float] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    evidence_links: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    period: str = Field(default="", max_length=40)
    reported_by: str = Field(default="", max_length=200)
    reported_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False, index=True))
    version: int = Field(description="The assignment's version after this update.")
    review_state: str = Field(default="pending", max_length=20, description="pending, accepted or returned.")
    review_reason: str = Field(default="", sa_column=Column(Text, nullable=False))
    reviewed_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))


class ReportPendingReview(ReportingModel, table=True):
    """A review whose status update has not arrived yet; applied to the update's row, and deleted,
    when it does."""

    __tablename__ = "report_pending_reviews"

    update_id: int = Field(primary_key=True)
    assignment_id: int = Field(index=True)
    review_state: str = Field(max_length=20, description="accepted or returned.")
    review_reason: str = Field(default="", sa_column=Column(Text, nullable=False))
    reviewed_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class EventArchive(ReportingModel, table=True):
    """Every event reporting consumed, as received, written with its inbox row: what
    `plantrack reporting-rebuild` replays. Not part of the read model (a rebuild keeps it)."""

    __tablename__ = "event_archive"

    event_id: UUID = Field(primary_key=True)
    event_type: str = Field(max_length=120)
    occurred_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False, index=True))
    body: str = Field(sa_column=Column(Text, nullable=False), description="The event as JSON.")
