"""DueRowWorker / outbox_relay on SQLite with fake publish functions."""

import asyncio
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from uuid import uuid4

import pytest
from sqlalchemy import Engine, update
from sqlmodel import Session, SQLModel, select

from services.notifications.models import NotificationsModel, OutgoingEmail
from shared.db import make_engine, session_scope
from shared.events import UnitCreatedV1, UnitPayload
from shared.events.base import utcnow
from shared.messaging import relay as relay_module
from shared.messaging.outbox import OutboxMessage, add_event, backoff
from shared.messaging.relay import (
    DueRowWorker,
    PermanentFailure,
    claim_batch,
    outbox_relay,
    pending_count,
    prune_sent,
)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path}/relay.db")
    SQLModel.metadata.create_all(engine, tables=[OutboxMessage.__table__])  # type: ignore[attr-defined]
    NotificationsModel.metadata.create_all(engine, tables=[OutgoingEmail.__table__])  # type: ignore[attr-defined]
    yield engine
    engine.dispose()


def add_events(engine: Engine, n: int = 1) -> list[str]:
    """Commit `n` unit.created events to the outbox; return their event ids."""
    ids = []
    with session_scope(engine) as session:
        for i in range(n):
            event = UnitCreatedV1(correlation_id=f"req-{i}",
                                  payload=UnitPayload(id=i + 1, code=f"U{i}", name=f"Đơn vị {i}", kind="party_cell"))
            add_event(session, event)
            ids.append(str(event.event_id))
    return ids


def rows(engine: Engine, model: type[SQLModel] = OutboxMessage) -> list:  # type: ignore[type-arg]
    with Session(engine) as session:
        return list(session.exec(select(model).order_by(model.id)).all())  # type: ignore[attr-defined]


def naive(moment: datetime) -> datetime:
    """SQLite hands back naive UTC datetimes."""
    return moment.replace(tzinfo=None)


class Recorder:
    """A publish function that records rows and can be told to fail."""

    def __init__(self, fail: Callable[[OutboxMessage], Exception | None] = lambda row: None) -> None:
        self.published: list[OutboxMessage] = []
        self.fail = fail
        self.event = asyncio.Event()

    async def __call__(self, row: OutboxMessage) -> None:
        error = self.fail(row)
        if error is not None:
            raise error
        self.published.append(row)
        self.event.set()


def shift_clock(monkeypatch: pytest.MonkeyPatch, delta: timedelta) -> None:
    """Make the relay believe `delta` has passed."""
    monkeypatch.setattr(relay_module, "utcnow", lambda: utcnow() + delta)


async def test_publishes_due_rows_in_order_and_marks_them_sent(engine: Engine) -> None:
    ids = add_events(engine, 3)
    publish = Recorder()
    worker = outbox_relay(engine, publish)
    before = utcnow()
    assert await worker.run_once() == 3
    assert [str(r.event_id) for r in publish.published] == ids
    stored = rows(engine)
    assert all(r.sent_at is not None and r.sent_at >= naive(before) for r in stored)
    assert all(r.attempts == 0 and r.last_error is None for r in stored)
    assert pending_count(engine) == 0
    assert await worker.run_once() == 0  # nothing is sent twice
    assert len(publish.published) == 3


