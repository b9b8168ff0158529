"""Workers over "due rows" tables: the outbox relay (and, in notifications, the mail sender).

A due-rows table has `id`, `available_at`, `sent_at`, `attempts` and `last_error`. A worker
claims due rows with a lease, handles each, then marks it sent or pushes it back with backoff.
"""

import asyncio
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Engine, func, select, update
from sqlmodel import Session, SQLModel

from shared.db import is_postgres, session_scope
from shared.events.base import utcnow
from shared.messaging.outbox import OutboxMessage, backoff

log = logging.getLogger("plantrack.relay")

Row = TypeVar("Row", bound=SQLModel)
Publish = Callable[[OutboxMessage], Awaitable[None]]


class PermanentFailure(Exception):
    """Retrying cannot help (e.g. the SMTP server refused the address): park the row."""


def claim_batch(
    engine: Engine, model: type[Row], *, limit: int, lease: timedelta,
    where: tuple[ColumnElement[bool], ...] = (),
) -> list[Row]:
    """Lease up to `limit` due rows of `model` to this worker.

    On PostgreSQL the select uses FOR UPDATE SKIP LOCKED, so concurrent workers never claim the
    same row; on SQLite the single-writer lock gives the same guarantee. The lease (moving
    `available_at` forward) means a worker that dies mid-way only delays its rows.
    """
    m: Any = model
    now = utcnow()
    with session_scope(engine) as session:
        query = (
            select(model)
            .where(m.sent_at.is_(None), m.available_at <= now, *where)
            .order_by(m.id)
            .limit(limit)
        )
        if is_postgres(engine):
            query = query.with_for_update(skip_locked=True)
        rows = list(session.scalars(query))
        if rows:
            session.execute(
                update(model).where(m.id.in_([r.id for r in rows])).values(available_at=now + lease)  # type: ignore[attr-defined]
            )
        return rows


def mark_sent(engine: Engine, model: type[SQLModel], row_id: int, sent_at: datetime) -> None:
    """Record that a row was handled."""
    m: Any = model
    with session_scope(engine) as session:
        session.execute(update(model).where(m.id == row_id).values(sent_at=sent_at))


def mark_failed(
    engine: Engine, model: type[SQLModel], row: Any, error: str, *, cap: float = 30.0, **values: Any
) -> None:
    """Count a failed attempt and push the row's next attempt back (or park it via `values`)."""
    m: Any = model
    attempts = row.attempts + 1
    with session_scope(engine) as session:
        session.execute(
            update(model)
            .where(m.id == row.id)
            .values(attempts=attempts, last_error=error[:2000],
                    available_at=utcnow() + backoff(attempts, cap=cap), **values)
        )


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
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}"
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None

    def notify(self) -> None:
        """Wake the worker now (thread-safe): a transaction just committed new rows."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    async def run_once(self) -> int:
        """Handle one batch; return how many rows succeeded."""
        rows = await asyncio.to_thread(
            claim_batch, self.engine, self.model, limit=self.batch_size, lease=self.lease,
            where=self.where,
        )
        done = 0
        deadline = time.monotonic() + self.lease.total_seconds() * 0.8
        for row in rows:
            if time.monotonic() > deadline:
                # our lease on the rest is running out: leave them for the next claim rather than
                # risk another worker claiming and publishing them too
                log.warning(f"{self.name}: batch outlived its lease; releasing the rest")
                break
            row_id = row.id  # type: ignore[attr-defined]
            try:
                await self.handle(row)
            except PermanentFailure as exc:
                log.error(f"{self.name}: permanent failure; row parked",
                          extra={"row_id": row_id, "error": str(exc)})
                park = {self.park_column: utcnow()} if self.park_column else {}
                await asyncio.to_thread(mark_failed, self.engine, self.model, row, str(exc),
                                        cap=self.retry_cap, **park)
                continue
            except Exception as exc:  # noqa: BLE001 - any other failure means "retry later"
                log.warning(f"{self.name}: attempt failed; will retry",
                            extra={"row_id": row_id, "attempts": row.attempts + 1, "error": repr(exc)})  # type: ignore[attr-defined]
                await asyncio.to_thread(mark_failed, self.engine, self.model, row, repr(exc),
                                        cap=self.retry_cap)
                continue
            await asyncio.to_thread(mark_sent, self.engine, self.model, row_id, utcnow())
            done += 1
        return done

    async def run(self, stop: asyncio.Event) -> None:
        """Loop until `stop` is set: drain due rows, then sleep until notified or polled."""
        self._loop = asyncio.get_running_loop()
        log.info(f"{self.name} started", extra={"worker": self.worker_id})
        while not stop.is_set():
            self._wake.clear()  # before the batch: a notify() during it must not be lost
            try:
                if await self.run_once() == self.batch_size:
                    continue
            except Exception:  # noqa: BLE001 - a database blip must not kill the worker
                log.exception(f"{self.name} iteration failed")
            waiters = [asyncio.create_task(self._wake.wait()), asyncio.create_task(stop.wait())]
            await asyncio.wait(waiters, timeout=self.poll_interval, return_when=asyncio.FIRST_COMPLETED)
            for w in waiters:
                w.cancel()
        log.info(f"{self.name} stopped", extra={"worker": self.worker_id})


def outbox_relay(engine: Engine, publish: Publish, **kwargs: Any) -> DueRowWorker[OutboxMessage]:
    """The outbox relay: publishes outbox rows in id order and marks them sent."""
    return DueRowWorker(engine, OutboxMessage, publish, name="outbox relay", **kwargs)
