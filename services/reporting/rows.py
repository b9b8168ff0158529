"""The narrow rows the exports read: a plan's assignments now, or as they stood at the end of a day."""

import json
from collections.abc import Callable, Iterator
from datetime import date, datetime
from typing import Any, NamedTuple

from sqlalchemy import String, Text, case, cast, type_coerce
from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from services.reporting.models import ReportAssignment
from services.reporting.progress import task_sort_key
from services.reporting.tallies import end_of_day, newest_update
from shared.events.base import as_utc
from shared.vietnamese import local_date

BATCH = 500  # rows fetched at a time


class ExportRow(NamedTuple):
    """The columns of an assignment the exports show and derive its due state from."""

    id: int
    task_id: int
    task_code: str
    task_title: str
    task_kind: str
    unit_id: int
    unit_code: str
    unit_name: str
    role: str
    due_on: date | None
    assigned_on: date | None
    last_reported_on: date | None
    status: str
    progress: int
    completed_on: date | None
    summary: str
    difficulties: str
    reported_by: str
    reported_at: datetime | None
    review_state: str
    review_reason: str
    indicator_values: dict[str, Any]
    evidence_links: list[str]


def existed_on(assigned_on: date | None, as_of: date) -> bool:
    """True unless the assignment was created after `as_of` (unknown creation day: kept)."""
    return assigned_on is None or assigned_on <= as_of


