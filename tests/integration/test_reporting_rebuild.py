"""`plantrack reporting-rebuild`: the read model rebuilt from the event archive is the one the
consumers built, on PostgreSQL and on SQLite; a damaged read model is restored; events consumed
while the copy is built are not lost; a rebuild refuses when the archive misses applied events."""

import random
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from uuid import uuid4

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, text
from sqlmodel import Session, select

from services.cli import main
from services.reporting import rebuild as rebuilding
from services.reporting.app import MIGRATIONS
from services.reporting.models import EventArchive, ReportAssignment, ReportTask, ReportUpdate
from services.reporting.projections import CONSUMER, PROJECTIONS
from shared.db import make_engine, migrate, session_scope
from shared.events import Event, InspectionPayload, InspectionRecordedV1
from shared.events.base import utcnow
from shared.messaging.inbox import ProcessedEvent
from tests.unit.test_order_independence import T0, report_history

STEPS = [("update", 0, "in_progress", 30), ("update", 1, "in_progress", 10), ("review", 0, "accepted"),
         ("update", 0, "in_progress", 60), ("review_older", 1), ("update", 1, "in_progress", 40),
         ("review_older", 1), ("review", 1, "returned"), ("edit",), ("unit_plan", 0), ("inspection", 1),
         ("submit", 0), ("submit", 1), ("update", 0, "completed", 100), ("review", 0, "accepted"), ("close",)]


