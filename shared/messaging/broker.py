"""RabbitBroker factory with the delivery guarantees plantrack relies on."""

import asyncio
import json
import logging
from collections.abc import Iterable
from typing import Any

from fastapi.exceptions import RequestValidationError
from faststream import AckPolicy
from faststream._internal.middlewares import BaseMiddleware
from faststream.rabbit import Channel, RabbitBroker, RabbitQueue
from pydantic import ValidationError

from shared.logging import correlation_id_var
from shared.messaging.guard import (
    DELIVERIES_HEADER,
    ERROR_HEADER,
    ORIGINAL_USER_HEADER,
    SOURCE_QUEUE_HEADER,
    ProducerCheck,
    amqp_user,
    error_reason,
    safe_correlation_id,
    sanitised_body,
)
from shared.messaging.topology import DEAD_LETTER_EXCHANGE, dead_letter_queue

log = logging.getLogger("plantrack.messaging")

# Retrying can never help these: the body does not decode or does not match its contract.
# FastAPI-wrapped subscribers (faststream_fastapi) report a bad body as RequestValidationError.
UNREADABLE = (ValidationError, RequestValidationError, json.JSONDecodeError, UnicodeDecodeError)

# RabbitMQ sets these on delivery; a republished copy must not carry them
_DELIVERY_HEADERS = ("x-delivery-count",)


def retry_delay(delivery_count: int, *, base: float = 0.2, cap: float = 5.0) -> float:
    """Backoff before a failed message is handed back to RabbitMQ for redelivery."""
    return min(cap, base * (2 ** max(0, delivery_count)))


class PlantrackBroker(RabbitBroker):
    """A RabbitBroker that knows which user it connects as and which user may publish events."""

    amqp_user: str
    producers: ProducerCheck
    single_user: bool

    async def start(self) -> None:
        """Start consuming; warn when producer and consumer share one broker user."""
        if self.subscribers and self.single_user:
            log.warning(
                "RabbitMQ single-user mode: this service accepts events published as its own broker user "
                f"{self.amqp_user!r}, so anyone with these credentials can publish events. Give each service "
                "its own RabbitMQ user (deploy/broker-users.sh) and set PLANTRACK_EVENTS_PRODUCER_USER."
            )
        await super().start()


class ConsumeContextMiddleware(BaseMiddleware):
    """Binds the message's (sanitised) correlation id to the logs; parks messages that must never be
    handled — not published by their producer, or unreadable (bad JSON, wrong schema) — in the
    dead-letter queue at once, with the reason in a header; slows down redelivery of other failures."""

    broker: PlantrackBroker  # set by make_broker on its own subclass

    async def consume_scope(self, call_next: Any, msg: Any) -> Any:
        raw = msg.raw_message
        msg.correlation_id = safe_correlation_id(msg.correlation_id)
        msg.reply_to = ""  # events are never requests: a forged reply_to must not make us publish
        token = correlation_id_var.set(msg.correlation_id)
        original_body: bytes = msg.body
        try:
            refusal = self.broker.producers.refusal(raw.routing_key or "", raw.user_id)
            if refusal is not None:
                log.error("event not published by its producer; dead-lettered without handling",
                          extra={"message_id": msg.message_id, "error": refusal})
                await self._park(msg, original_body, refusal)
                return None
            msg.body = sanitised_body(original_body)
            return await call_next(msg)
        except UNREADABLE as exc:
            reason = error_reason(exc)
            log.error("message does not match its contract; dead-lettered without retrying",
                      extra={"message_id": msg.message_id, "error": reason})
            await self._park(msg, original_body, reason)
            return None
        except Exception:
            count = int((msg.headers or {}).get("x-delivery-count", 0) or 0)
            log.exception(
                "handler failed; message goes back to RabbitMQ",
                extra={"message_id": msg.message_id, "delivery_count": count},
            )
            await asyncio.sleep(retry_delay(count))
            raise
        finally:
            correlation_id_var.reset(token)

    def _queue_name(self) -> str:
        subscriber = self.context.get_local("handler_")
        return str(subscriber.queue.name)

    async def _park(self, msg: Any, body: bytes, reason: str) -> None:
        """Publish a copy with `reason` to the dead-letter exchange (confirmed); the original is then
        acked. If the copy cannot be published, raise: the original is nacked and comes back."""
        raw = msg.raw_message
        queue = self._queue_name()
        headers = {k: v for k, v in (raw.headers or {}).items() if k not in _DELIVERY_HEADERS}
        count = int((raw.headers or {}).get("x-delivery-count", 0) or 0)
        headers[ERROR_HEADER] = reason
        headers[DELIVERIES_HEADER] = count + 1  # quorum queues count redeliveries only
        headers[SOURCE_QUEUE_HEADER] = queue
        if raw.user_id:
            # the copy is published as us; RabbitMQ refuses a user_id that is not the connection's
            headers[ORIGINAL_USER_HEADER] = raw.user_id
        try:
            await self.broker.publish(
                body,
                exchange=DEAD_LETTER_EXCHANGE,
                routing_key=queue,  # the dead-letter exchange routes `<queue>` to `<queue>.dlq`
                headers=headers,
                persist=True,
                mandatory=True,
                message_id=raw.message_id,
                correlation_id=raw.correlation_id,
                content_type=raw.content_type,
                content_encoding=raw.content_encoding,
                message_type=raw.type,
                timestamp=raw.timestamp,
                timeout=10.0,
            )
        except Exception:
            log.exception("could not dead-letter the message; it goes back to RabbitMQ",
                          extra={"message_id": msg.message_id, "queue": queue})
            await asyncio.sleep(retry_delay(count))
            raise


def make_broker(
    url: str,
    *,
    prefetch: int = 10,
    graceful_timeout: float = 30.0,
    logger: logging.Logger | None = None,
    producer_user: str = "",
) -> PlantrackBroker:
    """A broker whose channel confirms publishes, raises on returned (unroutable) messages,
    limits prefetch, nacks failed handlers (so RabbitMQ counts deliveries and dead-letters)
    and waits for in-flight handlers on shutdown. Its subscribers handle only events whose AMQP
    `user_id` is `producer_user` (empty: the user of `url` itself — single-user mode)."""

    class Middleware(ConsumeContextMiddleware):
        pass

    broker = PlantrackBroker(
        url,
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
    Middleware.broker = broker
    return broker


async def declare_dead_letter_queues(broker: RabbitBroker, queues: Iterable[RabbitQueue]) -> None:
    """Declare the dead-letter exchange and a bound `.dlq` queue for each consumer queue."""
    dlx = await broker.declare_exchange(DEAD_LETTER_EXCHANGE)
    for queue in queues:
        dlq = dead_letter_queue(queue)
        declared = await broker.declare_queue(dlq)
        await declared.bind(dlx, routing_key=dlq.routing_key)
