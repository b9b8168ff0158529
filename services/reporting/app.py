"""The reporting service: read-model consumers and the review exports."""

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated

from fastapi import Depends, FastAPI
from fastapi.responses import Response
from sqlmodel import Session

from services.reporting import consumers, exports, progress
from services.reporting.settings import ReportingSettings
from shared.db import make_engine, migrate, ping
from shared.http import health_router, install_common
from shared.identity.auth import Principal, bearer_auth
from shared.logging import setup_logging
from shared.messaging.broker import declare_dead_letter_queues, make_broker
from shared.messaging.consumer_api import ConsumerAPI, consumer_api
from shared.messaging.readiness import consumers_ready
from shared.problems import Problem, install_problem_handlers
from shared.validation import DbId
from shared.vietnamese import local_date

MIGRATIONS = Path(__file__).parent / "migrations"
log = logging.getLogger("plantrack.reporting")


def _csv_response(body: str, filename: str) -> Response:
    return Response(body.encode("utf-8"), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def create_app(settings: ReportingSettings | None = None) -> ConsumerAPI:
    """Build the reporting service (ASGI); nothing connects until it starts."""
    settings = settings or ReportingSettings()
    setup_logging("reporting", settings.log_level)
    url = settings.db_url()
    engine = make_engine(url)
    broker = make_broker(settings.amqp_url, prefetch=settings.prefetch, graceful_timeout=settings.graceful_timeout,
                         producer_user=settings.events_producer_user,
                         connect_timeout=settings.amqp_connect_timeout, heartbeat=settings.amqp_heartbeat)
    queues = consumers.register(broker, engine, settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await asyncio.to_thread(migrate, url, MIGRATIONS)
        log.info("reporting service started")
        try:
            yield
        finally:
            engine.dispose()
            log.info("reporting service stopped")

    http = FastAPI(title="plantrack — reporting", version="1.0.0", lifespan=lifespan,
                   description="Read model of plan implementation, built from events; review exports.")
    install_problem_handlers(http)
    install_common(http)

    async def database_ok() -> bool:
        await asyncio.to_thread(ping, engine)
        return True

    async def consumers_ok() -> bool:
        return consumers_ready(broker)

    http.include_router(health_router({"database": database_ok, "consumers": consumers_ok}))

    caller = Annotated[Principal, Depends(bearer_auth(engine))]

    @http.get("/plans/{plan_id}/export.csv", tags=["exports"], response_class=Response,
              responses={200: {"content": {"text/csv": {}}}})
    def export_plan_csv(plan_id: DbId, principal: caller) -> Response:
        """The plan's assignments in the caller's scope and their latest reported status, as CSV."""
        today = local_date()
        with Session(engine) as session:
            plan = exports.get_plan(session, plan_id)
            if plan is None:
                raise Problem(404, f"Plan {plan_id} is not known to the reporting service (yet).")
            rows = [r for r in exports.plan_rows(session, plan_id) if principal.can_read(r.unit_id)]
            body = exports.export_csv(plan, rows, today, settings.due_soon_days,
                                      kinds=progress.task_kinds(session, plan_id),
                                      names=progress.unit_names(session, {r.unit_id for r in rows}))
        return _csv_response(body, exports.export_filename(plan, today, "csv"))

    @http.get("/plans/{plan_id}/progress", tags=["progress"])
    def plan_progress(plan_id: DbId, principal: caller) -> progress.PlanProgress:
        """Where the plan stands in the caller's scope: assignments by status and due state, each unit,
        each review round."""
        with Session(engine) as session:
            result = progress.plan_progress(session, plan_id, local_date(), settings.due_soon_days,
                                            scope=principal.scope)
        if result is None:
            raise Problem(404, f"Plan {plan_id} is not known to the reporting service (yet).")
        return result

    @http.get("/plans/{plan_id}/reviews/{round_id}/export.csv", tags=["exports"], response_class=Response,
              responses={200: {"content": {"text/csv": {}}}})
    def export_review_csv(plan_id: DbId, round_id: DbId, principal: caller) -> Response:
        """Each expected unit's review report in the round (those in the caller's scope): submitted on
        time, late, or not yet, as CSV."""
        with Session(engine) as session:
            round_ = progress.get_round(session, plan_id, round_id)
            if round_ is None:
                raise Problem(404, f"Review round {round_id} of plan {plan_id} is not known to the reporting service.")
            units = [u for u in progress.round_units(session, round_) if principal.can_read(u.unit_id)]
            body = exports.review_csv(units)
        return _csv_response(body, exports.review_filename(round_, local_date()))

    # no asyncapi_path: its page loads scripts from a CDN and its "try it out" route would let anyone
    # publish through this service's broker connection; the document is docs/asyncapi.json
    return consumer_api(broker, http, lambda: declare_dead_letter_queues(broker, queues),
                        attempt_timeout=settings.amqp_connect_timeout)
