"""Workers over "due rows" tables: the outbox relay (and, in notifications, the mail sender).

A due-rows table has `id`, `available_at`, `sent_at`, `attempts` and `last_error`. A worker
claims due rows with a lease, handles each, then marks it sent or pushes it back with backoff.
The lease is the `available_at` the claim set: a worker writes a row only while it still holds
that value, so a worker whose lease ran out (and whose row another worker claimed) changes nothing.
"""

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any, Generic, TypeVar, cast

from sqlalchemy import ColumnElement, Engine, delete, func, select, update
from sqlmodel import Session, SQLModel

from shared.db import is_postgres, session_scope
from shared.events.base import utcnow
from shared.messaging.outage import OutageLog
from shared.messaging.outbox import OutboxMessage, backoff
from shared.messaging.wakeup import OUTBOX_CHANNEL, listen

log = logging.getLogger("plantrack.relay")

Row = TypeVar("Row", bound=SQLModel)
Publish = Callable[[OutboxMessage], Awaitable[None]]


class PermanentFailure(Exception):
    """Retrying cannot help (e.g. the SMTP server refused the address): park the row."""


def claim_batch(
    engine: Engine, model: type[Row], *, limit: int, lease: timedelta,
    where: tuple[ColumnElement[bool], ...] = (),
) -> list[Row]:
    """Lease up to `limit` due rows of `model` to this worker; return detached copies (the row's
    columns as attributes, in id order), not ORM objects: building those cost more than the claim.

    On PostgreSQL one statement selects with FOR UPDATE SKIP LOCKED and moves the lease, so
    concurrent workers never claim the same row; on SQLite the single-writer lock gives the same
    guarantee. The lease (moving `available_at` forward) means a worker that dies mid-way only
    delays its rows. Each returned row's `available_at` is the lease end: the token
    `mark_sent_many`, `mark_failed` and `release` check.
    """
    m: Any = model
    table = m.__table__
    now = utcnow()
    lease_end = now + lease
    due = select(table.c.id).where(m.sent_at.is_(None), m.available_at <= now, *where).order_by(m.id).limit(limit)
    with session_scope(engine) as session:
        if is_postgres(engine):
            picked = due.with_for_update(skip_locked=True).cte("due")
            found = session.execute(
                update(table).where(table.c.id == picked.c.id).values(available_at=lease_end).returning(*table.c)
            ).mappings().all()
        else:
            ids = list(session.scalars(due))
            found = session.execute(
                update(table).where(table.c.id.in_(ids)).values(available_at=lease_end).returning(*table.c)
            ).mappings().all() if ids else []
    rows = sorted((SimpleNamespace(**row) for row in found), key=lambda row: row.id)
    return cast(list[Row], rows)


def _held(m: Any, lease: datetime | None) -> tuple[ColumnElement[bool], ...]:
    """The condition "the row is still ours": unsent, and still carrying our lease end."""
    return () if lease is None else (m.sent_at.is_(None), m.available_at == lease)


def mark_sent_many(engine: Engine, model: type[SQLModel], row_ids: list[int], sent_at: datetime, *,
                   lease: datetime | None = None) -> int:
    """Record that rows were handled, in one statement; with `lease`, only those still ours.
    Return how many were updated."""
    if not row_ids:
        return 0
    m: Any = model
    with session_scope(engine) as session:
        result: Any = session.execute(
            update(model).where(m.id.in_(row_ids), *_held(m, lease)).values(sent_at=sent_at)
            .execution_options(synchronize_session=False)
        )
        return int(result.rowcount or 0)


def mark_failed(
    engine: Engine, model: type[SQLModel], row: Any, error: str, *, cap: float = 30.0,
    lease: datetime | None = None, **values: Any,
) -> bool:
    """Count a failed attempt and push the row's next attempt back (or park it via `values`);
    with `lease`, only while the row is still ours. Return whether the row was updated."""
    m: Any = model
    attempts = row.attempts + 1
    with session_scope(engine) as session:
        result: Any = session.execute(
            update(model)
            .where(m.id == row.id, *_held(m, lease))
            .values(attempts=attempts, last_error=error[:2000],
                    available_at=utcnow() + backoff(attempts, cap=cap), **values)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)


