"""Plan progress from the read model: overall counts, each unit, each review round."""

from collections import Counter
from datetime import date, datetime

from pydantic import BaseModel, Field
from sqlmodel import Session, col, select

from services.reporting.models import (
    ReportAssignment,
    ReportInspection,
    ReportPlan,
    ReportReviewRound,
    ReportReviewSubmission,
    ReportTask,
    ReportUnit,
    ReportUnitPlan,
)
from shared.due import DueState, assignment_due_state
from shared.events.base import as_utc
from shared.vietnamese import STATUS_LABELS


class AssignmentCounts(BaseModel):
    """A plan's assignments counted by status and by due state (every known key, zeros included)."""

    total: int
    by_status: dict[str, int]
    by_due_state: dict[str, int]


class UnitPlanRef(BaseModel):
    """A unit's registered implementing document."""

    number: str
    issued_on: date
    title: str
    link: str


class UnitRoundState(BaseModel):
    """Where a unit stands in one review round."""

    round_id: int
    state: str  # on_time, late or missing


class UnitProgress(BaseModel):
    """One unit's part in the plan."""

    unit_id: int
    unit_code: str
    unit_name: str
    assignments_total: int
    assignments_completed: int
    assignments_overdue: int = Field(description="One-off assignments past their deadline, and ongoing ones "
                                                 "whose unit missed the previous period's report.")
    unit_plan_registered: bool
    unit_plans: list[UnitPlanRef]
    inspections: int
    review_rounds: list[UnitRoundState]


class RoundUnit(BaseModel):
    """A unit's submission state in a review round."""

    unit_id: int
    unit_name: str
    expected: bool
    state: str  # on_time, late or missing
    submitted_at: datetime | None = None
    link: str = ""


class RoundProgress(BaseModel):
    """A review round with its per-unit submission states."""

    id: int
    kind: str
    title: str
    period_end: date
    submit_by: date
    expected: int
    submitted: int
    on_time: int
    late: int
    missing: int
    units: list[RoundUnit]


class PlanProgress(BaseModel):
    """Where a plan stands on `as_of`."""

    plan_id: int
    number: str
    title: str
    status: str
    period: str
    reporting_period: str = "quarterly"
    as_of: date
    assignments: AssignmentCounts
    units: list[UnitProgress]
    review_rounds: list[RoundProgress]


BEHIND = frozenset({DueState.OVERDUE, DueState.REPORT_MISSING})
"""Due states a unit's summary counts as overdue: a missed deadline, or a missed period report."""


def task_kinds(session: Session, plan_id: int) -> dict[int, str]:
    """The kind (one_off or ongoing) of each task of the plan the read model knows."""
    return {t.id: t.kind for t in session.exec(select(ReportTask).where(ReportTask.plan_id == plan_id)).all()}


def due_states(
    plan: ReportPlan, assignments: list[ReportAssignment], today: date, soon_days: int,
    kinds: dict[int, str] | None = None,
) -> dict[int, DueState]:
    """Each assignment's due state on `today`: an ongoing task's by the plan's reporting period.

    A task's kind comes from `kinds` (the plan's tasks: plan events always carried it) when there,
    else from the assignment's own event."""
    kinds = kinds or {}
    return {a.id: assignment_due_state(
        a.status, kinds.get(a.task_id, a.task_kind), a.due_on, today, completed_on=a.completed_on,
        period=plan.reporting_period, assigned_on=a.assigned_on, last_reported_on=a.last_reported_on,
        soon_days=soon_days,
    ) for a in assignments}


def unit_names(session: Session, unit_ids: set[int]) -> dict[int, str]:
    """Current names of the units the read model knows (a renamed unit shows its new name)."""
    return {u.id: u.name for u in session.exec(select(ReportUnit).where(col(ReportUnit.id).in_(unit_ids))).all()}


def get_round(session: Session, plan_id: int, round_id: int) -> ReportReviewRound | None:
    """The review round, if the read model knows it and it belongs to the plan."""
    row = session.get(ReportReviewRound, round_id)
    return row if row is not None and row.plan_id == plan_id else None


def round_units(session: Session, round_: ReportReviewRound, names: dict[int, str] | None = None) -> list[RoundUnit]:
    """Each expected unit's state in the round (in the round's order), then any unexpected submitter.

    A unit's first submission decides whether it submitted on time."""
    submissions = session.exec(
        select(ReportReviewSubmission).where(ReportReviewSubmission.round_id == round_.id)
        .order_by(col(ReportReviewSubmission.submitted_at), col(ReportReviewSubmission.id))
    ).all()
    first: dict[int, ReportReviewSubmission] = {}
    for s in submissions:
        first.setdefault(s.unit_id, s)
    expected = list(dict.fromkeys(round_.unit_ids))
    unit_ids = expected + [u for u in first if u not in expected]
    known = names if names is not None else _unit_names(session, round_.plan_id, unit_ids)
    rows = []
    for unit_id in unit_ids:
        sub = first.get(unit_id)
        state = "missing" if sub is None else "on_time" if sub.on_time else "late"
        name = known.get(unit_id) or (sub.unit_name if sub else "") or f"#{unit_id}"
        rows.append(RoundUnit(unit_id=unit_id, unit_name=name, expected=unit_id in expected, state=state,
                              submitted_at=as_utc(sub.submitted_at) if sub else None, link=sub.link if sub else ""))
    return rows



