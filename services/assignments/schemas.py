"""Request and response bodies of the assignments API."""

from datetime import date, datetime
from typing import Annotated, Generic, Literal, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, EmailStr, Field, HttpUrl, model_validator

from services.assignments.domain import (
    AssignmentRole,
    Comparison,
    DueState,
    InspectionKind,
    PlanStatus,
    ReportingPeriod,
    ReviewDecision,
    ReviewRoundKind,
    ReviewState,
    Role,
    Status,
    TaskKind,
    UnitKind,
)
from shared.validation import (
    NOT_NULL,
    BodyId,
    Code,
    FiniteFloat,
    MultilineText,
    Name,
    PatchBody,
    Text,
)

T = TypeVar("T")

TaskCode = Text
"""A task's code such as "III.1" or "II.2.đ": one line, not ASCII-only (list letters include "đ")."""
IndicatorCode = Annotated[Code, Field(min_length=1, max_length=30)]
Recipient = Annotated[Text, Field(max_length=500)]
FollowUp = Annotated[MultilineText, Field(max_length=5_000)]


class Page(BaseModel, Generic[T]):
    """A page of a list: the items and the total count."""

    data: list[T]
    count: int
    offset: int
    limit: int


UNIT_EMAIL = "The unit's own mailbox (hộp thư của đơn vị): reached when no officer of the unit is active."


class UnitCreate(BaseModel):
    """A new unit."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"code": "CB-STC", "name": "Chi bộ Sở Tài chính", "kind": "party_cell", "parent_id": 1,
         "email": "cb.stc@travinh.gov.vn"}
    ]})

    code: Code = Field(min_length=1, max_length=40, description="ASCII letters, digits, '-', '_' and '.'.")
    name: Name = Field(min_length=1, max_length=300)
    kind: UnitKind
    parent_id: BodyId | None = None
    email: EmailStr | None = Field(default=None, description=UNIT_EMAIL)


class UnitUpdate(PatchBody):
    """Changes to a unit (admin): its name, and its mailbox ("" removes it; null is refused)."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"name": "Chi bộ Sở Tài chính tỉnh Trà Vinh", "email": "cb.stc@travinh.gov.vn"}, {"email": ""}
    ]})

    name: Annotated[Name | None, NOT_NULL] = Field(default=None, min_length=1, max_length=300)
    email: Annotated[EmailStr | Literal[""] | None, NOT_NULL] = Field(default=None, description=UNIT_EMAIL)


class UnitPublic(BaseModel):
    """A unit as the API shows it."""

    id: int
    code: str
    name: str
    kind: UnitKind
    parent_id: int | None = None
    email: str | None = None


