"""Readiness of a broker: its connection is open, every subscriber has a live consumer."""

from typing import Any

from faststream.rabbit import RabbitBroker

# FastStream exposes neither the connection state nor the consumer tags: read them from the broker,
# its subscribers and aio-pika's channel, defensively (a missing attribute means "not ready").


def broker_connected(broker: RabbitBroker) -> bool:
    """The broker's (robust) connection is open right now."""
    connection: Any = getattr(broker, "_connection", None)
    return connection is not None and not connection.is_closed and connection.connected.is_set()


def _consuming(subscriber: Any) -> bool:
    tag = getattr(subscriber, "_consumer_tag", None)
    queue = getattr(subscriber, "_queue_obj", None)
    if tag is None or queue is None:
        return False
    channel = queue.channel
    if channel.is_closed:
        return False
    # aio-pika re-consumes with the same tag after a reconnection: the live channel knows it again
    underlay = getattr(getattr(channel, "_channel", None), "channel", None)
    return underlay is not None and tag in underlay.consumers


def detached_queues(broker: RabbitBroker) -> list[str]:
    """Queues of the broker's subscribers that have no live consumer now."""
    return [str(s.queue.name) for s in broker.subscribers if not _consuming(s)]  # type: ignore[attr-defined]


def consumers_ready(broker: RabbitBroker) -> bool:
    """Connected, and every subscriber consumes."""
    return broker_connected(broker) and not detached_queues(broker)
