"""Plan progress on hand-built read-model rows (SQLite): rates, overdue list, tasks and indicators,
unit plans and inspections, scope, and the state as of a past day from the update history."""

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session

from services.reporting import app as reporting_app
from services.reporting.models import (
    ReportAssignment,
    ReportInspection,
    ReportPlan,
    ReportTask,
    ReportUnit,
    ReportUnitPlan,
    ReportUpdate,
)
from services.reporting.progress import PlanProgress, end_of_day, plan_progress
from services.reporting.rows import export_rows
from services.reporting.settings import ReportingSettings
from shared.db import make_engine, migrate
from shared.identity.auth import hash_token
from shared.identity.models import IdentityOfficial, IdentityToken
from shared.vietnamese import local_date

TODAY = date(2024, 7, 10)
TOKEN = "pt_progress-admin"
UNITS = {21: ("CB-A", "Chi bộ A"), 22: ("CB-B", "Chi bộ B"), 23: ("CB-C", "Chi bộ C")}


def assignment(id: int, task: ReportTask, unit_id: int, **state: object) -> ReportAssignment:
    code, name = UNITS[unit_id]
    values: dict[str, object] = dict(
        id=id, plan_id=1, task_id=task.id, task_code=task.code, task_title=task.title, task_kind=task.kind,
        unit_id=unit_id, unit_code=code, unit_name=name, due_on=task.due_on, assigned_on=date(2024, 1, 5))
    return ReportAssignment(**(values | state))


def update(id: int, assignment_id: int, unit_id: int, at: datetime, status: str, progress: int,
           **extra: object) -> ReportUpdate:
    return ReportUpdate(id=id, assignment_id=assignment_id, plan_id=1, unit_id=unit_id, status=status,
                        progress=progress, reported_at=at, version=id + 1, summary=f"Báo cáo {id}", **extra)


T1 = ReportTask(id=31, plan_id=1, code="II.1", title="Quán triệt nghị quyết", kind="one_off",
                due_on=date(2024, 6, 30),
                indicators=[{"code": "lop", "name": "Số lớp", "unit_of_measure": "lớp", "target": 10}])
T2 = ReportTask(id=32, plan_id=1, code="II.2", title="Báo cáo định kỳ", kind="ongoing")


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    url = f"sqlite:///{tmp_path}/reporting.db"
    migrate(url, reporting_app.MIGRATIONS)
    engine = make_engine(url)
    with Session(engine) as s:
        s.add(ReportPlan(id=1, number="41-KH/ĐUK", title="Kế hoạch", status="published",
                         reporting_period="quarterly"))
        for unit_id, (code, name) in UNITS.items():
            s.add(ReportUnit(id=unit_id, code=code, name=name, kind="party_cell"))
        s.add(ReportTask.model_validate(T1.model_dump()))
        s.add(ReportTask.model_validate(T2.model_dump()))
        # a1: completed on time (the second update, 01:00 on 20 June in Vietnam, 19 June in UTC)
        s.add(assignment(1, T1, 21, status="completed", progress=100, completed_on=date(2024, 6, 20),
                         last_reported_on=date(2024, 6, 20), indicator_values={"lop": 4}))
        s.add(update(101, 1, 21, datetime(2024, 5, 10, 3, tzinfo=UTC), "in_progress", 40,
                     indicator_values={"lop": 1}, review_state="accepted",
                     reviewed_at=datetime(2024, 5, 11, 3, tzinfo=UTC)))
        s.add(update(102, 1, 21, datetime(2024, 6, 19, 18, tzinfo=UTC), "completed", 100,
                     indicator_values={"lop": 4}, review_state="accepted",
                     reviewed_at=datetime(2024, 6, 25, 3, tzinfo=UTC)))
        # a2: completed late
        s.add(assignment(2, T1, 22, status="completed", progress=100, completed_on=date(2024, 7, 5),
                         last_reported_on=date(2024, 7, 5), indicator_values={"lop": 3, "khac": "2,5"}))
        s.add(update(103, 2, 22, datetime(2024, 7, 5, 3, tzinfo=UTC), "completed", 100,
                     indicator_values={"lop": 3, "khac": "2,5"}))
        # a3: in progress past its deadline; a4: ongoing, no report in the previous quarter
        s.add(assignment(3, T1, 23, status="in_progress", progress=30, last_reported_on=date(2024, 6, 1)))
        s.add(update(104, 3, 23, datetime(2024, 6, 1, 3, tzinfo=UTC), "in_progress", 30))
        s.add(assignment(4, T2, 21, status="not_started"))
        # a5: assigned in July
        s.add(assignment(5, T2, 23, status="in_progress", progress=10, assigned_on=date(2024, 7, 1),
                         last_reported_on=date(2024, 7, 2)))
        s.add(update(105, 5, 23, datetime(2024, 7, 2, 3, tzinfo=UTC), "in_progress", 10))
        s.add(ReportUnitPlan(id=61, plan_id=1, unit_id=21, unit_code="CB-A", unit_name="Chi bộ A", number="61-KH/CB",
                             issued_on=date(2024, 1, 15), title="Kế hoạch của chi bộ"))
        for id, day in ((71, date(2024, 5, 20)), (72, date(2024, 6, 25))):
            s.add(ReportInspection(id=id, plan_id=1, unit_id=22, unit_name="Chi bộ B", inspecting_unit_id=2,
                                   inspecting_unit_name="Ban Tuyên giáo", kind="inspection", inspected_on=day,
                                   conclusion="", follow_ups=[]))
        s.add(IdentityOfficial(id=1, role="admin", as_of=datetime(2024, 1, 1, tzinfo=UTC)))
        s.add(IdentityToken(id=1, official_id=1, token_hash=hash_token(TOKEN)))
        s.commit()
    yield engine
    engine.dispose()


