"""The outbox relay as its own process: `plantrack relay` (or python -m services.assignments.relay).

Run it beside API instances started with PLANTRACK_ASSIGNMENTS_RELAY_ENABLED=false, or as extra
relays: rows are claimed with FOR UPDATE SKIP LOCKED, so relays never publish a row twice.
"""

import asyncio
import logging

from fastapi import FastAPI
from sqlalchemy import Engine

from services.assignments.app import MIGRATIONS, make_relay, relay_broker, run_relay_worker
from services.assignments.settings import AssignmentsSettings
from shared.db import make_engine, migrate
from shared.http import database_check
from shared.logging import setup_logging
from shared.messaging.broker import PlantrackBroker
from shared.messaging.connect import BrokerRefused
from shared.messaging.outbox import OutboxMessage
from shared.messaging.readiness import broker_connected
from shared.metrics.backlog import Backlog
from shared.worker_http import serving, until_signalled, worker_app

log = logging.getLogger("plantrack.relay")


def relay_app(engine: Engine, broker: PlantrackBroker, settings: AssignmentsSettings) -> FastAPI:
    """The relay's own small HTTP face: /health, /ready (database and broker) and /metrics."""
    async def broker_ok() -> bool:
        return broker_connected(broker)

    return worker_app("plantrack — outbox relay", "relay",
                      checks={"database": database_check(engine), "broker": broker_ok},
                      metrics_token=settings.metrics_token, collectors=[Backlog(engine, OutboxMessage, "outbox")])


async def run_relay(settings: AssignmentsSettings, stop: asyncio.Event) -> None:
    """Publish outbox rows until `stop` is set (serving /metrics meanwhile when `relay_port` is set)."""
    url = settings.db_url()
    await asyncio.to_thread(migrate, url, MIGRATIONS)
    engine = make_engine(url)
    broker = relay_broker(settings)
    try:
        async with serving(relay_app(engine, broker, settings), settings.relay_port):
            await run_relay_worker(make_relay(engine, broker, settings), broker, stop, settings)
    finally:
        await broker.stop()
        engine.dispose()


def main() -> None:
    """Run a standalone relay until SIGINT/SIGTERM."""
    settings = AssignmentsSettings()
    setup_logging("relay", settings.log_level)
    try:
        until_signalled(lambda stop: run_relay(settings, stop))
    except BrokerRefused:
        raise SystemExit(1) from None  # logged: RabbitMQ refused the events exchange


if __name__ == "__main__":
    main()
