"""FastStream subscribers of the notifications service."""

import asyncio
from collections.abc import Callable

from faststream.rabbit import RabbitBroker, RabbitQueue
from sqlalchemy import Engine

from services.notifications import handlers
from services.notifications.settings import NotificationsSettings
from shared.events import (
    ApiTokenIssuedV1,
    ApiTokenRevokedV1,
    AssignmentStatusChangedV1,
    OfficialCreatedV1,
    OfficialUpdatedV1,
    ReviewRoundOpenedV1,
    StatusUpdateReviewedV1,
    UnitCreatedV1,
)
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

    @subscriber(OfficialUpdatedV1.TYPE)
    async def on_official_updated(event: OfficialUpdatedV1) -> None:
        """Apply the official's new data, role or active flag."""
        await asyncio.to_thread(handlers.update_official, engine, event)

    @subscriber(StatusUpdateReviewedV1.TYPE)
    async def on_update_reviewed(event: StatusUpdateReviewedV1) -> None:
        """Queue emails to the unit's officers when their update was returned."""
        if await asyncio.to_thread(handlers.queue_returned_emails, engine, event, place=settings.place):
            wake_sender()

    @subscriber(ReviewRoundOpenedV1.TYPE)
    async def on_review_round_opened(event: ReviewRoundOpenedV1) -> None:
        """Queue emails asking the officers of every expected unit for their review report."""
        if await asyncio.to_thread(handlers.queue_round_emails, engine, event, place=settings.place):
            wake_sender()

    @subscriber(ApiTokenIssuedV1.TYPE)
    async def on_token_issued(event: ApiTokenIssuedV1) -> None:
        """Learn a token, so its holder can call this service."""
        await asyncio.to_thread(handlers.record_token, engine, event)

    @subscriber(ApiTokenRevokedV1.TYPE)
    async def on_token_revoked(event: ApiTokenRevokedV1) -> None:
        """Stop accepting a revoked token."""
        await asyncio.to_thread(handlers.record_token, engine, event)

    return queues