def progress_of(engine: Engine, **kwargs: object) -> PlanProgress:
    with Session(engine) as s:
        result = plan_progress(s, 1, TODAY, 7, **kwargs)  # type: ignore[arg-type]
    assert result is not None
    return result


def test_figures_match_the_rows(engine: Engine) -> None:
    p = progress_of(engine)
    assert p.assignments.total == 5
    assert p.assignments.by_status == {"not_started": 1, "in_progress": 2, "completed": 2}
    assert p.completion_rate == pytest.approx(2 / 5)
    assert p.on_time_rate == pytest.approx(0.5)
    assert [(o.assignment_id, o.due_state, o.due_on, o.days_late) for o in p.overdue] == [
        (3, "overdue", date(2024, 6, 30), 10), (4, "report_missing", date(2024, 6, 30), 10)]
    assert p.overdue[0].unit_name == "Chi bộ C" and p.overdue[0].task_code == "II.1"
    assert p.overdue_total == 2
    cut = progress_of(engine, overdue_limit=1)
    assert [o.assignment_id for o in cut.overdue] == [3] and cut.overdue_total == 2

    t1, t2 = p.tasks
    assert (t1.code, t1.assignments, t1.completed) == ("II.1", 3, 2)
    assert t1.by_status["completed"] == 2 and t1.by_status["in_progress"] == 1
    assert t1.by_due_state["completed_on_time"] == 1 and t1.by_due_state["completed_late"] == 1
    assert t1.by_due_state["overdue"] == 1
    assert t1.average_progress == pytest.approx(230 / 3)
    lop, other = t1.indicators
    assert (lop.code, lop.target, lop.achieved, lop.reporting_units, lop.rate) == ("lop", 10, 7, 2, 0.7)
    assert (other.code, other.target, other.achieved, other.rate) == ("khac", None, 2.5, None)
    assert (t2.code, t2.kind, t2.assignments, t2.by_due_state["report_missing"]) == ("II.2", "ongoing", 2, 1)

    c = p.unit_plan_completeness
    assert c is not None and (c.units_with_assignments, c.registered, c.missing) == (3, 1, [22, 23])
    assert c.rate == pytest.approx(1 / 3)
    assert {u.unit_id: u.inspections for u in p.units} == {21: 0, 22: 2, 23: 0}
    assert p.inspections_total == 2
    assert {u.unit_id: (u.assignments_total, u.assignments_completed, u.assignments_overdue)
            for u in p.units} == {21: (2, 1, 1), 22: (1, 1, 0), 23: (2, 0, 1)}


def test_scope_limits_every_figure(engine: Engine) -> None:
    p = progress_of(engine, scope=frozenset({21}))
    assert p.assignments.total == 2 and [u.unit_id for u in p.units] == [21]
    assert [o.assignment_id for o in p.overdue] == [4]
    assert p.completion_rate == 0.5 and p.on_time_rate == 1.0
    assert p.tasks[0].indicators[0].achieved == 4 and p.inspections_total == 0
    assert p.unit_plan_completeness is not None and p.unit_plan_completeness.missing == []


