"""The due-state rule, shared by the system of record and the read models that derive it."""

from datetime import date, timedelta
from enum import StrEnum


class DueState(StrEnum):
    """Where an assignment stands against its deadline."""

    WITHIN_DEADLINE = "within_deadline"
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"
    COMPLETED_ON_TIME = "completed_on_time"
    COMPLETED_LATE = "completed_late"
    NO_DEADLINE = "no_deadline"


def due_state(
    status: str, due_on: date | None, today: date, completed_on: date | None = None,
    *, soon_days: int = 7,
) -> DueState:
    """Derive the due state of an assignment on `today`."""
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
