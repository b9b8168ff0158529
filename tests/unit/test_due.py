"""The due state of ongoing (thường xuyên) tasks: reporting periods, their bounds and labels, and
where an ongoing assignment stands in them."""

from datetime import date, timedelta

import pytest

from shared.due import (
    MONTHS_IN,
    DueState,
    ReportingPeriod,
    assignment_due_state,
    due_state,
    ongoing_due_state,
    period_bounds,
    period_label,
)
from shared.vietnamese import DUE_STATE_LABELS, REPORTING_PERIOD_LABELS

M, Q, H, Y = ReportingPeriod.MONTHLY, ReportingPeriod.QUARTERLY, ReportingPeriod.HALF_YEARLY, ReportingPeriod.YEARLY


@pytest.mark.parametrize(("period", "day", "start", "end"), [
    (M, date(2026, 1, 1), date(2026, 1, 1), date(2026, 1, 31)),
    (M, date(2026, 2, 14), date(2026, 2, 1), date(2026, 2, 28)),
    (M, date(2024, 2, 29), date(2024, 2, 1), date(2024, 2, 29)),  # leap year
    (M, date(2026, 4, 30), date(2026, 4, 1), date(2026, 4, 30)),
    (M, date(2026, 12, 31), date(2026, 12, 1), date(2026, 12, 31)),  # year end
    (Q, date(2026, 1, 1), date(2026, 1, 1), date(2026, 3, 31)),
    (Q, date(2026, 3, 31), date(2026, 1, 1), date(2026, 3, 31)),
    (Q, date(2026, 4, 1), date(2026, 4, 1), date(2026, 6, 30)),
    (Q, date(2026, 8, 15), date(2026, 7, 1), date(2026, 9, 30)),
    (Q, date(2026, 11, 27), date(2026, 10, 1), date(2026, 12, 31)),
    (H, date(2026, 1, 1), date(2026, 1, 1), date(2026, 6, 30)),
    (H, date(2026, 6, 30), date(2026, 1, 1), date(2026, 6, 30)),
    (H, date(2026, 7, 1), date(2026, 7, 1), date(2026, 12, 31)),
    (H, date(2026, 12, 31), date(2026, 7, 1), date(2026, 12, 31)),
    (Y, date(2026, 1, 1), date(2026, 1, 1), date(2026, 12, 31)),
    (Y, date(2026, 12, 31), date(2026, 1, 1), date(2026, 12, 31)),
])
def test_period_bounds(period: ReportingPeriod, day: date, start: date, end: date) -> None:
    assert period_bounds(period, day) == (start, end)
    assert period_bounds(period.value, day) == (start, end)  # the stored string works too


@pytest.mark.parametrize("period", list(ReportingPeriod))
def test_periods_tile_the_calendar_across_year_boundaries(period: ReportingPeriod) -> None:
    """Every day of 2025-2027 lies in exactly one period; consecutive periods meet without a gap."""
    day, seen = date(2025, 1, 1), []
    while day <= date(2027, 12, 31):
        start, end = period_bounds(period, day)
        assert start <= day <= end
        seen.append((start, end))
        day = end + timedelta(days=1)
    assert len(seen) == 3 * 12 // MONTHS_IN[period]
    assert all(following[0] == end + timedelta(days=1) for (_, end), following in zip(seen, seen[1:], strict=False))
    assert seen[0][0] == date(2025, 1, 1) and seen[-1][1] == date(2027, 12, 31)


def test_the_period_before_the_first_of_a_year_is_last_years_last() -> None:
    start, _ = period_bounds(Q, date(2027, 2, 10))
    assert period_bounds(Q, start - timedelta(days=1)) == (date(2026, 10, 1), date(2026, 12, 31))
    start, _ = period_bounds(M, date(2027, 1, 5))
    assert period_bounds(M, start - timedelta(days=1)) == (date(2026, 12, 1), date(2026, 12, 31))


@pytest.mark.parametrize(("period", "day", "label"), [
    (M, date(2026, 11, 27), "2026-11"),
    (M, date(2026, 1, 3), "2026-01"),
    (Q, date(2026, 11, 27), "2026-Q4"),
    (Q, date(2026, 2, 1), "2026-Q1"),
    (Q, date(2026, 6, 30), "2026-Q2"),
    (Q, date(2026, 7, 1), "2026-Q3"),
    (H, date(2026, 6, 30), "2026-H1"),
    (H, date(2026, 7, 1), "2026-H2"),
    (Y, date(2026, 7, 1), "2026"),
    (Y, date(2026, 12, 31), "2026"),
])
def test_period_labels(period: ReportingPeriod, day: date, label: str) -> None:
    assert period_label(period, day) == label


