"""Time the reporting consumer draining a backlog, with and without group commit, interleaved.

On a fresh vhost and a fresh PostgreSQL database it publishes N status events (1,000 assignments,
rising versions) straight to the events exchange, then starts the reporting service as a process
with one configuration and times how fast its /metrics count them consumed; each configuration
runs twice, in turn, after a warm-up round, and PostgreSQL's deadlock count is printed after each.

Usage: .venv/bin/python scripts/bench_group_commit.py [-n 4000]
           [--configs '[{"batch_size": 1}, {"batch_size": 100, "batch_runners": 2}]']
(PLANTRACK_TEST_AMQP_URL and PLANTRACK_TEST_PG_URL name the servers; the defaults are local.)
"""

import argparse
import asyncio
import json
import os
import sys
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path

import aio_pika

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from services.bench.processes import ServiceProcess  # noqa: E402
from services.bench.run import METRICS_TOKEN, _consumed, drain_rate  # noqa: E402
from services.bench.servers import PREFIX, Postgres, Rabbit, run_name  # noqa: E402
from services.bench.world import SUMMARY  # noqa: E402
from shared.events import AssignmentStatusChangedV1  # noqa: E402
from shared.events.assignments import AssignmentStatusChangedPayload  # noqa: E402
from shared.messaging.topology import EVENTS_EXCHANGE_NAME  # noqa: E402

DEFAULT_CONFIGS = json.dumps([{"batch_size": 1}, {"batch_size": 100, "batch_runners": 1},
                              {"batch_size": 100, "batch_runners": 2}])


def bodies(n: int, round_no: int) -> list[bytes]:
    """`n` status events over 1,000 assignments, each round's versions above the last round's."""
    now = datetime.now(UTC)
    return [AssignmentStatusChangedV1(correlation_id="bench", payload=AssignmentStatusChangedPayload(
        assignment_id=1 + i % 1000, update_id=round_no * 1_000_000 + i + 1, plan_id=1, plan_number="41-KH/ĐUK",
        task_id=6, task_code="II.1", task_title="Nhiệm vụ trọng tâm số 1", unit_id=3, unit_code="CB-001",
        unit_name="Chi bộ đơn vị số 1", old_status="in_progress", new_status="in_progress", progress=40,
        summary=SUMMARY, difficulties="", due_on=date(2030, 12, 31), reported_by_id=12,
        reported_by_name="Bí thư 1", reported_at=now, version=round_no * 1000 + i // 1000 + 2,
    )).model_dump_json().encode() for i in range(n)]


async def publish(url: str, user: str, payloads: list[bytes]) -> None:
    """Publish as the relay does (persistent, confirmed), 200 confirms outstanding at most."""
    connection = await aio_pika.connect(url)
    try:
        channel = await connection.channel()
        exchange = await channel.get_exchange(EVENTS_EXCHANGE_NAME)
        limit = asyncio.Semaphore(200)

        async def one(body: bytes) -> None:
            async with limit:
                await exchange.publish(aio_pika.Message(body, delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                                                        user_id=user, content_type="application/json"),
                                       routing_key=AssignmentStatusChangedV1.TYPE)

        await asyncio.gather(*(one(b) for b in payloads))
    finally:
        await connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("-n", type=int, default=4000, help="events each round")
    parser.add_argument("--configs", default=DEFAULT_CONFIGS, help="JSON list of the service's settings to compare")
    args = parser.parse_args()
    configs: list[dict[str, int]] = json.loads(args.configs)
    rabbit = Rabbit(os.environ.get("PLANTRACK_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/"))
    pg = Postgres(os.environ.get("PLANTRACK_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"))
    name = run_name(PREFIX)
    url = rabbit.create_vhost(name)
    database = pg.create_database(f"{name}_reporting")
    with tempfile.TemporaryDirectory() as tmp:
        base = {"PLANTRACK_AMQP_URL": url, "PLANTRACK_LOG_LEVEL": "WARNING", "PLANTRACK_METRICS_TOKEN": METRICS_TOKEN,
                "PLANTRACK_DATA_DIR": tmp, "PLANTRACK_REPORTING_DATABASE_URL": database}
        try:
            ServiceProcess("reporting", base, Path(tmp)).start(timeout=60).stop()  # declares its queues
            user = url.split("//", 1)[1].split(":", 1)[0]
            for round_no, config in enumerate([configs[0], *configs, *configs]):
                asyncio.run(publish(url, user, bodies(args.n, round_no)))
                env = base | {f"PLANTRACK_REPORTING_{key.upper()}": str(value) for key, value in config.items()}
                service = ServiceProcess("reporting", env, Path(tmp))
                service.launch()
                try:
                    rate = drain_rate(_consumed(service, "reporting"), args.n, timeout=600)
                finally:
                    service.stop()
                [(deadlocks,)] = pg._execute(
                    f"SELECT deadlocks FROM pg_stat_database WHERE datname = '{name}_reporting'")
                label = "warm-up " if round_no == 0 else ""
                print(f"{label}{json.dumps(config)}: {rate:.0f} events/s (deadlocks so far: {deadlocks})", flush=True)
        finally:
            rabbit.delete_vhost(name)
            pg.drop_database(f"{name}_reporting")


if __name__ == "__main__":
    main()
