"""FastStream subscribers of the notifications service."""

from collections.abc import Callable
from typing import Any

from faststream.rabbit import RabbitBroker, RabbitQueue

from services.notifications import handlers
from services.notifications.mailroom import Mailroom
from shared.events import (
    ApiTokenIssuedV1,
    ApiTokenRevokedV1,
    AssignmentCreatedV1,
    AssignmentStatusChangedV1,
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

SERVICE = "notifications"


def register(
    broker: RabbitBroker, room: Mailroom, wake_sender: Callable[[], None], poke_scanner: Callable[[], None],
) -> list[RabbitQueue]:
    """Subscribe the handlers; return the queues (their dead-letter queues are declared at start)."""
    queues: list[RabbitQueue] = []
    commits = GroupCommit(room.engine, SERVICE, batch_size=room.settings.batch_size,
                          runners=room.settings.batch_runners)

    async def handle(handler: Callable[[Mailroom, Any], Any], event: Any) -> Any:
        """Handle the event in a group commit with whatever else waits (shared.messaging.group_commit)."""
        return await commits.run(lambda: handler(room, event))

    def subscriber(event_type: str):  # type: ignore[no-untyped-def]
        queue = consumer_queue(SERVICE, event_type, delivery_limit=room.settings.delivery_limit)
        queues.append(queue)
        return broker.subscriber(queue, EVENTS_EXCHANGE, title=f"{SERVICE}:{event_type}")

    @subscriber(UnitCreatedV1.TYPE)
    async def on_unit_created(event: UnitCreatedV1) -> None:
        """Learn a new unit and its mailbox."""
        await handle(handlers.record_unit, event)

    @subscriber(UnitUpdatedV1.TYPE)
    async def on_unit_updated(event: UnitUpdatedV1) -> None:
        """Apply a unit's new name or mailbox."""
        await handle(handlers.record_unit, event)

    @subscriber(OfficialCreatedV1.TYPE)
    async def on_official_created(event: OfficialCreatedV1) -> None:
        """Learn a new official and their email."""
        await handle(handlers.record_official, event)

    @subscriber(OfficialUpdatedV1.TYPE)
    async def on_official_updated(event: OfficialUpdatedV1) -> None:
        """Apply the official's new data, role or active flag."""
        await handle(handlers.record_official, event)

    @subscriber(ApiTokenIssuedV1.TYPE)
    async def on_token_issued(event: ApiTokenIssuedV1) -> None:
        """Learn a token, so its holder can call this service."""
        await handle(handlers.record_token, event)

    @subscriber(ApiTokenRevokedV1.TYPE)
    async def on_token_revoked(event: ApiTokenRevokedV1) -> None:
        """Stop accepting a revoked token."""
        await handle(handlers.record_token, event)

    @subscriber(WebSessionStartedV1.TYPE)
    async def on_session_started(event: WebSessionStartedV1) -> None:
        """Learn a browser session, so its cookie works on this service."""
        await handle(handlers.record_session, event)

    @subscriber(WebSessionEndedV1.TYPE)
    async def on_session_ended(event: WebSessionEndedV1) -> None:
        """Stop accepting an ended browser session."""
        await handle(handlers.record_session, event)

    @subscriber(SigninLinkRequestedV1.TYPE)
    async def on_signin_link_requested(event: SigninLinkRequestedV1) -> None:
        """Email the one-time sign-in link at once."""
        if await handle(handlers.queue_signin_email, event):
            wake_sender()

    @subscriber(PlanCreatedV1.TYPE)
    async def on_plan_created(event: PlanCreatedV1) -> None:
        """Learn a plan: number, title, issuer, reporting period."""
        await handle(handlers.record_plan, event)

    @subscriber(PlanUpdatedV1.TYPE)
    async def on_plan_updated(event: PlanUpdatedV1) -> None:
        """Follow a draft plan's edits."""
        await handle(handlers.record_plan, event)

    @subscriber(PlanPublishedV1.TYPE)
    async def on_plan_published(event: PlanPublishedV1) -> None:
        """A plan is in force: its units are told what they were given, and its deadlines chased."""
        if await handle(handlers.record_plan, event):
            poke_scanner()

    @subscriber(PlanClosedV1.TYPE)
    async def on_plan_closed(event: PlanClosedV1) -> None:
        """A closed plan is chased no more."""
        await handle(handlers.record_plan, event)

    @subscriber(AssignmentCreatedV1.TYPE)
    async def on_assignment_created(event: AssignmentCreatedV1) -> None:
        """Learn an assignment and its deadline; the scanner announces it on a published plan."""
        if await handle(handlers.record_assignment, event):
            poke_scanner()

    @subscriber(AssignmentStatusChangedV1.TYPE)
    async def on_status_changed(event: AssignmentStatusChangedV1) -> None:
        """Tell the supervising officials; the mail worker sends what is not held for a digest."""
        if await handle(handlers.queue_status_emails, event):
            wake_sender()

    @subscriber(StatusUpdateReviewedV1.TYPE)
    async def on_update_reviewed(event: StatusUpdateReviewedV1) -> None:
        """Tell the unit's officers when their update was returned."""
        if await handle(handlers.queue_returned_emails, event):
            wake_sender()

    @subscriber(UnitPlanRegisteredV1.TYPE)
    async def on_unit_plan_registered(event: UnitPlanRegisteredV1) -> None:
        """A unit registered its own plan."""
        await handle(handlers.record_unit_plan, event)

    @subscriber(ReviewRoundOpenedV1.TYPE)
    async def on_review_round_opened(event: ReviewRoundOpenedV1) -> None:
        """Ask the officers of every expected unit for their review report."""
        if await handle(handlers.queue_round_emails, event):
            wake_sender()
        poke_scanner()

    @subscriber(ReviewSubmissionSubmittedV1.TYPE)
    async def on_review_submitted(event: ReviewSubmissionSubmittedV1) -> None:
        """A unit submitted its review report."""
        await handle(handlers.record_submission, event)

    return queues
