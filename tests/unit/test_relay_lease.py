"""The relay writes a row only while it holds the row's lease, hands back what it could not do at
once, and logs an outage as one warning and one recovery line."""

import asyncio
import logging
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, SQLModel, select

from shared.db import make_engine, session_scope
from shared.events import UnitCreatedV1, UnitPayload
from shared.events.base import utcnow
from shared.messaging import relay as relay_module
from shared.messaging.outbox import OutboxMessage, add_event
from shared.messaging.relay import claim_batch, mark_failed, mark_sent_many, outbox_relay


def _engine(url: str) -> Engine:
    engine = make_engine(url)
    SQLModel.metadata.create_all(engine, tables=[OutboxMessage.__table__])  # type: ignore[attr-defined]
    return engine


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = _engine(f"sqlite:///{tmp_path}/relay.db")
    yield engine
    engine.dispose()


def add_events(engine: Engine, n: int = 1) -> None:
    with session_scope(engine) as session:
        for i in range(n):
            add_event(session, UnitCreatedV1(payload=UnitPayload(id=i + 1, code=f"U{i}", name=f"Đơn vị {i}",
                                                                 kind="party_cell")))


def outbox(engine: Engine) -> list[OutboxMessage]:
    with Session(engine) as session:
        return list(session.exec(select(OutboxMessage).order_by(OutboxMessage.id)).all())  # type: ignore[arg-type]


def check_lost_lease_changes_nothing(engine: Engine) -> None:
    add_events(engine)
    # worker A's lease has run out (a lease of zero) and worker B has claimed the row since
    (mine,) = claim_batch(engine, OutboxMessage, limit=10, lease=timedelta(0))
    (theirs,) = claim_batch(engine, OutboxMessage, limit=10, lease=timedelta(seconds=60))
    assert mine.id == theirs.id and mine.available_at != theirs.available_at
    assert not mark_sent_many(engine, OutboxMessage, [mine.id], utcnow(), lease=mine.available_at)  # type: ignore[list-item]
    assert not mark_failed(engine, OutboxMessage, mine, "too late", lease=mine.available_at)
    (row,) = outbox(engine)
    assert row.sent_at is None and row.attempts == 0 and row.last_error is None  # still B's, untouched
    assert mark_sent_many(engine, OutboxMessage, [theirs.id], utcnow(), lease=theirs.available_at)  # type: ignore[list-item]
    assert outbox(engine)[0].sent_at is not None


def test_mark_sent_after_losing_the_lease_does_not_mark_the_row_sqlite(engine: Engine) -> None:
    check_lost_lease_changes_nothing(engine)


@pytest.mark.integration
def test_mark_sent_after_losing_the_lease_does_not_mark_the_row_postgres(pg_url: str) -> None:
    engine = _engine(pg_url)
    try:
        check_lost_lease_changes_nothing(engine)
    finally:
        engine.dispose()


async def test_a_worker_that_lost_its_lease_logs_it_and_leaves_the_row(
    engine: Engine, caplog: pytest.LogCaptureFixture,
) -> None:
    add_events(engine)
    other = outbox_relay(engine, lambda row: asyncio.sleep(0))

    async def slow_publish(row: OutboxMessage) -> None:
        # while this worker publishes, its lease runs out and another relay claims and sends the row
        with session_scope(engine) as session:
            session.exec(select(OutboxMessage)).one().available_at = utcnow() - timedelta(seconds=1)
        assert await other.run_once() == 1

    slow = outbox_relay(engine, slow_publish)
    with caplog.at_level(logging.WARNING, logger="plantrack.relay"):
        assert await slow.run_once() == 0
    (row,) = outbox(engine)
    assert row.sent_at is not None and row.attempts == 0
    assert "lease lost before the outcome was recorded" in caplog.text


async def test_rows_of_a_failed_batch_are_released_at_once(
    engine: Engine, monkeypatch: pytest.MonkeyPatch,
) -> None:
    add_events(engine, 3)
    real = relay_module.mark_sent_many

    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("database went away")

    monkeypatch.setattr(relay_module, "mark_sent_many", broken)
    worker = outbox_relay(engine, lambda row: asyncio.sleep(0))  # a lease of 60 s
    with pytest.raises(RuntimeError):
        await worker.run_once()
    monkeypatch.setattr(relay_module, "mark_sent_many", real)
    # not 60 s later: the next claim gets all three (the first was published, its outcome unknown)
    assert len(claim_batch(engine, OutboxMessage, limit=10, lease=timedelta(seconds=60))) == 3


async def test_a_cancelled_batch_hands_its_rows_back(engine: Engine) -> None:
    add_events(engine, 2)
    started = asyncio.Event()

    async def hang(row: OutboxMessage) -> None:
        started.set()
        await asyncio.Event().wait()

    task = asyncio.create_task(outbox_relay(engine, hang).run_once())
    await asyncio.wait_for(started.wait(), 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert len(claim_batch(engine, OutboxMessage, limit=10, lease=timedelta(seconds=60))) == 2


def _records(caplog: pytest.LogCaptureFixture, level: int) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "plantrack.relay" and r.levelno == level]


async def test_an_outage_is_one_warning_then_debug_then_one_recovery_line(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:
    add_events(engine, 3)
    down = {"now": True}

    async def publish(row: OutboxMessage) -> None:
        if down["now"]:
            raise ConnectionError("broker down")

    worker = outbox_relay(engine, publish)
    shift: Callable[[int], None] = lambda minutes: monkeypatch.setattr(  # noqa: E731
        relay_module, "utcnow", lambda: utcnow() + timedelta(minutes=minutes))
    with caplog.at_level(logging.DEBUG, logger="plantrack.relay"):
        assert await worker.run_once() == 0  # three rows fail
        shift(5)
        assert await worker.run_once() == 0  # and again, after their backoff
        down["now"] = False
        shift(10)
        assert await worker.run_once() == 3
    warnings = _records(caplog, logging.WARNING)
    assert len(warnings) == 1 and "outbox relay: attempt failed; will retry" in warnings[0]
    debug = [m for m in _records(caplog, logging.DEBUG) if "attempt failed" in m]
    assert len(debug) == 5 and "failure 6 in a row" in debug[-1]
    assert _records(caplog, logging.INFO) == ["outbox relay: recovered after 6 failed attempt(s)"]


async def test_failing_iterations_warn_once_per_outage(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:
    calls = {"n": 0}
    real = relay_module.claim_batch
    recovered = asyncio.Event()

    def flaky(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] <= 4:
            raise RuntimeError("database is locked")
        recovered.set()
        return real(*args, **kwargs)

    monkeypatch.setattr(relay_module, "claim_batch", flaky)
    worker = outbox_relay(engine, lambda row: asyncio.sleep(0), poll_interval=0.01)
    stop = asyncio.Event()
    with caplog.at_level(logging.DEBUG, logger="plantrack.relay"):
        task = asyncio.create_task(worker.run(stop))
        await asyncio.wait_for(recovered.wait(), 5)
        await asyncio.sleep(0.05)
        stop.set()
        await asyncio.wait_for(task, 5)
    assert [m for m in _records(caplog, logging.WARNING)] == [
        "outbox relay iteration: failed; further failures are logged at DEBUG until it recovers"]
    assert len([m for m in _records(caplog, logging.DEBUG) if "iteration: failed" in m]) == 3
    assert "outbox relay iteration: recovered after 4 failed attempt(s)" in _records(caplog, logging.INFO)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
