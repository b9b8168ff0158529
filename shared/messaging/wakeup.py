"""Waking due-row workers in other processes at once: PostgreSQL NOTIFY on commit, LISTEN in the worker.

Polling stays the fallback (a lost notification, SQLite, a listener reconnecting): a notification
only shortens the wait, it never carries the work."""

import asyncio
import logging
from collections.abc import Callable

import psycopg
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

log = logging.getLogger("plantrack.wakeup")

OUTBOX_CHANNEL = "plantrack_outbox"
RECONNECT_SECONDS = 2.0
_NOTIFY = text("SELECT pg_notify(:channel, '')")  # built once: a hot path's statement


def notify_on_commit(session: Session, channel: str) -> None:
    """Have PostgreSQL wake `channel`'s listeners when the caller's transaction commits (once per
    transaction; nothing on rollback, nothing on SQLite)."""
    bind = session.get_bind()
    if bind.dialect.name != "postgresql":
        return
    transaction = session.get_transaction()
    notified = session.info.setdefault("plantrack_notified", {})
    if transaction is not None and notified.get(channel) is transaction:
        return
    session.execute(_NOTIFY, {"channel": channel})
    notified[channel] = session.get_transaction()


def conninfo(engine: Engine) -> str:
    """A libpq connection string for the engine's database."""
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


async def listen(engine: Engine, channel: str, wake: Callable[[], None]) -> None:
    """Call `wake` on every notification on `channel` (and after each (re)connection, for what was
    missed meanwhile) until cancelled; reconnect after errors."""
    while True:
        try:
            async with await psycopg.AsyncConnection.connect(conninfo(engine), autocommit=True) as conn:
                await conn.execute(f"LISTEN {channel}")
                wake()
                async for _ in conn.notifies():
                    wake()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - polling covers the gap; try again shortly
            log.warning("listening for wake-ups failed; polling meanwhile",
                        extra={"channel": channel, "error": repr(exc)})
        await asyncio.sleep(RECONNECT_SECONDS)
