"""Publishing events in tests exactly as the outbox relay does."""

from faststream.rabbit import RabbitBroker

from shared.events import Event
from shared.messaging.outbox import outbox_row
from shared.messaging.publisher import outbox_publisher


async def publish(broker: RabbitBroker, *events: Event) -> None:
    """Publish each event through the relay's own publish function (persistent, mandatory, ids set)."""
    send = outbox_publisher(broker)
    for event in events:
        await send(outbox_row(event))