class OfficialCreate(BaseModel):
    """A new official."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"name": "Nguyễn Thị Lan", "email": "lan.nt@example.vn", "title": "Trưởng ban",
         "unit_id": 2, "role": "supervisor"}
    ]})

    name: Name = Field(min_length=1, max_length=200)
    email: EmailStr
    title: Text = Field(default="", max_length=200)
    unit_id: BodyId | None = None
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

    name: Text = Field(default="", max_length=100, examples=["máy tính văn phòng"])
    expires_at: AwareDatetime | None = Field(
        default=None, description="When the token stops working; none: until revoked.",
        examples=["2027-12-31T17:00:00Z"],
    )


class TokenIssued(BaseModel):
    """A freshly created token; the secret is shown only here."""

    id: int
    official_id: int
    name: str
    token: str
    expires_at: datetime | None = None


class IndicatorSpec(BaseModel):
    """A measurable indicator of a task (chỉ tiêu), with its unit of measure and optional target."""

    code: Code = Field(min_length=1, max_length=30, examples=["lop_tap_huan"])
    name: Name = Field(min_length=1, max_length=300, examples=["Số lớp tập huấn về kinh tế đô thị"])
    unit_of_measure: Text = Field(default="", max_length=50, examples=["lớp"])
    target: FiniteFloat | None = Field(default=None, examples=[2])
    comparison: Comparison = Field(default=Comparison.AT_LEAST,
                                   description="How the achieved figure meets the target: at least, at most, exactly.")


class TaskCreate(BaseModel):
    """A task inside a new plan."""

    code: TaskCode = Field(min_length=1, max_length=30, examples=["III.1"])
    title: Text = Field(min_length=1, max_length=500)
    text: MultilineText = Field(default="", max_length=20_000)
    parent_code: TaskCode | None = Field(default=None, max_length=30)
    kind: TaskKind = TaskKind.ONE_OFF
    due_on: date | None = None
    indicators: list[IndicatorSpec] = Field(default_factory=list, max_length=50)

    @model_validator(mode="after")
    def _ongoing_has_no_deadline(self) -> "TaskCreate":
        if self.kind is TaskKind.ONGOING and self.due_on is not None:
            raise ValueError("an ongoing (thường xuyên) task is reported each period and has no due_on")
        return self


REPORTING_PERIOD = "How often units report on the plan's ongoing (thường xuyên) tasks."


class PlanCreate(BaseModel):
    """A new plan with its tasks."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "number": "41-KH/ĐUK", "kind": "ke_hoach", "place": "Trà Vinh", "issued_on": "2021-12-15",
        "title": "Kế hoạch thực hiện Chương trình số 22-CTr/TU về phát triển kinh tế đô thị",
        "implements": "22-CTr/TU", "issuer_unit_id": 1,
        "tasks": [{"code": "III.1", "title": "Quán triệt, cụ thể hóa thành chương trình, kế hoạch",
                   "due_on": "2022-03-31"}],
    }]})

    number: Text = Field(min_length=1, max_length=60)
    kind: Code = Field(default="ke_hoach", max_length=30)
    title: Text = Field(min_length=1, max_length=5000)
    issuer_unit_id: BodyId | None = None
    place: Text = Field(default="", max_length=100)
    issued_on: date | None = None
    implements: Text | None = Field(default=None, max_length=60)
    implements_date: date | None = None
    period: Text = Field(default="", max_length=60, examples=["2021 - 2025"])
    vision_year: int | None = Field(default=None, ge=1945, le=2200, strict=True, examples=[2030])
    signer: Name = Field(default="", max_length=200, examples=["Phạm Phước Trãi"])
    signer_title: Text = Field(default="", max_length=200, examples=["Phó Bí thư"])
    recipients: list[Recipient] = Field(default_factory=list, max_length=200)
    reporting_period: ReportingPeriod = Field(default=ReportingPeriod.QUARTERLY, description=REPORTING_PERIOD)
    tasks: list[TaskCreate] = Field(default_factory=list, max_length=500)


