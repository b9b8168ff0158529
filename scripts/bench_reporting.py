"""Time plan progress (now and as of a past day) and every export on a large reporting read model.

    .venv/bin/python scripts/bench_reporting.py [--units 200] [--tasks 50] [--updates 10] [--runs 5] [--json]

Builds 200 units x 50 tasks = 10,000 assignments with 10 status updates each (100,000 rows, bulk
inserted) in SQLite, and also in PostgreSQL when PLANTRACK_TEST_PG_URL is set (in a throwaway
database, dropped afterwards). Each timing is the median of --runs runs of the functions the routes
call (reading the read model and building the answer or the file, minus HTTP).
Targets: progress <= 50 ms, progress?as_of <= 200 ms, each export <= 1 s.

Then the memory the streamed plan CSV takes (tracemalloc peak while writing it all) for 10,000 and
40,000 assignments (one update each): constant, whatever the plan's size."""

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import tracemalloc
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import Engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlmodel import Session  # noqa: E402

from services.bench.read_model import build  # noqa: E402
from services.reporting import exports, progress  # noqa: E402
from services.reporting.documents import content, data, docx, pdf, xlsx  # noqa: E402
from services.reporting.models import (  # noqa: E402
    ReportingModel,
)
from shared.db import make_engine  # noqa: E402

TODAY = date(2022, 9, 20)
AS_OF = date(2022, 8, 15)
LIMIT = 100  # the route's default overdue_limit
TARGETS = {"progress": 0.050, "progress?as_of": 0.200, "progress (scoped, 20 units)": 0.050,
           "progress (every overdue)": 0.200}
EXPORT_TARGET = 1.0
SUMMARY = "Đã tổ chức quán triệt cho toàn thể đảng viên; xây dựng kế hoạch cụ thể."


def cases(engine: Engine, with_soffice: bool) -> dict[str, Callable[[], object]]:
    """What each route does, by name."""
    def in_session(fn: Callable[[Session], object]) -> Callable[[], object]:
        def run() -> object:
            with Session(engine) as s:
                return fn(s)
        return run

    def report(s: Session, round_id: int | None = None, as_of: date | None = None) -> data.PlanReport:
        plan = exports.get_plan(s, 1)
        assert plan is not None
        rnd = progress.get_round(s, 1, round_id) if round_id else None
        return data.build_report(s, plan, TODAY, 7, can_read=lambda _: True, round_=rnd, as_of=as_of)

    def csv_plan(s: Session, as_of: date | None = None) -> int:
        plan = exports.get_plan(s, 1)
        assert plan is not None
        return sum(len(chunk.encode("utf-8")) for chunk in exports.plan_csv(s, plan, as_of or TODAY, 7, as_of=as_of))

    def csv_round(s: Session, as_of: date | None = None) -> str:
        rnd = progress.get_round(s, 1, 1)
        assert rnd is not None
        until = progress.end_of_day(as_of) if as_of else None
        return exports.review_csv(progress.round_units(s, rnd, until=until),
                                  progress.latest_submissions(s, 1, until))

    found: dict[str, Callable[[], object]] = {
        "progress": in_session(lambda s: progress.plan_progress(s, 1, TODAY, 7, overdue_limit=LIMIT)),
        "progress?as_of": in_session(lambda s: progress.plan_progress(s, 1, TODAY, 7, as_of=AS_OF,
                                                                      overdue_limit=LIMIT)),
        "progress (scoped, 20 units)": in_session(
            lambda s: progress.plan_progress(s, 1, TODAY, 7, scope=frozenset(range(1, 21)), overdue_limit=LIMIT)),
        "progress (every overdue)": in_session(lambda s: progress.plan_progress(s, 1, TODAY, 7)),
        "export.csv": in_session(csv_plan),
        "export.csv?as_of": in_session(lambda s: csv_plan(s, AS_OF)),
        "round export.csv": in_session(csv_round),
        "export.xlsx": in_session(lambda s: xlsx.write_workbook(report(s))),
        "export.xlsx?as_of": in_session(lambda s: xlsx.write_workbook(report(s, as_of=AS_OF))),
        "round export.xlsx": in_session(lambda s: xlsx.write_workbook(report(s, 1))),
        "export.docx": in_session(lambda s: docx.write_docx(content.build_document(report(s)))),
        "export.docx?as_of": in_session(lambda s: docx.write_docx(content.build_document(report(s, as_of=AS_OF)))),
        "round export.docx": in_session(lambda s: docx.write_docx(content.build_document(report(s, 1)))),
    }
    if pdf.fallback_available():
        found["export.pdf (fpdf2)"] = in_session(lambda s: pdf.draw_pdf(content.build_document(report(s))))
        found["export.pdf?as_of (fpdf2)"] = in_session(
            lambda s: pdf.draw_pdf(content.build_document(report(s, as_of=AS_OF))))
    binary = pdf.soffice() if with_soffice else None
    if binary:
        found["export.pdf (soffice)"] = in_session(
            lambda s: pdf.docx_to_pdf(docx.write_docx(content.build_document(report(s))), binary))
    return found