def test_as_of_before_and_after_an_update(engine: Engine) -> None:
    # 102 was reported at 01:00 on 20 June, Vietnamese time: not yet on 19 June
    assert local_date(datetime(2024, 6, 19, 18, tzinfo=UTC)) == date(2024, 6, 20)
    assert end_of_day(date(2024, 6, 19)) == datetime(2024, 6, 19, 17, tzinfo=UTC)
    before = progress_of(engine, as_of=date(2024, 6, 19))
    assert before.as_of == date(2024, 6, 19)
    assert before.assignments.by_status == {"not_started": 2, "in_progress": 2, "completed": 0}  # not a5 yet
    assert before.tasks[0].indicators[0].achieved == 1  # a1's first report only
    assert before.assignments.by_due_state["within_deadline"] == 3  # a1-a3: deadline 30 June
    assert [(o.assignment_id, o.due_on, o.days_late) for o in before.overdue] == [(4, date(2024, 3, 31), 80)]
    assert before.inspections_total == 1  # the 25 June inspection is later

    after = progress_of(engine, as_of=date(2024, 6, 20))
    assert after.assignments.by_status["completed"] == 1 and after.on_time_rate == 1.0
    assert after.tasks[0].indicators[0].achieved == 4

    with Session(engine) as s:
        rows = {r.id: r for r in export_rows(s, 1, date(2024, 6, 20))}
        assert (rows[1].status, rows[1].progress, rows[1].completed_on) == ("completed", 100, date(2024, 6, 20))
        assert rows[1].summary == "Báo cáo 102" and rows[1].review_state == "pending"  # reviewed on 25 June
        assert rows[2].status == "not_started" and rows[2].summary == "" and rows[2].reported_at is None
        assert s.get(ReportAssignment, 2).status == "completed"  # type: ignore[union-attr]  # nothing written back
        later = {r.id: r for r in export_rows(s, 1, date(2024, 6, 25))}
        assert later[1].review_state == "accepted"


def test_as_of_leaves_out_later_assignments(engine: Engine) -> None:
    june = progress_of(engine, as_of=date(2024, 6, 30))
    assert june.assignments.total == 4 and 5 not in {o.assignment_id for o in june.overdue}
    assert june.tasks[1].assignments == 1
    july = progress_of(engine, as_of=date(2024, 7, 1))
    assert july.assignments.total == 5
    with Session(engine) as s:
        assert [r.id for r in export_rows(s, 1, date(2024, 6, 30))] == [1, 2, 3, 4]


def test_routes_take_as_of_and_refuse_a_future_day(engine: Engine) -> None:
    client = TestClient(reporting_app.create_app(ReportingSettings(database_url=str(engine.url))),
                        headers={"Authorization": f"Bearer {TOKEN}"})
    body = client.get("/plans/1/progress", params={"as_of": "2024-06-19"}).json()
    assert body["as_of"] == "2024-06-19" and body["assignments"]["by_status"]["completed"] == 0
    assert body["tasks"][0]["indicators"][0]["achieved"] == 1
    now = client.get("/plans/1/progress").json()
    assert now["as_of"] == local_date().isoformat() and now["assignments"]["total"] == 5
    assert len(client.get("/plans/1/progress", params={"overdue_limit": 1}).json()["overdue"]) == 1

    tomorrow = (local_date() + timedelta(days=1)).isoformat()
    for path in ("/plans/1/progress", "/plans/1/export.csv", "/plans/1/export.xlsx", "/plans/1/export.docx",
                 "/plans/1/export.pdf"):
        response = client.get(path, params={"as_of": tomorrow})
        assert response.status_code == 422, (path, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
    assert client.get("/plans/1/progress", params={"as_of": "2024-13-01"}).status_code == 422

    csv_ = client.get("/plans/1/export.csv", params={"as_of": "2024-06-19"})
    assert csv_.status_code == 200 and "2024-06-19" in csv_.headers["content-disposition"]
    text_ = csv_.content.decode("utf-8")
    assert "Báo cáo 101" in text_ and "Báo cáo 102" not in text_
    xlsx_ = client.get("/plans/1/export.xlsx", params={"as_of": "2024-06-19"})
    assert xlsx_.status_code == 200


def test_as_of_is_a_day_written_yyyy_mm_dd(engine: Engine) -> None:
    client = TestClient(reporting_app.create_app(ReportingSettings(database_url=str(engine.url))),
                        headers={"Authorization": f"Bearer {TOKEN}"})
    for bad in ("0", "1719792000", "2024-6-1", "20240601", "2024-02-30"):
        assert client.get("/plans/1/progress", params={"as_of": bad}).status_code == 422, bad
    assert client.get("/plans/1/export.csv", params={"as_of": "0"}).status_code == 422
