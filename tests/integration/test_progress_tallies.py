"""Progress counted in the database agrees with the due-state rule in Python, and with itself
across SQLite and PostgreSQL: the SQL CASE of every due state on many days and periods, and a whole
plan's progress (now and as of past days, whose Vietnamese days straddle UTC midnight)."""

from datetime import UTC, date, datetime, timedelta
from itertools import product
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlmodel import Session

from services.reporting import app as reporting_app
from services.reporting.models import ReportAssignment, ReportPlan, ReportTask, ReportUnit, ReportUpdate
from services.reporting.progress import plan_progress
from services.reporting.tallies import DueRule, plan_lines
from shared.db import make_engine, migrate
from shared.due import ReportingPeriod, assignment_due_state

DUE = [None, date(2026, 10, 1), date(2026, 11, 15), date(2026, 12, 31), date(2027, 1, 20)]
DONE = [None, date(2026, 11, 1), date(2027, 1, 10)]
ASSIGNED = [None, date(2025, 1, 10), date(2026, 9, 30), date(2026, 10, 1)]
REPORTED = [None, date(2026, 6, 30), date(2026, 7, 1), date(2026, 9, 30), date(2026, 10, 1), date(2026, 12, 20)]
DAYS = [date(2026, 10, 1), date(2026, 11, 10), date(2026, 12, 24), date(2026, 12, 31), date(2027, 1, 1),
        date(2027, 1, 25), date(2027, 7, 1)]
STATUSES = ["not_started", "in_progress", "completed"]


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    found = f"sqlite:///{tmp_path}/reporting.db" if request.param == "sqlite" else request.getfixturevalue("pg_url")
    migrate(found, reporting_app.MIGRATIONS)
    return found


def _grid() -> list[ReportAssignment]:
    rows = []
    combos = [("one_off", status, due, done, None, None) for status, due, done in product(STATUSES, DUE, DONE)]
    combos += [("ongoing", status, None, None, assigned, reported)
               for status, assigned, reported in product(STATUSES, ASSIGNED, REPORTED)]
    for n, (kind, status, due, done, assigned, reported) in enumerate(combos, start=1):
        rows.append(ReportAssignment(
            id=n, plan_id=1, task_id=1 if kind == "one_off" else 2, task_code="1", task_title="", task_kind=kind,
            unit_id=1, unit_code="CB", unit_name="Chi bộ", due_on=due, completed_on=done, status=status,
            assigned_on=assigned, last_reported_on=reported))
    return rows


def test_the_sql_due_state_is_the_rule(url: str) -> None:
    engine = make_engine(url)
    grid = _grid()
    with Session(engine, expire_on_commit=False) as s:
        s.add_all(grid)
        s.commit()
    checked = 0
    for period, today, soon in product(ReportingPeriod, DAYS, (0, 7)):
        rule = DueRule(today, period.value, soon)
        with Session(engine) as s, plan_lines(s, 1, None) as lines:
            c = lines.c
            found = dict(s.connection().execute(select(c.id, rule.expression(
                c.status, c.kind, c.due_on, c.completed_on, c.assigned_on, c.last_reported_on))).all())
        for a in grid:
            expected = assignment_due_state(a.status, a.task_kind, a.due_on, today, completed_on=a.completed_on,
                                            period=period, assigned_on=a.assigned_on,
                                            last_reported_on=a.last_reported_on, soon_days=soon)
            assert found[a.id] == expected.value, (period, today, soon, a)
            checked += 1
    assert checked == len(grid) * len(ReportingPeriod) * len(DAYS) * 2
    engine.dispose()