def median_of(work: Callable[[], object], runs: int) -> float:
    work()  # warm-up: imports, caches, the database's pages
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def target(name: str) -> float:
    return TARGETS.get(name, EXPORT_TARGET)


@contextmanager
def sqlite_engine() -> Iterator[Engine]:
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/bench.db")
        try:
            yield engine
        finally:
            engine.dispose()


@contextmanager
def postgres_engine(url: str) -> Iterator[Engine]:
    name = f"plantrack_bench_{uuid.uuid4().hex[:12]}"
    admin = make_engine(url).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(make_url(url).set(database=name).render_as_string(hide_password=False))
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


SUGGESTED_INDEX = ("CREATE INDEX ix_report_updates_assignment_reported "
                   "ON report_updates (assignment_id, reported_at, version, id)")


def bench(label: str, engine: Engine, args: argparse.Namespace) -> dict[str, Any]:
    ReportingModel.metadata.create_all(engine)
    if args.suggested_index:  # not in the models yet: what progress?as_of would like
        with engine.begin() as conn:
            conn.execute(text(SUGGESTED_INDEX))
    start = time.perf_counter()
    build(engine, args.units, args.tasks, args.updates)
    built = time.perf_counter() - start
    results = {name: median_of(work, args.runs) for name, work in cases(engine, args.soffice).items()}
    return {"database": label + (" + suggested index" if args.suggested_index else ""), "units": args.units,
            "tasks": args.tasks, "assignments": args.units * args.tasks,
            "updates": args.units * args.tasks * args.updates, "build_s": round(built, 2), "runs": args.runs,
            "median_ms": {k: round(v * 1000, 1) for k, v in results.items()},
            "target_ms": {k: target(k) * 1000 for k in results},
            "ok": all(v <= target(k) for k, v in results.items())}


MEMORY_UNITS = (200, 800)  # x 50 tasks: 10,000 and 40,000 assignments


def csv_peak(engine: Engine) -> tuple[int, int]:
    """Bytes of the plan CSV, and the peak of memory allocated while streaming it."""
    def stream() -> int:
        with Session(engine) as s:
            plan = exports.get_plan(s, 1)
            assert plan is not None
            return sum(len(chunk.encode("utf-8")) for chunk in exports.plan_csv(s, plan, TODAY, 7))
    stream()  # warm-up: imports, caches
    tracemalloc.start()
    try:
        size = stream()
        return size, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def csv_memory(label: str, engines: Callable[[], Any], tasks: int) -> list[dict[str, Any]]:
    """csv_peak() on read models of MEMORY_UNITS x `tasks` assignments."""
    found = []
    for units in MEMORY_UNITS:
        with engines() as engine:
            ReportingModel.metadata.create_all(engine)
            build(engine, units, tasks, 1)
            size, peak = csv_peak(engine)
        found.append({"database": label, "assignments": units * tasks, "csv_kib": size // 1024,
                      "peak_kib": peak // 1024})
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--units", type=int, default=200)
    parser.add_argument("--tasks", type=int, default=50)
    parser.add_argument("--updates", type=int, default=10, help="status updates per assignment")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--soffice", action="store_true", help="also time PDF through LibreOffice")
    parser.add_argument("--no-pg", action="store_true", help="SQLite only, even with PLANTRACK_TEST_PG_URL set")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--no-memory", action="store_true", help="skip the streamed CSV's memory measurement")
    parser.add_argument("--suggested-index", action="store_true",
                        help="also create report_updates (assignment_id, reported_at, version, id)")
    args = parser.parse_args()
    results = []
    with sqlite_engine() as engine:
        results.append(bench("sqlite", engine, args))
    pg_url = os.environ.get("PLANTRACK_TEST_PG_URL")
    if pg_url and not args.no_pg:
        with postgres_engine(pg_url) as engine:
            results.append(bench("postgresql", engine, args))
    memory: list[dict[str, Any]] = []
    if not args.no_memory:
        memory += csv_memory("sqlite", sqlite_engine, args.tasks)
        if pg_url and not args.no_pg:
            memory += csv_memory("postgresql", lambda: postgres_engine(pg_url), args.tasks)
    if args.json:
        print(json.dumps({"timings": results, "csv_memory": memory}, indent=2))
    else:
        for r in results:
            print(f"\n{r['database']}: {r['assignments']} assignments, {r['updates']} updates "
                  f"(built in {r['build_s']} s); median of {r['runs']} runs")
            print(f"{'case':<30} {'median ms':>10} {'target ms':>10}")
            for name, ms in r["median_ms"].items():
                flag = "" if ms <= r["target_ms"][name] else "  OVER"
                print(f"{name:<30} {ms:>10.1f} {r['target_ms'][name]:>10.0f}{flag}")
        if memory:
            print("\nplan export.csv, streamed: tracemalloc peak while writing it all")
            print(f"{'database':<12} {'assignments':>11} {'CSV KiB':>10} {'peak KiB':>10}")
            for m in memory:
                print(f"{m['database']:<12} {m['assignments']:>11} {m['csv_kib']:>10} {m['peak_kib']:>10}")
    sys.exit(0 if all(r["ok"] for r in results) else 1)


if __name__ == "__main__":
    main()
