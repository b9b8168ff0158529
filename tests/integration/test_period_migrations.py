"""The migrations that bring reporting periods (assignments 0004, reporting 0005) fill existing rows:
last report days are Vietnamese calendar days on SQLite and PostgreSQL alike."""

from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlmodel import Session

from services.assignments.app import MIGRATIONS as ASSIGNMENTS_MIGRATIONS
from services.assignments.models import Assignment, Plan, Unit
from services.reporting.app import MIGRATIONS as REPORTING_MIGRATIONS
from services.reporting.models import ReportAssignment, ReportPlan, ReportUnit
from shared.db import make_engine, migrate

pytestmark = pytest.mark.integration

T0 = datetime(2026, 1, 5, 2, 0, tzinfo=UTC)
LATE_EVENING = datetime(2026, 3, 31, 17, 30, tzinfo=UTC)  # 00:30 on 1 April in Vietnam


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/old.db"
    make_database: Callable[[str], str] = request.getfixturevalue("make_database")
    return make_database("periods")


def upgrade_to(url: str, migrations: Path, revision: str) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    command.upgrade(cfg, revision)


def table(name: str, *columns: sa.Column) -> sa.TableClause:  # type: ignore[type-arg]
    return sa.table(name, *columns)


def test_assignments_0004_fills_the_last_report_day(url: str) -> None:
    upgrade_to(url, ASSIGNMENTS_MIGRATIONS, "0003")
    ts = sa.DateTime(timezone=True)
    rows = {
        "units": [{"id": n, "code": f"CB{n}", "name": "Chi bộ", "kind": "party_cell", "created_at": T0}
                  for n in (1, 2)],
        "plans": [{"id": 1, "number": "1-KH", "kind": "ke_hoach", "title": "KH", "place": "", "signer": "",
                   "recipients": [], "status": "published", "created_at": T0}],
        "tasks": [{"id": 1, "plan_id": 1, "code": "I", "title": "Việc", "text": "", "kind": "ongoing"}],
        "assignments": [{"id": n, "plan_id": 1, "task_id": 1, "unit_id": n, "role": "lead", "status": "in_progress",
                         "progress": 10, "version": 1, "created_at": T0, "updated_at": T0} for n in (1, 2)],
        "status_updates": [{"id": n, "assignment_id": 1, "status": "in_progress", "progress": 10, "summary": "",
                            "difficulties": "", "correlation_id": "", "created_at": at}
                           for n, at in ((1, T0), (2, LATE_EVENING))],
    }
    columns = {"created_at": ts, "updated_at": ts, "recipients": sa.JSON()}
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            for name, values in rows.items():
                conn.execute(sa.insert(table(name, *(sa.column(c, columns.get(c)) for c in values[0]))), values)
        migrate(url, ASSIGNMENTS_MIGRATIONS)
        with Session(engine) as s:
            reported, never = s.get(Assignment, 1), s.get(Assignment, 2)
            plan, unit = s.get(Plan, 1), s.get(Unit, 1)
        assert reported is not None and never is not None and plan is not None and unit is not None
        assert reported.last_reported_on == date(2026, 4, 1) and never.last_reported_on is None
        assert plan.reporting_period == "quarterly" and unit.email is None
    finally:
        engine.dispose()


def test_reporting_0005_takes_task_kinds_and_report_days(url: str) -> None:
    upgrade_to(url, REPORTING_MIGRATIONS, "0004")
    ts = sa.DateTime(timezone=True)
    assignment = {"plan_id": 3, "task_code": "I", "task_title": "x", "unit_id": 21, "unit_code": "CB",
                  "unit_name": "Chi bộ", "role": "lead", "status": "in_progress", "progress": 40, "summary": "",
                  "difficulties": "", "reported_by": "", "version": 2}
    rows = {
        "report_units": [{"id": 21, "code": "CB", "name": "Chi bộ", "kind": "party_cell"}],
        "report_plans": [{"id": 3, "number": "41-KH/ĐUK", "kind": "ke_hoach", "title": "x", "issuer_name": "",
                          "place": "", "status": "published"}],
        "report_tasks": [{"id": 31, "plan_id": 3, "code": "I", "title": "x", "kind": "ongoing"}],
        "report_assignments": [assignment | {"id": 7, "task_id": 31, "reported_at": LATE_EVENING},
                               assignment | {"id": 8, "task_id": 99, "reported_at": None}],  # task not known
    }
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            for name, values in rows.items():
                cols = (sa.column(c, ts if c == "reported_at" else None) for c in values[0])
                conn.execute(sa.insert(table(name, *cols)), values)
        migrate(url, REPORTING_MIGRATIONS)
        with Session(engine) as s:
            ongoing, unknown = s.get(ReportAssignment, 7), s.get(ReportAssignment, 8)
            plan, unit = s.get(ReportPlan, 3), s.get(ReportUnit, 21)
        assert ongoing is not None and unknown is not None and plan is not None and unit is not None
        assert (ongoing.task_kind, ongoing.last_reported_on, ongoing.assigned_on) == ("ongoing", date(2026, 4, 1), None)
        assert (unknown.task_kind, unknown.last_reported_on) == ("one_off", None)
        assert plan.reporting_period == "quarterly"
        assert (unit.email, unit.directory_version, unit.as_of) == (None, 0, None)
    finally:
        engine.dispose()
