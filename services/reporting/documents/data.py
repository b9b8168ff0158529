"""The figures every review document shows, computed once from the read model, in the caller's scope."""

from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlmodel import Session, col, select

from services.reporting.models import (
    ReportPlan,
    ReportReviewRound,
    ReportTask,
    ReportUnit,
    ReportUnitPlan,
)
from services.reporting.progress import (
    BEHIND,
    as_number,
    due_states,
    end_of_day,
    latest_submissions,
    round_units,
    task_sort_key,
)
from services.reporting.rows import ExportRow, export_rows
from shared.due import DueState
from shared.events.base import as_utc
from shared.vietnamese import STATUS_LABELS

PLAN_KIND_LABELS: dict[str, str] = {"ke_hoach": "Kế hoạch", "chuong_trinh": "Chương trình", "nghi_quyet": "Nghị quyết"}


@dataclass
class IndicatorLine:
    """An indicator of a task: the units' reported values summed against the task's target."""

    task_code: str
    code: str
    name: str
    unit_of_measure: str
    target: float | None
    achieved: float = 0.0
    reporting_units: int = 0

    @property
    def rate(self) -> float | None:
        """achieved / target, or None without a positive target."""
        return self.achieved / self.target if self.target else None


@dataclass
class TaskLine:
    """One task: how many units carry it and where they stand."""

    code: str
    title: str
    kind: str
    due_on: date | None
    assigned: int = 0
    completed: int = 0
    in_progress: int = 0
    not_started: int = 0
    overdue: int = 0
    progress_sum: int = 0
    indicators: list[IndicatorLine] = field(default_factory=list)
    summaries: list[tuple[str, str]] = field(default_factory=list)  # (unit name, reported result)

    @property
    def average_progress(self) -> float:
        """Mean reported progress (%) over the units assigned."""
        return self.progress_sum / self.assigned if self.assigned else 0.0


@dataclass
class UnitLine:
    """One unit: its assignments by status and its registered implementing documents."""

    unit_id: int
    code: str
    name: str
    assigned: int = 0
    completed: int = 0
    in_progress: int = 0
    not_started: int = 0
    overdue: int = 0
    unit_plans: list[str] = field(default_factory=list)  # "12-KH/CB, 05/01/2022"

    @property
    def completion_rate(self) -> float:
        """completed / assigned (0 without assignments)."""
        return self.completed / self.assigned if self.assigned else 0.0


@dataclass
class SubmissionLine:
    """An expected (or unexpected) unit's report in a review round."""

    unit_id: int
    unit_name: str
    state: str  # on_time, late or missing
    submitted_at: datetime | None
    link: str = ""
    summary: str = ""
    results: str = ""
    difficulties: str = ""
    proposals: str = ""


@dataclass
class PlanReport:
    """What a review document says about a plan on `today`, over the units in the caller's scope."""

    plan: ReportPlan
    today: date
    rows: list[ExportRow]
    states: dict[int, DueState]
    kinds: dict[int, str]
    names: dict[int, str]
    by_status: dict[str, int]
    by_due_state: dict[str, int]
    units: list[UnitLine]
    tasks: list[TaskLine]
    overdue: list[ExportRow]
    indicators: list[IndicatorLine]
    unit_plan_numbers: dict[int, str]
    round: ReportReviewRound | None = None
    submissions: list[SubmissionLine] = field(default_factory=list)

    @property
    def total(self) -> int:
        """Assignments in scope."""
        return len(self.rows)

    @property
    def completed(self) -> int:
        """Assignments completed."""
        return self.by_status.get("completed", 0)

    @property
    def completion_rate(self) -> float:
        """completed / total (0 without assignments)."""
        return self.completed / self.total if self.total else 0.0

    @property
    def on_time_rate(self) -> float | None:
        """Of the completed one-off assignments, the share completed by their deadline (None: none completed)."""
        on_time = self.by_due_state.get(DueState.COMPLETED_ON_TIME.value, 0)
        late = self.by_due_state.get(DueState.COMPLETED_LATE.value, 0)
        return on_time / (on_time + late) if on_time + late else None

    @property
    def overdue_count(self) -> int:
        """Assignments past their deadline, or whose unit missed the previous period's report."""
        return len(self.overdue)

    def unit_name(self, row: ExportRow) -> str:
        """The unit's current name (else the one its events carried)."""
        return self.names.get(row.unit_id, row.unit_name)

    def plan_label(self) -> str:
        """"Kế hoạch số 41-KH/ĐUK"."""
        return f"{PLAN_KIND_LABELS.get(self.plan.kind, 'Văn bản')} số {self.plan.number}"

    @property
    def difficulties(self) -> list[tuple[str, str, str]]:
        """(unit name, task code, text) of every difficulty reported, then of round reports."""
        found = [(self.unit_name(r), r.task_code, r.difficulties.strip()) for r in self.rows if r.difficulties.strip()]
        found += [(s.unit_name, "", s.difficulties.strip()) for s in self.submissions if s.difficulties.strip()]
        return found


