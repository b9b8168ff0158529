"""The mail sender as its own process: `plantrack mail-sender`.

Run it beside notifications services started with PLANTRACK_NOTIFICATIONS_SEND_ENABLED=false, so
sending never competes with consuming for one interpreter; several senders share the outgoing
emails (FOR UPDATE SKIP LOCKED and leases), each woken by PostgreSQL NOTIFY when emails are staged.
"""

import asyncio
import signal

from services.notifications.app import MIGRATIONS, mail_sender
from services.notifications.mailer import SmtpPool
from services.notifications.models import OutgoingEmail
from services.notifications.settings import NotificationsSettings
from shared.db import make_engine, migrate, ping
from shared.logging import setup_logging
from shared.metrics.backlog import Backlog
from shared.worker_http import serving, worker_app


async def run_sender(settings: NotificationsSettings, stop: asyncio.Event) -> None:
    """Send due emails until `stop` is set (serving /ready and /metrics when `sender_port` is set)."""
    url = settings.db_url()
    await asyncio.to_thread(migrate, url, MIGRATIONS)
    engine = make_engine(url)
    pool = SmtpPool(settings, settings.smtp_connections)

    async def database_ok() -> bool:
        await asyncio.to_thread(ping, engine)
        return True

    app = worker_app("plantrack — mail sender", "mail-sender", checks={"database": database_ok},
                     metrics_token=settings.metrics_token, collectors=[
                         Backlog(engine, OutgoingEmail, "email", where=(OutgoingEmail.failed_at.is_(None),))])  # type: ignore[union-attr]
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

    async def _main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await run_sender(settings, stop)

    asyncio.run(_main())


if __name__ == "__main__":
    main()
