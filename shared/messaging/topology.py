"""Exchange and queue names: one topic exchange, per-consumer quorum queues, a retry exchange per
consumer service and a dead-letter queue per consumer queue.

Queues carry only `x-queue-type`: delivery limit and dead-lettering are RabbitMQ policies
(`plantrack broker-setup`), because a queue's x-arguments can never change after it is declared."""

from faststream.rabbit import ExchangeType, QueueType, RabbitExchange, RabbitQueue

EVENTS_EXCHANGE_NAME = "plantrack.events"
DEAD_LETTER_EXCHANGE_NAME = "plantrack.dlx"
DLQ_SUFFIX = ".dlq"

EVENTS_EXCHANGE = RabbitExchange(EVENTS_EXCHANGE_NAME, type=ExchangeType.TOPIC, durable=True)
DEAD_LETTER_EXCHANGE = RabbitExchange(
    DEAD_LETTER_EXCHANGE_NAME, type=ExchangeType.DIRECT, durable=True
)


class ConsumerQueue(RabbitQueue):
    """A consumer's queue, and how many failed attempts its consumer allows a message."""

    __slots__ = ("delivery_limit",)

    delivery_limit: int


def queue_name(service: str, event_type: str) -> str:
    """`<service>.<event_type>`: one queue per consumer per event type."""
    return f"{service}.{event_type}"


def service_of(queue: str) -> str:
    """The service that owns `queue` (`<service>.…`)."""
    return queue.split(".", 1)[0]


def retry_exchange_name(service: str) -> str:
    """`<service>.retry`: where a consumer republishes a failed message, routed by queue name."""
    return f"{service}.retry"


def retry_exchange(service: str) -> RabbitExchange:
    """The service's direct retry exchange; each of its queues is bound to it by its own name."""
    return RabbitExchange(retry_exchange_name(service), type=ExchangeType.DIRECT, durable=True)


def consumer_queue(service: str, event_type: str, *, delivery_limit: int) -> ConsumerQueue:
    """A durable quorum queue bound to `event_type`; its consumer dead-letters a message to
    `<queue>.dlq` after `delivery_limit` failed attempts (RabbitMQ's own limit is a policy)."""
    queue = ConsumerQueue(
        queue_name(service, event_type), queue_type=QueueType.QUORUM, durable=True, routing_key=event_type
    )
    queue.delivery_limit = delivery_limit
    return queue


def dead_letter_queue(source: RabbitQueue | str) -> RabbitQueue:
    """The parking queue for messages dead-lettered from `source`."""
    name = source if isinstance(source, str) else source.name
    return RabbitQueue(f"{name}{DLQ_SUFFIX}", queue_type=QueueType.QUORUM, durable=True, routing_key=name)