def build_report(
    session: Session, plan: ReportPlan, today: date, soon_days: int, *, can_read: Callable[[int], bool],
    round_: ReportReviewRound | None = None, quotes_per_task: int = 3, as_of: date | None = None,
) -> PlanReport:
    """The document figures of `plan` on `today` over the units `can_read` admits.

    With `round_`, also each unit's report in that review round (timing by its first submission,
    content from its latest). With `as_of`, the assignments as they stood at the end of that day
    (rows.row_batches), due states on that day, and `today` is `as_of`."""
    if as_of is not None:
        today = as_of
    rows = [r for r in export_rows(session, plan.id, as_of) if can_read(r.unit_id)]
    tasks = session.exec(select(ReportTask).where(ReportTask.plan_id == plan.id)).all()
    kinds = {t.id: t.kind for t in tasks}
    unit_ids = {r.unit_id for r in rows}
    units_known = {u.id: u for u in session.exec(select(ReportUnit).where(col(ReportUnit.id).in_(unit_ids))).all()}
    names = {u.id: u.name for u in units_known.values()}
    states = due_states(plan, rows, today, soon_days, kinds)
    by_status = dict.fromkeys(STATUS_LABELS, 0) | Counter(r.status for r in rows)
    by_due = dict.fromkeys((s.value for s in DueState), 0) | Counter(s.value for s in states.values())

    unit_plans = [p for p in session.exec(select(ReportUnitPlan).where(ReportUnitPlan.plan_id == plan.id)
                                          .order_by(col(ReportUnitPlan.issued_on), col(ReportUnitPlan.id))).all()
                  if can_read(p.unit_id) and (as_of is None or p.issued_on <= as_of)]
    plans_of: dict[int, list[str]] = defaultdict(list)
    for p in unit_plans:
        plans_of[p.unit_id].append(f"{p.number}, {p.issued_on.strftime('%d/%m/%Y')}")

    unit_lines: dict[int, UnitLine] = {}
    task_lines: dict[str, TaskLine] = {}
    task_by_id = {t.id: t for t in tasks}
    indicator_lines: dict[tuple[str, str], IndicatorLine] = {}
    for task_row in sorted(tasks, key=lambda t: task_sort_key(t.code)):
        line = task_lines.setdefault(task_row.code, TaskLine(task_row.code, task_row.title, task_row.kind,
                                                             task_row.due_on))
        for ind in task_row.indicators or []:
            code = str(ind.get("code", ""))
            item = IndicatorLine(task_row.code, code, str(ind.get("name", code)), str(ind.get("unit_of_measure", "")),
                                 as_number(ind.get("target")))
            indicator_lines[(task_row.code, code)] = item
            line.indicators.append(item)
    overdue = []
    for r in rows:
        name = names.get(r.unit_id, r.unit_name)
        code = units_known[r.unit_id].code if r.unit_id in units_known else r.unit_code
        u = unit_lines.setdefault(r.unit_id, UnitLine(r.unit_id, code, name, unit_plans=plans_of.get(r.unit_id, [])))
        task = task_by_id.get(r.task_id)
        t = task_lines.get(r.task_code)
        if t is None:
            t = task_lines[r.task_code] = TaskLine(r.task_code, r.task_title, kinds.get(r.task_id, r.task_kind),
                                                   task.due_on if task else r.due_on)
        behind = states[r.id] in BEHIND
        counted: tuple[UnitLine | TaskLine, ...] = (u, t)
        for counter in counted:
            counter.assigned += 1
            counter.overdue += behind
            if r.status == "completed":
                counter.completed += 1
            elif r.status == "in_progress":
                counter.in_progress += 1
            else:
                counter.not_started += 1
        t.progress_sum += r.progress
        if r.summary.strip() and len(t.summaries) < quotes_per_task:
            t.summaries.append((name, r.summary.strip()))
        if behind:
            overdue.append(r)
        for key, value in (r.indicator_values or {}).items():
            amount = as_number(value)
            if amount is None:
                continue
            ind_line = indicator_lines.get((r.task_code, key))
            if ind_line is None:
                ind_line = indicator_lines[(r.task_code, key)] = IndicatorLine(r.task_code, key, key, "", None)
                t.indicators.append(ind_line)
            ind_line.achieved += amount
            ind_line.reporting_units += 1
    for unit_id, refs in plans_of.items():  # a unit with a registered plan but no assignment
        if unit_id not in unit_lines:
            p = next(p for p in unit_plans if p.unit_id == unit_id)
            unit_lines[unit_id] = UnitLine(unit_id, p.unit_code, names.get(unit_id, p.unit_name), unit_plans=refs)

    known = {r.unit_id: names.get(r.unit_id, r.unit_name) for r in rows}
    until = end_of_day(as_of) if as_of is not None else None
    submissions = _submissions(session, round_, can_read, known, until) if round_ is not None else []
    ordered_tasks = sorted((t for t in task_lines.values() if t.assigned or t.indicators),
                           key=lambda t: task_sort_key(t.code))
    return PlanReport(
        plan=plan, today=today, rows=rows, states=states, kinds=kinds, names=names, by_status=dict(by_status),
        by_due_state=by_due, units=sorted(unit_lines.values(), key=lambda u: (u.code == "", u.code, u.unit_id)),
        tasks=ordered_tasks, overdue=overdue,
        indicators=[i for t in ordered_tasks for i in t.indicators],
        unit_plan_numbers={k: "; ".join(v) for k, v in plans_of.items()},
        round=round_, submissions=submissions,
    )


def _submissions(session: Session, round_: ReportReviewRound, can_read: Callable[[int], bool],
                 known: dict[int, str], until: datetime | None = None) -> list[SubmissionLine]:
    latest = latest_submissions(session, round_.id, until)
    lines = []
    missing = [u for u in round_.unit_ids if u not in known]
    directory = session.exec(select(ReportUnit).where(col(ReportUnit.id).in_(missing))).all()
    names = known | {u.id: u.name for u in directory}
    for u in round_units(session, round_, names, until):
        if not can_read(u.unit_id):
            continue
        sub = latest.get(u.unit_id)
        lines.append(SubmissionLine(
            u.unit_id, u.unit_name, u.state, as_utc(u.submitted_at) if u.submitted_at else None, u.link,
            summary=sub.summary if sub else "", results=sub.results if sub else "",
            difficulties=sub.difficulties if sub else "", proposals=sub.proposals if sub else "",
        ))
    return lines
