"""A plan's assignments counted in the database: the due-state rule as SQL, and the grouped queries
plan progress is assembled from (so progress reads hundreds of rows, not one per assignment)."""

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Column,
    Date,
    FromClause,
    Integer,
    MetaData,
    Table,
    Text,
    and_,
    case,
    cast,
    func,
    literal,
    null,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col

from services.reporting.models import ReportAssignment, ReportTask, ReportUnit, ReportUpdate
from shared.due import DueState, period_bounds
from shared.vietnamese import VIETNAM_TZ


@dataclass(frozen=True)
class DueRule:
    """What the due state of every assignment is judged against: the day, the plan's reporting
    period and how many days before a deadline count as soon."""

    today: date
    period: str
    soon_days: int

    def expression(self, status: Any, kind: Any, due_on: Any, completed_on: Any, assigned_on: Any,
                   last_reported_on: Any) -> ColumnElement[str]:
        """shared.due.assignment_due_state as a SQL CASE over the given columns."""
        today = literal(self.today, Date)
        start, end = period_bounds(self.period, self.today)
        previous_start, previous_end = period_bounds(self.period, start - timedelta(days=1))
        ongoing_open = (DueState.REPORT_DUE if self.today >= end - timedelta(days=self.soon_days)
                        else DueState.WITHIN_DEADLINE)
        ongoing = case(
            (status == "completed", DueState.NO_DEADLINE.value),
            (last_reported_on >= literal(start, Date), DueState.REPORTED.value),
            (and_(func.coalesce(assigned_on, today) <= literal(previous_end, Date),
                  or_(last_reported_on.is_(None), last_reported_on < literal(previous_start, Date))),
             DueState.REPORT_MISSING.value),
            else_=ongoing_open.value)
        one_off = case(
            (due_on.is_(None), DueState.NO_DEADLINE.value),
            (status == "completed", case((func.coalesce(completed_on, today) <= due_on,
                                          DueState.COMPLETED_ON_TIME.value),
                                         else_=DueState.COMPLETED_LATE.value)),
            (due_on < today, DueState.OVERDUE.value),
            (due_on <= literal(self.today + timedelta(days=self.soon_days), Date), DueState.DUE_SOON.value),
            else_=DueState.WITHIN_DEADLINE.value)
        return case((kind == "ongoing", ongoing), else_=one_off)

    def missed_on(self) -> date:
        """The deadline an ongoing assignment whose report is missing missed: the previous period's end."""
        start, _ = period_bounds(self.period, self.today)
        return start - timedelta(days=1)


def local_day(session: Session, moment: Any) -> ColumnElement[date]:
    """The Vietnamese calendar day of a stored UTC moment, in SQL."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.timezone(VIETNAM_TZ, moment), Date)
    # SQLite keeps naive UTC text; Vietnam has kept UTC+7, without daylight saving, since 1975
    return func.date(moment, "+7 hours")


def _line_table() -> Table:
    """The temporary table assignments as of a past day are computed into (one per connection)."""
    text_columns = ("task_code", "task_title", "kind", "unit_code", "unit_name", "status", "indicator_values")
    return Table("progress_lines_as_of", MetaData(), *(
        Column(name, Date() if name.endswith("_on") else Text() if name in text_columns else Integer())
        for name in LINE_NAMES), prefixes=["TEMPORARY"])


def end_of_day(day: date) -> datetime:
    """The first moment (UTC) after the Vietnamese day `day`: updates reported before it count."""
    return datetime.combine(day + timedelta(days=1), time(), ZoneInfo(VIETNAM_TZ)).astimezone(UTC)


def newest_update(session: Session, as_of: date) -> tuple[FromClause, ColumnElement[bool]]:
    """Each assignment's newest update reported by the end of `as_of` (latest reported_at, then the
    highest version), for an outer join from report_assignments: (the update's columns, the join's ON).

    PostgreSQL takes it through a LATERAL subquery (one index probe per assignment; a correlated
    subquery in the ON clause made it hash all 100,000 updates); SQLite, which has no LATERAL, through
    that correlated subquery, which it runs as one index probe per assignment."""
    u = ReportUpdate.__table__.alias("u")  # type: ignore[attr-defined]
    newest = (select(u.c.id).where(u.c.assignment_id == col(ReportAssignment.id), u.c.reported_at < end_of_day(as_of))
              .order_by(u.c.reported_at.desc(), u.c.version.desc(), u.c.id.desc()).limit(1))
    if session.get_bind().dialect.name == "postgresql":
        return newest.with_only_columns(*u.c).lateral("newest"), true()
    found = ReportUpdate.__table__.alias("newest")  # type: ignore[attr-defined]
    return found, found.c.id == newest.correlate(ReportAssignment).scalar_subquery()


LINE_NAMES = ("id", "task_id", "task_code", "task_title", "kind", "unit_id", "unit_code", "unit_name", "due_on",
              "assigned_on", "last_reported_on", "status", "progress", "completed_on", "indicator_values")


def _line_columns(kind: Any, status: Any, progress: Any, last_reported_on: Any, completed_on: Any,
                  indicator_values: Any) -> list[ColumnElement[Any]]:
    a = ReportAssignment
    return [col(a.id).label("id"), col(a.task_id).label("task_id"), col(a.task_code).label("task_code"),
            col(a.task_title).label("task_title"), kind.label("kind"), col(a.unit_id).label("unit_id"),
            col(a.unit_code).label("unit_code"), col(a.unit_name).label("unit_name"),
            col(a.due_on).label("due_on"), col(a.assigned_on).label("assigned_on"),
            last_reported_on.label("last_reported_on"), status.label("status"), progress.label("progress"),
            completed_on.label("completed_on"), cast(indicator_values, Text).label("indicator_values")]


def task_kind(kinds: dict[int, str]) -> ColumnElement[str]:
    """An assignment's task kind: its plan task's (`kinds`, by task id) when the plan lists the task, else
    the assignment's own. A CASE over the ids rather than a join: without statistics the planner took
    the plan's assignments for a handful of rows and joined the tasks by a nested loop."""
    ids: dict[str, list[int]] = {}
    for task_id, kind in sorted(kinds.items()):
        ids.setdefault(kind, []).append(task_id)
    own: ColumnElement[str] = ReportAssignment.__table__.c.task_kind  # type: ignore[attr-defined]
    if not ids:
        return own
    return case(*((col(ReportAssignment.task_id).in_(found), kind) for kind, found in ids.items()), else_=own)


