"""Exchange and queue names: one topic exchange, per-consumer quorum queues with dead-lettering."""

from faststream.rabbit import ExchangeType, QueueType, RabbitExchange, RabbitQueue

EVENTS_EXCHANGE_NAME = "plantrack.events"
DEAD_LETTER_EXCHANGE_NAME = "plantrack.dlx"

EVENTS_EXCHANGE = RabbitExchange(EVENTS_EXCHANGE_NAME, type=ExchangeType.TOPIC, durable=True)
DEAD_LETTER_EXCHANGE = RabbitExchange(
    DEAD_LETTER_EXCHANGE_NAME, type=ExchangeType.DIRECT, durable=True
)


def queue_name(service: str, event_type: str) -> str:
    """`<service>.<event_type>`: one queue per consumer per event type."""
    return f"{service}.{event_type}"


def consumer_queue(service: str, event_type: str, *, delivery_limit: int) -> RabbitQueue:
    """A durable quorum queue bound to `event_type`; after `delivery_limit` failed deliveries
    RabbitMQ moves the message to `<queue>.dlq` instead of redelivering it forever."""
    name = queue_name(service, event_type)
    return RabbitQueue(
        name,
        queue_type=QueueType.QUORUM,
        durable=True,
        routing_key=event_type,
        arguments={
            "x-dead-letter-exchange": DEAD_LETTER_EXCHANGE_NAME,
            "x-dead-letter-routing-key": name,
            "x-delivery-limit": delivery_limit,
        },
    )


def dead_letter_queue(source: RabbitQueue) -> RabbitQueue:
    """The parking queue for messages dead-lettered from `source`."""
    return RabbitQueue(
        f"{source.name}.dlq", queue_type=QueueType.QUORUM, durable=True, routing_key=source.name
    )
