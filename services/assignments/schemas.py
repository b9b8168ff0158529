"""Request and response bodies of the assignments API."""

from datetime import date, datetime
from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from services.assignments.domain import AssignmentRole, DueState, Role, Status, TaskKind, UnitKind

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """A page of a list: the items and the total count."""

    data: list[T]
    count: int
    offset: int
    limit: int


class UnitCreate(BaseModel):
    """A new unit."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"code": "CB-STC", "name": "Chi bộ Sở Tài chính", "kind": "party_cell", "parent_id": 1}
    ]})

    code: str = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9ĐđÀ-ỹ._-]+$")
    name: str = Field(min_length=1, max_length=300)
    kind: UnitKind
    parent_id: int | None = None


class UnitPublic(UnitCreate):
    """A unit as the API shows it."""

    id: int


class OfficialCreate(BaseModel):
    """A new official."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"name": "Nguyễn Thị Lan", "email": "lan.nt@example.vn", "title": "Trưởng ban",
         "unit_id": 2, "role": "supervisor"}
    ]})

    name: str = Field(min_length=1, max_length=200)
    email: EmailStr
    title: str = Field(default="", max_length=200)
    unit_id: int | None = None
    role: Role


class OfficialPublic(BaseModel):
    """An official as the API shows it."""

    id: int
    name: str
    email: str
    title: str
    unit_id: int | None
    role: Role
    active: bool


class TokenCreate(BaseModel):
    """A label for a new API token."""

    name: str = Field(default="", max_length=100, examples=["máy tính văn phòng"])


class TokenIssued(BaseModel):
    """A freshly created token; the secret is shown only here."""

    id: int
    official_id: int
    name: str
    token: str


class TaskCreate(BaseModel):
    """A task inside a new plan."""

    code: str = Field(min_length=1, max_length=30, examples=["III.1"])
    title: str = Field(min_length=1, max_length=500)
    text: str = Field(default="", max_length=20_000)
    parent_code: str | None = None
    kind: TaskKind = TaskKind.ONE_OFF
    due_on: date | None = None


class PlanCreate(BaseModel):
    """A new plan with its tasks."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "number": "41-KH/ĐUK", "kind": "ke_hoach", "place": "Trà Vinh", "issued_on": "2021-12-15",
        "title": "Kế hoạch thực hiện Chương trình số 22-CTr/TU về phát triển kinh tế đô thị",
        "implements": "22-CTr/TU", "issuer_unit_id": 1,
        "tasks": [{"code": "III.1", "title": "Quán triệt, cụ thể hóa thành chương trình, kế hoạch",
                   "due_on": "2022-03-31"}],
    }]})

    number: str = Field(min_length=1, max_length=60)
    kind: str = Field(default="ke_hoach", max_length=30)
    title: str = Field(min_length=1, max_length=5000)
    issuer_unit_id: int | None = None
    place: str = Field(default="", max_length=100)
    issued_on: date | None = None
    implements: str | None = Field(default=None, max_length=60)
    signer: str = Field(default="", max_length=200)
    recipients: list[str] = Field(default_factory=list, max_length=200)
    tasks: list[TaskCreate] = Field(default_factory=list, max_length=500)


class TaskPublic(BaseModel):
    """A task as the API shows it."""

    id: int
    code: str
    title: str
    text: str
    parent_id: int | None
    kind: TaskKind
    due_on: date | None


class PlanPublic(BaseModel):
    """A plan as the API shows it."""

    id: int
    number: str
    kind: str
    title: str
    issuer_unit_id: int | None
    place: str
    issued_on: date | None
    implements: str | None
    signer: str
    recipients: list[str]
    status: str
    tasks: list[TaskPublic] = []


class AssignmentCreate(BaseModel):
    """Give one task to one or many units."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"task_id": 1, "unit_ids": [3, 4], "role": "lead", "due_on": "2022-03-31"}
    ]})

    task_id: int
    unit_ids: list[int] = Field(min_length=1, max_length=500)
    role: AssignmentRole = AssignmentRole.LEAD
    due_on: date | None = None


class AssignmentPublic(BaseModel):
    """An assignment with its current status and derived due state."""

    id: int
    plan_id: int
    task_id: int
    task_code: str
    task_title: str
    unit_id: int
    unit_code: str
    unit_name: str
    role: AssignmentRole
    due_on: date | None
    status: Status
    progress: int
    due_state: DueState
    version: int
    updated_at: datetime


class StatusUpdateCreate(BaseModel):
    """A unit's report on its assignment."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "status": "in_progress", "progress": 40,
        "summary": "Đã tổ chức quán triệt Chương trình 22-CTr/TU cho 100% đảng viên chi bộ.",
        "difficulties": "Chưa bố trí được kinh phí tập huấn.",
    }]})

    status: Status
    progress: int | None = Field(default=None, ge=0, le=100)
    summary: str = Field(default="", max_length=10_000)
    difficulties: str = Field(default="", max_length=10_000)


class StatusUpdatePublic(BaseModel):
    """A recorded status update."""

    id: int
    assignment_id: int
    status: Status
    progress: int
    summary: str
    difficulties: str
    reported_by_id: int | None
    created_at: datetime
    assignment_version: int | None = None
