"""Pure domain rules of assignments: status transitions, progress and due state."""

from datetime import date
from enum import StrEnum

# re-exported: the rule is shared with the read models
from shared.due import DueState, ReportingPeriod, assignment_due_state, due_state  # noqa: F401


class Status(StrEnum):
    """Implementation status a unit reports."""

    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"


class RuleViolation(Exception):
    """A request that breaks a domain rule (HTTP 409)."""


ALLOWED_TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.NOT_STARTED: frozenset({Status.IN_PROGRESS, Status.COMPLETED}),
    Status.IN_PROGRESS: frozenset({Status.IN_PROGRESS, Status.COMPLETED}),
    Status.COMPLETED: frozenset(),
}

STATUS_LABELS_VI: dict[str, str] = {
    Status.NOT_STARTED: "Chưa triển khai",
    Status.IN_PROGRESS: "Đang thực hiện",
    Status.COMPLETED: "Đã hoàn thành",
}


def check_transition(current: Status, new: Status) -> None:
    """Raise RuleViolation unless a unit may move from `current` to `new`."""
    if new not in ALLOWED_TRANSITIONS[current]:
        raise RuleViolation(
            f"Status cannot change from '{current}' to '{new}'. "
            f"Allowed next statuses: {', '.join(sorted(ALLOWED_TRANSITIONS[current])) or 'none (completed is final)'}."
        )


def normalise_progress(status: Status, progress: int | None) -> int:
    """Progress implied by or consistent with `status`; raise RuleViolation if it contradicts it."""
    if status is Status.COMPLETED:
        if progress not in (None, 100):
            raise RuleViolation("A completed assignment has progress 100.")
        return 100
    if progress is None:
        raise RuleViolation(f"Progress (0-99) is required with status '{status}'.")
    if status is Status.NOT_STARTED and progress != 0:
        raise RuleViolation("An assignment not started has progress 0.")
    if not 0 <= progress <= 99:
        raise RuleViolation("Progress of an unfinished assignment is between 0 and 99.")
    return progress


class Role(StrEnum):
    """What an official may do."""

    ADMIN = "admin"
    SUPERVISOR = "supervisor"
    UNIT_OFFICER = "unit_officer"
    OBSERVER = "observer"


class UnitKind(StrEnum):
    """Kinds of units in an organisation: a Party bloc committee's, and the State bodies plans name."""

    BLOC_COMMITTEE = "bloc_committee"
    GRASSROOTS_COMMITTEE = "grassroots_committee"
    PARTY_CELL = "party_cell"
    ADVISORY_BOARD = "advisory_board"
    MASS_ORGANISATION = "mass_organisation"
    STATE_AGENCY = "state_agency"
    PEOPLE_COMMITTEE = "people_committee"
    EXTERNAL = "external"


class AssignmentRole(StrEnum):
    """Lead (chủ trì) or support (phối hợp)."""

    LEAD = "lead"
    SUPPORT = "support"


class Comparison(StrEnum):
    """How an indicator's achieved figure meets its target ("đạt trên 90%", "dưới 2%", "100%")."""

    AT_LEAST = "at_least"
    AT_MOST = "at_most"
    EXACTLY = "exactly"


class TaskKind(StrEnum):
    """One-off with a deadline, or ongoing (thường xuyên) reported each period."""

    ONE_OFF = "one_off"
    ONGOING = "ongoing"


class PlanStatus(StrEnum):
    """Lifecycle of a plan."""

    DRAFT = "draft"
    PUBLISHED = "published"
    CLOSED = "closed"


PLAN_TRANSITIONS: dict[PlanStatus, frozenset[PlanStatus]] = {
    PlanStatus.DRAFT: frozenset({PlanStatus.PUBLISHED}),
    PlanStatus.PUBLISHED: frozenset({PlanStatus.CLOSED}),
    PlanStatus.CLOSED: frozenset(),
}


def check_plan_transition(current: PlanStatus, new: PlanStatus, *, task_count: int) -> None:
    """Raise RuleViolation unless a plan may move from `current` to `new`."""
    if new not in PLAN_TRANSITIONS[current]:
        raise RuleViolation(f"A plan cannot go from '{current}' to '{new}'.")
    if new is PlanStatus.PUBLISHED and task_count == 0:
        raise RuleViolation("A plan without tasks cannot be published.")


def check_plan_accepts_reports(status: PlanStatus) -> None:
    """Units report, register their plans and submit reviews only on a published plan."""
    if status is not PlanStatus.PUBLISHED:
        raise RuleViolation(f"The plan is {status}: reports are taken only while it is published.")


def check_plan_accepts_assignments(status: PlanStatus) -> None:
    """Tasks are assigned while the plan is a draft or published, not after it closes."""
    if status is PlanStatus.CLOSED:
        raise RuleViolation("The plan is closed: no new assignments.")


class ReviewDecision(StrEnum):
    """A supervisor's decision on a status update."""

    ACCEPTED = "accepted"
    RETURNED = "returned"


class ReviewState(StrEnum):
    """Where a status update stands in review."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    RETURNED = "returned"


def check_reviewable(state: ReviewState, *, is_latest: bool) -> None:
    """Only the latest, still pending update of an assignment can be reviewed."""
    if state is not ReviewState.PENDING:
        raise RuleViolation(f"This update was already {state}.")
    if not is_latest:
        raise RuleViolation("Only the latest update of an assignment can be reviewed.")


class InspectionKind(StrEnum):
    """Kiểm tra (inspection) or giám sát (supervision)."""

    INSPECTION = "inspection"
    SUPERVISION = "supervision"


class ReviewRoundKind(StrEnum):
    """Sơ kết (preliminary) or tổng kết (final)."""

    PRELIMINARY = "preliminary"
    FINAL = "final"


def submission_on_time(submitted_on: date, submit_by: date) -> bool:
    """A review report is on time when submitted on or before the submit-by date."""
    return submitted_on <= submit_by