def _plan(engine_url: str) -> None:
    engine = make_engine(engine_url)
    with Session(engine) as s:
        s.add(ReportPlan(id=1, number="41-KH/ĐUK", title="Kế hoạch", status="published", reporting_period="monthly"))
        s.add(ReportTask(id=1, plan_id=1, code="II.2", title="Có thời hạn", due_on=date(2026, 10, 31),
                         indicators=[{"code": "lop", "name": "Số lớp", "unit_of_measure": "lớp", "target": 20}]))
        s.add(ReportTask(id=2, plan_id=1, code="II.10", title="Thường xuyên", kind="ongoing"))
        for unit in range(1, 7):
            s.add(ReportUnit(id=unit, code=f"CB-{unit}", name=f"Chi bộ {unit}", kind="party_cell"))
        n = 0
        start = datetime(2026, 9, 30, 16, 30, tzinfo=UTC)  # 23:30 on 30 September in Vietnam, still
        for unit in range(1, 7):
            for task, kind, due in ((1, "one_off", date(2026, 10, 31)), (2, "ongoing", None)):
                n += 1
                code = "II.2" if task == 1 else "II.10"
                history = []
                for k in range(unit % 4):
                    at = start + timedelta(hours=unit - 1, days=9 * k)
                    status = "completed" if k == 2 else "in_progress"
                    history.append(ReportUpdate(
                        id=100 * n + k, assignment_id=n, plan_id=1, unit_id=unit, status=status,
                        progress=100 if status == "completed" else 30 * (k + 1), reported_at=at, version=k + 2,
                        indicator_values={"lop": k + unit} if task == 1 else {}))
                last = history[-1] if history else None
                s.add_all(history)
                s.add(ReportAssignment(
                    id=n, plan_id=1, task_id=task, task_code=code, task_title="", task_kind=kind, unit_id=unit,
                    unit_code=f"CB-{unit}", unit_name=f"Chi bộ {unit}", due_on=due,
                    assigned_on=date(2026, 9, 1) if unit != 5 else date(2026, 10, 20),
                    status=last.status if last else "not_started", progress=last.progress if last else 0,
                    last_reported_on=(last.reported_at + timedelta(hours=7)).date() if last else None,
                    completed_on=(last.reported_at + timedelta(hours=7)).date()
                    if last and last.status == "completed" else None,
                    indicator_values=last.indicator_values if last else {}))
        s.commit()
    engine.dispose()


def test_progress_is_the_same_on_both_databases_now_and_as_of(pg_url: str, tmp_path: Path) -> None:
    url, reference = pg_url, f"sqlite:///{tmp_path}/reference.db"
    for each in (url, reference):
        migrate(each, reporting_app.MIGRATIONS)
    _plan(url)
    _plan(reference)
    days = [None, date(2026, 9, 30), date(2026, 10, 1), date(2026, 10, 10), date(2026, 11, 5)]
    answers = {}
    for name, engine_url in (("tested", url), ("reference", reference)):
        engine = make_engine(engine_url)
        with Session(engine) as s:
            answers[name] = [plan_progress(s, 1, date(2026, 11, 20), as_of=day).model_dump()  # type: ignore[union-attr]
                             for day in days]
        engine.dispose()
    assert answers["tested"] == answers["reference"]
    now, on_30_september, first_day = answers["tested"][0], answers["tested"][1], answers["tested"][2]
    assert now["assignments"]["total"] == 12
    # unit 5 was assigned on 20 October: not there yet on the earlier days
    assert on_30_september["assignments"]["total"] == first_day["assignments"]["total"] == 10
    # only unit 1 reported by the end of 30 September in Vietnam (16:30 UTC); unit 2, at 17:30 UTC
    # on the same UTC day, reported on 1 October
    assert on_30_september["assignments"]["by_status"]["in_progress"] == 2
    assert first_day["assignments"]["by_status"]["in_progress"] == 8  # units 1, 2, 3 and 6, both tasks
    lop = now["tasks"][0]["indicators"][0]
    assert (lop["code"], lop["target"]) == ("lop", 20.0)
    assert lop["achieved"] == sum(k + unit for unit in range(1, 7) for k in range(unit % 4)
                                  if k == unit % 4 - 1)


def test_the_plan_task_kind_has_the_say_now_and_as_of(url: str) -> None:
    engine = make_engine(url)
    with Session(engine) as s:
        s.add(ReportTask(id=1, plan_id=1, code="1", title="", kind="ongoing"))
        s.add(ReportTask(id=2, plan_id=1, code="2", title="", kind="one_off"))
        s.add(ReportTask(id=3, plan_id=2, code="3", title="", kind="ongoing"))  # another plan's task
        for n, (task, kind) in enumerate([(1, "one_off"), (2, "ongoing"), (3, "one_off"), (4, "ongoing")], 1):
            s.add(ReportAssignment(id=n, plan_id=1, task_id=task, task_code=str(task), task_title="", task_kind=kind,
                                   unit_id=1, unit_code="CB", unit_name="Chi bộ"))
        s.commit()
    expected = {1: "ongoing", 2: "one_off", 3: "one_off", 4: "ongoing"}
    for as_of in (None, date(2026, 10, 1)):
        with Session(engine) as s, plan_lines(s, 1, as_of) as lines:
            assert dict(s.connection().execute(select(lines.c.id, lines.c.kind)).all()) == expected
    engine.dispose()