@contextmanager
def plan_lines(session: Session, plan_id: int, as_of: date | None, kinds: dict[int, str] | None = None
               ) -> Iterator[FromClause]:
    """The plan's assignments as rows of (id, task_id, task_code, task_title, kind, unit_id, unit_code,
    unit_name, due_on, assigned_on, last_reported_on, status, progress, completed_on, indicator_values):
    as they are now, or as they stood at the end of `as_of` (rows.row_batches' rule). `kinds`: the
    plan's task kinds by task id (None: read them).

    The past is computed once into a temporary table the grouped queries then read."""
    a = ReportAssignment
    if kinds is None:
        kinds = dict(session.connection().execute(
            select(col(ReportTask.id), col(ReportTask.kind)).where(col(ReportTask.plan_id) == plan_id)).all())
    kind = task_kind(kinds)
    if as_of is None:
        yield (select(*_line_columns(kind, col(a.status), col(a.progress), col(a.last_reported_on),
                                     col(a.completed_on), col(a.indicator_values)))
               .where(col(a.plan_id) == plan_id).subquery("lines"))
        return
    u, on_update = newest_update(session, as_of)
    reported_on = local_day(session, u.c.reported_at)
    query = (select(*_line_columns(
        kind, func.coalesce(u.c.status, "not_started"), func.coalesce(u.c.progress, 0), reported_on,
        case((u.c.status == "completed", reported_on)), u.c.indicator_values))
        .select_from(a)
        .outerjoin(u, on_update)
        .where(col(a.plan_id) == plan_id, or_(col(a.assigned_on).is_(None), col(a.assigned_on) <= as_of)))
    table = _line_table()
    connection = session.connection()
    table.drop(connection, checkfirst=True)
    table.create(connection)
    try:
        connection.execute(table.insert().from_select([c.name for c in table.columns], query))
        yield table
    finally:
        table.drop(connection)


@dataclass(frozen=True)
class Group:
    """Assignments sharing a unit (or task), a status and a due state."""

    key: Any
    status: str
    due_state: DueState
    count: int
    progress_sum: int


@dataclass(frozen=True)
class UnitCount:
    """A unit's assignments: all, completed, and behind (overdue, or report missing)."""

    unit_id: int
    total: int
    completed: int
    behind: int


@dataclass(frozen=True)
class Tally:
    """A plan's assignments counted: by unit, by task, and each task's distinct indicator value sets."""

    by_unit: list[UnitCount]
    by_task: list[Group]
    indicator_sets: list[tuple[str, dict[str, Any], int]]


BEHIND_STATES = (DueState.OVERDUE.value, DueState.REPORT_MISSING.value)
_STATES = {s.value: s for s in DueState}


def _scoped(lines: FromClause, scope: frozenset[int] | None) -> list[ColumnElement[bool]]:
    return [] if scope is None else [lines.c.unit_id.in_(sorted(scope))]


def _due(lines: FromClause, rule: DueRule) -> ColumnElement[str]:
    c = lines.c
    return rule.expression(c.status, c.kind, c.due_on, c.completed_on, c.assigned_on, c.last_reported_on)


