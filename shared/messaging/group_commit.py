"""Group commit: the events a consumer handles at the same moment share one transaction.

Each event still gets its own inbox row and is acked only after the transaction holding it
commits; a burst of N events costs one commit, one connection and one thread hop instead of N.
A batch that fails is run again one event per transaction, so a poison event fails alone and the
others commit. Only on PostgreSQL: SQLite has one writer, and its handlers read in a second
connection while a transaction is open.
"""

import asyncio
import logging
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import Field
from pydantic_settings import BaseSettings
from sqlalchemy import Engine
from sqlmodel import Session

from shared.db import is_postgres, session_scope
from shared.metrics.registry import CONSUMER_BATCH

T = TypeVar("T")
log = logging.getLogger("plantrack.consumer")

_joined = threading.local()


class GroupCommitSettings(BaseSettings):
    """A consumer service's group commit (mixed into its one settings class, under its prefix)."""

    batch_size: int = Field(
        default=100, ge=1,
        description="Most events handled together in one transaction (group commit, PostgreSQL only); each "
                    "is still acked only after that commit. 1: a transaction per event.",
    )
    batch_runners: int = Field(
        default=2, ge=1,
        description="Group-commit transactions a consumer runs at once; the next batches form while they run.",
    )


def joined_session() -> Session | None:
    """The batch transaction this thread's handler runs in, or None (the handler opens its own)."""
    return getattr(_joined, "session", None)


class GroupCommit:
    """Runs the handler calls that wait together in one transaction (at most `batch_size`)."""

    def __init__(self, engine: Engine, service: str, *, batch_size: int = 100, runners: int = 2) -> None:
        self.engine = engine
        self.service = service
        self.batch_size = batch_size
        self.runners = runners
        self._waiting: list[tuple[Callable[[], Any], asyncio.Future[Any]]] = []
        self._running: set[asyncio.Task[None]] = set()

    async def run(self, call: Callable[[], T]) -> T:
        """`call()` in a worker thread, committed with whatever else is waiting; its result once committed."""
        if self.batch_size == 1 or not is_postgres(self.engine):
            return await asyncio.to_thread(call)
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._waiting.append((call, future))
        if len(self._running) < self.runners:
            self._running.add(asyncio.create_task(self._drain()))
        return await future

    async def _drain(self) -> None:
        """Commit batches until nobody waits; what arrives during a batch forms the next one."""
        try:
            await self._drain_batches()
        finally:
            # in the same step as the last look at the queue: a done-callback would run a moment
            # later, and a call made in between would find every runner taken and wait forever
            self._running.discard(asyncio.current_task())  # type: ignore[arg-type]

    async def _drain_batches(self) -> None:
        while self._waiting:
            batch = [(c, f) for c, f in self._waiting[:self.batch_size] if not f.done()]
            del self._waiting[:self.batch_size]
            if not batch:
                continue
            CONSUMER_BATCH.labels(self.service).observe(len(batch))
            try:
                await self._commit(batch)
            finally:  # cancelled (shutdown) or worse: no handler may wait forever
                for _, future in batch:
                    if not future.done():
                        future.cancel()

    async def _commit(self, batch: list[tuple[Callable[[], Any], asyncio.Future[Any]]]) -> None:
        """Settle each future of `batch`: all in one transaction, else (one call, or the batch failed) one by one."""
        if len(batch) > 1:
            try:
                results = await asyncio.to_thread(self._together, [call for call, _ in batch])
            except Exception:  # noqa: BLE001 - each is retried alone, and fails (or not) on its own
                log.info("batch of %d events failed; handling each alone", len(batch), exc_info=True)
            else:
                for (_, future), result in zip(batch, results, strict=True):
                    _settle(future, result)
                return
        for call, future in batch:
            try:
                _settle(future, await asyncio.to_thread(call))
            except Exception as exc:  # noqa: BLE001 - the handler's own failure, raised to it
                if not future.done():
                    future.set_exception(exc)

    def _together(self, calls: list[Callable[[], Any]]) -> list[Any]:
        """Run `calls` one after another in one transaction (inbox.handle_once joins it)."""
        with session_scope(self.engine) as session:
            _joined.session = session
            try:
                return [call() for call in calls]
            finally:
                _joined.session = None


def _settle(future: asyncio.Future[Any], result: Any) -> None:
    if not future.done():  # the handler may have been cancelled (shutdown): its message is redelivered
        future.set_result(result)