def test_every_period_and_state_has_a_vietnamese_label() -> None:
    assert set(REPORTING_PERIOD_LABELS) == {p.value for p in ReportingPeriod}
    assert set(DUE_STATE_LABELS) == {s.value for s in DueState}
    assert DUE_STATE_LABELS["reported"] == "Đã báo cáo kỳ này"
    assert DUE_STATE_LABELS["report_due"] == "Đến kỳ báo cáo"
    assert DUE_STATE_LABELS["report_missing"] == "Chưa báo cáo kỳ trước"


# -- ongoing assignments, quarterly: Q4 2026 runs 1 Oct - 31 Dec, Q3 1 Jul - 30 Sep ------------

MID_Q4 = date(2026, 11, 10)
LAST_WEEK_Q4 = date(2026, 12, 24)  # 31 Dec - 7 days


@pytest.mark.parametrize(("status", "today", "assigned_on", "last_reported_on", "expected"), [
    # reported in the current period, whenever assigned
    ("in_progress", MID_Q4, date(2026, 2, 1), date(2026, 10, 1), DueState.REPORTED),
    ("not_started", LAST_WEEK_Q4, date(2026, 12, 1), date(2026, 12, 20), DueState.REPORTED),
    # assigned in the current period, not reported yet: within, then due in its last week
    ("not_started", MID_Q4, date(2026, 10, 15), None, DueState.WITHIN_DEADLINE),
    ("not_started", date(2026, 12, 23), date(2026, 10, 15), None, DueState.WITHIN_DEADLINE),
    ("not_started", LAST_WEEK_Q4, date(2026, 10, 15), None, DueState.REPORT_DUE),
    ("in_progress", date(2026, 12, 31), date(2026, 10, 15), None, DueState.REPORT_DUE),
    # assigned before, reported in the previous period: the same as above
    ("in_progress", MID_Q4, date(2026, 3, 1), date(2026, 9, 30), DueState.WITHIN_DEADLINE),
    ("in_progress", LAST_WEEK_Q4, date(2026, 3, 1), date(2026, 7, 1), DueState.REPORT_DUE),
    # the previous period (assigned in or before it) passed without a report
    ("not_started", MID_Q4, date(2026, 9, 30), None, DueState.REPORT_MISSING),
    ("in_progress", MID_Q4, date(2026, 3, 1), date(2026, 6, 30), DueState.REPORT_MISSING),
    ("in_progress", LAST_WEEK_Q4, date(2026, 3, 1), date(2026, 6, 30), DueState.REPORT_MISSING),
    ("not_started", date(2026, 10, 1), date(2026, 7, 1), None, DueState.REPORT_MISSING),  # first day after
    # completed: no period to report in
    ("completed", MID_Q4, date(2026, 3, 1), None, DueState.NO_DEADLINE),
    ("completed", MID_Q4, date(2026, 3, 1), date(2026, 11, 1), DueState.NO_DEADLINE),
])
def test_ongoing_due_state_quarterly(status: str, today: date, assigned_on: date, last_reported_on: date | None,
                                     expected: DueState) -> None:
    assert ongoing_due_state(status, Q, today, assigned_on=assigned_on, last_reported_on=last_reported_on) \
        is expected


