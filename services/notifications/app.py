"""The notifications service: consumers, mail worker, and a small HTTP surface."""

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

from fastapi import FastAPI
from sqlalchemy import Engine

from services.notifications import api, consumers
from services.notifications.mailer import SmtpPool
from services.notifications.mailroom import Mailroom
from services.notifications.models import MAIL_CHANNEL, OutgoingEmail
from services.notifications.scanner import Scanner
from services.notifications.settings import NotificationsSettings
from shared.db import make_engine, migrate
from shared.http import database_check, health_router, install_common
from shared.logging import setup_logging
from shared.messaging.broker import declare_dead_letter_queues, make_broker
from shared.messaging.consumer_api import ConsumerAPI, consumer_api
from shared.messaging.readiness import consumers_ready
from shared.messaging.relay import DueRowWorker
from shared.metrics.backlog import Backlog
from shared.metrics.http import install_metrics
from shared.problems import install_problem_handlers

MIGRATIONS = Path(__file__).parent / "migrations"
UNPARKED = (OutgoingEmail.failed_at.is_(None),)  # type: ignore[union-attr]  # emails the sender still tries
log = logging.getLogger("plantrack.notifications")


def create_app(settings: NotificationsSettings | None = None) -> ConsumerAPI:
    """Build the notifications service (ASGI); nothing connects until it starts."""
    settings = settings or NotificationsSettings()
    setup_logging("notifications", settings.log_level)
    url = settings.db_url()
    engine = make_engine(url)
    broker = make_broker(settings.amqp_url, prefetch=settings.prefetch,
                         graceful_timeout=settings.graceful_timeout, producer_user=settings.events_producer_user,
                         connect_timeout=settings.amqp_connect_timeout, heartbeat=settings.amqp_heartbeat)
    sender = SmtpPool(settings, settings.smtp_connections)
    worker = mail_sender(engine, sender, settings)
    room = Mailroom(engine, settings)
    scanner = Scanner(room, worker.notify)
    queues = consumers.register(broker, room, worker.notify, scanner.poke)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await asyncio.to_thread(migrate, url, MIGRATIONS)
        stop = asyncio.Event()
        tasks = [asyncio.create_task(scanner.run(stop))]
        if settings.send_enabled:
            tasks.append(asyncio.create_task(worker.run(stop)))
        log.info("notifications service started")
        try:
            yield
        finally:
            stop.set()
            await asyncio.gather(*tasks)
            await sender.close()
            engine.dispose()
            log.info("notifications service stopped")

    http = FastAPI(title="plantrack — notifications", version="1.0.0", lifespan=lifespan,
                   description="Emails officials about plan events. Consumes events from RabbitMQ.")
    install_problem_handlers(http)
    install_common(http)
    install_metrics(http, service="notifications", token=settings.metrics_token, collectors=[email_backlog(engine)])

    async def consumers_ok() -> bool:
        return consumers_ready(broker)

    http.include_router(health_router({"database": database_check(engine), "consumers": consumers_ok}))

    http.include_router(api.router(room, worker.notify))

    # no asyncapi_path: its page loads scripts from a CDN and its "try it out" route would let anyone
    # publish through this service's broker connection; the document is docs/asyncapi.json
    return consumer_api(broker, http, lambda: declare_dead_letter_queues(broker, queues),
                        attempt_timeout=settings.amqp_connect_timeout)


def mail_sender(engine: Engine, sender: SmtpPool, settings: NotificationsSettings) -> DueRowWorker[OutgoingEmail]:
    """The mail sender: `send_batch_size` emails a claim, as many at once as the pool has SMTP
    connections (each kept open between emails). The lease outlives any send the worker starts (none
    after 80 % of it, each bounded by the SMTP timeout), so no other worker sends an email twice; a
    process killed mid-batch delays that batch by the lease."""
    lease = 5 * settings.smtp_timeout + 5 if settings.send_batch_size > 1 else settings.smtp_timeout + 5
    return DueRowWorker(
        engine, OutgoingEmail, sender.send, name="mail sender", batch_size=settings.send_batch_size,
        in_flight=len(sender.senders),
        lease=timedelta(seconds=lease), poll_interval=settings.send_poll_interval, retry_cap=settings.send_retry_cap,
        where=UNPARKED, park_column="failed_at", retention=timedelta(days=settings.sent_email_retention_days),
        wake_channel=MAIL_CHANNEL,
    )


def email_backlog(engine: Engine) -> Backlog:
    """The scrape-time gauges of the emails still to send (parked ones aside)."""
    return Backlog(engine, OutgoingEmail, "email", where=UNPARKED)
