"""The reporting read model: what the review exports are built from, fed only by events."""

from datetime import date, datetime

from sqlalchemy import Column, DateTime, Text
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
    status: str = Field(default="draft", max_length=20)


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


class ReportAssignment(ReportingModel, table=True):
    """An assignment with its latest reported state."""

    __tablename__ = "report_assignments"

    id: int = Field(primary_key=True)
    plan_id: int = Field(index=True)
    task_id: int
    task_code: str = Field(max_length=30)
    task_title: str = Field(max_length=500)
    unit_id: int = Field(index=True)
    unit_code: str = Field(max_length=40)
    unit_name: str = Field(max_length=300)
    role: str = Field(default="lead", max_length=10)
    due_on: date | None = None
    status: str = Field(default="not_started", max_length=20)
    progress: int = 0
    summary: str = Field(default="", sa_column=Column(Text, nullable=False))
    difficulties: str = Field(default="", sa_column=Column(Text, nullable=False))
    reported_by: str = Field(default="", max_length=200)
    reported_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))
    completed_on: date | None = None
    version: int = Field(default=0, description="Highest assignment version applied; older events are ignored.")
