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
    email: str | None = Field(default=None, examples=["btg@travinh.gov.vn"],
                              description="The unit's own mailbox: reached when no officer of it is active.")


class OfficialPayload(_Payload):
    """An official of a unit who may receive emails."""

    id: int
    name: str = Field(examples=["Nguyễn Thị Lan"])
    email: str = Field(examples=["lan.nt@travinh.gov.vn"])
    title: str = Field(default="", examples=["Trưởng ban"])
    unit_id: int | None = None
    role: str = Field(examples=["supervisor"])
    active: bool = True


class ApiTokenPayload(_Payload):
    """An official's API token as the other services need it to authenticate callers: only its
    SHA-256 travels, never the token itself."""

    id: int
    official_id: int
    token_hash: str = Field(pattern=r"^[0-9a-f]{64}$", description="SHA-256 of the bearer token, hex.",
                            examples=["9f86d081884c7d659a2feaea0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a0"])
    expires_at: datetime | None = Field(default=None, description="No longer valid from this moment.")
    revoked_at: datetime | None = Field(default=None, description="Set once revoked; revocation is final.")


class IndicatorPayload(_Payload):
    """A figure a task is measured by (chỉ tiêu), and its target if the plan sets one."""

    code: str = Field(examples=["CT1"])
    name: str = Field(examples=["Tỷ lệ đảng viên được quán triệt"])
    unit_of_measure: str = Field(default="", examples=["%"])
    target: float | None = None
    comparison: str = Field(default="at_least", examples=["at_least", "at_most", "exactly"])


class TaskPayload(_Payload):
    """A numbered task of a plan."""

    id: int
    code: str = Field(examples=["III.1"])
    title: str
    parent_code: str | None = None
    kind: str = Field(default="one_off", examples=["one_off", "ongoing"])
    due_on: date | None = None
    indicators: list[IndicatorPayload] = Field(default_factory=list)


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
    period: str = ""
    vision_year: int | None = None
    signer: str = ""
    reporting_period: str = Field(
        default="quarterly", examples=["monthly", "quarterly", "half_yearly", "yearly"],
        description="How often units report on ongoing (thường xuyên) tasks.")
    version: int = Field(default=1, description="Plan version; read models keep the highest.")
    tasks: list[TaskPayload] = Field(default_factory=list)


class AssignmentCreatedPayload(_Payload):
    """A task given to a unit."""

    id: int
    plan_id: int
    plan_number: str = ""
    task_id: int
    task_code: str
    task_title: str
    task_kind: str = Field(default="one_off", examples=["one_off", "ongoing"])
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
    indicator_values: dict[str, float] = Field(default_factory=dict)
    evidence_links: list[str] = Field(default_factory=list)
    period: str = ""


class UnitCreatedV1(Event):
    """A unit was created."""

    event_type: Literal["unit.created.v1"] = "unit.created.v1"
    payload: UnitPayload


class UnitUpdatedV1(Event):
    """A unit's name or mailbox changed."""

    event_type: Literal["unit.updated.v1"] = "unit.updated.v1"
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


class PlanStatusPayload(_Payload):
    """A plan moved through its lifecycle (draft → published → closed)."""

    plan_id: int
    number: str
    status: str = Field(examples=["published", "closed"])
    changed_at: datetime


class UpdateReviewedPayload(_Payload):
    """A supervisor accepted or returned a unit's status update."""

    update_id: int
    assignment_id: int
    plan_id: int
    plan_number: str
    task_code: str
    task_title: str
    unit_id: int
    unit_name: str
    decision: str = Field(examples=["accepted", "returned"])
    reason: str = ""
    reviewer_id: int
    reviewer_name: str
    assignment_status: str = Field(description="Assignment status after the review.")
    assignment_progress: int
    version: int = Field(description="Assignment version after the review.")
    reviewed_at: datetime


class UnitPlanPayload(_Payload):
    """A unit's own implementing document, registered against a plan."""

    id: int
    plan_id: int
    unit_id: int
    unit_code: str
    unit_name: str
    number: str
    issued_on: date
    title: str
    link: str = ""


class InspectionPayload(_Payload):
    """An inspection or supervision of a unit under a plan."""

    id: int
    plan_id: int
    unit_id: int
    unit_name: str
    inspecting_unit_id: int
    inspecting_unit_name: str
    kind: str = Field(examples=["inspection", "supervision"])
    inspected_on: date
    conclusion: str = ""
    follow_ups: list[str] = Field(default_factory=list)


class ReviewRoundPayload(_Payload):
    """A review round (sơ kết / tổng kết) opened on a plan."""

    id: int
    plan_id: int
    plan_number: str
    kind: str = Field(examples=["preliminary", "final"])
    title: str
    period_end: date
    submit_by: date
    unit_ids: list[int] = Field(default_factory=list, description="Units expected to submit.")


class ReviewSubmissionPayload(_Payload):
    """A unit's report in a review round."""

    id: int
    round_id: int
    plan_id: int
    unit_id: int
    unit_name: str
    submitted_at: datetime
    on_time: bool
    link: str = ""
    summary: str = ""
    results: str = ""
    difficulties: str = ""
    proposals: str = ""


class OfficialUpdatedV1(Event):
    """An official's data, role or active flag changed."""

    event_type: Literal["official.updated.v1"] = "official.updated.v1"
    payload: OfficialPayload


class PlanUpdatedV1(Event):
    """A draft plan's identity or tasks were edited."""

    event_type: Literal["plan.updated.v1"] = "plan.updated.v1"
    payload: PlanPayload


class PlanPublishedV1(Event):
    """A plan was published: its assignments are now in force."""

    event_type: Literal["plan.published.v1"] = "plan.published.v1"
    payload: PlanStatusPayload


class PlanClosedV1(Event):
    """A plan was closed: no more updates."""

    event_type: Literal["plan.closed.v1"] = "plan.closed.v1"
    payload: PlanStatusPayload


class StatusUpdateReviewedV1(Event):
    """A supervisor accepted or returned a status update."""

    event_type: Literal["status_update.reviewed.v1"] = "status_update.reviewed.v1"
    payload: UpdateReviewedPayload


class UnitPlanRegisteredV1(Event):
    """A unit registered its own implementing plan."""

    event_type: Literal["unit_plan.registered.v1"] = "unit_plan.registered.v1"
    payload: UnitPlanPayload


class InspectionRecordedV1(Event):
    """An advisory board recorded an inspection or supervision."""

    event_type: Literal["inspection.recorded.v1"] = "inspection.recorded.v1"
    payload: InspectionPayload


class ReviewRoundOpenedV1(Event):
    """A review round was opened on a plan."""

    event_type: Literal["review_round.opened.v1"] = "review_round.opened.v1"
    payload: ReviewRoundPayload


class ReviewSubmissionSubmittedV1(Event):
    """A unit submitted its review report."""

    event_type: Literal["review_submission.submitted.v1"] = "review_submission.submitted.v1"
    payload: ReviewSubmissionPayload


class ApiTokenIssuedV1(Event):
    """An API token was issued to an official."""

    event_type: Literal["api_token.issued.v1"] = "api_token.issued.v1"
    payload: ApiTokenPayload


class ApiTokenRevokedV1(Event):
    """An API token was revoked (by an admin, or replaced as the bootstrap token)."""

    event_type: Literal["api_token.revoked.v1"] = "api_token.revoked.v1"
    payload: ApiTokenPayload
