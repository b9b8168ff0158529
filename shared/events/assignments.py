"""Events emitted by the assignments service (the system of record)."""

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.events.base import Event


class _Payload(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class UnitPayload(_Payload):
    """A unit of the organisation tree (committee, party cell, board...)."""

    id: int
    code: str = Field(examples=["BTG"])
    name: str = Field(examples=["Ban Tuyên giáo Đảng ủy Khối"])
    kind: str = Field(examples=["advisory_board"])
    parent_id: int | None = None


class OfficialPayload(_Payload):
    """An official of a unit who may receive emails."""

    id: int
    name: str = Field(examples=["Nguyễn Thị Lan"])
    email: str = Field(examples=["lan.nt@travinh.gov.vn"])
    title: str = Field(default="", examples=["Trưởng ban"])
    unit_id: int | None = None
    role: str = Field(examples=["supervisor"])
    active: bool = True


class TaskPayload(_Payload):
    """A numbered task of a plan."""

    id: int
    code: str = Field(examples=["III.1"])
    title: str
    parent_code: str | None = None
    kind: str = Field(default="one_off", examples=["one_off", "ongoing"])
    due_on: date | None = None


class PlanPayload(_Payload):
    """A plan document with its tasks."""

    id: int
    number: str = Field(examples=["41-KH/ĐUK"])
    kind: str = Field(default="ke_hoach")
    title: str
    issuer_unit_id: int | None = None
    issuer_name: str = ""
    place: str = ""
    issued_on: date | None = None
    implements: str | None = Field(default=None, examples=["22-CTr/TU"])
    status: str = "draft"
    tasks: list[TaskPayload] = Field(default_factory=list)


class AssignmentCreatedPayload(_Payload):
    """A task given to a unit."""

    id: int
    plan_id: int
    task_id: int
    task_code: str
    task_title: str
    unit_id: int
    unit_code: str
    unit_name: str
    role: str = Field(default="lead", examples=["lead", "support"])
    due_on: date | None = None
    status: str = "not_started"
    progress: int = 0
    version: int = 1


class AssignmentStatusChangedPayload(_Payload):
    """A unit's status update on its assignment."""

    assignment_id: int
    update_id: int
    plan_id: int
    plan_number: str
    task_id: int
    task_code: str
    task_title: str
    unit_id: int
    unit_code: str
    unit_name: str
    old_status: str
    new_status: str = Field(examples=["in_progress"])
    progress: int = Field(ge=0, le=100)
    summary: str = ""
    difficulties: str = ""
    due_on: date | None = None
    reported_by_id: int | None = None
    reported_by_name: str = ""
    reported_at: datetime
    version: int = Field(description="Assignment version after this update; read models keep the highest.")


class UnitCreatedV1(Event):
    """A unit was created."""

    event_type: Literal["unit.created.v1"] = "unit.created.v1"
    payload: UnitPayload


class OfficialCreatedV1(Event):
    """An official was created."""

    event_type: Literal["official.created.v1"] = "official.created.v1"
    payload: OfficialPayload


class PlanCreatedV1(Event):
    """A plan (with its tasks) was created."""

    event_type: Literal["plan.created.v1"] = "plan.created.v1"
    payload: PlanPayload


class AssignmentCreatedV1(Event):
    """A task was assigned to a unit."""

    event_type: Literal["assignment.created.v1"] = "assignment.created.v1"
    payload: AssignmentCreatedPayload


class AssignmentStatusChangedV1(Event):
    """A unit reported a new status or progress on its assignment."""

    event_type: Literal["assignment.status_changed.v1"] = "assignment.status_changed.v1"
    payload: AssignmentStatusChangedPayload
