"""Plan progress from the read model: overall counts, each unit, each review round."""

from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, Protocol

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
from services.reporting.tallies import (
    DueRule,
    end_of_day,
    most_behind,
    plan_lines,
    tally,
    task_labels,
    unit_labels,
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


class OverdueAssignment(BaseModel):
    """An assignment behind on `as_of`: past its deadline, or (ongoing) its unit missed the previous
    period's report, whose last day then plays the deadline's part."""

    assignment_id: int
    task_code: str
    task_title: str
    unit_id: int
    unit_code: str
    unit_name: str
    due_state: str  # overdue or report_missing
    due_on: date
    days_late: int


class IndicatorProgress(BaseModel):
    """A task's indicator: the values the units reported, summed, against the task's target."""

    code: str
    name: str
    unit_of_measure: str
    target: float | None
    achieved: float
    reporting_units: int
    rate: float | None = Field(description="achieved / target; null without a positive target.")


class TaskProgress(BaseModel):
    """One task: its assignments by status and due state, and its indicators."""

    code: str
    title: str
    kind: str
    due_on: date | None
    assignments: int
    completed: int
    average_progress: float
    by_status: dict[str, int]
    by_due_state: dict[str, int]
    indicators: list[IndicatorProgress]


class UnitPlanCompleteness(BaseModel):
    """How many of the units with assignments registered their own implementing plan."""

    units_with_assignments: int
    registered: int
    rate: float = Field(description="registered / units_with_assignments (0 without assignments).")
    missing: list[int] = Field(description="Ids of units with assignments and no registered plan.")


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
    completion_rate: float = Field(0.0, description="Completed / all assignments (0 without assignments).")
    on_time_rate: float | None = Field(None, description="Of the completed assignments with a deadline, the share "
                                                         "completed on or before it (null: none).")
    overdue: list[OverdueAssignment] = Field(default_factory=list,
                                             description="Most days late first; at most overdue_limit of them.")
    overdue_total: int = Field(0, description="How many assignments are behind (the overdue list may be cut).")
    tasks: list[TaskProgress] = Field(default_factory=list, description="In the plan's order.")
    unit_plan_completeness: UnitPlanCompleteness | None = None
    inspections_total: int = 0


BEHIND = frozenset({DueState.OVERDUE, DueState.REPORT_MISSING})
"""Due states a unit's summary counts as overdue: a missed deadline, or a missed period report."""


def task_kinds(session: Session, plan_id: int) -> dict[int, str]:
    """The kind (one_off or ongoing) of each task of the plan the read model knows."""
    return {t.id: t.kind for t in session.exec(select(ReportTask).where(ReportTask.plan_id == plan_id)).all()}


class DueFacts(Protocol):
    """What the due state of an assignment is derived from (a ReportAssignment, or a narrow row)."""

    @property
    def id(self) -> int: ...
    @property
    def task_id(self) -> int: ...
    @property
    def task_kind(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def due_on(self) -> date | None: ...
    @property
    def completed_on(self) -> date | None: ...
    @property
    def assigned_on(self) -> date | None: ...
    @property
    def last_reported_on(self) -> date | None: ...


def due_states(
    plan: ReportPlan, assignments: Sequence[DueFacts], today: date, soon_days: int,
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


def round_submissions(session: Session, round_id: int, until: datetime | None = None
                      ) -> Sequence[ReportReviewSubmission]:
    """The round's submissions, oldest first; with `until`, only those submitted before it."""
    query = select(ReportReviewSubmission).where(ReportReviewSubmission.round_id == round_id)
    if until is not None:
        query = query.where(col(ReportReviewSubmission.submitted_at) < until)
    return session.exec(query.order_by(col(ReportReviewSubmission.submitted_at),
                                       col(ReportReviewSubmission.id))).all()


def latest_submissions(session: Session, round_id: int, until: datetime | None = None
                       ) -> dict[int, ReportReviewSubmission]:
    """Each unit's latest report in the round (submitted before `until`, if given)."""
    return {s.unit_id: s for s in round_submissions(session, round_id, until)}


def round_units(session: Session, round_: ReportReviewRound, names: dict[int, str] | None = None,
                until: datetime | None = None) -> list[RoundUnit]:
    """Each expected unit's state in the round (in the round's order), then any unexpected submitter.

    A unit's first submission decides whether it submitted on time; with `until`, submissions from
    then on are not known yet."""
    sub = ReportReviewSubmission
    query = (select(col(sub.unit_id), col(sub.unit_name), col(sub.submitted_at), col(sub.on_time), col(sub.link))  # type: ignore[call-overload]
             .where(sub.round_id == round_.id))
    if until is not None:
        query = query.where(col(sub.submitted_at) < until)
    first: dict[int, Any] = {}  # the columns round_submissions' order puts first, for each unit
    for s in session.exec(query.order_by(col(sub.submitted_at), col(sub.id))).all():
        first.setdefault(s[0], s)
    expected = list(dict.fromkeys(round_.unit_ids))
    expecting = set(expected)
    unit_ids = expected + [u for u in first if u not in expecting]
    known = names if names is not None else _unit_names(session, round_.plan_id, unit_ids)
    rows = []
    for unit_id in unit_ids:
        found = first.get(unit_id)
        state = "missing" if found is None else "on_time" if found[3] else "late"
        name = known.get(unit_id) or (found[1] if found else "") or f"#{unit_id}"
        rows.append(RoundUnit.model_construct(
            unit_id=unit_id, unit_name=name, expected=unit_id in expecting, state=state,
            submitted_at=as_utc(found[2]) if found else None, link=found[4] if found else ""))
    return rows



def _unit_names(session: Session, plan_id: int, unit_ids: list[int]) -> dict[int, str]:
    """Unit names from the unit directory, else from the labels the plan's assignments carried (one
    distinct pair per unit: a plan has thousands of assignments)."""
    labels = dict(session.exec(select(ReportAssignment.unit_id, ReportAssignment.unit_name)  # type: ignore[call-overload]
                               .where(ReportAssignment.plan_id == plan_id, col(ReportAssignment.unit_id).in_(unit_ids))
                               .distinct()).all())
    return labels | unit_names(session, set(unit_ids))


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


# -- the state of each assignment at the end of a day, from the status update history ----------

def task_sort_key(code: str) -> tuple[Any, ...]:
    """Document order of task codes: roman numerals, then numbers, then letters (II.2.a)."""
    parts = []
    for part in code.split("."):
        roman = {"I": 1, "II": 2, "III": 3, "IV": 4, "V": 5, "VI": 6, "VII": 7, "VIII": 8, "IX": 9, "X": 10}
        parts.append((0, roman[part], "") if part in roman else (1, int(part), "") if part.isdigit() else (2, 0, part))
    return tuple(parts)


def as_number(value: object) -> float | None:
    """An indicator value or target as a number ("12,5" too), or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.replace(",", "."))
        except ValueError:
            return None
    return None


def plan_progress(
    session: Session, plan_id: int, today: date, soon_days: int = 7, scope: frozenset[int] | None = None,
    *, as_of: date | None = None, overdue_limit: int | None = None,
) -> PlanProgress | None:
    """The plan's progress on `today` over the units in `scope` (None: all), or None when the plan
    is not known. `overdue_limit`: how many overdue assignments to list (None: all; the count is
    always whole).

    With `as_of`, each assignment's state at the end of that day (from its update history, see
    assignments_as_of), due states on that day, and only assignments that existed by then; unit plans
    issued, inspections made and round reports submitted by then. The assignments are counted in the
    database (tallies); only the groups come back.

    The answer's parts are built with model_construct: they come from the read model, already valid,
    and validating hundreds of them again cost more than the counting."""
    plan = session.get(ReportPlan, plan_id)
    if plan is None:
        return None
    day = as_of or today
    rule = DueRule(day, plan.reporting_period, soon_days)
    tasks = session.exec(select(ReportTask).where(ReportTask.plan_id == plan_id)).all()

    task_by_code = {t.code: t for t in tasks}
    with plan_lines(session, plan_id, as_of, {t.id: t.kind for t in tasks}) as lines:
        counted = tally(session, lines, rule, scope)
        by_task, indicator_values = counted.by_task, counted.indicator_sets
        labels = {t.code: (t.title, t.kind, t.due_on) for t in tasks}
        labels |= task_labels(session, lines, {g.key[1] for g in by_task} - set(labels))
        order = {code: task_sort_key(code) for code in labels}
        task_order = sorted(labels, key=order.__getitem__)
        behind = most_behind(session, lines, rule, scope, task_order, overdue_limit)
        assigned_units = {u.unit_id for u in counted.by_unit}
        unit_plans = [p for p in session.exec(select(ReportUnitPlan).where(ReportUnitPlan.plan_id == plan_id)
                                              .order_by(col(ReportUnitPlan.issued_on), col(ReportUnitPlan.id))).all()
                      if in_scope(p.unit_id, scope) and (as_of is None or p.issued_on <= as_of)]
        inspection_query = select(col(ReportInspection.unit_id), col(ReportInspection.unit_name),
                                  col(ReportInspection.inspected_on)).where(ReportInspection.plan_id == plan_id)
        inspections = [(i[0], i[1]) for i in session.exec(inspection_query).all()
                       if in_scope(i[0], scope) and (as_of is None or i[2] <= as_of)]
        rounds = session.exec(select(ReportReviewRound).where(ReportReviewRound.plan_id == plan_id)
                              .order_by(col(ReportReviewRound.submit_by), col(ReportReviewRound.id))).all()
        # unit labels: the unit directory first, then the labels events carried
        unit_ids = (assigned_units | {p.unit_id for p in unit_plans} | {i[0] for i in inspections}
                    | {u for r in rounds for u in r.unit_ids if in_scope(u, scope)})
        codes: dict[int, str] = {}
        names: dict[int, str] = {}
        for unit in session.exec(select(ReportUnit.id, ReportUnit.name, ReportUnit.code)  # type: ignore[call-overload]
                                 .where(col(ReportUnit.id).in_(unit_ids))).all():
            names[unit[0]], codes[unit[0]] = unit[1], unit[2]
        for unit_id, (code, name) in unit_labels(session, lines, assigned_units - set(names)).items():
            names[unit_id], codes[unit_id] = name, code
    for p in unit_plans:
        names.setdefault(p.unit_id, p.unit_name)
        codes.setdefault(p.unit_id, p.unit_code)
    for unit_id, unit_name in inspections:
        names.setdefault(unit_id, unit_name)

    until = end_of_day(as_of) if as_of is not None else None
    round_progress = [_round_progress(r, [u for u in round_units(session, r, names, until)
                                          if in_scope(u.unit_id, scope)])
                      for r in rounds]
    for r in round_progress:
        for u in r.units:
            names.setdefault(u.unit_id, u.unit_name)

    status_keys = dict.fromkeys(STATUS_LABELS, 0)
    due_keys = dict.fromkeys((s.value for s in DueState), 0)
    by_status: Counter[str] = Counter()
    by_due: Counter[str] = Counter()
    unit_counts = {u.unit_id: (u.total, u.completed, u.behind) for u in counted.by_unit}
    task_status: dict[str, Counter[str]] = defaultdict(Counter)
    task_due: dict[str, Counter[str]] = defaultdict(Counter)
    task_progress: Counter[str] = Counter()
    for g in by_task:
        by_status[g.status] += g.count
        by_due[g.due_state] += g.count
        code = g.key[1]
        task_status[code][g.status] += g.count
        task_due[code][g.due_state] += g.count
        task_progress[code] += g.progress_sum
    achieved: dict[tuple[str, str], list[float]] = {}
    for task_code, values, times in indicator_values:
        for key, value in values.items():
            amount = as_number(value)
            if amount is not None:
                acc = achieved.setdefault((task_code, key), [0.0, 0])
                acc[0] += amount * times
                acc[1] += times
    total = sum(by_status.values())
    overdue = [OverdueAssignment.model_construct(
        assignment_id=b.id, task_code=b.task_code, task_title=b.task_title, unit_id=b.unit_id,
        unit_code=codes.get(b.unit_id, b.unit_code), unit_name=names.get(b.unit_id, b.unit_name),
        due_state=b.due_state.value, due_on=b.missed_on, days_late=(day - b.missed_on).days) for b in behind]

    task_rows = []
    for code in [c for c in task_order if c in task_status or (c in task_by_code and task_by_code[c].indicators)]:
        title, kind, due_on = labels[code]
        task = task_by_code.get(code)
        statuses = task_status.get(code, Counter())
        assigned = sum(statuses.values())
        task_rows.append(TaskProgress.model_construct(
            code=code, title=title, kind=kind, due_on=due_on, assignments=assigned, completed=statuses["completed"],
            average_progress=task_progress.get(code, 0) / assigned if assigned else 0.0,
            by_status=status_keys | statuses, by_due_state=due_keys | task_due.get(code, Counter()),
            indicators=_indicators(code, task.indicators if task is not None else [], achieved)))

    plans_of: dict[int, list[UnitPlanRef]] = defaultdict(list)
    for p in unit_plans:
        plans_of[p.unit_id].append(UnitPlanRef.model_construct(number=p.number, issued_on=p.issued_on, title=p.title,
                                                               link=p.link))
    inspected = Counter(unit_id for unit_id, _ in inspections)
    rounds_of: dict[int, list[UnitRoundState]] = defaultdict(list)
    for r in round_progress:
        for u in r.units:
            rounds_of[u.unit_id].append(UnitRoundState.model_construct(round_id=r.id, state=u.state))

    units = []
    for unit_id in sorted(names, key=lambda u: (codes.get(u, "") == "", codes.get(u, ""), u)):
        assigned, completed, late = unit_counts.get(unit_id, (0, 0, 0))
        plans = plans_of.get(unit_id, [])
        units.append(UnitProgress.model_construct(
            unit_id=unit_id, unit_code=codes.get(unit_id, ""), unit_name=names[unit_id],
            assignments_total=assigned, assignments_completed=completed, assignments_overdue=late,
            unit_plan_registered=bool(plans), unit_plans=plans, inspections=inspected.get(unit_id, 0),
            review_rounds=rounds_of.get(unit_id, []),
        ))

    with_assignments = [u.unit_id for u in units if u.assignments_total]
    missing = [u for u in with_assignments if u not in plans_of]
    registered = len(with_assignments) - len(missing)
    on_time, done_late = by_due[DueState.COMPLETED_ON_TIME], by_due[DueState.COMPLETED_LATE]
    return PlanProgress(
        plan_id=plan.id, number=plan.number, title=plan.title, status=plan.status, period=plan.period,
        reporting_period=plan.reporting_period, as_of=day,
        assignments=AssignmentCounts(total=total, by_status=status_keys | by_status,
                                     by_due_state=due_keys | by_due),
        units=units, review_rounds=round_progress,
        completion_rate=by_status["completed"] / total if total else 0.0,
        on_time_rate=on_time / (on_time + done_late) if on_time + done_late else None,
        overdue=overdue, overdue_total=sum(counts[2] for counts in unit_counts.values()), tasks=task_rows,
        unit_plan_completeness=UnitPlanCompleteness(
            units_with_assignments=len(with_assignments), registered=registered,
            rate=registered / len(with_assignments) if with_assignments else 0.0, missing=missing),
        inspections_total=len(inspections),
    )


def _indicators(code: str, declared: list[dict[str, Any]], achieved: dict[tuple[str, str], list[float]]
                ) -> list[IndicatorProgress]:
    """A task's declared indicators against what its units reported, then any undeclared ones reported."""
    found = []
    seen = set()
    for ind in declared:
        ind_code = str(ind.get("code", ""))
        seen.add(ind_code)
        target = as_number(ind.get("target"))
        got, reporting = achieved.get((code, ind_code), (0.0, 0))
        found.append(IndicatorProgress.model_construct(
            code=ind_code, name=str(ind.get("name") or ind_code), unit_of_measure=str(ind.get("unit_of_measure") or ""),
            target=target, achieved=got, reporting_units=int(reporting), rate=got / target if target else None))
    for (t_code, ind_code), (got, reporting) in achieved.items():
        if t_code == code and ind_code not in seen:
            found.append(IndicatorProgress.model_construct(
                code=ind_code, name=ind_code, unit_of_measure="", target=None, achieved=got,
                reporting_units=int(reporting), rate=None))
    return found
