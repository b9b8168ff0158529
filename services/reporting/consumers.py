"""FastStream subscribers of the reporting service.

Reporting takes every event type (some only into its inbox): the relay publishes `mandatory`,
so an event type no queue is bound to would be returned and retried forever.
"""

from collections.abc import Callable
from typing import Any

from faststream.rabbit import RabbitBroker, RabbitQueue
from sqlalchemy import Engine

from services.reporting import projections
from services.reporting.settings import ReportingSettings
from shared.events import (
    ApiTokenIssuedV1,
    ApiTokenRevokedV1,
    AssignmentCreatedV1,
    AssignmentStatusChangedV1,
    InspectionRecordedV1,
    OfficialCreatedV1,
    OfficialUpdatedV1,
    PlanClosedV1,
    PlanCreatedV1,
    PlanPublishedV1,
    PlanUpdatedV1,
    ReviewRoundOpenedV1,
    ReviewSubmissionSubmittedV1,
    SigninLinkRequestedV1,
    StatusUpdateReviewedV1,
    UnitCreatedV1,
    UnitPlanRegisteredV1,
    UnitUpdatedV1,
    WebSessionEndedV1,
    WebSessionStartedV1,
)
from shared.messaging.group_commit import GroupCommit
from shared.messaging.topology import EVENTS_EXCHANGE, consumer_queue

SERVICE = "reporting"


def register(broker: RabbitBroker, engine: Engine, settings: ReportingSettings) -> list[RabbitQueue]:
    """Subscribe the projections; return the queues (their dead-letter queues are declared at start)."""
    queues: list[RabbitQueue] = []
    commits = GroupCommit(engine, SERVICE, batch_size=settings.batch_size, runners=settings.batch_runners)

    async def apply(projection: Callable[[Engine, Any], bool], event: Any) -> bool:
        """Apply the event in a group commit with whatever else waits (shared.messaging.group_commit)."""
        return await commits.run(lambda: projection(engine, event))

    def subscriber(event_type: str):  # type: ignore[no-untyped-def]
        queue = consumer_queue(SERVICE, event_type, delivery_limit=settings.delivery_limit)
        queues.append(queue)
        return broker.subscriber(queue, EVENTS_EXCHANGE, title=f"{SERVICE}:{event_type}")

    @subscriber(UnitCreatedV1.TYPE)
    async def on_unit_created(event: UnitCreatedV1) -> None:
        """Record the unit."""
        await apply(projections.apply_unit_created, event)

    @subscriber(UnitUpdatedV1.TYPE)
    async def on_unit_updated(event: UnitUpdatedV1) -> None:
        """Record the unit's new name or mailbox (even before its creation arrives)."""
        await apply(projections.apply_unit, event)

    @subscriber(OfficialCreatedV1.TYPE)
    async def on_official_created(event: OfficialCreatedV1) -> None:
        """Record who may call this service, in which role and unit."""
        await apply(projections.apply_official, event)

    @subscriber(OfficialUpdatedV1.TYPE)
    async def on_official_updated(event: OfficialUpdatedV1) -> None:
        """Apply the official's new role, unit or active flag."""
        await apply(projections.apply_official, event)

    @subscriber(ApiTokenIssuedV1.TYPE)
    async def on_token_issued(event: ApiTokenIssuedV1) -> None:
        """Learn a token, so its holder can call this service."""
        await apply(projections.apply_token, event)

    @subscriber(ApiTokenRevokedV1.TYPE)
    async def on_token_revoked(event: ApiTokenRevokedV1) -> None:
        """Stop accepting a revoked token."""
        await apply(projections.apply_token, event)

    @subscriber(WebSessionStartedV1.TYPE)
    async def on_session_started(event: WebSessionStartedV1) -> None:
        """Learn a browser session, so its cookie works on this service."""
        await apply(projections.apply_session, event)

    @subscriber(WebSessionEndedV1.TYPE)
    async def on_session_ended(event: WebSessionEndedV1) -> None:
        """Stop accepting an ended browser session."""
        await apply(projections.apply_session, event)

    @subscriber(SigninLinkRequestedV1.TYPE)
    async def on_signin_link_requested(event: SigninLinkRequestedV1) -> None:
        """Nothing to project: only its inbox row (and its archive entry, without the link)."""
        await apply(projections.apply_nothing, event)

    @subscriber(PlanCreatedV1.TYPE)
    async def on_plan_created(event: PlanCreatedV1) -> None:
        """Record the plan and its tasks."""
        await apply(projections.apply_plan_snapshot, event)

    @subscriber(PlanUpdatedV1.TYPE)
    async def on_plan_updated(event: PlanUpdatedV1) -> None:
        """Record the edited draft plan and its tasks."""
        await apply(projections.apply_plan_snapshot, event)

    @subscriber(PlanPublishedV1.TYPE)
    async def on_plan_published(event: PlanPublishedV1) -> None:
        """Mark the plan published."""
        await apply(projections.apply_plan_status, event)

    @subscriber(PlanClosedV1.TYPE)
    async def on_plan_closed(event: PlanClosedV1) -> None:
        """Mark the plan closed."""
        await apply(projections.apply_plan_status, event)

    @subscriber(AssignmentCreatedV1.TYPE)
    async def on_assignment_created(event: AssignmentCreatedV1) -> None:
        """Record the assignment."""
        await apply(projections.apply_assignment_created, event)

    @subscriber(AssignmentStatusChangedV1.TYPE)
    async def on_status_changed(event: AssignmentStatusChangedV1) -> None:
        """Update the assignment's reported state."""
        await apply(projections.apply_status_changed, event)

    @subscriber(StatusUpdateReviewedV1.TYPE)
    async def on_update_reviewed(event: StatusUpdateReviewedV1) -> None:
        """Record the review of the assignment's latest update."""
        await apply(projections.apply_update_reviewed, event)

    @subscriber(UnitPlanRegisteredV1.TYPE)
    async def on_unit_plan_registered(event: UnitPlanRegisteredV1) -> None:
        """Record the unit's implementing plan."""
        await apply(projections.apply_unit_plan_registered, event)

    @subscriber(InspectionRecordedV1.TYPE)
    async def on_inspection_recorded(event: InspectionRecordedV1) -> None:
        """Record the inspection."""
        await apply(projections.apply_inspection_recorded, event)

    @subscriber(ReviewRoundOpenedV1.TYPE)
    async def on_review_round_opened(event: ReviewRoundOpenedV1) -> None:
        """Record the review round and its expected units."""
        await apply(projections.apply_review_round_opened, event)

    @subscriber(ReviewSubmissionSubmittedV1.TYPE)
    async def on_review_submitted(event: ReviewSubmissionSubmittedV1) -> None:
        """Record the unit's review report."""
        await apply(projections.apply_review_submitted, event)

    return queues
