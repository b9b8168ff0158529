"""FastStream subscribers of the notifications service."""

import asyncio
from collections.abc import Callable

from faststream.rabbit import RabbitBroker, RabbitQueue
from sqlalchemy import Engine

from services.notifications import handlers
from services.notifications.settings import NotificationsSettings
from shared.events import AssignmentStatusChangedV1, OfficialCreatedV1, UnitCreatedV1
from shared.messaging.topology import EVENTS_EXCHANGE, consumer_queue

SERVICE = "notifications"


def register(
    broker: RabbitBroker, engine: Engine, settings: NotificationsSettings, wake_sender: Callable[[], None]
) -> list[RabbitQueue]:
    """Subscribe the handlers; return the queues (their dead-letter queues are declared at start)."""
    queues: list[RabbitQueue] = []

    def subscriber(event_type: str):  # type: ignore[no-untyped-def]
        queue = consumer_queue(SERVICE, event_type, delivery_limit=settings.delivery_limit)
        queues.append(queue)
        return broker.subscriber(queue, EVENTS_EXCHANGE, title=f"{SERVICE}:{event_type}")

    @subscriber(UnitCreatedV1.TYPE)
    async def on_unit_created(event: UnitCreatedV1) -> None:
        """Learn a new unit."""
        await asyncio.to_thread(handlers.record_unit, engine, event)

    @subscriber(OfficialCreatedV1.TYPE)
    async def on_official_created(event: OfficialCreatedV1) -> None:
        """Learn a new official and their email."""
        await asyncio.to_thread(handlers.record_official, engine, event)

    @subscriber(AssignmentStatusChangedV1.TYPE)
    async def on_status_changed(event: AssignmentStatusChangedV1) -> None:
        """Queue emails to the supervising officials; the mail worker sends them."""
        if await asyncio.to_thread(handlers.queue_status_emails, engine, event, place=settings.place):
            wake_sender()

    return queues
