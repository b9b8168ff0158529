"""RabbitBroker factory with the delivery guarantees plantrack relies on."""

import asyncio
import json
import logging
from collections.abc import Iterable
from typing import Any

from faststream import AckPolicy
from faststream._internal.middlewares import BaseMiddleware
from faststream.exceptions import RejectMessage
from faststream.rabbit import Channel, RabbitBroker, RabbitQueue
from pydantic import ValidationError

from shared.logging import correlation_id_var
from shared.messaging.topology import DEAD_LETTER_EXCHANGE, dead_letter_queue

log = logging.getLogger("plantrack.messaging")


def retry_delay(delivery_count: int, *, base: float = 0.2, cap: float = 5.0) -> float:
    """Backoff before a failed message is handed back to RabbitMQ for redelivery."""
    return min(cap, base * (2 ** max(0, delivery_count)))


class ConsumeContextMiddleware(BaseMiddleware):
    """Binds the message's correlation id to the logs, parks messages that can never be read
    (bad JSON, wrong schema) in the dead-letter queue at once, and slows down redelivery of
    other failures."""

    async def consume_scope(self, call_next: Any, msg: Any) -> Any:
        token = correlation_id_var.set(msg.correlation_id or "")
        try:
            return await call_next(msg)
        except (ValidationError, json.JSONDecodeError, UnicodeDecodeError) as exc:
            log.error("message does not match its contract; dead-lettered without retrying",
                      extra={"message_id": msg.message_id, "error": str(exc)[:2000]})
            raise RejectMessage() from exc
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


def make_broker(
    url: str,
    *,
    prefetch: int = 10,
    graceful_timeout: float = 30.0,
    logger: logging.Logger | None = None,
) -> RabbitBroker:
    """A broker whose channel confirms publishes, raises on returned (unroutable) messages,
    limits prefetch, nacks failed handlers (so RabbitMQ counts deliveries and dead-letters)
    and waits for in-flight handlers on shutdown."""
    return RabbitBroker(
        url,
        default_channel=Channel(
            prefetch_count=prefetch, publisher_confirms=True, on_return_raises=True
        ),
        ack_policy=AckPolicy.NACK_ON_ERROR,
        graceful_timeout=graceful_timeout,
        middlewares=[ConsumeContextMiddleware],
        logger=logger or logging.getLogger("plantrack.broker"),
    )


async def declare_dead_letter_queues(broker: RabbitBroker, queues: Iterable[RabbitQueue]) -> None:
    """Declare the dead-letter exchange and a bound `.dlq` queue for each consumer queue."""
    dlx = await broker.declare_exchange(DEAD_LETTER_EXCHANGE)
    for queue in queues:
        dlq = dead_letter_queue(queue)
        declared = await broker.declare_queue(dlq)
        await declared.bind(dlx, routing_key=dlq.routing_key)
