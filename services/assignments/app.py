"""The assignments service: FastAPI app factory, with the outbox relay in its lifespan."""

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

from fastapi import FastAPI
from sqlalchemy import Engine

from services.assignments import directory as directory_use_cases
from services.assignments.api import (
    admin_pages,
    assignments,
    board_pages,
    directory,
    oversight,
    pages,
    plans,
    unit_pages,
)
from services.assignments.api.deps import AppState
from services.assignments.settings import AssignmentsSettings
from shared.db import make_engine, migrate, session_scope
from shared.http import database_check, health_router, install_common
from shared.logging import setup_logging
from shared.messaging.broker import PlantrackBroker, make_broker
from shared.messaging.connect import BrokerRefused
from shared.messaging.outbox import OutboxMessage
from shared.messaging.publisher import connect_until_stopped, outbox_publisher
from shared.messaging.readiness import broker_connected
from shared.messaging.relay import DueRowWorker, outbox_relay
from shared.metrics.backlog import Backlog
from shared.metrics.http import install_metrics
from shared.problems import install_problem_handlers
from shared.web.pages import install_static

MIGRATIONS = Path(__file__).parent / "migrations"
log = logging.getLogger("plantrack.assignments")

DESCRIPTION = """
Hệ thống theo dõi thực hiện kế hoạch — the system of record of plantrack: units, officials,
plans and their tasks, assignments of tasks to units, and the status updates units report.
Every change is published as a versioned event on RabbitMQ through a transactional outbox.

Authenticate with `Authorization: Bearer <token>`, or from a browser with the session cookie
of a sign-in by emailed link (`/signin`; unsafe requests then carry `X-CSRF-Token`).
Errors are RFC 9457 `application/problem+json`.
"""


def create_app(settings: AssignmentsSettings | None = None) -> FastAPI:
    """Build the assignments API; nothing connects until the app starts."""
    settings = settings or AssignmentsSettings()
    setup_logging("assignments", settings.log_level)
    url = settings.db_url()
    engine = make_engine(url)
    broker = relay_broker(settings)
    state = AppState(settings=settings, engine=engine)
    relay_task: list[asyncio.Task[None]] = []  # the running relay, for /ready

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await asyncio.to_thread(migrate, url, MIGRATIONS)
        with session_scope(engine) as session:
            directory_use_cases.ensure_bootstrap_admin(session, settings.admin_token)
        stop = asyncio.Event()
        task = None
        if settings.relay_enabled:
            state.relay = make_relay(engine, broker, settings)
            task = asyncio.create_task(_relay_in_api(state.relay, broker, stop, settings))
            relay_task[:] = [task]
        log.info("assignments service started", extra={"database": engine.url.render_as_string()})
        try:
            yield
        finally:
            stop.set()
            if task is not None:
                await task
            await broker.stop()
            engine.dispose()
            log.info("assignments service stopped")

    app = FastAPI(title="plantrack — assignments", version="1.0.0", description=DESCRIPTION,
                  lifespan=lifespan)
    app.state.plantrack = state
    install_problem_handlers(app)
    # upload routes: twice the file's limit plus the form around it, so a file a little too large
    # reaches the route and its answer in Vietnamese, and a huge one is cut off while it streams in
    form = 64 * 1024
    install_common(app, max_body_bytes=settings.max_body_bytes, uploads=[
        (r"/unit/assignments/\d+/attachments", 2 * settings.attachment_max_bytes + form),
        (r"/admin/import", 2 * settings.import_max_bytes + form)])
    install_metrics(app, service="assignments", token=settings.metrics_token,
                    collectors=[Backlog(engine, OutboxMessage, "outbox")])

    async def broker_ok() -> bool:
        # the relay's connection; a relay that gave up (RabbitMQ refused the exchange) is not ready
        return not settings.relay_enabled or (
            broker_connected(broker) and bool(relay_task) and not relay_task[0].done())

    app.include_router(health_router({"database": database_check(engine), "broker": broker_ok}))
    app.include_router(directory.router)
    app.include_router(plans.router)
    app.include_router(assignments.router)
    app.include_router(oversight.router)
    app.include_router(pages.router)
    app.include_router(unit_pages.router)
    app.include_router(board_pages.router)
    app.include_router(admin_pages.router)
    install_static(app)
    return app


def relay_broker(settings: AssignmentsSettings) -> PlantrackBroker:
    """The relay's broker connection: bounded connection attempts, heartbeats."""
    return make_broker(settings.amqp_url, connect_timeout=settings.amqp_connect_timeout,
                       heartbeat=settings.amqp_heartbeat)


def make_relay(engine: Engine, broker: PlantrackBroker, settings: AssignmentsSettings) -> DueRowWorker[OutboxMessage]:
    """The outbox relay, with a short lease: a relay killed mid-batch delays its rows by seconds."""
    lease = settings.relay_lease_seconds
    # a publish must end well inside the lease: the relay starts no row after 80 % of it
    return outbox_relay(
        engine, outbox_publisher(broker, timeout=lease / 5), batch_size=settings.relay_batch_size,
        poll_interval=settings.relay_poll_interval, lease=timedelta(seconds=lease), in_flight=settings.relay_in_flight,
        retention=timedelta(days=settings.outbox_retention_days),
    )


async def run_relay_worker(
    relay: DueRowWorker[OutboxMessage], broker: PlantrackBroker, stop: asyncio.Event, settings: AssignmentsSettings,
) -> None:
    """Connect (retrying, each attempt bounded), then relay until `stop` is set; BrokerRefused
    when RabbitMQ refuses the events exchange."""
    if await connect_until_stopped(broker, stop, attempt_timeout=settings.amqp_connect_timeout):
        await relay.run(stop)


async def _relay_in_api(relay: DueRowWorker[OutboxMessage], broker: PlantrackBroker, stop: asyncio.Event,
                        settings: AssignmentsSettings) -> None:
    try:
        await run_relay_worker(relay, broker, stop, settings)
    except BrokerRefused:
        pass  # logged; the API goes on, and /ready reports the relay down until an operator fixes the broker
