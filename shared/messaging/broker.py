"""RabbitBroker factory with the delivery guarantees plantrack relies on."""

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from aiormq.exceptions import ChannelPreconditionFailed
from fastapi.exceptions import RequestValidationError
from faststream import AckPolicy
from faststream._internal.middlewares import BaseMiddleware
from faststream.rabbit import Channel, RabbitBroker, RabbitQueue
from pydantic import ValidationError
from yarl import URL

from shared.logging import correlation_id_var
from shared.messaging.errors import LegacyQueueError, is_dependency_failure
from shared.messaging.guard import (
    ATTEMPTS_HEADER,
    DELIVERIES_HEADER,
    ERROR_HEADER,
    ORIGINAL_USER_HEADER,
    SOURCE_QUEUE_HEADER,
    ProducerCheck,
    amqp_user,
    error_reason,
    header_int,
    safe_correlation_id,
    sanitised_body,
)
from shared.messaging.topology import (
    DEAD_LETTER_EXCHANGE,
    DLQ_SUFFIX,
    EVENTS_EXCHANGE,
    dead_letter_queue,
    retry_exchange,
    retry_exchange_name,
    service_of,
)
from shared.metrics.registry import EVENT_HANDLE, EVENTS_DEAD_LETTERED, EVENTS_FAILED, count, event_handled

log = logging.getLogger("plantrack.messaging")

# Retrying can never help these: the body does not decode or does not match its contract.
# FastAPI-wrapped subscribers (faststream_fastapi) report a bad body as RequestValidationError.
UNREADABLE = (ValidationError, RequestValidationError, json.JSONDecodeError, UnicodeDecodeError)

# RabbitMQ sets these on delivery or dead-lettering; a republished copy must not carry them
BROKER_HEADERS = ("x-delivery-count", "x-death", "x-first-death-exchange", "x-first-death-queue",
                  "x-first-death-reason", "x-last-death-exchange", "x-last-death-queue",
                  "x-last-death-reason")

DEFAULT_DELIVERY_LIMIT = 10


def retry_delay(attempt: int, *, base: float = 0.2, cap: float = 5.0) -> float:
    """Backoff before the next attempt: 0.2 s doubling up to 5 s."""
    return min(cap, base * (2 ** max(0, attempt)))


def legacy_queue_error(queue: str, exc: BaseException) -> LegacyQueueError:
    """What to tell an operator whose queue still carries the x-arguments of an older plantrack."""
    return LegacyQueueError(
        f"queue {queue!r} was declared by an older plantrack with x-arguments (delivery limit, "
        f"dead-lettering) that are now RabbitMQ policies; RabbitMQ refused to redeclare it ({exc}). "
        "Run `plantrack broker-setup` to see every such queue, then migrate them as README "
        "'Operations' describes (stop the consumer, move or drain the queue, delete it, run broker-setup)."
    )


class HandBack(Exception):
    """The message goes back to its queue (nack with requeue) without counting as an attempt: the
    service stops while a dependency is down, or the copy that counts the attempt cannot be published."""


class PlantrackBroker(RabbitBroker):
    """A RabbitBroker that knows which user it connects as and which user may publish events."""

    amqp_user: str
    producers: ProducerCheck
    single_user: bool
    stopping: asyncio.Event

    async def start(self) -> None:
        """Start consuming; warn when producer and consumer share one broker user."""
        self.stopping.clear()
        if self.subscribers and self.single_user:
            log.warning(
                "RabbitMQ single-user mode: this service accepts events published as its own broker user "
                f"{self.amqp_user!r}, so anyone with these credentials can publish events. Give each service "
                "its own RabbitMQ user (deploy/broker-users.sh) and set PLANTRACK_EVENTS_PRODUCER_USER."
            )
        try:
            await super().start()
        except ChannelPreconditionFailed as exc:
            raise legacy_queue_error(_queue_in(str(exc)), exc) from exc

    async def stop(self, *args: Any, **kwargs: Any) -> None:
        """Stop consuming; handlers waiting for a dependency give their message back first."""
        self.stopping.set()
        await super().stop(*args, **kwargs)

    async def pause(self, seconds: float) -> bool:
        """Sleep up to `seconds`; True (at once) when the service is stopping."""
        try:
            await asyncio.wait_for(self.stopping.wait(), timeout=seconds)
        except TimeoutError:
            return False
        return True