class PlanUpdate(PatchBody):
    """Corrections to a draft plan's identity (admin); only the fields sent change, and only the
    optional ones (issuer, dates, implemented document, vision year) can be cleared with null."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"title": "Kế hoạch thực hiện Chương trình số 22-CTr/TU (bản sửa)", "signer": "Phạm Phước Trãi"}
    ]})

    number: Annotated[Text | None, NOT_NULL] = Field(default=None, min_length=1, max_length=60)
    kind: Annotated[Code | None, NOT_NULL] = Field(default=None, max_length=30)
    title: Annotated[Text | None, NOT_NULL] = Field(default=None, min_length=1, max_length=5000)
    issuer_unit_id: BodyId | None = None
    place: Annotated[Text | None, NOT_NULL] = Field(default=None, max_length=100)
    issued_on: date | None = None
    implements: Text | None = Field(default=None, max_length=60)
    implements_date: date | None = None
    period: Annotated[Text | None, NOT_NULL] = Field(default=None, max_length=60)
    vision_year: int | None = Field(default=None, ge=1945, le=2200, strict=True)
    signer: Annotated[Name | None, NOT_NULL] = Field(default=None, max_length=200)
    signer_title: Annotated[Text | None, NOT_NULL] = Field(default=None, max_length=200)
    recipients: Annotated[list[Recipient] | None, NOT_NULL] = Field(default=None, max_length=200)
    reporting_period: Annotated[ReportingPeriod | None, NOT_NULL] = Field(default=None, description=REPORTING_PERIOD)


class TaskUpdate(PatchBody):
    """Corrections to a task of a draft plan (admin); only the fields sent change, and only the parent
    and the due date can be cleared with null. A task made ongoing loses its due date."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"title": "Tổ chức quán triệt Nghị quyết đến cán bộ, đảng viên", "due_on": "2026-06-30"},
        {"kind": "ongoing", "parent_code": None},
    ]})

    code: Annotated[TaskCode | None, NOT_NULL] = Field(default=None, min_length=1, max_length=30)
    title: Annotated[Text | None, NOT_NULL] = Field(default=None, min_length=1, max_length=500)
    text: Annotated[MultilineText | None, NOT_NULL] = Field(default=None, max_length=20_000)
    parent_code: TaskCode | None = Field(default=None, max_length=30)
    kind: Annotated[TaskKind | None, NOT_NULL] = None
    due_on: date | None = None
    indicators: Annotated[list[IndicatorSpec] | None, NOT_NULL] = Field(default=None, max_length=50)


class TaskPublic(BaseModel):
    """A task as the API shows it."""

    id: int
    code: str
    title: str
    text: str
    parent_id: int | None
    kind: TaskKind
    due_on: date | None
    indicators: list[IndicatorSpec] = []


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
    implements_date: date | None = None
    period: str = ""
    vision_year: int | None = None
    signer: str
    signer_title: str = ""
    recipients: list[str]
    status: PlanStatus
    reporting_period: ReportingPeriod = ReportingPeriod.QUARTERLY
    published_at: datetime | None = None
    closed_at: datetime | None = None
    version: int = 1
    tasks: list[TaskPublic] = []


class AssignmentCreate(BaseModel):
    """Give one task to one or many units."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"task_id": 1, "unit_ids": [3, 4], "role": "lead", "due_on": "2022-03-31"}
    ]})

    task_id: BodyId
    unit_ids: list[BodyId] = Field(min_length=1, max_length=500)
    role: AssignmentRole = AssignmentRole.LEAD
    due_on: date | None = None


class AssignmentPublic(BaseModel):
    """An assignment with its current status and derived due state."""

    id: int
    plan_id: int
    task_id: int
    task_code: str
    task_title: str
    task_kind: TaskKind = TaskKind.ONE_OFF
    unit_id: int
    unit_code: str
    unit_name: str
    role: AssignmentRole
    due_on: date | None
    status: Status
    progress: int
    due_state: DueState = Field(description=(
        "A one-off task against its deadline; an ongoing (thường xuyên) task against the plan's reporting "
        "period: reported (this period), report_due (its last days), report_missing (the previous period "
        "passed without a report), else within_deadline; no_deadline once completed."))
    last_reported_on: date | None = Field(default=None, description="Day (Vietnam) of the latest status update.")
    version: int
    needs_resubmission: bool = False
    updated_at: datetime


class StatusUpdateCreate(BaseModel):
    """A unit's report on its assignment."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "status": "in_progress", "progress": 40,
        "summary": "Đã tổ chức quán triệt Chương trình 22-CTr/TU cho 100% đảng viên chi bộ.",
        "difficulties": "Chưa bố trí được kinh phí tập huấn.",
    }]})

    status: Status
    progress: int | None = Field(default=None, ge=0, le=100, strict=True)
    summary: MultilineText = Field(default="", max_length=10_000)
    difficulties: MultilineText = Field(default="", max_length=10_000)
    indicator_values: dict[IndicatorCode, FiniteFloat] = Field(default_factory=dict, max_length=50,
                                                               examples=[{"lop_tap_huan": 1}])
    evidence_links: list[HttpUrl] = Field(default_factory=list, max_length=20)
    period: Text = Field(default="", max_length=40, examples=["2026-Q4"],
                        description="Reporting period, for ongoing (thường xuyên) tasks.")


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
    indicator_values: dict[str, float] = {}
    evidence_links: list[str] = []
    period: str = ""
    review_state: ReviewState = ReviewState.PENDING
    reviewed_by_id: int | None = None
    reviewed_at: datetime | None = None
    review_reason: str = ""
    assignment_version: int | None = None


