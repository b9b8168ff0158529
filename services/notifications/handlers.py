"""What the notifications service does with each event (sync, once per event, in one transaction
with its inbox row: its own, or a group commit's)."""

import logging
from collections.abc import Callable

from sqlmodel import Session

from services.notifications import directory, facts, links
from services.notifications.directory import DirectoryNotReady as DirectoryNotReady  # what the handlers raise
from services.notifications.dispatch import Outcome, Source, deliver, deliver_always
from services.notifications.mailroom import Mailroom
from services.notifications.models import DirectoryOfficial, DirectoryUnit
from services.notifications.recipients import Recipient, audience
from services.notifications.rules import RULES
from shared.db import lock_or_insert
from shared.events import (
    ApiTokenIssuedV1,
    ApiTokenRevokedV1,
    AssignmentCreatedV1,
    AssignmentStatusChangedV1,
    Event,
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
from shared.events.base import as_utc
from shared.identity import projection as identity
from shared.messaging.inbox import handle_once
from shared.vietnamese import local_time

CONSUMER = "notifications"
log = logging.getLogger("plantrack.notifications")


def _once(room: Mailroom, event: Event, work: Callable[[Session], object]) -> bool:
    """Run `work` with the event's inbox row, once; False for a duplicate."""
    done = handle_once(room.engine, event, CONSUMER, work)
    if not done:
        log.info("duplicate event ignored", extra={"event_id": str(event.event_id)})
    return done


def _newer(row: DirectoryUnit | DirectoryOfficial, event: Event) -> bool:
    return row.as_of is None or as_utc(row.as_of) <= as_utc(event.occurred_at)


def record_unit(room: Mailroom, event: UnitCreatedV1 | UnitUpdatedV1) -> bool:
    """Add or change the unit (its name, its mailbox) in the directory and the identity tree."""

    def work(session: Session) -> None:
        identity.apply_unit(session, event)
        directory.record(session, event)
        fresh = DirectoryUnit(**event.payload.model_dump(exclude={"email"}), email=event.payload.email or "")
        row = lock_or_insert(session, fresh)  # unit.created and unit.updated arrive on two queues
        if _newer(row, event):
            row.sqlmodel_update(fresh.model_dump(exclude={"as_of"}) | {"as_of": event.occurred_at})
            session.add(row)

    return _once(room, event, work)


def record_token(room: Mailroom, event: ApiTokenIssuedV1 | ApiTokenRevokedV1) -> bool:
    """Learn an API token's hash, or its revocation, to authenticate callers."""
    return _once(room, event, lambda s: identity.apply_token(s, event))


def record_session(room: Mailroom, event: WebSessionStartedV1 | WebSessionEndedV1) -> bool:
    """Learn a browser session's hash, or its end, to authenticate its cookie."""
    return _once(room, event, lambda s: identity.apply_session(s, event))


def record_official(room: Mailroom, event: OfficialCreatedV1 | OfficialUpdatedV1) -> bool:
    """Write the official as the event says, unless a later event already did (each event type has
    its own queue, so an update may overtake the creation)."""

    def work(session: Session) -> None:
        identity.apply_official(session, event)
        directory.record(session, event)
        row = lock_or_insert(session, DirectoryOfficial(**event.payload.model_dump()))
        if _newer(row, event):
            row.sqlmodel_update(event.payload.model_dump() | {"as_of": event.occurred_at})
            session.add(row)
        else:
            log.info("older official event ignored", extra={"event_id": str(event.event_id)})

    return _once(room, event, work)


def record_plan(room: Mailroom, event: PlanCreatedV1 | PlanUpdatedV1 | PlanPublishedV1 | PlanClosedV1) -> bool:
    """Keep the plan's facts; a published plan's assignments are announced by the scanner."""
    if isinstance(event, PlanCreatedV1 | PlanUpdatedV1):
        return _once(room, event, lambda s: facts.apply_plan(s, event))
    return _once(room, event, lambda s: facts.apply_plan_status(s, event))


def record_assignment(room: Mailroom, event: AssignmentCreatedV1) -> bool:
    """Keep the assignment's facts (the scanner announces it once its plan is published)."""
    return _once(room, event, lambda s: facts.apply_assignment(s, event, room.tz))


def record_unit_plan(room: Mailroom, event: UnitPlanRegisteredV1) -> bool:
    """A unit registered its own plan: it is no longer reminded to."""
    return _once(room, event, lambda s: facts.apply_unit_plan(s, event))


def record_submission(room: Mailroom, event: ReviewSubmissionSubmittedV1) -> bool:
    """A unit submitted its review report: it is no longer reminded, nor reported missing."""
    return _once(room, event, lambda s: facts.apply_submission(s, event))


def _queue(room: Mailroom, event: Event, build: Callable[[Session], Outcome]) -> int:
    """Record the event and write what `build` delivers, once; return how many emails to send now."""
    outcome = Outcome()

    def work(session: Session) -> None:
        nonlocal outcome
        outcome += build(session)

    if _once(room, event, work):
        log.info("emails queued", extra={"event_id": str(event.event_id), "emails": outcome.emails,
                                         "held_for_digest": outcome.held, "muted": outcome.muted,
                                         "warnings": outcome.warnings})
    return outcome.emails


def _source(event: Event, unit_id: int) -> Source:
    return Source(event.event_id, event.event_type, event.correlation_id, unit_id)


def queue_status_emails(room: Mailroom, event: AssignmentStatusChangedV1) -> int:
    """A unit reported: tell the supervising boards (at once or in their digest)."""
    p = event.payload
    rule = RULES["status_reported"]
    paper = room.paper()  # before the transaction: on SQLite a first read of the key would wait on it

    def build(session: Session) -> Outcome:
        facts.apply_status(session, event, room.tz)
        found = directory.as_of(session, event, [p.unit_id])
        reporter = next((o for o in found.officials if o.id == p.reported_by_id), None)
        people = audience(rule.audience, p.unit_id, found.units, found.officials,
                          exclude_official_id=p.reported_by_id)
        context = {
            "plan_number": p.plan_number, "task_code": p.task_code, "task_title": p.task_title,
            "unit_name": p.unit_name, "old_status": p.old_status, "new_status": p.new_status,
            "progress": p.progress, "summary": p.summary, "difficulties": p.difficulties, "due_on": p.due_on,
            "reported_by_name": p.reported_by_name, "reported_by_title": reporter.title if reporter else "",
            "reported_at": local_time(p.reported_at), "evidence_links": list(p.evidence_links), "period": p.period,
        }
        return deliver(session, paper, _source(event, p.unit_id), rule, people, context,
                       link=paper.link(links.plan_board(p.plan_id)), now=event.occurred_at, dated=p.reported_at)

    return _queue(room, event, build)


def queue_returned_emails(room: Mailroom, event: StatusUpdateReviewedV1) -> int:
    """A supervisor returned an update: tell the unit, with the reason."""
    p = event.payload
    rule = RULES["update_returned"]
    paper = room.paper()

    def build(session: Session) -> Outcome:
        facts.apply_review(session, event, room.tz)
        if p.decision != "returned":
            return Outcome()  # an accepted update needs no email
        found = directory.as_of(session, event, [p.unit_id])
        context = {
            "plan_number": p.plan_number, "task_code": p.task_code, "task_title": p.task_title,
            "unit_name": p.unit_name, "reviewer_name": p.reviewer_name, "reviewed_at": local_time(p.reviewed_at),
            "reason": p.reason,
        }
        return deliver(session, paper, _source(event, p.unit_id), rule,
                       audience(rule.audience, p.unit_id, found.units, found.officials), context,
                       link=paper.link(links.assignment(p.assignment_id)), now=event.occurred_at, dated=p.reviewed_at)

    return _queue(room, event, build)


def queue_round_emails(room: Mailroom, event: ReviewRoundOpenedV1) -> int:
    """A review round opened: ask every expected unit for its report by the submit-by date."""
    p = event.payload
    rule = RULES["review_round_opened"]
    paper = room.paper()

    def build(session: Session) -> Outcome:
        facts.apply_round(session, event, room.tz)
        found = directory.as_of(session, event, p.unit_ids)
        total = Outcome()
        for unit_id in dict.fromkeys(p.unit_ids):
            context: dict[str, object] = {
                "plan_number": p.plan_number, "round_kind": p.kind, "round_title": p.title,
                "period_end": p.period_end, "submit_by": p.submit_by, "unit_name": found.units[unit_id].name}
            total += deliver(session, paper, _source(event, unit_id), rule,
                             audience(rule.audience, unit_id, found.units, found.officials), context,
                             link=paper.link(links.round_form(p.id)), now=event.occurred_at)
        return total

    return _queue(room, event, build)


def queue_signin_email(room: Mailroom, event: SigninLinkRequestedV1) -> int:
    """Email a sign-in link to the address it was asked for: never muted, never held for a digest."""
    p = event.payload
    paper = room.paper()
    recipient = Recipient(email=p.email, name=p.name, title=p.title, unit_id=None, official_id=p.official_id,
                          role="")
    return _queue(room, event, lambda session: deliver_always(
        session, paper, Source(event.event_id, event.event_type, event.correlation_id), "signin_link", recipient,
        {"expires_at": p.expires_at, "link_label": "Đăng nhập"}, link=p.link, now=event.occurred_at))
