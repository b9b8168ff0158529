"""Pure domain rules: status transitions, progress, due state."""

from datetime import date, timedelta
from itertools import product

import pytest

from services.assignments import domain
from services.assignments.domain import (
    DueState,
    RuleViolation,
    Status,
    check_transition,
    due_state,
    normalise_progress,
)
from shared import due, vietnamese

NS, IP, DONE = Status.NOT_STARTED, Status.IN_PROGRESS, Status.COMPLETED

ALLOWED = {(NS, IP), (NS, DONE), (IP, IP), (IP, DONE)}


@pytest.mark.parametrize(("current", "new"), list(product(Status, Status)))
def test_every_transition(current: Status, new: Status) -> None:
    if (current, new) in ALLOWED:
        check_transition(current, new)
    else:
        with pytest.raises(RuleViolation) as exc:
            check_transition(current, new)
        message = str(exc.value)
        assert f"'{current}'" in message and f"'{new}'" in message


def test_completed_is_final_and_says_so() -> None:
    assert domain.ALLOWED_TRANSITIONS[DONE] == frozenset()
    with pytest.raises(RuleViolation, match="completed is final"):
        check_transition(DONE, IP)


@pytest.mark.parametrize(("status", "progress", "expected"), [
    (DONE, None, 100),
    (DONE, 100, 100),
    (IP, 0, 0),
    (IP, 1, 1),
    (IP, 99, 99),
    (NS, 0, 0),
])
def test_progress_accepted(status: Status, progress: int | None, expected: int) -> None:
    assert normalise_progress(status, progress) == expected


@pytest.mark.parametrize(("status", "progress", "message"), [
    (DONE, 0, "progress 100"),
    (DONE, 99, "progress 100"),
    (IP, None, "required"),
    (IP, 100, "between 0 and 99"),
    (IP, -1, "between 0 and 99"),
    (NS, 5, "progress 0"),
    (NS, None, "required"),
])
def test_progress_rejected(status: Status, progress: int | None, message: str) -> None:
    with pytest.raises(RuleViolation, match=message):
        normalise_progress(status, progress)


TODAY = date(2024, 5, 10)


@pytest.mark.parametrize(("status", "due_on", "completed_on", "expected"), [
    # unfinished
    (NS, None, None, DueState.NO_DEADLINE),
    (IP, None, None, DueState.NO_DEADLINE),
    (NS, TODAY + timedelta(days=30), None, DueState.WITHIN_DEADLINE),
    (IP, TODAY + timedelta(days=8), None, DueState.WITHIN_DEADLINE),
    (IP, TODAY + timedelta(days=7), None, DueState.DUE_SOON),  # exactly 7 days ahead
    (IP, TODAY + timedelta(days=1), None, DueState.DUE_SOON),
    (NS, TODAY, None, DueState.DUE_SOON),  # due today is not yet overdue
    (NS, TODAY - timedelta(days=1), None, DueState.OVERDUE),
    (IP, TODAY - timedelta(days=365), None, DueState.OVERDUE),
    # finished
    (DONE, TODAY, TODAY, DueState.COMPLETED_ON_TIME),  # on the due date
    (DONE, TODAY, TODAY - timedelta(days=3), DueState.COMPLETED_ON_TIME),
    (DONE, TODAY, TODAY + timedelta(days=1), DueState.COMPLETED_LATE),  # a day late
    (DONE, TODAY - timedelta(days=10), TODAY - timedelta(days=10), DueState.COMPLETED_ON_TIME),  # past, but on time
    (DONE, None, TODAY, DueState.NO_DEADLINE),
    # completion date unknown: judged by today
    (DONE, TODAY, None, DueState.COMPLETED_ON_TIME),
    (DONE, TODAY - timedelta(days=1), None, DueState.COMPLETED_LATE),
])
def test_due_state(status: Status, due_on: date | None, completed_on: date | None, expected: DueState) -> None:
    assert due_state(status, due_on, TODAY, completed_on) is expected


def test_due_state_covers_every_state_of_a_one_off_task() -> None:
    # the table above names each such DueState at least once; ongoing tasks have theirs (test_due.py)
    states = {due_state(*args) for args in [
        (NS, None, TODAY), (NS, TODAY + timedelta(days=30), TODAY), (NS, TODAY, TODAY),
        (NS, TODAY - timedelta(days=1), TODAY), (DONE, TODAY, TODAY, TODAY),
        (DONE, TODAY, TODAY, TODAY + timedelta(days=1)),
    ]}
    assert states == set(DueState) - {DueState.REPORTED, DueState.REPORT_DUE, DueState.REPORT_MISSING}


@pytest.mark.parametrize(("soon_days", "days_ahead", "expected"), [
    (0, 0, DueState.DUE_SOON),
    (0, 1, DueState.WITHIN_DEADLINE),
    (3, 3, DueState.DUE_SOON),
    (3, 4, DueState.WITHIN_DEADLINE),
])
def test_due_soon_window_is_configurable(soon_days: int, days_ahead: int, expected: DueState) -> None:
    assert due_state(IP, TODAY + timedelta(days=days_ahead), TODAY, soon_days=soon_days) is expected


def test_due_rule_is_the_shared_one() -> None:
    # the system of record and the read models must derive due state identically
    assert domain.due_state is due.due_state
    assert domain.assignment_due_state is due.assignment_due_state
    assert domain.DueState is due.DueState


def test_labels_agree_and_cover_every_code() -> None:
    assert {str(k): v for k, v in domain.STATUS_LABELS_VI.items()} == vietnamese.STATUS_LABELS
    assert set(vietnamese.STATUS_LABELS) == {s.value for s in Status}
    assert set(vietnamese.DUE_STATE_LABELS) == {s.value for s in DueState}
    assert set(vietnamese.ROLE_LABELS) == {r.value for r in domain.AssignmentRole}