def _unit_names(session: Session, plan_id: int, unit_ids: list[int]) -> dict[int, str]:
    """Unit names from the unit directory, else from the labels the plan's assignments carried."""
    assignments = session.exec(select(ReportAssignment).where(
        ReportAssignment.plan_id == plan_id, col(ReportAssignment.unit_id).in_(unit_ids))).all()
    units = session.exec(select(ReportUnit).where(col(ReportUnit.id).in_(unit_ids))).all()
    return {a.unit_id: a.unit_name for a in assignments} | {u.id: u.name for u in units}


def _round_progress(round_: ReportReviewRound, units: list[RoundUnit]) -> RoundProgress:
    states = Counter(u.state for u in units)
    return RoundProgress(
        id=round_.id, kind=round_.kind, title=round_.title, period_end=round_.period_end, submit_by=round_.submit_by,
        expected=sum(1 for u in units if u.expected), submitted=states["on_time"] + states["late"],
        on_time=states["on_time"], late=states["late"], missing=states["missing"], units=units,
    )


def in_scope(unit_id: int, scope: frozenset[int] | None) -> bool:
    """True when `scope` (None: everything) holds the unit."""
    return scope is None or unit_id in scope


def plan_progress(
    session: Session, plan_id: int, today: date, soon_days: int = 7, scope: frozenset[int] | None = None,
) -> PlanProgress | None:
    """The plan's progress on `today` over the units in `scope` (None: all), or None when the plan
    is not known."""
    plan = session.get(ReportPlan, plan_id)
    if plan is None:
        return None
    assignments = [a for a in session.exec(select(ReportAssignment).where(ReportAssignment.plan_id == plan_id)).all()
                   if in_scope(a.unit_id, scope)]
    unit_plans = [p for p in session.exec(select(ReportUnitPlan).where(ReportUnitPlan.plan_id == plan_id)
                                          .order_by(col(ReportUnitPlan.issued_on), col(ReportUnitPlan.id))).all()
                  if in_scope(p.unit_id, scope)]
    inspections = [i for i in session.exec(select(ReportInspection).where(ReportInspection.plan_id == plan_id)).all()
                   if in_scope(i.unit_id, scope)]
    rounds = session.exec(select(ReportReviewRound).where(ReportReviewRound.plan_id == plan_id)
                          .order_by(col(ReportReviewRound.submit_by), col(ReportReviewRound.id))).all()

    # unit labels: the unit directory first, then the labels events carried
    names: dict[int, str] = {}
    codes: dict[int, str] = {}
    labelled_rows: list[ReportAssignment | ReportUnitPlan] = [*assignments, *unit_plans]
    for labelled in labelled_rows:
        names.setdefault(labelled.unit_id, labelled.unit_name)
        codes.setdefault(labelled.unit_id, labelled.unit_code)
    for i in inspections:
        names.setdefault(i.unit_id, i.unit_name)
    unit_ids = set(names) | {u for r in rounds for u in r.unit_ids if in_scope(u, scope)}
    for unit in session.exec(select(ReportUnit).where(col(ReportUnit.id).in_(unit_ids))).all():
        names[unit.id], codes[unit.id] = unit.name, unit.code

    round_progress = [_round_progress(r, [u for u in round_units(session, r, names) if in_scope(u.unit_id, scope)])
                      for r in rounds]
    for r in round_progress:
        for u in r.units:
            names.setdefault(u.unit_id, u.unit_name)

    states = due_states(plan, assignments, today, soon_days, task_kinds(session, plan_id))
    by_status = dict.fromkeys(STATUS_LABELS, 0) | Counter(a.status for a in assignments)
    by_due = dict.fromkeys((s.value for s in DueState), 0) | Counter(s.value for s in states.values())

    units = []
    for unit_id in sorted(names, key=lambda u: (codes.get(u, "") == "", codes.get(u, ""), u)):
        mine = [a for a in assignments if a.unit_id == unit_id]
        plans = [UnitPlanRef(number=p.number, issued_on=p.issued_on, title=p.title, link=p.link)
                 for p in unit_plans if p.unit_id == unit_id]
        units.append(UnitProgress(
            unit_id=unit_id, unit_code=codes.get(unit_id, ""), unit_name=names[unit_id],
            assignments_total=len(mine),
            assignments_completed=sum(1 for a in mine if a.status == "completed"),
            assignments_overdue=sum(1 for a in mine if states[a.id] in BEHIND),
            unit_plan_registered=bool(plans), unit_plans=plans,
            inspections=sum(1 for i in inspections if i.unit_id == unit_id),
            review_rounds=[UnitRoundState(round_id=r.id, state=u.state)
                           for r in round_progress for u in r.units if u.unit_id == unit_id],
        ))
    return PlanProgress(
        plan_id=plan.id, number=plan.number, title=plan.title, status=plan.status, period=plan.period,
        reporting_period=plan.reporting_period, as_of=today,
        assignments=AssignmentCounts(total=len(assignments), by_status=dict(by_status), by_due_state=by_due),
        units=units, review_rounds=round_progress,
    )