def _queue_in(error: str) -> str:
    """The queue named in a PRECONDITION_FAILED text (`… for queue 'name' in vhost …`)."""
    _, _, rest = error.partition("for queue '")
    return rest.partition("'")[0] or "?"


class ConsumeContextMiddleware(BaseMiddleware):
    """Binds the message's (sanitised) correlation id to the logs; parks messages that must never be
    handled — not published by their producer, or unreadable (bad JSON, wrong schema) — in the
    dead-letter queue at once, with the reason in a header; waits out failed dependencies (database
    down, DependencyNotReady) without counting them; retries other failures through the service's
    retry exchange, counting attempts in a header, and parks the message after the queue's limit."""

    broker: PlantrackBroker  # set by make_broker on its own subclass

    async def consume_scope(self, call_next: Any, msg: Any) -> Any:
        raw = msg.raw_message
        msg.correlation_id = safe_correlation_id(msg.correlation_id)
        msg.reply_to = ""  # events are never requests: a forged reply_to must not make us publish
        token = correlation_id_var.set(msg.correlation_id)
        original_body: bytes = msg.body
        queue = self._queue()
        retried = raw.exchange == retry_exchange_name(service_of(queue.name))
        attempts = header_int(raw.headers, ATTEMPTS_HEADER) if retried else 0
        try:
            event_type = queue.routing() if retried else (raw.routing_key or "")
            refusal = self.broker.producers.refusal(event_type, self._producer(raw, retried))
            if refusal is not None:
                log.error("event not published by its producer; dead-lettered without handling",
                          extra={"message_id": msg.message_id, "error": refusal})
                await self._park(msg, original_body, refusal, attempts=attempts, retried=retried)
                return None
            msg.body = sanitised_body(original_body)
            result = await self._handle(call_next, msg)
            event_handled(*self._labels(), body=original_body, timestamp=getattr(raw, "timestamp", None))
            return result
        except HandBack:
            raise  # nacked with requeue; our attempt count does not move
        except UNREADABLE as exc:
            reason = error_reason(exc)
            log.error("message does not match its contract; dead-lettered without retrying",
                      extra={"message_id": msg.message_id, "error": reason})
            await self._park(msg, original_body, reason, attempts=attempts + 1, retried=retried)
            return None
        except Exception as exc:
            await self._failed(msg, original_body, exc, attempts=attempts + 1, retried=retried)
            return None
        finally:
            correlation_id_var.reset(token)

    async def _handle(self, call_next: Callable[[Any], Awaitable[Any]], msg: Any) -> Any:
        """Run the handler, waiting out a dependency that is down; its time is observed either way."""
        started = time.perf_counter()
        try:
            return await call_next(msg)
        except Exception as exc:
            if not is_dependency_failure(exc):
                raise
            return await self._wait_out(call_next, msg, exc)
        finally:
            EVENT_HANDLE.labels(*self._labels()).observe(time.perf_counter() - started)

    def _queue(self) -> RabbitQueue:
        subscriber = self.context.get_local("handler_")
        queue: RabbitQueue = subscriber.queue
        return queue

    def _labels(self) -> tuple[str, str]:
        """The metrics' service and event_type: the queue's service and the event type it is bound to
        (what `event_type` is for every message routed by type; bounded, whatever a publisher sends)."""
        queue = self._queue()
        return service_of(queue.name), queue.routing()

    def _producer(self, raw: Any, retried: bool) -> str | None:
        """Who published the event. A copy that came back through our retry exchange was published
        by us (only this service's user, or an operator, may write to it); it names the producer."""
        if retried:
            original = (raw.headers or {}).get(ORIGINAL_USER_HEADER)
            return original if isinstance(original, str) else None
        user: str | None = raw.user_id
        return user

    async def _wait_out(self, call_next: Callable[[Any], Awaitable[Any]], msg: Any, exc: Exception) -> Any:
        """Retry the handler in-process while a dependency is down; the message stays ours meanwhile."""
        started = time.monotonic()
        log.warning("dependency unavailable; holding the message and retrying until it is back",
                    extra={"message_id": msg.message_id, "error": error_reason(exc)})
        attempt = 0
        while True:
            if await self.broker.pause(retry_delay(attempt)):
                log.warning("service stopping while a dependency is down; message handed back to RabbitMQ",
                            extra={"message_id": msg.message_id, "waited": round(time.monotonic() - started, 1)})
                raise HandBack(error_reason(exc)) from exc
            attempt += 1
            try:
                result = await call_next(msg)
            except Exception as again:
                if is_dependency_failure(again):
                    exc = again
                    continue
                log.warning("dependency back after a wait; the handler failed otherwise",
                            extra={"message_id": msg.message_id, "waited": round(time.monotonic() - started, 1)})
                raise
            log.warning("dependency back after a wait; message handled",
                        extra={"message_id": msg.message_id, "waited": round(time.monotonic() - started, 1)})
            return result

    async def _failed(self, msg: Any, body: bytes, exc: Exception, *, attempts: int, retried: bool) -> None:
        """The message's own failure: retry it through the service's retry exchange, or park it after
        the queue's limit. Either copy is confirmed before the original is acked."""
        queue = self._queue()
        limit = int(getattr(queue, "delivery_limit", DEFAULT_DELIVERY_LIMIT))
        reason = error_reason(exc)
        if attempts >= limit:
            log.error("handler failed %d times; dead-lettered", attempts,
                      extra={"message_id": msg.message_id, "error": reason})
            await self._park(msg, body, reason, attempts=attempts, retried=retried)
            return
        log.exception("handler failed; retrying the message", extra={
            "message_id": msg.message_id, "attempts": attempts, "limit": limit})
        await self.broker.pause(retry_delay(attempts - 1))  # when stopping, republish at once
        raw = msg.raw_message
        headers = self._copy_headers(raw, retried)
        headers[ATTEMPTS_HEADER] = attempts
        headers[ERROR_HEADER] = reason
        await self._publish_copy(msg, body, headers, attempts=attempts,
                                 exchange=retry_exchange(service_of(queue.name)), routing_key=queue.name,
                                 user_id=self.broker.amqp_user)
        count(EVENTS_FAILED, *self._labels())  # once the retry copy is confirmed

    def _copy_headers(self, raw: Any, retried: bool) -> dict[str, Any]:
        headers = {k: v for k, v in (raw.headers or {}).items() if k not in BROKER_HEADERS}
        if not retried:
            headers.pop(ATTEMPTS_HEADER, None)  # only our own copies carry a count we trust
            headers.pop(ORIGINAL_USER_HEADER, None)
            if raw.user_id:
                # the copy is published as us; RabbitMQ refuses a user_id that is not the connection's
                headers[ORIGINAL_USER_HEADER] = raw.user_id
        return headers

    async def _park(self, msg: Any, body: bytes, reason: str, *, attempts: int, retried: bool) -> None:
        """Publish a copy with `reason` to the dead-letter exchange (confirmed); the original is then
        acked. If the copy cannot be published, raise: the original is nacked and comes back."""
        raw = msg.raw_message
        queue = self._queue().name
        headers = self._copy_headers(raw, retried)
        earlier = header_int(raw.headers, ATTEMPTS_HEADER) if retried else 0
        # every delivery this event had: earlier copies, redeliveries of this one, this one
        headers[DELIVERIES_HEADER] = earlier + header_int(raw.headers, "x-delivery-count") + 1
        headers[ATTEMPTS_HEADER] = attempts
        headers[ERROR_HEADER] = reason
        headers[SOURCE_QUEUE_HEADER] = queue
        await self._publish_copy(msg, body, headers, attempts=attempts, exchange=DEAD_LETTER_EXCHANGE,
                                 routing_key=queue)  # the dead-letter exchange routes `<queue>` to its .dlq
        count(EVENTS_DEAD_LETTERED, *self._labels())  # confirmed: _publish_copy raises otherwise

    async def _publish_copy(self, msg: Any, body: bytes, headers: dict[str, Any], *, attempts: int,
                            exchange: Any, routing_key: str, user_id: str | None = None) -> None:
        raw = msg.raw_message
        try:
            await self.broker.publish(
                body,
                exchange=exchange,
                routing_key=routing_key,
                headers=headers,
                persist=True,
                mandatory=True,
                message_id=raw.message_id,
                correlation_id=raw.correlation_id,
                content_type=raw.content_type,
                content_encoding=raw.content_encoding,
                message_type=raw.type,
                timestamp=raw.timestamp,
                user_id=user_id,
                timeout=10.0,
            )
        except Exception:
            # RabbitMQ counts the nack (a high backstop limit); our attempt count does not move
            log.exception("could not republish the message; it goes back to RabbitMQ",
                          extra={"message_id": msg.message_id, "exchange": getattr(exchange, "name", exchange)})
            await self.broker.pause(retry_delay(header_int(raw.headers, "x-delivery-count")))
            raise HandBack("could not republish the message") from None


