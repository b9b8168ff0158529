"""The assignments service: FastAPI app factory, with the outbox relay in its lifespan."""

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI

from services.assignments import directory as directory_use_cases
from services.assignments.api import assignments, directory, oversight, plans
from services.assignments.api.deps import AppState
from services.assignments.settings import AssignmentsSettings
from shared.db import make_engine, migrate, ping, session_scope
from shared.http import health_router, install_common
from shared.logging import setup_logging
from shared.messaging.broker import make_broker
from shared.messaging.publisher import connect_until_stopped, outbox_publisher
from shared.messaging.relay import DueRowWorker, outbox_relay
from shared.problems import install_problem_handlers

MIGRATIONS = Path(__file__).parent / "migrations"
log = logging.getLogger("plantrack.assignments")

DESCRIPTION = """
Hệ thống theo dõi thực hiện kế hoạch — the system of record of plantrack: units, officials,
plans and their tasks, assignments of tasks to units, and the status updates units report.
Every change is published as a versioned event on RabbitMQ through a transactional outbox.

Authenticate with `Authorization: Bearer <token>`. Errors are RFC 9457 `application/problem+json`.
"""


def create_app(settings: AssignmentsSettings | None = None) -> FastAPI:
    """Build the assignments API; nothing connects until the app starts."""
    settings = settings or AssignmentsSettings()
    url = settings.db_url()
    engine = make_engine(url)
    broker = make_broker(settings.amqp_url)
    state = AppState(settings=settings, engine=engine)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        setup_logging("assignments", settings.log_level)
        await asyncio.to_thread(migrate, url, MIGRATIONS)
        with session_scope(engine) as session:
            directory_use_cases.ensure_bootstrap_admin(session, settings.admin_token)
        stop = asyncio.Event()
        task = None
        if settings.relay_enabled:
            state.relay = outbox_relay(
                engine, outbox_publisher(broker), batch_size=settings.relay_batch_size,
                poll_interval=settings.relay_poll_interval,
            )
            task = asyncio.create_task(_run_relay(state.relay, broker, stop))
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
    install_common(app, max_body_bytes=settings.max_body_bytes)

    async def database_ok() -> bool:
        await asyncio.to_thread(ping, engine)
        return True

    async def broker_ok() -> bool:
        return bool(settings.relay_enabled is False or await broker.ping(timeout=2))

    app.include_router(health_router({"database": database_ok, "broker": broker_ok}))
    app.include_router(directory.router)
    app.include_router(plans.router)
    app.include_router(assignments.router)
    app.include_router(oversight.router)
    return app


async def _run_relay(relay: DueRowWorker, broker, stop: asyncio.Event) -> None:  # type: ignore[no-untyped-def,type-arg]
    if await connect_until_stopped(broker, stop):
        await relay.run(stop)