def release(engine: Engine, model: type[SQLModel], row_ids: list[int], lease: datetime) -> int:
    """Make claimed rows due again at once (those still ours); return how many were released."""
    if not row_ids:
        return 0
    m: Any = model
    with session_scope(engine) as session:
        result: Any = session.execute(
            update(model).where(m.id.in_(row_ids), *_held(m, lease)).values(available_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        return int(result.rowcount or 0)


def prune_sent(engine: Engine, model: type[SQLModel], before: datetime, *, chunk: int = 5000) -> int:
    """Delete the rows handled before `before`, `chunk` at a time (short transactions); return how many."""
    m: Any = model
    removed = 0
    while True:
        with session_scope(engine) as session:
            old = select(m.id).where(m.sent_at.is_not(None), m.sent_at < before).limit(chunk)
            result: Any = session.execute(delete(model).where(m.id.in_(old.scalar_subquery())))
            count = int(result.rowcount or 0)
        removed += count
        if count < chunk:
            return removed


def pending_count(engine: Engine, model: type[SQLModel] = OutboxMessage) -> int:
    """Rows not yet handled."""
    m: Any = model
    with Session(engine) as session:
        query = select(func.count()).select_from(model).where(m.sent_at.is_(None))
        return int(session.scalar(query) or 0)


class DueRowWorker(Generic[Row]):
    """Handles due rows of one table until stopped; safe to run in several processes at once."""

    def __init__(
        self,
        engine: Engine,
        model: type[Row],
        handle: Callable[[Row], Awaitable[None]],
        *,
        name: str,
        batch_size: int = 100,
        poll_interval: float = 0.5,
        lease: timedelta = timedelta(seconds=60),
        retry_cap: float = 30.0,
        where: tuple[ColumnElement[bool], ...] = (),
        park_column: str | None = None,
        in_flight: int = 1,
        retention: timedelta | None = None,
        prune_every: float = 600.0,
        wake_channel: str | None = None,
    ) -> None:
        self.engine = engine
        self.model = model
        self.handle = handle
        self.name = name
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.lease = lease
        self.retry_cap = retry_cap
        self.where = where
        self.park_column = park_column
        self.in_flight = max(1, in_flight)  # rows handled at once (publishes awaiting their confirms)
        self.retention = retention  # handled rows older than this are deleted (None: kept)
        self.prune_every = prune_every
        self.wake_channel = wake_channel if is_postgres(engine) else None  # NOTIFY channel that wakes us
        self._pruned_at = 0.0
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}"
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._attempts = OutageLog(log, name)  # rows failing to be handled (e.g. broker down)
        self._iterations = OutageLog(log, f"{name} iteration")  # batches failing (e.g. database down)

    def notify(self) -> None:
        """Wake the worker now (thread-safe): a transaction just committed new rows."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    async def run_once(self) -> int:
        """Handle one batch; return how many rows succeeded. Rows the batch does not get to (its
        lease running out, an error, a cancellation) are released at once for the next claim."""
        rows = await asyncio.to_thread(
            claim_batch, self.engine, self.model, limit=self.batch_size, lease=self.lease,
            where=self.where,
        )
        done = 0
        deadline = time.monotonic() + self.lease.total_seconds() * 0.8
        pending = list(rows)
        try:
            while pending:
                if time.monotonic() > deadline:
                    # our lease on the rest is running out: leave them for the next claim rather
                    # than risk another worker claiming and publishing them too
                    log.warning(f"{self.name}: batch outlived its lease; releasing the rest",
                                extra={"rows": len(pending)})
                    break
                chunk = pending[:self.in_flight]
                done += await self._handle_chunk(chunk)
                del pending[:len(chunk)]
        finally:
            if pending:
                await self._release(pending)
        return done

    async def _handle_chunk(self, rows: list[Row]) -> int:
        """Handle claimed rows at once (a publish each, their confirms awaited together), then record
        the outcomes while the lease is ours: the successes in one statement. Return how many succeeded."""
        outcomes = await asyncio.gather(*(self._attempt(row) for row in rows))
        sent = [r for r, failure in zip(rows, outcomes, strict=True) if failure is None]
        for row, failure in zip(rows, outcomes, strict=True):
            if failure is not None:
                await self._record_failure(row, failure)
        if not sent:
            return 0
        lease = sent[0].available_at  # type: ignore[attr-defined]
        ids = [r.id for r in sent]  # type: ignore[attr-defined]
        marked = await asyncio.to_thread(mark_sent_many, self.engine, self.model, ids, utcnow(), lease=lease)
        if marked < len(ids):
            log.warning(f"{self.name}: lease lost before the outcome was recorded; rows left to their new holder",
                        extra={"rows": len(ids) - marked, "worker": self.worker_id})
        return marked

    async def _attempt(self, row: Row) -> Exception | None:
        """Handle one row; the failure, or None."""
        try:
            await self.handle(row)
        except Exception as exc:  # noqa: BLE001 - recorded by the caller: parked or retried later
            return exc
        self._attempts.succeeded()
        return None

    async def _record_failure(self, row: Row, exc: Exception) -> None:
        """Park a row that can never succeed, or count the attempt and push the next one back."""
        r: Any = row
        row_id, lease = r.id, r.available_at
        if isinstance(exc, PermanentFailure):
            log.error(f"{self.name}: permanent failure; row parked", extra={"row_id": row_id, "error": str(exc)})
            park = {self.park_column: utcnow()} if self.park_column else {}
            recorded = await asyncio.to_thread(mark_failed, self.engine, self.model, row, str(exc),
                                               cap=self.retry_cap, lease=lease, **park)
        else:
            self._attempts.failed("attempt failed; will retry",
                                  row_id=row_id, attempts=r.attempts + 1, error=repr(exc))
            recorded = await asyncio.to_thread(mark_failed, self.engine, self.model, row, repr(exc),
                                               cap=self.retry_cap, lease=lease)
        if not recorded:
            self._lost_lease(row_id)

    def _lost_lease(self, row_id: int) -> None:
        log.warning(f"{self.name}: lease lost before the outcome was recorded; row left to its new holder",
                    extra={"row_id": row_id, "worker": self.worker_id})

    async def _release(self, rows: list[Row]) -> None:
        lease = rows[0].available_at  # type: ignore[attr-defined]
        ids = [r.id for r in rows]  # type: ignore[attr-defined]
        try:
            # shielded: a cancelled worker still hands its rows back
            await asyncio.shield(asyncio.to_thread(release, self.engine, self.model, ids, lease))
        except Exception as exc:  # noqa: BLE001 - the lease runs out on its own
            log.debug(f"{self.name}: could not release {len(ids)} rows; they wait for their lease",
                      extra={"error": repr(exc)})

    async def _prune(self) -> None:
        """Delete handled rows past the retention, every `prune_every` seconds, when idle."""
        if self.retention is None or time.monotonic() - self._pruned_at < self.prune_every:
            return
        self._pruned_at = time.monotonic()
        try:
            removed = await asyncio.to_thread(prune_sent, self.engine, self.model, utcnow() - self.retention)
        except Exception as exc:  # noqa: BLE001 - the next prune tries again
            log.warning(f"{self.name}: pruning handled rows failed", extra={"error": repr(exc)})
            return
        if removed:
            log.info(f"{self.name}: handled rows past their retention deleted", extra={"rows": removed})

    async def run(self, stop: asyncio.Event) -> None:
        """Loop until `stop` is set: drain due rows, then sleep until notified or polled."""
        self._loop = asyncio.get_running_loop()
        log.info(f"{self.name} started", extra={"worker": self.worker_id})
        listener = (asyncio.create_task(listen(self.engine, self.wake_channel, self._wake.set))
                    if self.wake_channel else None)
        try:
            await self._loop_until(stop)
        finally:
            if listener is not None:
                listener.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await listener
        log.info(f"{self.name} stopped", extra={"worker": self.worker_id})

    async def _loop_until(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self._wake.clear()  # before the batch: a notify() during it must not be lost
            try:
                handled = await self.run_once()
            except Exception as exc:  # noqa: BLE001 - a database blip must not kill the worker
                self._iterations.failed("failed", exc_info=True, error=repr(exc))
            else:
                self._iterations.succeeded()
                if handled == self.batch_size:
                    continue
                await self._prune()
            waiters = [asyncio.create_task(self._wake.wait()), asyncio.create_task(stop.wait())]
            await asyncio.wait(waiters, timeout=self.poll_interval, return_when=asyncio.FIRST_COMPLETED)
            for w in waiters:
                w.cancel()


def outbox_relay(engine: Engine, publish: Publish, **kwargs: Any) -> DueRowWorker[OutboxMessage]:
    """The outbox relay: publishes outbox rows in id order and marks them sent."""
    return DueRowWorker(engine, OutboxMessage, publish, name="outbox relay", wake_channel=OUTBOX_CHANNEL, **kwargs)
