"""Time-based occasions found from the facts on a given day: which, with which key, and when not."""

from datetime import date, timedelta

from services.notifications.models import AssignmentFact, PlanFact, RoundFact
from services.notifications.occasions import (
    Timing,
    assignment_occasions,
    round_occasions,
    unit_plan_occasions,
)
from services.notifications.rules import RULES, Audience, Category

TODAY = date(2026, 11, 27)
TIMING = Timing()


def plan(**kw: object) -> PlanFact:
    values: dict[str, object] = {"id": 1, "number": "41-KH/ĐUK", "title": "Kế hoạch", "status": "published",
                                 "version": 1, "reporting_period": "quarterly"}
    return PlanFact(**(values | kw))


def assignment(**kw: object) -> AssignmentFact:
    values: dict[str, object] = {"id": 7, "plan_id": 1, "task_id": 3, "task_code": "III.1", "task_title": "Quán triệt",
                                 "unit_id": 5, "assigned_on": date(2026, 1, 5), "status": "in_progress", "progress": 30}
    return AssignmentFact(**(values | kw))


def keys(found: list) -> list[str]:  # type: ignore[type-arg]
    return [f.key for f in found]


def test_rules_table_names_every_template_once_with_a_category_and_audience() -> None:
    assert len({r.template for r in RULES.values()}) == len(RULES)
    assert {r.category for r in RULES.values()} == set(Category) - {Category.DIGEST}
    assert RULES["escalation"].audience is Audience.SUPERVISORS
    assert RULES["overdue"].audience is Audience.UNIT
    assert RULES["status_reported"].audience is Audience.SUPERVISORS
    assert RULES["review_round_missing"].audience is Audience.SUPERVISORS


def test_deadline_reminders_at_each_lead_time_and_not_between() -> None:
    due = TODAY + timedelta(days=7)
    assert keys(assignment_occasions(assignment(due_on=due), plan(), TODAY, TIMING)) == [f"deadline:7:{due}:7"]
    # between the leads the same occasion (lead 7) is found again: its key was claimed, it is not resent
    assert keys(assignment_occasions(assignment(due_on=due), plan(), TODAY + timedelta(days=3), TIMING)) == [
        f"deadline:7:{due}:7"]
    assert keys(assignment_occasions(assignment(due_on=due), plan(), TODAY + timedelta(days=6), TIMING)) == [
        f"deadline:7:{due}:1"]
    assert assignment_occasions(assignment(due_on=TODAY + timedelta(days=8)), plan(), TODAY, TIMING) == []


def test_an_assignment_created_one_day_before_its_deadline_gets_one_reminder_not_two() -> None:
    found = assignment_occasions(assignment(due_on=TODAY + timedelta(days=1)), plan(), TODAY, TIMING)
    assert keys(found) == [f"deadline:7:{TODAY + timedelta(days=1)}:1"]
    assert found[0].rule is RULES["deadline_approaching"] and found[0].context["days_left"] == 1


def test_overdue_on_day_one_then_every_repeat_and_escalation_after_the_grace_period() -> None:
    due = TODAY - timedelta(days=1)
    a = assignment(due_on=due)
    assert keys(assignment_occasions(a, plan(), TODAY, TIMING)) == [f"overdue:7:{due}:1"]
    day3 = assignment_occasions(a, plan(), due + timedelta(days=3), TIMING)
    assert keys(day3) == [f"overdue:7:{due}:1", f"escalation:7:{due}:1"]
    assert day3[1].rule.audience is Audience.SUPERVISORS and day3[1].context["days_late"] == 3
    # day 7 is still the first repeat window; day 8 the second reminder; escalation repeats on day 10
    assert keys(assignment_occasions(a, plan(), due + timedelta(days=7), TIMING)) == [
        f"overdue:7:{due}:1", f"escalation:7:{due}:1"]
    assert keys(assignment_occasions(a, plan(), due + timedelta(days=8), TIMING)) == [
        f"overdue:7:{due}:2", f"escalation:7:{due}:1"]
    assert keys(assignment_occasions(a, plan(), due + timedelta(days=10), TIMING)) == [
        f"overdue:7:{due}:2", f"escalation:7:{due}:2"]


