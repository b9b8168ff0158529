"""The mail sender as its own process: `plantrack mail-sender`.

Run it beside notifications services started with PLANTRACK_NOTIFICATIONS_SEND_ENABLED=false, so
sending never competes with consuming for one interpreter; several senders share the outgoing
emails (FOR UPDATE SKIP LOCKED and leases), each woken by PostgreSQL NOTIFY when emails are staged.
"""

import asyncio

from services.notifications.app import MIGRATIONS, email_backlog, mail_sender
from services.notifications.mailer import SmtpPool
from services.notifications.settings import NotificationsSettings
from shared.db import make_engine, migrate
from shared.http import database_check
from shared.logging import setup_logging
from shared.worker_http import serving, until_signalled, worker_app


async def run_sender(settings: NotificationsSettings, stop: asyncio.Event) -> None:
    """Send due emails until `stop` is set (serving /ready and /metrics when `sender_port` is set)."""
    url = settings.db_url()
    await asyncio.to_thread(migrate, url, MIGRATIONS)
    engine = make_engine(url)
    pool = SmtpPool(settings, settings.smtp_connections)
    app = worker_app("plantrack — mail sender", "mail-sender", checks={"database": database_check(engine)},
                     metrics_token=settings.metrics_token, collectors=[email_backlog(engine)])
    try:
        async with serving(app, settings.sender_port):
            await mail_sender(engine, pool, settings).run(stop)
    finally:
        await pool.close()
        engine.dispose()


def main() -> None:
    """Run a standalone mail sender until SIGINT/SIGTERM."""
    settings = NotificationsSettings()
    setup_logging("mail-sender", settings.log_level)
    until_signalled(lambda stop: run_sender(settings, stop))


if __name__ == "__main__":
    main()