def make_broker(
    url: str,
    *,
    prefetch: int = 10,
    graceful_timeout: float = 30.0,
    logger: logging.Logger | None = None,
    producer_user: str = "",
    connect_timeout: float = 5.0,
    heartbeat: int = 30,
) -> PlantrackBroker:
    """A broker whose channel confirms publishes, raises on returned (unroutable) messages,
    limits prefetch, counts failed attempts itself (consumer middleware) and waits for in-flight
    handlers on shutdown. Its subscribers handle only events whose AMQP `user_id` is
    `producer_user` (empty: the user of `url` itself — single-user mode)."""

    class Middleware(ConsumeContextMiddleware):
        pass

    broker = PlantrackBroker(
        # a broker that accepts TCP and never answers must not hang us: the handshake is bounded by
        # `connect_timeout`, and a connection that goes silent is dropped after missed heartbeats
        str(URL(url).update_query(heartbeat=heartbeat)),
        timeout=connect_timeout,
        default_channel=Channel(
            prefetch_count=prefetch, publisher_confirms=True, on_return_raises=True
        ),
        ack_policy=AckPolicy.NACK_ON_ERROR,
        graceful_timeout=graceful_timeout,
        middlewares=[Middleware],
        logger=logger or logging.getLogger("plantrack.broker"),
    )
    broker.amqp_user = amqp_user(url)
    expected = producer_user or broker.amqp_user
    broker.producers = ProducerCheck.single(expected)
    broker.single_user = expected == broker.amqp_user
    broker.stopping = asyncio.Event()
    Middleware.broker = broker
    return broker


async def declare_dead_letter_queues(broker: RabbitBroker, queues: Iterable[RabbitQueue]) -> None:
    """Declare the dead-letter exchange and a bound `.dlq` queue for each consumer queue, and the
    service's retry exchange, bound to each queue by its name. Idempotent; `plantrack broker-setup`
    declares the same (and the policies)."""
    dlx = await broker.declare_exchange(DEAD_LETTER_EXCHANGE)
    events = await broker.declare_exchange(EVENTS_EXCHANGE)
    for queue in queues:
        if queue.name.endswith(DLQ_SUFFIX):
            continue
        dlq = dead_letter_queue(queue)
        declared = await broker.declare_queue(dlq)
        await declared.bind(dlx, routing_key=dlq.routing_key)
        retry = await broker.declare_exchange(retry_exchange(service_of(queue.name)))
        try:
            source = await broker.declare_queue(queue)
        except ChannelPreconditionFailed as exc:
            raise legacy_queue_error(queue.name, exc) from exc
        await source.bind(retry, routing_key=queue.name)
        await source.bind(events, routing_key=queue.routing())