def test_completed_or_closed_or_without_deadline_is_not_chased() -> None:
    late = TODAY - timedelta(days=5)
    assert assignment_occasions(assignment(due_on=late, status="completed"), plan(), TODAY, TIMING) == []
    assert assignment_occasions(assignment(due_on=late), plan(status="closed"), TODAY, TIMING) == []
    assert assignment_occasions(assignment(due_on=late), plan(status="draft"), TODAY, TIMING) == []
    assert assignment_occasions(assignment(due_on=None), plan(), TODAY, TIMING) == []


def test_ongoing_task_report_due_before_the_period_ends() -> None:
    a = assignment(task_kind="ongoing", assigned_on=date(2026, 10, 2), last_reported_on=None)
    # quarter IV ends 31/12: seven days before, the unit is reminded that the report is due
    found = assignment_occasions(a, plan(), date(2026, 12, 24), TIMING)
    assert keys(found) == ["report_due:7:2026-Q4:7"]
    assert found[0].context["due_on"] == date(2026, 12, 31) and found[0].context["period_label"] == "quý IV/2026"
    assert keys(assignment_occasions(a, plan(), date(2026, 12, 30), TIMING)) == ["report_due:7:2026-Q4:1"]
    assert assignment_occasions(a, plan(), date(2026, 12, 1), TIMING) == []
    reported = assignment(task_kind="ongoing", assigned_on=date(2026, 10, 2), last_reported_on=date(2026, 12, 1))
    assert assignment_occasions(reported, plan(), date(2026, 12, 30), TIMING) == []


def test_ongoing_task_report_missing_after_a_period_passes_unreported() -> None:
    a = assignment(task_kind="ongoing", assigned_on=date(2026, 1, 5), last_reported_on=date(2026, 8, 1))
    found = assignment_occasions(a, plan(), TODAY, TIMING)  # quarter III reported, quarter IV ongoing
    assert found == []
    late = assignment(task_kind="ongoing", assigned_on=date(2026, 1, 5), last_reported_on=date(2026, 5, 1))
    found = assignment_occasions(late, plan(), date(2026, 10, 4), TIMING)
    assert keys(found) == ["overdue:7:2026-Q3:1", "escalation:7:2026-Q3:1"]
    assert found[0].context["period_label"] == "quý III/2026" and found[0].context["days_late"] == 4
    monthly = assignment_occasions(late, plan(reporting_period="monthly"), date(2026, 10, 2), TIMING)
    assert keys(monthly) == ["overdue:7:2026-09:1"]


def test_review_round_reminder_to_units_that_have_not_submitted_then_missing_report() -> None:
    r = RoundFact(id=3, plan_id=1, plan_number="41-KH/ĐUK", kind="preliminary", title="Sơ kết 2023",
                  period_end=date(2026, 11, 30), submit_by=TODAY + timedelta(days=3), unit_ids=[5, 6, 7])
    found = round_occasions(r, {6}, plan(), TODAY, TIMING, anchor=1)
    assert keys(found) == ["round_reminder:3:5", "round_reminder:3:7"]
    assert round_occasions(r, {6}, plan(), TODAY - timedelta(days=1), TIMING, anchor=1) == []
    after = round_occasions(r, {6}, plan(), r.submit_by + timedelta(days=1), TIMING, anchor=1)
    assert keys(after) == ["round_missing:3"]
    assert after[0].unit_id == 1 and after[0].context["missing_unit_ids"] == [5, 7]
    assert after[0].context["expected"] == 3
    assert round_occasions(r, {5, 6, 7}, plan(), r.submit_by + timedelta(days=1), TIMING, anchor=1) == []
    r.opened_on = r.submit_by - timedelta(days=2)  # opened inside the lead time: its email said when
    assert round_occasions(r, {6}, plan(), TODAY, TIMING, anchor=1) == []
    r.opened_on = r.submit_by - timedelta(days=10)
    assert keys(round_occasions(r, {6}, plan(), TODAY, TIMING, anchor=1)) == [
        "round_reminder:3:5", "round_reminder:3:7"]


def test_unit_plan_missing_after_n_days_once_per_unit() -> None:
    published = TODAY - timedelta(days=30)
    assert keys(unit_plan_occasions(plan(), published, [5, 6], TODAY, TIMING)) == ["unit_plan:1:5", "unit_plan:1:6"]
    assert unit_plan_occasions(plan(), published, [5], TODAY - timedelta(days=1), TIMING) == []
    assert unit_plan_occasions(plan(status="closed"), published, [5], TODAY, TIMING) == []