class OfficialUpdate(PatchBody):
    """Changes to an official (admin); only the unit can be cleared with null."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"title": "Phó Trưởng ban", "active": True}]})

    name: Annotated[Name | None, NOT_NULL] = Field(default=None, min_length=1, max_length=200)
    title: Annotated[Text | None, NOT_NULL] = Field(default=None, max_length=200)
    role: Annotated[Role | None, NOT_NULL] = None
    unit_id: BodyId | None = None
    active: Annotated[bool | None, NOT_NULL] = None


class TokenPublic(BaseModel):
    """A token's metadata (never the secret)."""

    id: int
    official_id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    expires_at: datetime | None = None


class UpdateReview(BaseModel):
    """A supervisor's decision on a status update; a return needs a reason."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"decision": "returned", "reason": "Chưa nêu số đảng viên được quán triệt; đề nghị bổ sung."}
    ]})

    decision: ReviewDecision
    reason: MultilineText = Field(default="", max_length=5000)


class UnitPlanCreate(BaseModel):
    """A unit's own implementing document (chương trình, kế hoạch của đơn vị)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "number": "05-KH/CB", "issued_on": "2022-01-10",
        "title": "Kế hoạch thực hiện Kế hoạch số 41-KH/ĐUK của Đảng ủy Khối",
        "link": "https://vanban.example.vn/05-KH-CB.pdf",
    }]})

    unit_id: BodyId | None = Field(default=None, description="Defaults to the caller's unit.")
    number: Text = Field(min_length=1, max_length=60)
    issued_on: date
    title: Text = Field(min_length=1, max_length=1000)
    link: HttpUrl | None = None


class UnitPlanPublic(BaseModel):
    """A registered unit plan."""

    id: int
    plan_id: int
    unit_id: int
    number: str
    issued_on: date
    title: str
    link: str
    registered_by_id: int | None
    created_at: datetime


class InspectionCreate(BaseModel):
    """An inspection or supervision of a unit under a plan."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "plan_id": 1, "unit_id": 9, "kind": "supervision", "inspected_on": "2023-06-15",
        "findings": "Chi bộ đã xây dựng kế hoạch nhưng chưa phân công cụ thể.",
        "conclusion": "Cơ bản thực hiện đúng tiến độ.",
        "follow_ups": ["Bổ sung phân công nhiệm vụ cho từng đảng viên trước ngày 30/7/2023."],
    }]})

    plan_id: BodyId
    unit_id: BodyId
    kind: InspectionKind
    inspected_on: date
    findings: MultilineText = Field(default="", max_length=20_000)
    conclusion: MultilineText = Field(default="", max_length=10_000)
    follow_ups: list[FollowUp] = Field(default_factory=list, max_length=50)
    inspecting_unit_id: BodyId | None = Field(default=None, description="Defaults to the caller's unit.")


class InspectionPublic(BaseModel):
    """A recorded inspection."""

    id: int
    plan_id: int
    unit_id: int
    inspecting_unit_id: int
    kind: InspectionKind
    inspected_on: date
    findings: str
    conclusion: str
    follow_ups: list[str]
    recorded_by_id: int | None
    created_at: datetime


class ReviewRoundCreate(BaseModel):
    """Open a preliminary or final review of a plan."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "kind": "preliminary", "title": "Sơ kết giữa nhiệm kỳ thực hiện Kế hoạch số 41-KH/ĐUK",
        "period_end": "2023-06-30", "submit_by": "2023-07-15",
    }]})

    kind: ReviewRoundKind
    title: Text = Field(default="", max_length=500)
    period_end: date
    submit_by: date