async def test_failure_counts_attempt_stores_error_and_backs_off(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_events(engine, 2)
    first_id = rows(engine)[0].id
    failing = {first_id}
    publish = Recorder(lambda row: ConnectionError("broker gone") if row.id in failing else None)
    worker = outbox_relay(engine, publish)

    before = utcnow()
    assert await worker.run_once() == 1  # the other row is not held up by the failing one
    bad, good = rows(engine)
    assert good.sent_at is not None
    assert bad.sent_at is None and bad.attempts == 1
    assert "ConnectionError" in bad.last_error and "broker gone" in bad.last_error
    assert bad.available_at >= naive(before + backoff(1)) - timedelta(milliseconds=50)
    assert backoff(1) == timedelta(seconds=1)

    # not due yet: not even tried
    assert await worker.run_once() == 0
    assert [r.id for r in publish.published] == [good.id]

    # still failing once due: the delay doubles
    shift_clock(monkeypatch, timedelta(seconds=1.5))
    assert await worker.run_once() == 0
    bad = rows(engine)[0]
    assert bad.attempts == 2 and bad.available_at >= naive(before + timedelta(seconds=2))

    # due again and the broker is back: sent
    failing.clear()
    shift_clock(monkeypatch, timedelta(seconds=5))
    assert await worker.run_once() == 1
    bad = rows(engine)[0]
    assert bad.sent_at is not None and bad.attempts == 2
    assert [r.id for r in publish.published] == [good.id, bad.id]


def test_backoff_grows_and_is_capped() -> None:
    assert [backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [1, 2, 4, 8]
    assert backoff(50).total_seconds() == 30
    assert backoff(50, cap=300).total_seconds() == 300


async def test_retry_cap_limits_the_delay(engine: Engine) -> None:
    add_events(engine)
    with session_scope(engine) as s:
        s.exec(select(OutboxMessage)).one().attempts = 20
    worker = outbox_relay(engine, Recorder(lambda row: RuntimeError("x")), retry_cap=3.0)
    before = utcnow()
    await worker.run_once()
    (row,) = rows(engine)
    assert row.attempts == 21
    assert naive(before) + timedelta(seconds=2.9) <= row.available_at <= naive(utcnow()) + timedelta(seconds=3)


async def test_claimed_rows_are_leased(engine: Engine) -> None:
    add_events(engine, 2)
    claimed = claim_batch(engine, OutboxMessage, limit=10, lease=timedelta(seconds=60))
    assert len(claimed) == 2
    # a second worker (or this one after a crash) does not get them while the lease runs
    assert claim_batch(engine, OutboxMessage, limit=10, lease=timedelta(seconds=60)) == []
    assert all(r.available_at > naive(utcnow()) + timedelta(seconds=55) for r in rows(engine))


def add_email(engine: Engine, recipient: str) -> int:
    with session_scope(engine) as s:
        row = OutgoingEmail(event_id=uuid4(), event_type="assignment.status_changed.v1", recipient=recipient,
                            subject="s", body="b", message_id=f"<{uuid4()}@plantrack>")
        s.add(row)
        s.flush()
        return row.id  # type: ignore[return-value]


async def test_permanent_failure_parks_the_row(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    bad_id = add_email(engine, "nobody@example.vn")
    good_id = add_email(engine, "lan@example.vn")
    sent: list[int] = []

    async def send(row: OutgoingEmail) -> None:
        if row.recipient.startswith("nobody"):
            raise PermanentFailure("550 no such user")
        sent.append(row.id)  # type: ignore[arg-type]

    # configured as the notifications service configures its mail worker
    worker = DueRowWorker(engine, OutgoingEmail, send, name="mail sender",
                          where=(OutgoingEmail.failed_at.is_(None),), park_column="failed_at")  # type: ignore[union-attr]
    assert await worker.run_once() == 1
    by_id = {r.id: r for r in rows(engine, OutgoingEmail)}
    parked = by_id[bad_id]
    assert parked.failed_at is not None and parked.sent_at is None
    assert parked.attempts == 1 and "550 no such user" in parked.last_error
    assert by_id[good_id].sent_at is not None and by_id[good_id].failed_at is None
    # never retried, however much time passes
    shift_clock(monkeypatch, timedelta(days=30))
    assert await worker.run_once() == 0
    assert sent == [good_id]


async def test_permanent_failure_without_park_column_is_retried(engine: Engine) -> None:
    add_events(engine)
    worker = outbox_relay(engine, Recorder(lambda row: PermanentFailure("refused")))
    await worker.run_once()
    (row,) = rows(engine)
    assert row.attempts == 1 and row.sent_at is None and "refused" in row.last_error


async def run_worker(worker: DueRowWorker) -> tuple[asyncio.Event, asyncio.Task]:  # type: ignore[type-arg]
    """Start the worker and return once it has drained a warm-up row and gone to sleep."""
    add_events(worker.engine)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    deadline = time.monotonic() + 5
    while pending_count(worker.engine) > 0:
        assert time.monotonic() < deadline, "the worker never handled its warm-up row"
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.2)  # from mark_sent to the wait
    return stop, task


async def test_notify_wakes_a_sleeping_worker(engine: Engine) -> None:
    publish = Recorder()
    worker = outbox_relay(engine, publish, poll_interval=5.0)
    stop, task = await run_worker(worker)
    try:
        publish.event.clear()
        (event_id,) = add_events(engine)
        # without notify the row waits for the next poll
        await asyncio.sleep(0.3)
        assert event_id not in {str(r.event_id) for r in publish.published}
        start = time.monotonic()
        await asyncio.to_thread(worker.notify)  # as the API does, from a worker thread after commit
        await asyncio.wait_for(publish.event.wait(), timeout=4.0)
        elapsed = time.monotonic() - start
        assert elapsed < 1.0, f"took {elapsed:.2f}s, poll interval is 5s"
        assert str(publish.published[-1].event_id) == event_id
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=2.0)


async def test_poll_picks_up_rows_without_notify(engine: Engine) -> None:
    publish = Recorder()
    worker = outbox_relay(engine, publish, poll_interval=0.1)
    stop, task = await run_worker(worker)
    try:
        publish.event.clear()
        add_events(engine)
        await asyncio.wait_for(publish.event.wait(), timeout=2.0)
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=2.0)


