"""Time the plan importer on a 2 MB document (issue 11's bar: under 2 s).

The document is a real one (tests/fixtures/plans/real/b-qd-ubnd-kon-tum-435-2020.txt) whose task
section is repeated until the text passes 2 MB.

    .venv/bin/python scripts/bench_import.py [--runs 5] [--mb 2] [--json]
"""

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from services.assignments.plan_import import parse_plan  # noqa: E402
from tests.support.import_score import big_document  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--mb", type=float, default=2.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    text = big_document(args.mb)
    times, tasks = [], 0
    for _ in range(args.runs):
        start = time.perf_counter()
        tasks = len(parse_plan(text).tasks)
        times.append(time.perf_counter() - start)
    result = {"bytes": len(text.encode("utf-8")), "tasks": tasks, "runs": args.runs,
              "median_s": round(statistics.median(times), 3), "max_s": round(max(times), 3), "bar_s": 2.0}
    print(json.dumps(result) if args.json else
          f"{result['bytes']:,} bytes, {tasks} tasks: median {result['median_s']} s, max {result['max_s']} s "
          f"over {args.runs} runs (bar: 2 s)")


if __name__ == "__main__":
    main()
