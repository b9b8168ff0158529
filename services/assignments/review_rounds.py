"""Use cases for review rounds (sơ kết, tổng kết) and the units' review reports."""

from sqlmodel import Session, select

from services.assignments import audit, domain
from services.assignments.access import (
    acting_unit,
    ensure_supervises,
    require_role,
    scope_unit_ids,
)
from services.assignments.auth import Actor
from services.assignments.domain import PlanStatus, ReviewRoundKind, Role
from services.assignments.errors import Conflict, Invalid, NotFound, rules_checked
from services.assignments.models import ReviewRound, ReviewSubmission, Unit
from services.assignments.oversight import assigned_unit_ids
from services.assignments.planning import get_plan
from services.assignments.schemas import (
    ReviewRoundCreate,
    ReviewRoundPublic,
    SubmissionCreate,
    SubmissionPublic,
    UnitReviewState,
)
from shared.events import (
    ReviewRoundOpenedV1,
    ReviewRoundPayload,
    ReviewSubmissionPayload,
    ReviewSubmissionSubmittedV1,
)
from shared.vietnamese import local_date

KIND_TITLES = {ReviewRoundKind.PRELIMINARY: "Sơ kết", ReviewRoundKind.FINAL: "Tổng kết"}


def open_round(session: Session, *, actor: Actor, plan_id: int, data: ReviewRoundCreate) -> ReviewRound:
    """Open a review round on a published plan (admin, or a supervisor over the issuing committee)."""
    plan = get_plan(session, plan_id)
    if plan.issuer_unit_id is None:  # no issuing committee to supervise: an admin's call
        require_role(actor, Role.ADMIN)
    else:
        ensure_supervises(session, actor, plan.issuer_unit_id, "open a review round")
    with rules_checked():
        domain.check_plan_accepts_reports(PlanStatus(plan.status))
    if data.submit_by < data.period_end:
        raise Invalid("submit_by must be on or after period_end: units report on a period that has ended.")
    expected = assigned_unit_ids(session, plan_id)
    if not expected:
        raise Conflict("The plan has no assignments: nobody would report.")
    title = data.title or f"{KIND_TITLES[data.kind]} thực hiện {plan.number}"
    row = ReviewRound(plan_id=plan_id, kind=data.kind, title=title, period_end=data.period_end,
                      submit_by=data.submit_by, opened_by_id=actor.official_id)
    session.add(row)
    session.flush()
    event = ReviewRoundOpenedV1(correlation_id=actor.correlation_id, payload=ReviewRoundPayload(
        id=row.id or 0, plan_id=plan_id, plan_number=plan.number, kind=row.kind, title=title,
        period_end=row.period_end, submit_by=row.submit_by, unit_ids=expected))
    audit.record(session, actor, action="review_round.open", entity_type="review_round", entity_id=row.id,
                 changes=data.model_dump(mode="json") | {"expected_units": expected}, event=event)
    return row


def get_round(session: Session, round_id: int) -> ReviewRound:
    """A review round or 404."""
    row = session.get(ReviewRound, round_id)
    if row is None:
        raise NotFound("Review round", round_id)
    return row


def submission_view(row: ReviewSubmission, round_: ReviewRound) -> SubmissionPublic:
    """The API view of a submission, with its timeliness."""
    return SubmissionPublic(
        **row.model_dump(), on_time=domain.submission_on_time(local_date(row.submitted_at), round_.submit_by))


