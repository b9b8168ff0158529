"""The due-state rule, shared by the system of record and the read models that derive it.

A one-off task has a deadline. An ongoing (thường xuyên) task has none: its unit reports once in
every reporting period of the plan (monthly, quarterly, half-yearly or yearly), and the end of the
current period plays the deadline's part.
"""

from datetime import date, timedelta
from enum import StrEnum


class DueState(StrEnum):
    """Where an assignment stands against its deadline (or, if ongoing, its reporting period)."""

    WITHIN_DEADLINE = "within_deadline"
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"
    COMPLETED_ON_TIME = "completed_on_time"
    COMPLETED_LATE = "completed_late"
    NO_DEADLINE = "no_deadline"
    REPORTED = "reported"
    REPORT_DUE = "report_due"
    REPORT_MISSING = "report_missing"


class ReportingPeriod(StrEnum):
    """How often units report on the ongoing tasks of a plan."""

    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    HALF_YEARLY = "half_yearly"
    YEARLY = "yearly"


MONTHS_IN: dict[ReportingPeriod, int] = {
    ReportingPeriod.MONTHLY: 1, ReportingPeriod.QUARTERLY: 3, ReportingPeriod.HALF_YEARLY: 6,
    ReportingPeriod.YEARLY: 12,
}


def period_bounds(period: ReportingPeriod | str, day: date) -> tuple[date, date]:
    """First and last day of the reporting period holding `day`."""
    months = MONTHS_IN[ReportingPeriod(period)]
    first_month = (day.month - 1) // months * months + 1
    start = date(day.year, first_month, 1)
    end_month = first_month + months
    end = (date(day.year + 1, 1, 1) if end_month > 12 else date(day.year, end_month, 1)) - timedelta(days=1)
    return start, end


def period_label(period: ReportingPeriod | str, day: date) -> str:
    """The period holding `day` as a label: 2026-11, 2026-Q4, 2026-H2 or 2026."""
    kind = ReportingPeriod(period)
    if kind is ReportingPeriod.MONTHLY:
        return f"{day.year}-{day.month:02d}"
    if kind is ReportingPeriod.QUARTERLY:
        return f"{day.year}-Q{(day.month - 1) // 3 + 1}"
    if kind is ReportingPeriod.HALF_YEARLY:
        return f"{day.year}-H{(day.month - 1) // 6 + 1}"
    return str(day.year)


def due_state(
    status: str, due_on: date | None, today: date, completed_on: date | None = None,
    *, soon_days: int = 7,
) -> DueState:
    """Derive the due state of a one-off assignment on `today`."""
    if status == "completed":
        if due_on is None:
            return DueState.NO_DEADLINE
        done = completed_on or today
        return DueState.COMPLETED_ON_TIME if done <= due_on else DueState.COMPLETED_LATE
    if due_on is None:
        return DueState.NO_DEADLINE
    if today > due_on:
        return DueState.OVERDUE
    if today >= due_on - timedelta(days=soon_days):
        return DueState.DUE_SOON
    return DueState.WITHIN_DEADLINE


def ongoing_due_state(
    status: str, period: ReportingPeriod | str, today: date, *, assigned_on: date,
    last_reported_on: date | None, soon_days: int = 7,
) -> DueState:
    """Derive the due state of an ongoing assignment on `today`: reported in the current period;
    report missing when the previous period (which it was assigned in) passed without a report;
    report due in the last `soon_days` of the current period; otherwise within its deadline."""
    if status == "completed":
        return DueState.NO_DEADLINE
    start, end = period_bounds(period, today)
    if last_reported_on is not None and last_reported_on >= start:
        return DueState.REPORTED
    previous_start, previous_end = period_bounds(period, start - timedelta(days=1))
    if assigned_on <= previous_end and (last_reported_on is None or last_reported_on < previous_start):
        return DueState.REPORT_MISSING
    if today >= end - timedelta(days=soon_days):
        return DueState.REPORT_DUE
    return DueState.WITHIN_DEADLINE


def assignment_due_state(
    status: str, task_kind: str, due_on: date | None, today: date, *, completed_on: date | None = None,
    period: ReportingPeriod | str = ReportingPeriod.QUARTERLY, assigned_on: date | None = None,
    last_reported_on: date | None = None, soon_days: int = 7,
) -> DueState:
    """The due state of any assignment: ongoing tasks by their reporting period, others by deadline."""
    if task_kind == "ongoing":
        return ongoing_due_state(status, period, today, assigned_on=assigned_on or today,
                                 last_reported_on=last_reported_on, soon_days=soon_days)
    return due_state(status, due_on, today, completed_on, soon_days=soon_days)
