"""Measure the skeleton's flow over real processes: HTTP update → email, and → export.

Starts the three services (uvicorn) on a fresh vhost and fresh PostgreSQL databases, an aiosmtpd
server, posts N status updates one after another and reports latency percentiles.

Usage: PLANTRACK_TEST_AMQP_URL=amqp://guest:guest@127.0.0.1:5672/ \
       PLANTRACK_TEST_PG_URL=postgresql+psycopg://postgres@127.0.0.1:5432/postgres \
       python scripts/bench_flow.py [N]
"""

import csv
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.flow import set_up_flow  # noqa: E402
from tests.support.procs import ServiceProcess, free_port  # noqa: E402
from tests.support.servers import Postgres, Rabbit, run_name  # noqa: E402
from tests.support.smtp import SmtpServer  # noqa: E402

ADMIN = "bench-admin-token"


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank) of `values`, in milliseconds."""
    ordered = sorted(values)
    return 1000 * ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def main() -> None:
    """Run the measurement and print a summary."""
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    rabbit = Rabbit(url=os.environ["PLANTRACK_TEST_AMQP_URL"])
    pg = Postgres(admin_url=os.environ["PLANTRACK_TEST_PG_URL"])
    vhost, name = None, run_name()
    dbs = [f"{name}_{s}" for s in ("assignments", "notifications", "reporting")]
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp, SmtpServer(port) as smtp:
        vhost = rabbit.create_vhost(name)
        env = {"PLANTRACK_AMQP_URL": vhost, "PLANTRACK_ADMIN_TOKEN": ADMIN, "PLANTRACK_LOG_LEVEL": "WARNING",
               "PLANTRACK_SMTP_HOST": "127.0.0.1", "PLANTRACK_SMTP_PORT": str(port)}
        for db in dbs:
            env[f"PLANTRACK_{db.rsplit('_', 1)[1].upper()}_DATABASE_URL"] = pg.create_database(db)
        procs = [ServiceProcess(s, env, Path(tmp)) for s in ("notifications", "reporting", "assignments")]
        try:
            for p in procs:
                p.start()
            notifications, reporting, assignments = procs
            flow = set_up_flow(assignments.url, ADMIN)
            time.sleep(1.0)
            post_s, email_s, export_s = [], [], []
            headers = {"Authorization": f"Bearer {flow.officer_token}"}
            with httpx.Client(timeout=10) as c:
                for i in range(n):
                    progress = 1 + i % 98
                    t0 = time.perf_counter()
                    r = c.post(f"{assignments.url}/assignments/{flow.assignment_id}/updates", headers=headers,
                               json={"status": "in_progress", "progress": progress, "summary": f"Lần {i}"})
                    assert r.status_code == 201, r.text
                    t1 = time.perf_counter()
                    smtp.mailbox.wait_for(i + 1, timeout=30)
                    t2 = time.perf_counter()
                    while True:
                        rows = list(csv.DictReader(io.StringIO(
                            c.get(f"{reporting.url}/plans/{flow.plan_id}/export.csv",
                                  headers=headers).content.decode("utf-8-sig"))))
                        if rows and rows[0]["Tiến độ (%)"] == str(progress):
                            break
                        time.sleep(0.005)
                    t3 = time.perf_counter()
                    post_s.append(t1 - t0)
                    email_s.append(t2 - t0)
                    export_s.append(t3 - t0)
            assert len(smtp.mailbox.snapshot()) == n
            for label, values in (("HTTP POST /updates", post_s), ("update → email received", email_s),
                                  ("update → export shows it", export_s)):
                print(f"{label:<26} p50 {percentile(values, 50):7.1f} ms  p95 {percentile(values, 95):7.1f} ms"
                      f"  max {1000 * max(values):7.1f} ms  mean {1000 * statistics.mean(values):7.1f} ms  (n={n})")
        finally:
            for p in procs:
                p.stop()
            rabbit.delete_vhost(name)
            for db in dbs:
                pg.drop_database(db)


if __name__ == "__main__":
    main()
