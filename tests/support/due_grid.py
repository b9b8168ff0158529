"""Assignments in every due state on many days, to check that the `due_state` filter of
GET /assignments (SQL) agrees with the due state each assignment shows (Python), on SQLite and
PostgreSQL alike.

Through the API: one plan per reporting period with an ongoing task, and a plan with a one-off task,
each assigned to the same units. Then, in the database, each assignment gets its own mix of
creation moment (including both sides of a Vietnamese midnight), last report day, status and
deadline.
"""

from collections import Counter
from datetime import UTC, date, datetime
from itertools import product

from sqlmodel import Session

from services.assignments import queries
from services.assignments.auth import Actor
from services.assignments.domain import DueState, ReportingPeriod, Role
from services.assignments.models import Assignment
from services.assignments.schemas import AssignmentPublic
from tests.unit.conftest import Api

CREATED = [
    datetime(2025, 1, 10, 3, 0, tzinfo=UTC),
    datetime(2026, 9, 30, 16, 59, 59, tzinfo=UTC),  # 23:59:59 on 30 September in Vietnam
    datetime(2026, 9, 30, 17, 0, tzinfo=UTC),  # midnight: 1 October in Vietnam
]
LAST_REPORTED = [None, date(2026, 6, 30), date(2026, 7, 1), date(2026, 9, 30), date(2026, 10, 1), date(2026, 12, 20)]
ONGOING = list(product(CREATED, LAST_REPORTED, ["in_progress", "completed"]))
DUE = [None, date(2026, 10, 1), date(2026, 11, 15), date(2026, 12, 31), date(2027, 1, 20)]
DONE = [None, date(2026, 11, 1), date(2027, 1, 10)]
ONE_OFF = list(product(DUE, DONE))
DAYS = [date(2026, 10, 1), date(2026, 11, 10), date(2026, 12, 24), date(2026, 12, 31), date(2027, 1, 1),
        date(2027, 1, 25), date(2027, 6, 30), date(2027, 7, 1)]


def build(api: Api, prefix: str) -> list[int]:
    """The grid's assignments (through the API, then adjusted in the database); their ids."""
    units = [api.unit(f"{prefix}-{n}", name=f"Chi bộ {prefix} {n}")["id"] for n in range(len(ONGOING))]
    ids = []
    for period in ReportingPeriod:
        plan = api.plan(f"{prefix}-{period.value}", [{"code": "1", "title": "Thường xuyên", "kind": "ongoing"}],
                        reporting_period=period.value)
        made = api.assign(plan["id"], plan["tasks"][0]["id"], units)
        _set(api, [(a["id"], {"created_at": created, "last_reported_on": last, "status": status,
                              "completed_on": date(2026, 11, 1) if status == "completed" else None})
                   for a, (created, last, status) in zip(made, ONGOING, strict=True)])
        ids += [a["id"] for a in made]
    plan = api.plan(f"{prefix}-once", [{"code": "1", "title": "Có thời hạn", "due_on": "2026-12-31"}])
    made = api.assign(plan["id"], plan["tasks"][0]["id"], units[:len(ONE_OFF)])
    _set(api, [(a["id"], {"due_on": due, "completed_on": done, "status": "completed" if done else "in_progress"})
               for a, (due, done) in zip(made, ONE_OFF, strict=True)])
    return ids + [a["id"] for a in made]


def _set(api: Api, changes: list[tuple[int, dict]]) -> None:
    with Session(api.engine) as session:
        for assignment_id, values in changes:
            row = session.get(Assignment, assignment_id)
            assert row is not None
            for key, value in values.items():
                setattr(row, key, value)
            session.add(row)
        session.commit()


def admin(api: Api) -> Actor:
    me = api.ok(api.get("/me"), 200)
    return Actor(me["id"], me["name"], Role.ADMIN, None)


def check_filter_agrees(api: Api, ids: list[int], soon_days: int = 7) -> Counter[DueState]:
    """On every day of DAYS, filtering by each due state returns exactly the grid's assignments that
    show that state; returns how often each state was seen."""
    actor, seen = admin(api), Counter[DueState]()
    with Session(api.engine) as session:

        def listed(state: DueState | None, today: date) -> list[AssignmentPublic]:
            rows, total = queries.list_assignments(
                session, actor=actor, filters=queries.AssignmentFilter(due_state=state), offset=0, limit=1000,
                today=today, soon_days=soon_days)
            assert total == len(rows)  # the count joins what the page joins
            return [r for r in rows if r.id in ids]

        for today in DAYS:
            shown = {r.id: r.due_state for r in listed(None, today)}
            assert set(shown) == set(ids)
            seen.update(shown.values())
            for state in DueState:
                filtered = {r.id for r in listed(state, today)}
                expected = {i for i, s in shown.items() if s == state}
                assert filtered == expected, (today, state, sorted(filtered ^ expected))
    return seen
