"""FastStream subscribers of the reporting service."""

import asyncio

from faststream.rabbit import RabbitBroker, RabbitQueue
from sqlalchemy import Engine

from services.reporting import projections
from services.reporting.settings import ReportingSettings
from shared.events import AssignmentCreatedV1, AssignmentStatusChangedV1, PlanCreatedV1, UnitCreatedV1
from shared.messaging.topology import EVENTS_EXCHANGE, consumer_queue

SERVICE = "reporting"


def register(broker: RabbitBroker, engine: Engine, settings: ReportingSettings) -> list[RabbitQueue]:
    """Subscribe the projections; return the queues (their dead-letter queues are declared at start)."""
    queues: list[RabbitQueue] = []

    def subscriber(event_type: str):  # type: ignore[no-untyped-def]
        queue = consumer_queue(SERVICE, event_type, delivery_limit=settings.delivery_limit)
        queues.append(queue)
        return broker.subscriber(queue, EVENTS_EXCHANGE, title=f"{SERVICE}:{event_type}")

    @subscriber(UnitCreatedV1.TYPE)
    async def on_unit_created(event: UnitCreatedV1) -> None:
        """Record the unit."""
        await asyncio.to_thread(projections.apply_unit_created, engine, event)

    @subscriber(PlanCreatedV1.TYPE)
    async def on_plan_created(event: PlanCreatedV1) -> None:
        """Record the plan and its tasks."""
        await asyncio.to_thread(projections.apply_plan_created, engine, event)

    @subscriber(AssignmentCreatedV1.TYPE)
    async def on_assignment_created(event: AssignmentCreatedV1) -> None:
        """Record the assignment."""
        await asyncio.to_thread(projections.apply_assignment_created, engine, event)

    @subscriber(AssignmentStatusChangedV1.TYPE)
    async def on_status_changed(event: AssignmentStatusChangedV1) -> None:
        """Update the assignment's reported state."""
        await asyncio.to_thread(projections.apply_status_changed, engine, event)

    return queues
