"""Time the outbox relay's and the mail sender's claim behind a long history of handled rows.

On a fresh PostgreSQL database (migrated, no ANALYZE run, as on a server with autovacuum off) it
writes `--history` handled rows and a few due ones into each table, then times `claim_batch` as
each worker calls it, and prints the plan PostgreSQL chose.

    PLANTRACK_TEST_PG_URL=postgresql+psycopg://postgres@127.0.0.1:5432/postgres \\
    .venv/bin/python scripts/bench_claims.py [--history 56000] [--json]
"""

import argparse
import json
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from services.assignments.app import MIGRATIONS as ASSIGNMENTS  # noqa: E402
from services.notifications.app import MIGRATIONS as NOTIFICATIONS  # noqa: E402
from services.notifications.models import OutgoingEmail  # noqa: E402
from shared.db import make_engine, migrate  # noqa: E402
from shared.messaging.outbox import OutboxMessage  # noqa: E402
from shared.messaging.relay import claim_batch, release  # noqa: E402
from tests.support.servers import Postgres, run_name  # noqa: E402

OUTBOX = ("INSERT INTO outbox (event_id, event_type, correlation_id, body, created_at, available_at, attempts{sent}) "
          "SELECT gen_random_uuid(), 'x', '', repeat('a', 600), now(), now() - interval '1 minute', 0{now} "
          "FROM generate_series(1, :n)")
EMAILS = ("INSERT INTO outgoing_emails (event_id, event_type, recipient, recipient_name, kind, category, subject, "
          "body, html, unsubscribe_url, message_id, correlation_id, created_at, available_at, attempts{sent}) "
          "SELECT gen_random_uuid(), 'x', 'a@b.vn', '', '', '', 's', repeat('b', 800), '', '', "
          "gen_random_uuid()::text, '', now(), now() - interval '1 hour', 0{now} FROM generate_series(1, :n)")


def fill(engine: Engine, insert: str, history: int, due: int) -> None:
    with engine.begin() as conn:
        conn.execute(text(insert.format(sent=", sent_at", now=", now()")), {"n": history})
        conn.execute(text(insert.format(sent="", now="")), {"n": due})


def timed_claims(engine: Engine, model: Any, limit: int, where: tuple[Any, ...] = ()) -> float:
    """Median milliseconds of 20 claims (each released again)."""
    times = []
    for _ in range(20):
        started = time.perf_counter()
        rows = claim_batch(engine, model, limit=limit, lease=timedelta(seconds=10), where=where)
        times.append(time.perf_counter() - started)
        release(engine, model, [r.id for r in rows], rows[0].available_at)
    return round(1000 * statistics.median(times), 2)


def plan(engine: Engine, sql: str) -> list[str]:
    with engine.connect() as conn:
        return [row[0] for row in conn.execute(text(f"EXPLAIN ANALYZE {sql}"))][:4]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--history", type=int, default=56_000, help="handled rows in each table")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    postgres, name = Postgres(os.environ["PLANTRACK_TEST_PG_URL"]), run_name()
    result: dict[str, Any] = {"history": args.history}
    for service, migrations in (("assignments", ASSIGNMENTS), ("notifications", NOTIFICATIONS)):
        url = postgres.create_database(f"{name}_{service}")
        try:
            migrate(url, migrations)
            engine = make_engine(url)
            if service == "assignments":
                fill(engine, OUTBOX, args.history, 100)
                result["relay_claim_ms"] = timed_claims(engine, OutboxMessage, 100)
                result["relay_plan"] = plan(engine, "SELECT * FROM outbox WHERE sent_at IS NULL AND "
                                            "available_at <= now() ORDER BY id LIMIT 100 FOR UPDATE SKIP LOCKED")
            else:
                fill(engine, EMAILS, args.history, 5)
                result["mail_claim_ms"] = timed_claims(engine, OutgoingEmail, 1, (OutgoingEmail.failed_at.is_(None),))  # type: ignore[union-attr]
                result["mail_plan"] = plan(engine, "SELECT * FROM outgoing_emails WHERE sent_at IS NULL AND "
                                           "failed_at IS NULL AND available_at <= now() ORDER BY id LIMIT 1 "
                                           "FOR UPDATE SKIP LOCKED")
            engine.dispose()
        finally:
            postgres.drop_database(f"{name}_{service}")
    if args.json:
        print(json.dumps(result))
        return
    print(f"{args.history} handled rows each: relay claim {result['relay_claim_ms']} ms, "
          f"mail sender claim {result['mail_claim_ms']} ms")
    for key in ("relay_plan", "mail_plan"):
        print(f"{key}:\n  " + "\n  ".join(result[key]))


if __name__ == "__main__":
    main()
