"""A commit that writes events wakes a relay in another process at once (PostgreSQL NOTIFY), and
services starting together on a fresh database migrate it once."""

import asyncio
import subprocess
import sys
import time

import pytest
from sqlalchemy import Engine, inspect
from sqlmodel import Session

from shared.db import make_engine, session_scope
from shared.messaging.outbox import add_event
from shared.messaging.relay import outbox_relay, pending_count
from shared.messaging.wakeup import OUTBOX_CHANNEL, listen, notify_on_commit
from tests.integration.conftest import unit_event, wait_until
from tests.support.procs import ROOT

pytestmark = pytest.mark.integration


async def test_a_committed_event_wakes_a_polling_relay_at_once(assignments_engine: Engine) -> None:
    engine = assignments_engine
    published: list[float] = []

    async def publish(row: object) -> None:
        published.append(time.monotonic())

    relay = outbox_relay(engine, publish, poll_interval=60)  # without a wake-up it would sleep a minute
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop))
    try:
        await asyncio.sleep(1.0)  # the relay found nothing and sleeps; its listener is connected
        committed = time.monotonic()
        with session_scope(engine) as session:
            add_event(session, unit_event(1))
        await wait_until(lambda: pending_count(engine) == 0, "the relay publishes the new row", within=10)
        assert published and published[0] - committed < 1.0
    finally:
        stop.set()
        await task


async def test_notifications_come_on_commit_once_per_transaction_and_never_on_rollback(
    assignments_engine: Engine,
) -> None:
    engine = assignments_engine
    wakes: list[float] = []
    listener = asyncio.create_task(listen(engine, OUTBOX_CHANNEL, lambda: wakes.append(time.monotonic())))
    try:
        await wait_until(lambda: len(wakes) == 1, "the listener's first wake (on connecting)")
        with Session(engine) as session:
            notify_on_commit(session, OUTBOX_CHANNEL)
            session.rollback()
        with Session(engine) as session:
            notify_on_commit(session, OUTBOX_CHANNEL)
            notify_on_commit(session, OUTBOX_CHANNEL)
            await asyncio.sleep(0.3)
            assert len(wakes) == 1, "nothing before the commit"
            session.commit()
        await wait_until(lambda: len(wakes) == 2, "the wake of the commit")
        await asyncio.sleep(0.3)
        assert len(wakes) == 2
    finally:
        listener.cancel()
        with pytest.raises(asyncio.CancelledError):
            await listener


def test_processes_starting_together_migrate_a_fresh_database_once(pg_url: str) -> None:
    # uvicorn workers or replicas: each migrates at start (processes: alembic's context is per process)
    script = ("from shared.db import migrate; from services.assignments.app import MIGRATIONS; "
              f"migrate({pg_url!r}, MIGRATIONS)")
    procs = [subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stderr=subprocess.PIPE) for _ in range(4)]
    errors = [p.communicate(timeout=120)[1].decode() for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], "\n".join(errors)
    engine = make_engine(pg_url)
    try:
        assert "outbox" in inspect(engine).get_table_names()
    finally:
        engine.dispose()
