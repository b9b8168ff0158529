"""Time-based occasions, found from the facts on a given day (pure functions, no database).

Each occasion has a key that names it for good: the same deadline reminder, the third overdue
reminder of an assignment, a review round's missing-units report. The scanner claims the key
before writing the emails, so whatever runs the scan, an occasion is emailed once.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from services.notifications.models import AssignmentFact, PlanFact, RoundFact
from services.notifications.periods import period_vi
from services.notifications.rules import RULES, Rule
from shared.due import DueState, ongoing_due_state, period_bounds, period_label

UNIT_PLAN_KINDS = frozenset({"grassroots_committee", "party_cell"})  # who must turn a plan into their own


@dataclass(frozen=True)
class Timing:
    """The lead times, grace and repeat intervals of the time-based rules, in days."""

    deadline_lead_days: tuple[int, ...] = (7, 1)
    overdue_grace_days: int = 3
    overdue_repeat_days: int = 7
    round_lead_days: int = 3
    unit_plan_after_days: int = 30


@dataclass(frozen=True)
class Found:
    """An occasion due on the day: its key, its rule, the unit it is about, what the email says."""

    key: str
    rule: Rule
    unit_id: int
    context: dict[str, Any] = field(default_factory=dict)
    link: str = ""


def _lead(days_left: int, leads: Iterable[int]) -> int | None:
    """The smallest lead time that `days_left` falls within (so a late-created assignment gets one
    reminder, not all of them at once)."""
    within = [lead for lead in leads if 0 <= days_left <= lead]
    return min(within) if within else None


def _lateness(key: str, a: AssignmentFact, days_late: int, timing: Timing, context: dict[str, Any]) -> list[Found]:
    """The overdue reminder to the unit (day 1, then every repeat) and, after the grace period, the
    escalation to the supervisors (then every repeat)."""
    found = []
    repeat = timing.overdue_repeat_days
    n = 1 + (days_late - 1) // repeat
    found.append(Found(f"overdue:{key}:{n}", RULES["overdue"], a.unit_id,
                       {**context, "days_late": days_late, "reminder_number": n}))
    if days_late >= timing.overdue_grace_days:
        m = 1 + (days_late - timing.overdue_grace_days) // repeat
        found.append(Found(f"escalation:{key}:{m}", RULES["escalation"], a.unit_id,
                           {**context, "days_late": days_late, "reminder_number": m}))
    return found


def assignment_occasions(a: AssignmentFact, plan: PlanFact, today: date, timing: Timing) -> list[Found]:
    """Deadline reminders, overdue reminders and escalations of one assignment on `today`."""
    if plan.status != "published" or a.status == "completed":
        return []
    base = {"plan_number": plan.number, "plan_title": plan.title, "task_code": a.task_code,
            "task_title": a.task_title, "role": a.role, "status": a.status, "progress": a.progress}
    if a.task_kind == "ongoing":
        return _ongoing(a, plan, today, timing, base)
    if a.due_on is None:
        return []
    base |= {"ongoing": False, "period_label": "", "due_on": a.due_on}
    days_left = (a.due_on - today).days
    if days_left >= 0:
        lead = _lead(days_left, timing.deadline_lead_days)
        if lead is None:
            return []
        return [Found(f"deadline:{a.id}:{a.due_on}:{lead}", RULES["deadline_approaching"], a.unit_id,
                      {**base, "days_left": days_left})]
    return _lateness(f"{a.id}:{a.due_on}", a, -days_left, timing, base)


def _ongoing(a: AssignmentFact, plan: PlanFact, today: date, timing: Timing, base: dict[str, Any]) -> list[Found]:
    """An ongoing task is due at the end of each reporting period, and late when one passed unreported."""
    period = plan.reporting_period
    state = ongoing_due_state(a.status, period, today, assigned_on=a.assigned_on, last_reported_on=a.last_reported_on,
                              soon_days=max(timing.deadline_lead_days, default=0))
    start, end = period_bounds(period, today)
    if state is DueState.REPORT_MISSING:
        previous_end = start - timedelta(days=1)
        label = period_label(period, previous_end)
        context = {**base, "ongoing": True, "period_label": period_vi(period, previous_end), "due_on": previous_end}
        return _lateness(f"{a.id}:{label}", a, (today - previous_end).days, timing, context)
    if state is DueState.REPORT_DUE:
        days_left = (end - today).days
        lead = _lead(days_left, timing.deadline_lead_days)
        if lead is None:
            return []
        return [Found(f"report_due:{a.id}:{period_label(period, today)}:{lead}", RULES["deadline_approaching"],
                      a.unit_id, {**base, "ongoing": True, "period_label": period_vi(period, today), "due_on": end,
                                  "days_left": days_left})]
    return []


def round_occasions(r: RoundFact, submitted: set[int], plan: PlanFact | None, today: date, timing: Timing,
                    anchor: int | None) -> list[Found]:
    """Reminders to expected units that have not submitted as the submit-by date nears (unless the
    round opened that close to it), and, once it passed, one report of the missing units to the
    supervisors (about `anchor`, the issuing unit)."""
    if plan is not None and plan.status == "closed":
        return []
    missing = [u for u in dict.fromkeys(r.unit_ids) if u not in submitted]
    if not missing:
        return []
    base = {"plan_number": r.plan_number, "round_kind": r.kind, "round_title": r.title,
            "period_end": r.period_end, "submit_by": r.submit_by}
    days_left = (r.submit_by - today).days
    opened_late = r.opened_on is not None and (r.submit_by - r.opened_on).days <= timing.round_lead_days
    if 0 <= days_left <= timing.round_lead_days:
        if opened_late:
            return []  # the opening email, days ago at most, said when: a reminder now is noise
        return [Found(f"round_reminder:{r.id}:{u}", RULES["review_round_reminder"], u,
                      {**base, "days_left": days_left}) for u in missing]
    if days_left < 0:
        return [Found(f"round_missing:{r.id}", RULES["review_round_missing"], anchor or missing[0],
                      {**base, "expected": len(set(r.unit_ids)), "missing_unit_ids": missing})]
    return []


def unit_plan_occasions(plan: PlanFact, published_on: date, unit_ids: Iterable[int], today: date,
                        timing: Timing) -> list[Found]:
    """Units still without their own plan N days after the plan was published, once each."""
    days_since = (today - published_on).days
    if plan.status != "published" or days_since < timing.unit_plan_after_days:
        return []
    base = {"plan_number": plan.number, "plan_title": plan.title, "published_on": published_on,
            "days_since": days_since}
    return [Found(f"unit_plan:{plan.id}:{u}", RULES["unit_plan_missing"], u, dict(base)) for u in unit_ids]