class Decoder:
    """Raw column values to Python, each distinct value decoded once."""

    def __init__(self) -> None:
        self._dates: dict[Any, date | None] = {None: None}
        self._days: dict[Any, date] = {}
        self._json: dict[str, Any] = {}

    def to_date(self, value: Any) -> date | None:
        found = self._dates.get(value, False)
        if found is False:
            found = self._dates[value] = date.fromisoformat(value[:10]) if isinstance(value, str) else value
        return found  # type: ignore[return-value]

    def local_day(self, value: Any) -> date:
        """The Vietnamese day of a stored moment (SQLite: naive UTC text)."""
        found = self._days.get(value)
        if found is None:
            moment = datetime.fromisoformat(value) if isinstance(value, str) else value
            found = self._days[value] = local_date(as_utc(moment))
        return found

    def moment(self, value: Any) -> datetime | None:
        """A stored moment, with its time zone (SQLite: naive UTC text)."""
        if value is None:
            return None
        return as_utc(datetime.fromisoformat(value) if isinstance(value, str) else value)

    def json(self, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        found = self._json.get(value)
        if found is None:
            found = self._json[value] = json.loads(value)
        return found


Decode = Callable[[Any], ExportRow | None]  # a result row to an export row (None: left out)


def _raw(column: Any) -> Any:
    """`column` without its result processing: Decoder decodes SQLite's text dates and moments
    (PostgreSQL's driver gives them typed anyway)."""
    return type_coerce(column, String).label(column.key)


def _json_text(column: Any) -> Any:
    """A JSON column as its text, for Decoder to decode each distinct value once (psycopg would decode
    every row's)."""
    return cast(column, Text).label(column.key)


A = ReportAssignment
ASSIGNMENT_COLUMNS: tuple[Any, ...] = (
    A.id, A.task_id, A.task_code, A.task_title, A.task_kind, A.unit_id, A.unit_code, A.unit_name, A.role,
    _raw(A.due_on), _raw(A.assigned_on))
NOW_COLUMNS: tuple[Any, ...] = (
    _raw(A.last_reported_on), A.status, A.progress, _raw(A.completed_on), A.summary, A.difficulties, A.reported_by,
    _raw(A.reported_at), A.review_state, A.review_reason, _json_text(A.indicator_values), _json_text(A.evidence_links))


def _update_columns(u: Any) -> tuple[Any, ...]:
    """The newest update's columns (as of a day), from newest_update's selectable."""
    c = u.c
    return (c.status, c.progress, c.summary, c.difficulties, c.reported_by, _raw(c.reported_at), c.review_state,
            c.review_reason, _raw(c.reviewed_at), _json_text(c.indicator_values), _json_text(c.evidence_links))


def _document_order(session: Session, plan_id: int) -> list[Any]:
    """ORDER BY terms for the plan's assignments: task codes in document order, then unit code, then id."""
    codes = session.connection().execute(
        sa_select(col(A.task_code)).where(col(A.plan_id) == plan_id).distinct()).scalars().all()
    keys = sorted({task_sort_key(code) for code in codes})
    rank = {key: n for n, key in enumerate(keys)}
    unit_code: Any = col(A.unit_code)
    if session.get_bind().dialect.name == "postgresql":
        unit_code = unit_code.collate("C")  # code point order, as Python compares
    terms: list[Any] = [unit_code, col(A.id)]
    if codes:
        terms.insert(0, case({code: rank[task_sort_key(code)] for code in codes}, value=col(A.task_code)))
    return terms


def row_batches(session: Session, plan_id: int, as_of: date | None = None) -> Iterator[list[ExportRow]]:
    """The plan's assignments in document order, BATCH rows at a time (never all of them in memory):
    as they are now (`as_of` None), or as they stood at the end of the Vietnamese day `as_of`.

    As of a day, each takes its newest update reported by then (not_started, 0 % and no content before
    any), that update's review only if reviewed by then (else pending), and its report and completion
    days; assignments created after `as_of` are left out. Rows may share their JSON values: read only."""
    if as_of is None:
        query = sa_select(*ASSIGNMENT_COLUMNS, *NOW_COLUMNS)
    else:  # each assignment with its newest update by then (NULLs: none)
        u, on_update = newest_update(session, as_of)
        query = sa_select(*ASSIGNMENT_COLUMNS, *_update_columns(u)).select_from(A).outerjoin(u, on_update)
    query = (query.where(col(A.plan_id) == plan_id).order_by(*_document_order(session, plan_id))
             .execution_options(yield_per=BATCH))
    for part in session.connection().execute(query).partitions():
        decode = _now(Decoder()) if as_of is None else _then(Decoder(), as_of)  # caches per batch: bounded
        yield [row for row in map(decode, part) if row is not None]


def export_rows(session: Session, plan_id: int, as_of: date | None = None) -> list[ExportRow]:
    """All of row_batches() in one list."""
    return [r for batch in row_batches(session, plan_id, as_of) for r in batch]


def _now(raw: Decoder) -> Decode:
    d = raw.to_date

    def decode(r: Any) -> ExportRow | None:
        return ExportRow(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], d(r[9]), d(r[10]), d(r[11]), r[12],
                         r[13], d(r[14]), r[15], r[16], r[17], raw.moment(r[18]), r[19], r[20],
                         raw.json(r[21]) or {}, raw.json(r[22]) or [])
    return decode


def _then(raw: Decoder, as_of: date) -> Decode:
    d = raw.to_date
    cutoff = end_of_day(as_of)

    def decode(r: Any) -> ExportRow | None:
        assigned_on = d(r[10])
        if not existed_on(assigned_on, as_of):
            return None
        status = r[11]
        if status is None:  # no update by then
            return ExportRow(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], d(r[9]), assigned_on, None,
                             "not_started", 0, None, "", "", "", None, "", "", {}, [])
        reported_on = raw.local_day(r[16])
        reviewed_at = raw.moment(r[19])
        reviewed = reviewed_at is not None and reviewed_at < cutoff and r[17] != "pending"
        return ExportRow(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], d(r[9]), assigned_on, reported_on,
                         status, r[12], reported_on if status == "completed" else None, r[13], r[14], r[15],
                         raw.moment(r[16]), r[17] if reviewed else "pending", r[18] if reviewed else "",
                         raw.json(r[20]) or {}, raw.json(r[21]) or [])
    return decode
