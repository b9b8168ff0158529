"""Connecting to RabbitMQ without ever hanging: bounded attempts, backoff, refusals stop the service."""

import asyncio
import logging
import os
import signal
from collections.abc import Awaitable, Callable
from typing import Any

from aiormq.exceptions import ChannelAccessRefused, ChannelPreconditionFailed
from faststream.rabbit import RabbitBroker

from shared.messaging.outage import OutageLog

log = logging.getLogger("plantrack.messaging")

# RabbitMQ refused a declaration or a subscription: the topology or the permissions are wrong,
# and retrying cannot help (e.g. a queue declared with other arguments, x-delivery-limit changed)
REFUSALS = (ChannelPreconditionFailed, ChannelAccessRefused)


class BrokerRefused(RuntimeError):
    """RabbitMQ refused what this service must declare or consume; an operator has to fix it."""


def refusal(exc: BaseException) -> BaseException | None:
    """The refusal behind `exc` (itself, a cause, or one of a group), if any."""
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, REFUSALS):
            return current
        if isinstance(current, BaseExceptionGroup):
            todo.extend(current.exceptions)
        todo.extend(e for e in (current.__cause__, current.__context__) if e is not None)
    return None


async def _reset(broker: RabbitBroker, within: float) -> None:
    """Drop a half-made connection so that the next attempt starts from scratch."""
    try:
        async with asyncio.timeout(within):
            await broker.stop()
    except Exception:  # noqa: BLE001 - the connection is being thrown away anyway
        log.debug("closing a failed RabbitMQ connection failed", exc_info=True)


async def start_until_stopped(
    broker: RabbitBroker,
    setup: Callable[[], Awaitable[Any]],
    stop: asyncio.Event,
    *,
    attempt_timeout: float,
    first_delay: float = 0.5,
    max_delay: float = 10.0,
    what: str = "RabbitMQ",
    attempted: asyncio.Event | None = None,
) -> bool:
    """Connect `broker`, then run `setup` (declare, consume), retrying with backoff until both
    work (True) or `stop` is set (False). The connection attempt is bounded by the broker's own
    connect timeout and `setup` by `attempt_timeout`; a refusal raises BrokerRefused at once.
    `attempted` is set when the first attempt has ended, whichever way."""
    delay = first_delay
    outage = OutageLog(log, what)
    while not stop.is_set():
        try:
            # never cancelled from outside: aio-pika would keep retrying an abandoned connection
            await broker.connect()
            if stop.is_set():
                return False
            async with asyncio.timeout(attempt_timeout):
                await setup()
            outage.succeeded()
            return True
        except Exception as exc:  # noqa: BLE001 - an unreachable broker is a normal, retried state
            await _reset(broker, attempt_timeout)
            refused = refusal(exc)
            if refused is not None:
                detail = str(exc) if exc is not refused else f"RabbitMQ refused it: {refused}"
                raise BrokerRefused(f"{what}: {detail}") from exc
            outage.failed("RabbitMQ not reachable; retrying", error=repr(exc), retry_in=delay)
        finally:
            if attempted is not None:
                attempted.set()
        try:
            await asyncio.wait_for(stop.wait(), timeout=delay)
        except TimeoutError:
            pass
        delay = min(max_delay, delay * 2)
    return False


class ConsumerStarter:
    """Starts a consumer service's broker (dead-letter queues, then subscribers) in the background,
    so the service starts and answers /health while RabbitMQ is down or does not answer.

    Pass `hook` to FastStreamAPI as its connection_hook (with safe_connection=True) and call `stop`
    before the broker stops. Start-up waits for the first attempt, which is bounded, so a healthy
    broker has every consumer attached before the service takes traffic; a refusal then fails the
    start-up, and a refusal met later, in the background, stops the process (SIGTERM to itself).
    """

    def __init__(
        self, setup: Callable[[], Awaitable[Any]], *, attempt_timeout: float, max_delay: float = 10.0,
    ) -> None:
        self.setup = setup
        self.attempt_timeout = attempt_timeout
        self.max_delay = max_delay
        self.failure: BrokerRefused | None = None
        self._stop = asyncio.Event()
        self._attempted = asyncio.Event()
        self._task: asyncio.Task[bool] | None = None
        self._serving = False

    async def hook(self, broker: RabbitBroker) -> None:
        """FastStreamAPI's connection hook: wait for the first attempt, go on in the background."""
        self._stop = asyncio.Event()  # bound to the running loop
        self._attempted = asyncio.Event()
        self._task = asyncio.create_task(self._run(broker), name="plantrack broker start")
        attempted = asyncio.create_task(self._attempted.wait())
        # the first attempt is bounded: its connection by the connect timeout, the rest by attempt_timeout
        await asyncio.wait({self._task, attempted}, return_when=asyncio.FIRST_COMPLETED)
        attempted.cancel()
        if self.failure is not None:
            raise self.failure
        self._serving = True

    async def _run(self, broker: RabbitBroker) -> bool:
        async def start() -> None:
            await self.setup()
            await broker.start()

        try:
            return await start_until_stopped(
                broker, start, self._stop, attempt_timeout=self.attempt_timeout, max_delay=self.max_delay,
                what="consumers", attempted=self._attempted,
            )
        except BrokerRefused as exc:
            self.failure = exc
            log.critical(
                f"{exc}. The service cannot consume; stopping. Fix the queue (delete it, or declare it "
                "with the arguments this version expects) or the broker user's permissions, then start it again.",
                extra={"error": repr(exc.__cause__)},
            )
            if self._serving:
                os.kill(os.getpid(), signal.SIGTERM)
            return False

    async def stop(self) -> None:
        """Stop retrying: let a running attempt end (it is bounded), then give up."""
        self._stop.set()
        if self._task is None:
            return
        done, _ = await asyncio.wait({self._task}, timeout=self.attempt_timeout + 1)
        if not done:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
