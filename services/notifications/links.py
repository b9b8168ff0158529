"""Where each email's links land: the portal page of what it is about (sign-in first, when needed)."""


def assignment(assignment_id: int) -> str:
    """An assignment's page: its history, its reviews and, for its unit, the report form."""
    return f"unit/assignments/{assignment_id}"


def unit_tasks(plan_id: int) -> str:
    """The unit's assignments under one plan."""
    return f"unit?plan_id={plan_id}"


def plan_board(plan_id: int) -> str:
    """A supervisor's board of a plan: each unit's progress and the reports waiting for review."""
    return f"board/plans/{plan_id}"


def round_form(round_id: int) -> str:
    """A unit's review-round report form."""
    return f"unit/reviews/{round_id}"


def round_board(round_id: int) -> str:
    """A supervisor's view of a review round's submissions."""
    return f"board/reviews/{round_id}"


def unit_plan_form(plan_id: int) -> str:
    """The form registering a unit's own implementing plan."""
    return f"unit/plans/{plan_id}/unit-plan"
