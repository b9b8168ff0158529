"""The outbox relay as its own process: `plantrack relay` (or python -m services.assignments.relay).

Run it beside API instances started with PLANTRACK_ASSIGNMENTS_RELAY_ENABLED=false, or as extra
relays: rows are claimed with FOR UPDATE SKIP LOCKED, so relays never publish a row twice.
"""

import asyncio
import logging
import signal

from services.assignments.app import MIGRATIONS
from services.assignments.settings import AssignmentsSettings
from shared.db import make_engine, migrate
from shared.logging import setup_logging
from shared.messaging.broker import make_broker
from shared.messaging.publisher import connect_until_stopped, outbox_publisher
from shared.messaging.relay import outbox_relay

log = logging.getLogger("plantrack.relay")


async def run_relay(settings: AssignmentsSettings, stop: asyncio.Event) -> None:
    """Publish outbox rows until `stop` is set."""
    url = settings.db_url()
    await asyncio.to_thread(migrate, url, MIGRATIONS)
    engine = make_engine(url)
    broker = make_broker(settings.amqp_url)
    relay = outbox_relay(engine, outbox_publisher(broker), batch_size=settings.relay_batch_size,
                         poll_interval=settings.relay_poll_interval)
    try:
        if await connect_until_stopped(broker, stop):
            await relay.run(stop)
    finally:
        await broker.stop()
        engine.dispose()


def main() -> None:
    """Run a standalone relay until SIGINT/SIGTERM."""
    settings = AssignmentsSettings()
    setup_logging("relay", settings.log_level)

    async def _main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await run_relay(settings, stop)

    asyncio.run(_main())


if __name__ == "__main__":
    main()