def submit(session: Session, *, actor: Actor, round_id: int, data: SubmissionCreate) -> SubmissionPublic:
    """A unit submits its review report, once per round (unit officer)."""
    round_ = get_round(session, round_id)
    unit_id = acting_unit(session, actor, data.unit_id, "submit its review report")
    if round_.status != "open":
        raise Conflict("This review round is closed.")
    with rules_checked():
        domain.check_plan_accepts_reports(PlanStatus(get_plan(session, round_.plan_id).status))
    unit = session.get(Unit, unit_id)
    if unit is None or unit_id not in assigned_unit_ids(session, round_.plan_id):
        raise Conflict("This unit is not expected to report in this round.")
    exists = session.exec(select(ReviewSubmission).where(
        ReviewSubmission.round_id == round_id, ReviewSubmission.unit_id == unit_id)).first()
    if exists is not None:
        raise Conflict(f"Unit {unit.code} has already submitted its report for this round.")
    row = ReviewSubmission(round_id=round_id, unit_id=unit_id, summary=data.summary, results=data.results,
                           difficulties=data.difficulties, proposals=data.proposals,
                           link=str(data.link) if data.link else "", submitted_by_id=actor.official_id)
    session.add(row)
    session.flush()
    view = submission_view(row, round_)
    event = ReviewSubmissionSubmittedV1(correlation_id=actor.correlation_id, payload=ReviewSubmissionPayload(
        id=row.id or 0, round_id=round_id, plan_id=round_.plan_id, unit_id=unit_id, unit_name=unit.name,
        submitted_at=row.submitted_at, on_time=view.on_time, link=row.link, summary=row.summary,
        results=row.results, difficulties=row.difficulties, proposals=row.proposals))
    audit.record(session, actor, action="review_submission.submit", entity_type="review_submission",
                 entity_id=row.id, changes={"round_id": round_id, "unit_id": unit_id, "on_time": view.on_time},
                 event=event)
    return view


def round_view(session: Session, *, actor: Actor, round_: ReviewRound) -> ReviewRoundPublic:
    """The round with completeness and timeliness of each expected unit the actor may see."""
    scope = scope_unit_ids(session, actor)
    expected = [u for u in assigned_unit_ids(session, round_.plan_id) if scope is None or u in scope]
    subs = {s.unit_id: s for s in session.exec(
        select(ReviewSubmission).where(ReviewSubmission.round_id == round_.id)).all()}
    units = {u.id: u for u in session.exec(select(Unit).where(Unit.id.in_(expected))).all()}  # type: ignore[union-attr]
    states = []
    for unit_id in expected:
        sub = subs.get(unit_id)
        on_time = domain.submission_on_time(local_date(sub.submitted_at), round_.submit_by) if sub else None
        u = units[unit_id]
        states.append(UnitReviewState(unit_id=unit_id, unit_code=u.code, unit_name=u.name, submitted=sub is not None,
                                      on_time=on_time, submitted_at=sub.submitted_at if sub else None))
    submitted = sum(s.submitted for s in states)
    on_time_count = sum(bool(s.on_time) for s in states)
    return ReviewRoundPublic(
        id=round_.id or 0, plan_id=round_.plan_id, kind=round_.kind, title=round_.title,  # type: ignore[arg-type]
        period_end=round_.period_end, submit_by=round_.submit_by, status=round_.status, expected=len(states),
        submitted=submitted, on_time=on_time_count, late=submitted - on_time_count,
        missing=len(states) - submitted, units=states,
    )


def list_submissions(session: Session, *, actor: Actor, round_id: int) -> list[SubmissionPublic]:
    """Submissions of a round within the actor's scope."""
    round_ = get_round(session, round_id)
    query = select(ReviewSubmission).where(ReviewSubmission.round_id == round_id).order_by(ReviewSubmission.id)  # type: ignore[arg-type]
    scope = scope_unit_ids(session, actor)
    if scope is not None:
        query = query.where(ReviewSubmission.unit_id.in_(scope))  # type: ignore[attr-defined]
    return [submission_view(s, round_) for s in session.exec(query).all()]


def list_rounds(session: Session, *, plan_id: int) -> list[ReviewRound]:
    """Review rounds of a plan, oldest first."""
    get_plan(session, plan_id)
    return list(session.exec(select(ReviewRound).where(ReviewRound.plan_id == plan_id).order_by(ReviewRound.id)).all())  # type: ignore[arg-type]