class UnitReviewState(BaseModel):
    """One expected unit's standing in a review round."""

    unit_id: int
    unit_code: str
    unit_name: str
    submitted: bool
    on_time: bool | None
    submitted_at: datetime | None


class ReviewRoundPublic(BaseModel):
    """A review round, with completeness and timeliness per expected unit."""

    id: int
    plan_id: int
    kind: ReviewRoundKind
    title: str
    period_end: date
    submit_by: date
    status: str
    expected: int
    submitted: int
    on_time: int
    late: int
    missing: int
    units: list[UnitReviewState] = []


class SubmissionCreate(BaseModel):
    """A unit's review report."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "summary": "Chi bộ đã quán triệt Chương trình 22-CTr/TU đến 100% đảng viên.",
        "results": "Tổ chức 2 lớp tập huấn; 15/15 đảng viên tham gia.",
        "difficulties": "Kinh phí hạn chế.", "proposals": "Đề nghị Đảng ủy Khối mở thêm lớp bồi dưỡng.",
        "link": "https://vanban.example.vn/bao-cao-so-ket.pdf",
    }]})

    unit_id: BodyId | None = Field(default=None, description="Defaults to the caller's unit.")
    summary: MultilineText = Field(min_length=1, max_length=20_000)
    results: MultilineText = Field(default="", max_length=20_000)
    difficulties: MultilineText = Field(default="", max_length=10_000)
    proposals: MultilineText = Field(default="", max_length=10_000)
    link: HttpUrl | None = None


class SubmissionPublic(BaseModel):
    """A submitted review report."""

    id: int
    round_id: int
    unit_id: int
    summary: str
    results: str
    difficulties: str
    proposals: str
    link: str
    submitted_by_id: int | None
    submitted_at: datetime
    on_time: bool


class UnitCompleteness(BaseModel):
    """How complete one unit's part of a plan is."""

    unit_id: int
    unit_code: str
    unit_name: str
    assignments: int
    completed: int
    overdue: int = Field(description="One-off assignments past their deadline, and ongoing ones whose unit "
                                     "missed the previous period's report (report_missing).")
    unit_plan_registered: bool
    unit_plan_numbers: list[str]


class AuditPublic(BaseModel):
    """An audit trail entry."""

    id: int
    at: datetime
    actor_id: int | None
    actor_name: str
    actor_role: str
    action: str
    entity_type: str
    entity_id: str
    changes: dict
    correlation_id: str
    event_id: str | None


class SuggestedUnit(BaseModel):
    """A body the document gives work to that the organisation tree does not hold: add it, or assign by hand."""

    name: str
    kind: str = Field(examples=["state_agency"])
    task_codes: list[str]


class SuggestedAssignment(BaseModel):
    """An assignment the importer proposes from a task's responsible clause."""

    task_code: str
    role: AssignmentRole
    responsible_text: str
    unit_ids: list[int]


class ImportWarning(BaseModel):
    """An importer's warning: a stable code, the English text, and the values a translation needs."""

    code: str = Field(examples=["no_responsible_unit"])
    text: str = Field(examples=["task II.3: no responsible unit recognised"])
    params: dict[str, str] = Field(default_factory=dict, examples=[{"task": "II.3"}])


class PlanImportResult(BaseModel):
    """What the importer read from a document, for an admin to review before saving."""

    plan: PlanCreate
    suggested_assignments: list[SuggestedAssignment]
    suggested_units: list[SuggestedUnit] = Field(default_factory=list)
    warnings: list[str]
    warning_codes: list[ImportWarning] = Field(default_factory=list, description="The warnings with their codes.")
    draft: dict


class SessionsEnded(BaseModel):
    """How many browser sessions an admin ended."""

    ended: int