async def test_full_batches_are_drained_without_waiting(engine: Engine) -> None:
    add_events(engine, 7)
    publish = Recorder()
    worker = outbox_relay(engine, publish, batch_size=2, poll_interval=5.0)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        start = time.monotonic()
        while pending_count(engine) > 0:  # marked sent, not only published
            assert time.monotonic() - start < 3.0, f"only {len(publish.published)} of 7 sent (poll is 5 s)"
            await asyncio.sleep(0.01)
        assert len(publish.published) == 7
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=2.0)


async def test_stop_ends_a_sleeping_worker_promptly(engine: Engine) -> None:
    worker = outbox_relay(engine, Recorder(), poll_interval=30.0)
    stop, task = await run_worker(worker)
    start = time.monotonic()
    stop.set()
    await asyncio.wait_for(task, timeout=5.0)
    assert time.monotonic() - start < 1.0  # not the 30 s poll


async def test_worker_survives_a_failing_iteration(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = {"n": 0}
    real = relay_module.claim_batch

    def flaky(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("database is locked")
        return real(*args, **kwargs)

    monkeypatch.setattr(relay_module, "claim_batch", flaky)
    add_events(engine)
    publish = Recorder()
    worker = outbox_relay(engine, publish, poll_interval=0.05)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        await asyncio.wait_for(publish.event.wait(), timeout=2.0)
        assert calls["n"] >= 2
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=2.0)


async def test_notify_during_a_batch_is_not_lost(engine: Engine) -> None:
    add_events(engine)
    handled: list[OutboxMessage] = []
    second = asyncio.Event()
    worker: DueRowWorker[OutboxMessage]

    async def publish(row: OutboxMessage) -> None:
        handled.append(row)
        if len(handled) == 1:
            # another request commits a row and notifies while this batch is in flight
            await asyncio.to_thread(add_events, engine)
            worker.notify()
        else:
            second.set()

    worker = outbox_relay(engine, publish, poll_interval=3.0)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        await asyncio.wait_for(second.wait(), timeout=1.0)
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=5.0)


async def test_rows_in_flight_are_published_together_and_marked_sent_in_one_statement(
    engine: Engine, monkeypatch: pytest.MonkeyPatch,
) -> None:
    ids = add_events(engine, 7)
    first_id = rows(engine)[0].id
    in_flight, most = 0, 0

    async def publish(row: OutboxMessage) -> None:
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        await asyncio.sleep(0.01)  # a confirm on its way
        in_flight -= 1
        if row.id == first_id:
            raise ConnectionError("nacked")

    statements: list[int] = []
    real = relay_module.mark_sent_many

    def counted(engine: Engine, model: type[SQLModel], row_ids: list[int], *args, **kwargs) -> int:  # type: ignore[no-untyped-def]
        statements.append(len(row_ids))
        return real(engine, model, row_ids, *args, **kwargs)

    monkeypatch.setattr(relay_module, "mark_sent_many", counted)
    worker = outbox_relay(engine, publish, in_flight=4)
    assert await worker.run_once() == 6
    assert most == 4  # four confirms awaited at once, never more
    assert statements == [3, 3]  # a statement per chunk, for its successes only
    failed, *sent = rows(engine)
    assert failed.sent_at is None and failed.attempts == 1 and "nacked" in failed.last_error
    assert all(r.sent_at is not None for r in sent) and len(ids) == 7


async def test_handled_rows_past_their_retention_are_pruned_and_the_rest_kept(engine: Engine) -> None:
    add_events(engine, 4)
    old, recent, due, _ = rows(engine)
    with session_scope(engine) as session:
        session.execute(update(OutboxMessage).where(OutboxMessage.id == old.id)  # type: ignore[arg-type]
                        .values(sent_at=utcnow() - timedelta(days=9)))
        session.execute(update(OutboxMessage).where(OutboxMessage.id == recent.id)  # type: ignore[arg-type]
                        .values(sent_at=utcnow() - timedelta(days=2)))
    assert prune_sent(engine, OutboxMessage, utcnow() - timedelta(days=7), chunk=1) == 1
    assert [r.id for r in rows(engine)] == [recent.id, due.id, due.id + 1]

    worker = outbox_relay(engine, Recorder(), retention=timedelta(days=1), prune_every=0)
    assert await worker.run_once() == 2  # the two unsent rows
    await worker._prune()
    assert [r.id for r in rows(engine)] == [due.id, due.id + 1]  # sent just now: within the retention
