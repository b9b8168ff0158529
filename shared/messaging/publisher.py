"""Publishing outbox rows to the events exchange: persistent, confirmed, mandatory."""

import asyncio
import logging

from faststream.rabbit import RabbitBroker

from shared.messaging.connect import BrokerRefused, start_until_stopped
from shared.messaging.outbox import OutboxMessage
from shared.messaging.relay import Publish
from shared.messaging.topology import EVENTS_EXCHANGE
from shared.metrics.registry import EVENTS_PUBLISHED, count

log = logging.getLogger("plantrack.publisher")


def outbox_publisher(broker: RabbitBroker, *, timeout: float = 10.0, user_id: str | None = None) -> Publish:
    """A publish function for the relay; it raises when RabbitMQ nacks or returns the message.

    Messages carry the AMQP `user_id` of the connection (`user_id`, by default the broker's own
    user): RabbitMQ refuses a publish whose user_id is not the connection's, so consumers can
    trust it to name the producer."""
    user = user_id if user_id is not None else getattr(broker, "amqp_user", None)

    async def publish(row: OutboxMessage) -> None:
        await broker.publish(
            row.body.encode(),
            exchange=EVENTS_EXCHANGE,
            routing_key=row.event_type,
            persist=True,
            mandatory=True,
            message_id=str(row.event_id),
            correlation_id=row.correlation_id or str(row.event_id),
            content_type="application/json",
            message_type=row.event_type,
            timestamp=row.created_at,
            user_id=user,
            timeout=timeout,
        )
        count(EVENTS_PUBLISHED, row.event_type)  # confirmed: publish raises on a nack or a return

    return publish


async def connect_until_stopped(
    broker: RabbitBroker, stop: asyncio.Event, *, attempt_timeout: float = 5.0, max_delay: float = 10.0,
) -> bool:
    """Connect the broker and declare the events exchange, retrying with backoff (each attempt
    bounded) until it works or `stop` is set; True when connected. A refusal raises BrokerRefused."""
    try:
        return await start_until_stopped(
            broker, lambda: broker.declare_exchange(EVENTS_EXCHANGE), stop,
            attempt_timeout=attempt_timeout, max_delay=max_delay, what="outbox relay",
        )
    except BrokerRefused as exc:
        log.critical(f"{exc}; the outbox relay cannot publish until an operator fixes the broker")
        raise
