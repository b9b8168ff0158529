"""Time assigning one task to many units in one call (`POST /plans/{id}/assignments`'s use case).

On SQLite, or on PostgreSQL when PLANTRACK_TEST_PG_URL is set, it creates `--units` party cells and
a draft plan, then times `planning.assign` for one task and all of them (each run a new task).

    .venv/bin/python scripts/bench_assign.py [--units 200] [--runs 3] [--json]
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from services.assignments import planning  # noqa: E402
from services.assignments.app import MIGRATIONS  # noqa: E402
from services.assignments.auth import Actor  # noqa: E402
from services.assignments.domain import Role  # noqa: E402
from services.assignments.models import Unit  # noqa: E402
from services.assignments.schemas import AssignmentCreate, PlanCreate, TaskCreate  # noqa: E402
from shared.db import make_engine, migrate, session_scope  # noqa: E402
from tests.support.servers import Postgres, run_name  # noqa: E402

ADMIN = Actor(official_id=1, name="Quản trị viên", role=Role.ADMIN, unit_id=None, correlation_id="bench")


def measure(url: str, units: int, runs: int) -> list[float]:
    migrate(url, MIGRATIONS)
    engine = make_engine(url)
    with session_scope(engine) as session:
        cells = [Unit(code=f"CB-{n}", name=f"Chi bộ {n}", kind="party_cell") for n in range(units)]
        session.add_all(cells)
        session.flush()
        ids = [c.id or 0 for c in cells]
        plan, tasks = planning.create_plan(session, actor=ADMIN, data=PlanCreate(
            number="1-KH/BENCH", title="Đo giao nhiệm vụ", tasks=[
                TaskCreate(code=f"II.{n + 1}", title=f"Nhiệm vụ {n + 1}") for n in range(runs)]))
        plan_id, task_ids = plan.id or 0, [t.id or 0 for t in tasks]
    times = []
    for task_id in task_ids:
        started = time.perf_counter()
        with session_scope(engine) as session:
            planning.assign(session, actor=ADMIN, plan_id=plan_id,
                            data=AssignmentCreate(task_id=task_id, unit_ids=ids, role="lead"))
        times.append(time.perf_counter() - started)
    engine.dispose()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    pg_url = os.environ.get("PLANTRACK_TEST_PG_URL")
    if pg_url:
        postgres, name = Postgres(pg_url), run_name()
        try:
            times = measure(postgres.create_database(name), args.units, args.runs)
        finally:
            postgres.drop_database(name)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            times = measure(f"sqlite:///{tmp}/assignments.db", args.units, args.runs)
    result = {"units": args.units, "database": "postgresql" if pg_url else "sqlite",
              "assign_median_s": round(statistics.median(times), 3), "runs": args.runs}
    print(json.dumps(result) if args.json else
          f"one task to {args.units} units ({result['database']}): median {result['assign_median_s']} s "
          f"over {args.runs} calls")


if __name__ == "__main__":
    main()
