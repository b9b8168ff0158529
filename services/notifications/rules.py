"""Who is emailed about what: the rules of the notifications service, as data.

Each rule names its occasion (an event, or a moment the scanner finds), its audience, its template
and its category (what an official may mute). Tests read this table; the handlers and the scanner
look their rule up here instead of spelling out audiences and templates themselves.
"""

from dataclasses import dataclass
from enum import StrEnum


class Category(StrEnum):
    """What an official may mute, one by one."""

    ASSIGNMENT = "assignment"
    STATUS_UPDATE = "status_update"
    RETURNED = "returned"
    DEADLINE = "deadline"
    OVERDUE = "overdue"
    ESCALATION = "escalation"
    REVIEW = "review"
    UNIT_PLAN = "unit_plan"
    DIGEST = "digest"


CATEGORY_LABELS_VI: dict[Category, str] = {
    Category.ASSIGNMENT: "Giao nhiệm vụ",
    Category.STATUS_UPDATE: "Báo cáo của đơn vị",
    Category.RETURNED: "Báo cáo bị trả lại",
    Category.DEADLINE: "Nhắc hạn nhiệm vụ",
    Category.OVERDUE: "Nhiệm vụ quá hạn",
    Category.ESCALATION: "Đơn vị chậm thực hiện",
    Category.REVIEW: "Sơ kết, tổng kết",
    Category.UNIT_PLAN: "Kế hoạch thực hiện của đơn vị",
    Category.DIGEST: "Thư tổng hợp hằng ngày",
}


class Audience(StrEnum):
    """Who a rule writes to."""

    UNIT = "unit"  # the unit's active officers; if none, the unit's own mailbox
    SUPERVISORS = "supervisors"  # supervisors of the boards in the unit's tree and of its ancestors


@dataclass(frozen=True)
class Rule:
    """One row of the table."""

    name: str
    occasion: str
    audience: Audience
    template: str
    category: Category


_RULES = (
    Rule("assignment_given", "plan.published.v1, assignment.created.v1 on a published plan",
         Audience.UNIT, "assignment_given", Category.ASSIGNMENT),
    Rule("status_reported", "assignment.status_changed.v1", Audience.SUPERVISORS, "status_reported",
         Category.STATUS_UPDATE),
    Rule("update_returned", "status_update.reviewed.v1 (returned)", Audience.UNIT, "update_returned",
         Category.RETURNED),
    Rule("deadline_approaching", "scan: deadline (or end of an ongoing task's period) within a lead time",
         Audience.UNIT, "deadline_approaching", Category.DEADLINE),
    Rule("overdue", "scan: deadline passed (or a period passed without a report), then every repeat interval",
         Audience.UNIT, "overdue", Category.OVERDUE),
    Rule("escalation", "scan: still overdue after the grace period, then every repeat interval",
         Audience.SUPERVISORS, "escalation", Category.ESCALATION),
    Rule("review_round_opened", "review_round.opened.v1", Audience.UNIT, "review_round_opened", Category.REVIEW),
    Rule("review_round_reminder", "scan: submit-by date within the lead time, unit has not submitted",
         Audience.UNIT, "review_round_reminder", Category.REVIEW),
    Rule("review_round_missing", "scan: submit-by date passed with units missing",
         Audience.SUPERVISORS, "review_round_missing", Category.REVIEW),
    Rule("unit_plan_missing", "scan: no unit plan registered N days after publication",
         Audience.UNIT, "unit_plan_missing", Category.UNIT_PLAN),
)

RULES: dict[str, Rule] = {rule.name: rule for rule in _RULES}