def tally(session: Session, lines: FromClause, rule: DueRule, scope: frozenset[int] | None) -> Tally:
    """Each unit's counts (all, completed, behind); counts and progress sums by task (id, code), status
    and due state; (task code, indicator values, how many assignments reported exactly those) for every
    distinct set. One statement: the three groupings read one pass over the lines (a CTE, due state
    computed once per assignment)."""
    c = lines.c
    rows = (select(c.unit_id, c.task_id, c.task_code, c.status, c.progress, c.indicator_values,
                   _due(lines, rule).label("due"))
            .where(*_scoped(lines, scope)).cte("tallied"))
    r = rows.c
    completed = func.sum(case((r.status == "completed", 1), else_=0))
    behind = func.sum(case((r.due.in_(BEHIND_STATES), 1), else_=0))
    by_unit = (select(literal("u"), r.unit_id, null(), null(), null(), func.count(), completed, behind, null())
               .group_by(r.unit_id))
    by_task = (select(literal("t"), r.task_id, r.task_code, r.status, r.due, func.count(), func.sum(r.progress),
                      null(), null())
               .group_by(r.task_id, r.task_code, r.status, r.due))
    values = (select(literal("i"), null(), r.task_code, null(), null(), func.count(), null(), null(),
                     r.indicator_values)
              .where(r.indicator_values.is_not(None), r.indicator_values != "{}")
              .group_by(r.task_code, r.indicator_values))
    found = session.connection().execute(union_all(by_unit, by_task, values)).all()
    return Tally(
        by_unit=[UnitCount(f[1], f[5], int(f[6]), int(f[7])) for f in found if f[0] == "u"],
        by_task=[Group((f[1], f[2]), f[3], _STATES[f[4]], f[5], int(f[6] or 0)) for f in found if f[0] == "t"],
        indicator_sets=[(f[2], json.loads(f[8]), f[5]) for f in found if f[0] == "i" and f[8]])


def unit_labels(session: Session, lines: FromClause, unit_ids: set[int]) -> dict[int, tuple[str, str]]:
    """(code, name) the assignments of these units carried (for units the directory does not know)."""
    if not unit_ids:
        return {}
    found = session.connection().execute(
        select(lines.c.unit_id, func.max(lines.c.unit_code), func.max(lines.c.unit_name))
        .where(lines.c.unit_id.in_(sorted(unit_ids))).group_by(lines.c.unit_id)).all()
    return {r[0]: (r[1], r[2]) for r in found}


def task_labels(session: Session, lines: FromClause, task_codes: set[str]) -> dict[str, tuple[str, str, date | None]]:
    """(title, kind, deadline) the assignments of these tasks carried (for tasks the plan does not list)."""
    if not task_codes:
        return {}
    found = session.connection().execute(
        select(lines.c.task_code, func.max(lines.c.task_title), func.max(lines.c.kind), func.max(lines.c.due_on))
        .where(lines.c.task_code.in_(sorted(task_codes))).group_by(lines.c.task_code)).all()
    return {r[0]: (r[1], r[2], _day(r[3])) for r in found}


@dataclass(frozen=True)
class Behind:
    """An assignment behind on the day, with the deadline it missed."""

    id: int
    task_code: str
    task_title: str
    unit_id: int
    unit_code: str
    unit_name: str
    due_state: DueState
    missed_on: date


def most_behind(session: Session, lines: FromClause, rule: DueRule, scope: frozenset[int] | None,
                task_order: list[str], limit: int | None) -> list[Behind]:
    """The assignments behind (overdue, or report missing), most days late first, then in task order,
    unit code and id; at most `limit` of them (None: all)."""
    c = lines.c
    # the due state computed once per line (OFFSET 0 keeps PostgreSQL from inlining it into each use)
    judged = (select(c.id, c.task_code, c.task_title, c.unit_id, c.unit_code, c.unit_name, c.due_on,
                     _due(lines, rule).label("due"))
              .where(*_scoped(lines, scope)).offset(0).subquery("judged"))
    j = judged.c
    missed = case((j.due == DueState.OVERDUE.value, j.due_on), else_=literal(rule.missed_on(), Date))
    rank = case({code: i for i, code in enumerate(task_order)}, value=j.task_code, else_=len(task_order))
    unit = ReportUnit
    unit_code = func.coalesce(col(unit.code), j.unit_code)
    query = (select(j.id, j.task_code, j.task_title, j.unit_id, unit_code, func.coalesce(col(unit.name), j.unit_name),
                    j.due, missed)
             .outerjoin(unit, col(unit.id) == j.unit_id)
             .where(j.due.in_(BEHIND_STATES))
             .order_by(missed, rank, unit_code, j.id))
    if limit is not None:
        query = query.limit(limit)
    return [Behind(r[0], r[1], r[2], r[3], r[4], r[5], _STATES[r[6]], _day(r[7]) or rule.today)
            for r in session.connection().execute(query).all()]


def _day(value: Any) -> date | None:
    """A date column's value (SQLite may hand back its text form from expressions)."""
    return date.fromisoformat(value[:10]) if isinstance(value, str) else value