@pytest.mark.parametrize(("period", "today", "assigned_on", "last_reported_on", "expected"), [
    # across the year boundary: the previous period is last year's last one
    (M, date(2027, 1, 5), date(2026, 12, 1), None, DueState.REPORT_MISSING),
    (M, date(2027, 1, 5), date(2026, 12, 1), date(2026, 12, 31), DueState.WITHIN_DEADLINE),
    (M, date(2027, 1, 5), date(2027, 1, 1), None, DueState.WITHIN_DEADLINE),
    (M, date(2027, 1, 25), date(2027, 1, 1), None, DueState.REPORT_DUE),
    (Q, date(2027, 1, 2), date(2026, 12, 31), None, DueState.REPORT_MISSING),
    (Q, date(2027, 1, 2), date(2026, 12, 31), date(2026, 12, 31), DueState.WITHIN_DEADLINE),
    (H, date(2027, 3, 1), date(2026, 8, 1), date(2026, 7, 1), DueState.WITHIN_DEADLINE),
    (H, date(2027, 3, 1), date(2026, 6, 1), date(2026, 6, 30), DueState.REPORT_MISSING),
    (H, date(2027, 6, 25), date(2027, 1, 1), None, DueState.REPORT_DUE),
    (Y, date(2027, 6, 1), date(2026, 12, 31), None, DueState.REPORT_MISSING),
    (Y, date(2027, 6, 1), date(2026, 5, 1), date(2026, 12, 31), DueState.WITHIN_DEADLINE),
    (Y, date(2027, 12, 24), date(2027, 1, 1), None, DueState.REPORT_DUE),
    (Y, date(2027, 12, 24), date(2026, 1, 1), date(2027, 1, 1), DueState.REPORTED),
])
def test_ongoing_due_state_of_every_kind_of_period(period: ReportingPeriod, today: date, assigned_on: date,
                                                   last_reported_on: date | None, expected: DueState) -> None:
    assert ongoing_due_state("in_progress", period, today, assigned_on=assigned_on,
                             last_reported_on=last_reported_on) is expected


def test_report_due_window_follows_soon_days() -> None:
    kw = {"assigned_on": date(2026, 10, 1), "last_reported_on": None}
    assert ongoing_due_state("in_progress", Q, date(2026, 12, 28), soon_days=3, **kw) is DueState.REPORT_DUE
    assert ongoing_due_state("in_progress", Q, date(2026, 12, 27), soon_days=3, **kw) is DueState.WITHIN_DEADLINE
    assert ongoing_due_state("in_progress", Q, date(2026, 12, 31), soon_days=0, **kw) is DueState.REPORT_DUE
    assert ongoing_due_state("in_progress", Q, date(2026, 12, 30), soon_days=0, **kw) is DueState.WITHIN_DEADLINE


def test_assignment_due_state_dispatches_on_the_task_kind() -> None:
    today, due_on = date(2026, 11, 10), date(2026, 11, 1)
    assert assignment_due_state("in_progress", "one_off", due_on, today) is DueState.OVERDUE
    assert assignment_due_state("in_progress", "one_off", due_on, today) is due_state("in_progress", due_on, today)
    assert assignment_due_state("completed", "one_off", due_on, today, completed_on=date(2026, 10, 30)) \
        is DueState.COMPLETED_ON_TIME
    ongoing = {"period": M, "assigned_on": date(2026, 9, 1)}
    assert assignment_due_state("in_progress", "ongoing", None, today, **ongoing) is DueState.REPORT_MISSING
    assert assignment_due_state("in_progress", "ongoing", None, today, last_reported_on=date(2026, 11, 2),
                                **ongoing) is DueState.REPORTED
    # an ongoing assignment whose day of assignment is unknown never missed a period
    assert assignment_due_state("in_progress", "ongoing", None, today, period=M) is DueState.WITHIN_DEADLINE
    # quarterly unless told
    assert assignment_due_state("in_progress", "ongoing", None, date(2026, 12, 28),
                                assigned_on=date(2026, 11, 1)) is DueState.REPORT_DUE


def test_every_due_state_is_reachable() -> None:
    today = date(2026, 12, 28)
    states = {
        assignment_due_state(*args, **kw)  # type: ignore[arg-type]
        for args, kw in [
            (("in_progress", "one_off", today + timedelta(days=30), today), {}),
            (("in_progress", "one_off", today, today), {}),
            (("in_progress", "one_off", today - timedelta(days=1), today), {}),
            (("completed", "one_off", today, today), {"completed_on": today}),
            (("completed", "one_off", today, today), {"completed_on": today + timedelta(days=1)}),
            (("in_progress", "one_off", None, today), {}),
            (("in_progress", "ongoing", None, today), {"last_reported_on": today, "assigned_on": today}),
            (("in_progress", "ongoing", None, today), {"assigned_on": date(2026, 10, 1)}),
            (("in_progress", "ongoing", None, today), {"assigned_on": date(2026, 1, 1)}),
        ]
    }
    assert states == set(DueState)
