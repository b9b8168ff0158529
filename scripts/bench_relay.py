"""Time the outbox relay against the broker's own limit, side by side (issue 12's relay target).

On a fresh vhost and a fresh PostgreSQL database it measures, with the same event body:
- raw: aio-pika publishing persistent, mandatory messages with publisher confirms to the events
  exchange (bound to one classic queue), up to `--in-flight` confirms outstanding;
- relay: the assignments service's outbox relay (as `make_relay` builds it from the settings)
  draining N outbox rows that one transaction wrote.

Usage: PLANTRACK_TEST_AMQP_URL=amqp://guest:guest@127.0.0.1:5672/ \\
       PLANTRACK_TEST_PG_URL=postgresql+psycopg://postgres@127.0.0.1:5432/postgres \\
       .venv/bin/python scripts/bench_relay.py [-n 5000] [--in-flight 100] [--json]
"""

import argparse
import asyncio
import json
import os
import sys
import time
from pathlib import Path

import aio_pika

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from services.assignments.app import MIGRATIONS, make_relay, relay_broker  # noqa: E402
from services.assignments.settings import AssignmentsSettings  # noqa: E402
from shared.db import make_engine, migrate, session_scope  # noqa: E402
from shared.messaging.outbox import outbox_row  # noqa: E402
from shared.messaging.publisher import connect_until_stopped  # noqa: E402
from shared.messaging.relay import pending_count  # noqa: E402
from shared.messaging.topology import EVENTS_EXCHANGE_NAME  # noqa: E402
from tests.support.servers import Postgres, Rabbit, run_name  # noqa: E402
from tests.unit.test_consumers_testbroker import status_event  # noqa: E402

QUEUE = "bench.sink"


async def raw_publish(url: str, n: int, body: bytes, in_flight: int) -> float:
    """Messages a second aio-pika publishes with confirms, `in_flight` outstanding at most."""
    connection = await aio_pika.connect_robust(url)
    try:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await channel.declare_exchange(EVENTS_EXCHANGE_NAME, aio_pika.ExchangeType.TOPIC, durable=True)
        queue = await channel.declare_queue(QUEUE, durable=True)
        await queue.bind(exchange, "#")
        message = aio_pika.Message(body, delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                                   content_type="application/json")
        started = time.perf_counter()
        for first in range(0, n, in_flight):
            await asyncio.gather(*(exchange.publish(message, routing_key="assignment.status_changed.v1",
                                                    mandatory=True) for _ in range(min(in_flight, n - first))))
        elapsed = time.perf_counter() - started
        await queue.purge()
        return n / elapsed
    finally:
        await connection.close()


async def relay_publish(url: str, db_url: str, n: int) -> float:
    """Rows a second the outbox relay publishes (and marks sent), from a backlog of `n`."""
    settings = AssignmentsSettings(amqp_url=url, database_url=db_url)
    await asyncio.to_thread(migrate, db_url, MIGRATIONS)
    engine = make_engine(db_url)
    with session_scope(engine) as session:
        session.add_all(outbox_row(status_event(version=i + 2)) for i in range(n))
    broker = relay_broker(settings)
    stop = asyncio.Event()
    try:
        await connect_until_stopped(broker, stop)
        relay = make_relay(engine, broker, settings)
        started = time.perf_counter()
        task = asyncio.create_task(relay.run(stop))
        while await asyncio.to_thread(pending_count, engine):  # noqa: ASYNC110 - the outbox table is what we watch
            await asyncio.sleep(0.02)
        elapsed = time.perf_counter() - started
        stop.set()
        await task
        return n / elapsed
    finally:
        await broker.stop()
        engine.dispose()


async def measure(n: int, in_flight: int) -> dict[str, float | int]:
    rabbit = Rabbit(os.environ["PLANTRACK_TEST_AMQP_URL"])
    postgres = Postgres(os.environ["PLANTRACK_TEST_PG_URL"])
    name = run_name()
    url = rabbit.create_vhost(name)
    db_url = postgres.create_database(name)
    try:
        body = status_event().model_dump_json().encode()
        raw = await raw_publish(url, n, body, in_flight)
        relay = await relay_publish(url, db_url, n)
    finally:
        rabbit.delete_vhost(name)
        postgres.drop_database(name)
    return {"events": n, "raw_in_flight": in_flight, "raw_publish_per_s": round(raw),
            "relay_publish_per_s": round(relay), "relay_publish_ratio": round(relay / raw, 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=5000, help="events to publish each way")
    parser.add_argument("--in-flight", type=int, default=100, help="confirms the raw publisher keeps outstanding")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = asyncio.run(measure(args.n, args.in_flight))
    print(json.dumps(result) if args.json else
          f"{result['events']} events: raw aio-pika {result['raw_publish_per_s']}/s, relay "
          f"{result['relay_publish_per_s']}/s, ratio {result['relay_publish_ratio']} (target ≥ 0.7)")


if __name__ == "__main__":
    main()