@pytest.fixture(params=["postgres", "sqlite"])
def live(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    url = request.getfixturevalue("pg_url") if request.param == "postgres" else f"sqlite:///{tmp_path}/reporting.db"
    migrate(url, MIGRATIONS)
    engine = make_engine(url)
    yield engine
    engine.dispose()


def consume(engine: Engine, events: list[Event]) -> None:
    rng = random.Random(7)
    shuffled = events + [rng.choice(events) for _ in range(5)]
    rng.shuffle(shuffled)
    for event in shuffled:
        PROJECTIONS[event.event_type](engine, event)


def snapshot(engine: Engine) -> dict[str, list[tuple]]:
    with engine.connect() as conn:
        return {t.name: sorted(tuple(map(repr, row)) for row in conn.execute(t.select()).all())
                for t in rebuilding.READ_MODEL}


def test_a_rebuild_gives_the_read_model_the_consumers_built(live: Engine) -> None:
    events = report_history(STEPS)
    consume(live, events)
    before = snapshot(live)
    assert len(before["report_updates"]) == 5 and before["report_pending_reviews"] == []
    with Session(live) as s:
        assert len(s.exec(select(EventArchive)).all()) == len(events)

    result = rebuilding.rebuild(live)

    assert result.events == len(events) and result.late_events == 0
    assert snapshot(live) == before
    assert result.rows["report_updates"] == 5


def test_a_rebuild_restores_a_damaged_read_model(live: Engine) -> None:
    consume(live, report_history(STEPS))
    before = snapshot(live)
    with session_scope(live) as s:
        s.execute(ReportUpdate.__table__.delete())  # type: ignore[attr-defined]
        row = s.get(ReportAssignment, 100)
        assert row is not None
        row.status, row.progress, row.review_state = "not_started", 0, "returned"
        s.add(row)
        s.execute(text("DELETE FROM report_units"))
    assert snapshot(live) != before

    rebuilding.rebuild(live)

    assert snapshot(live) == before


def test_events_consumed_while_the_copy_is_built_are_kept(live: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    consume(live, report_history(STEPS))
    late = InspectionRecordedV1(occurred_at=T0 + timedelta(days=1), payload=InspectionPayload(
        id=900, plan_id=1, unit_id=3, unit_name="Chi bộ A", inspecting_unit_id=2, inspecting_unit_name="BTG",
        kind="supervision", inspected_on=T0.date()))
    replay = rebuilding._replay
    calls = []

    def replay_then_consume(*args: object) -> int:
        count = replay(*args)  # type: ignore[arg-type]
        if not calls:  # the copy is built: an event arrives before the swap
            PROJECTIONS[late.event_type](live, late)
        calls.append(count)
        return count

    monkeypatch.setattr(rebuilding, "_replay", replay_then_consume)
    result = rebuilding.rebuild(live)

    assert result.late_events == 1
    assert any("900" in row[0] for row in snapshot(live)["report_inspections"])


def test_a_rebuild_refuses_when_the_archive_misses_applied_events(live: Engine) -> None:
    consume(live, report_history(STEPS[:3]))
    with session_scope(live) as s:  # consumed before the archive existed
        s.add(ProcessedEvent(consumer=CONSUMER, event_id=uuid4(), event_type="unit.created.v1",
                             processed_at=utcnow()))
    before = snapshot(live)

    with pytest.raises(rebuilding.RebuildRefused, match="1 events"):
        rebuilding.rebuild(live)
    assert snapshot(live) == before

    rebuilding.rebuild(live, allow_partial=True)
    assert snapshot(live) == before


def test_the_command_rebuilds_while_the_service_holds_its_sqlite_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    url = f"sqlite:///{tmp_path}/reporting.db"
    migrate(url, MIGRATIONS)
    engine = make_engine(url)  # as the running service: it holds the data-directory lock
    try:
        consume(engine, report_history(STEPS))
        before = snapshot(engine)
        monkeypatch.setenv("PLANTRACK_REPORTING_DATABASE_URL", url)
        assert main(["reporting-rebuild"]) == 0
        assert "rebuilt from" in capsys.readouterr().out
        assert snapshot(engine) == before
    finally:
        engine.dispose()


@pytest.mark.parametrize("backend", ["postgres", "sqlite"])
def test_migration_0006_keeps_each_assignments_latest_update(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path,
) -> None:
    url = request.getfixturevalue("pg_url") if backend == "postgres" else f"sqlite:///{tmp_path}/old.db"
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    command.upgrade(cfg, "0005")
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO report_tasks (id, plan_id, code, title, kind) VALUES (31, 3, 'II.1', 'x', "
                              "'one_off')"))
            for aid, update_id, reviewed in ((7, 12, 12), (8, 13, None), (9, None, None)):
                conn.execute(text(
                    "INSERT INTO report_assignments (id, plan_id, task_id, task_code, task_title, unit_id, unit_code,"
                    " unit_name, role, status, progress, summary, difficulties, reported_by, version, update_id,"
                    " reported_at, indicator_values, evidence_links, period, review_state, review_reason,"
                    " reviewed_update_id, reviewed_at, task_kind) VALUES (:id, 3, 31, 'II.1', 'x', 21, 'CB',"
                    " 'Chi bộ', 'lead', 'in_progress', 40, 'Tóm tắt', '', 'Lan', 3, :u, :at, '{\"CT1\": 2.0}', '[]',"
                    " '', :state, '', :r, :rat, 'one_off')"),
                    {"id": aid, "u": update_id, "at": T0 if update_id else None, "r": reviewed,
                     "state": "accepted" if reviewed else ("pending" if update_id else ""),
                     "rat": T0 if reviewed else None})
        migrate(url, MIGRATIONS)
        with Session(engine) as s:
            rows = s.exec(select(ReportUpdate).order_by(ReportUpdate.id)).all()  # type: ignore[arg-type]
            assert [(u.id, u.assignment_id, u.status, u.progress, u.version, u.summary, u.indicator_values,
                     u.review_state) for u in rows] == [
                (12, 7, "in_progress", 40, 3, "Tóm tắt", {"CT1": 2.0}, "accepted"),
                (13, 8, "in_progress", 40, 3, "Tóm tắt", {"CT1": 2.0}, "pending")]
            task = s.get(ReportTask, 31)
            assert task is not None and task.indicators == []
    finally:
        engine.dispose()


def test_a_rebuild_loses_nothing_consumers_apply_meanwhile(live: Engine, request: pytest.FixtureRequest,
                                                           tmp_path: Path) -> None:
    base = report_history(STEPS)
    later: list[Event] = [InspectionRecordedV1(occurred_at=T0 + timedelta(days=2, minutes=n), payload=InspectionPayload(
        id=1000 + n, plan_id=1, unit_id=3 + n % 2, unit_name="Chi bộ", inspecting_unit_id=2,
        inspecting_unit_name="BTG", kind="inspection", inspected_on=T0.date())) for n in range(60)]
    consume(live, base)
    consumer = threading.Thread(target=lambda: [PROJECTIONS[e.event_type](live, e) for e in later])
    consumer.start()
    rebuilding.rebuild(live)
    consumer.join()

    url = (request.getfixturevalue("make_database")("expected") if live.dialect.name == "postgresql"
           else f"sqlite:///{tmp_path}/expected.db")
    migrate(url, MIGRATIONS)
    expected = make_engine(url)
    try:
        consume(expected, base + later)
        assert snapshot(live) == snapshot(expected)
    finally:
        expected.dispose()
