"""The scanner: every few minutes (and soon after a plan or assignment event), it announces newly
given tasks, finds the time-based occasions of the day in Vietnam's time zone, claims each by its
key and writes its emails in the same transaction, and sends the digests that are due."""

import asyncio
import logging
from collections import defaultdict
from collections.abc import Callable
from datetime import date, datetime

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session, col, select

from services.notifications import digests, directory, links
from services.notifications.claims import claiming
from services.notifications.directory import Directory
from services.notifications.dispatch import Outcome, Source, Stationery, deliver, occasion_id
from services.notifications.mailroom import Mailroom
from services.notifications.models import (
    AssignmentFact,
    Occasion,
    PlanFact,
    RoundFact,
    SubmissionFact,
    UnitPlanFact,
)
from services.notifications.occasions import (
    UNIT_PLAN_KINDS,
    Found,
    Timing,
    assignment_occasions,
    round_occasions,
    unit_plan_occasions,
)
from services.notifications.periods import every_vi
from services.notifications.recipients import audience
from services.notifications.rules import RULES
from shared.events.base import utcnow

log = logging.getLogger("plantrack.notifications")
SETTLE = 1.0  # seconds to let a burst of events (a plan published with its assignments) land first


class _NotYet(Exception):
    """The occasion names a unit the directory does not hold yet: leave it unclaimed for now."""


def timing_of(room: Mailroom) -> Timing:
    """The rules' timing, from settings."""
    s = room.settings
    return Timing(tuple(s.deadline_lead_days), s.overdue_grace_days, s.overdue_repeat_days,
                  s.round_lead_days, s.unit_plan_after_days)


def scan(room: Mailroom, now: datetime | None = None) -> Outcome:
    """One pass: announce, remind, escalate, digest. Safe to run anywhere at any time, any number of
    times: every email it writes is claimed once."""
    now = now or utcnow()
    paper = room.paper()  # before any transaction: on SQLite a first read of the key would wait on it
    with Session(room.engine) as session:
        here = directory.current(session)  # once per pass, not once per occasion
    total = Outcome()
    total += announce_assignments(room, paper, here, now)
    for found in find(room, paper, here, now):
        total += _claim(room, paper, here, found, now)
    total += digests.send_due(room, paper, here, now)
    return total


def find(room: Mailroom, paper: Stationery, here: Directory, now: datetime) -> list[Found]:
    """The occasions due at `now` that nobody has claimed yet."""
    today = paper.today(now)
    timing = timing_of(room)
    found: list[Found] = []
    with Session(room.engine) as session:
        plans = {p.id: p for p in session.exec(select(PlanFact)).all()}
        published = [p.id for p in plans.values() if p.status == "published"]
        assignments = session.exec(select(AssignmentFact).where(
            col(AssignmentFact.plan_id).in_(published), AssignmentFact.status != "completed")).all()
        for a in assignments:
            found += assignment_occasions(a, plans[a.plan_id], today, timing)
        submitted: dict[int, set[int]] = defaultdict(set)
        for s in session.exec(select(SubmissionFact)).all():
            submitted[s.round_id].add(s.unit_id)
        for r in session.exec(select(RoundFact)).all():
            plan = plans.get(r.plan_id)
            found += round_occasions(r, submitted[r.id], plan, today, timing, plan.issuer_unit_id if plan else None)
        found += _unit_plans(session, [plans[i] for i in published], here, today, timing, paper)
        claimed = _claimed(session, [f.key for f in found])
    return [f for f in found if f.key not in claimed]


def _unit_plans(session: Session, plans: list[PlanFact], here: Directory, today: date, timing: Timing,
                paper: Stationery) -> list[Found]:
    units = here.units
    found: list[Found] = []
    for plan in plans:
        if plan.published_at is None:
            continue
        registered = {r.unit_id for r in session.exec(select(UnitPlanFact).where(UnitPlanFact.plan_id == plan.id))}
        assigned = session.exec(select(AssignmentFact.unit_id).where(AssignmentFact.plan_id == plan.id)).all()
        due = [u for u in dict.fromkeys(assigned)
               if u not in registered and u in units and units[u].kind in UNIT_PLAN_KINDS]
        found += unit_plan_occasions(plan, paper.today(plan.published_at), due, today, timing)
    return found


def _claimed(session: Session, keys: list[str]) -> set[str]:
    claimed: set[str] = set()
    for i in range(0, len(keys), 500):
        claimed |= set(session.exec(select(Occasion.key).where(col(Occasion.key).in_(keys[i:i + 500]))).all())
    return claimed


def _claim(room: Mailroom, paper: Stationery, here: Directory, found: Found, now: datetime) -> Outcome:
    """Claim the occasion and write its emails in one transaction; nothing if it was claimed already."""
    try:
        with claiming(room.engine, [found.key], now) as session:
            return _deliver(session, paper, here, found, now)
    except IntegrityError:
        log.info("occasion claimed elsewhere", extra={"occasion": found.key})
    except _NotYet as exc:
        log.info("occasion waits for the directory", extra={"occasion": found.key, "reason": str(exc)})
    return Outcome()


def _deliver(session: Session, paper: Stationery, here: Directory, found: Found, now: datetime) -> Outcome:
    context = dict(found.context)
    missing_ids = context.pop("missing_unit_ids", None)
    needed = [found.unit_id, *(missing_ids or [])]
    if any(u not in here.units for u in needed):
        raise _NotYet(f"units {[u for u in needed if u not in here.units]} not in the directory yet")
    context["unit_name"] = here.units[found.unit_id].name
    if missing_ids is not None:
        context["missing_units"] = [here.units[u].name for u in missing_ids]
    people = audience(found.rule.audience, found.unit_id, here.units, here.officials)
    source = Source(occasion_id(found.key), f"occasion.{found.rule.name}", found.key, found.unit_id)
    outcome = deliver(session, paper, source, found.rule, people, context,
                      link=found.link or occasion_link(paper, found), now=now)
    log.info("occasion claimed", extra={"occasion": found.key, "emails": outcome.emails, "held": outcome.held,
                                        "warnings": outcome.warnings})
    return outcome


def occasion_link(paper: Stationery, found: Found) -> str:
    """The page an occasion's email links to, by its key (see occasions)."""
    kind, subject = found.key.split(":")[:2]
    if kind in {"deadline", "report_due", "overdue", "escalation"}:
        return paper.link(links.assignment(int(subject)))
    if kind == "round_reminder":
        return paper.link(links.round_form(int(subject)))
    if kind == "round_missing":
        return paper.link(links.round_board(int(subject)))
    if kind == "unit_plan":
        return paper.link(links.unit_plan_form(int(subject)))
    return paper.link("")


def announce_assignments(room: Mailroom, paper: Stationery, here: Directory, now: datetime) -> Outcome:
    """Tell each unit, in one email per plan, the tasks it was given on a published plan (its plan's
    publication, or a later assignment), once per assignment."""
    total = Outcome()
    with Session(room.engine) as session:
        plans = {p.id: p for p in session.exec(select(PlanFact).where(
            PlanFact.status == "published", PlanFact.version > 0)).all()}
        fresh = session.exec(select(AssignmentFact).where(
            col(AssignmentFact.plan_id).in_(list(plans)), AssignmentFact.given_notified == False)  # noqa: E712
            .order_by(col(AssignmentFact.id))).all()
    groups: dict[tuple[int, int], list[AssignmentFact]] = defaultdict(list)
    for a in fresh:
        groups[(a.plan_id, a.unit_id)].append(a)
    for (plan_id, unit_id), given in groups.items():
        total += _announce(room, paper, here, plans[plan_id], unit_id, given, now)
    return total


def _announce(room: Mailroom, paper: Stationery, here: Directory, plan: PlanFact, unit_id: int,
              given: list[AssignmentFact], now: datetime) -> Outcome:
    ids = [a.id for a in given]
    try:
        with claiming(room.engine, [f"given:{i}" for i in ids], now) as session:
            if unit_id not in here.units:
                raise _NotYet(f"unit {unit_id} not in the directory yet")
            session.execute(update(AssignmentFact).where(col(AssignmentFact.id).in_(ids)).values(given_notified=True))
            items = []
            for a in given:
                items.append({"task_code": a.task_code, "task_title": a.task_title, "role": a.role,
                              "due_on": a.due_on, "ongoing": a.task_kind == "ongoing",
                              "period_label": every_vi(plan.reporting_period) if a.task_kind == "ongoing" else "",
                              "link": paper.link(links.assignment(a.id))})
            context = {"plan_number": plan.number, "plan_title": plan.title, "issuer_name": plan.issuer_name,
                       "unit_name": here.units[unit_id].name, "items": items}
            rule = RULES["assignment_given"]
            key = f"given:{plan.id}:{unit_id}:{','.join(map(str, ids))}"
            source = Source(occasion_id(key), f"occasion.{rule.name}", key, unit_id)
            return deliver(session, paper, source, rule,
                           audience(rule.audience, unit_id, here.units, here.officials), context,
                           link=paper.link(links.unit_tasks(plan.id)), now=now)
    except IntegrityError:
        log.info("assignments announced elsewhere", extra={"plan_id": plan.id, "unit_id": unit_id})
    except _NotYet as exc:
        log.info("announcement waits for the directory", extra={"plan_id": plan.id, "reason": str(exc)})
    return Outcome()


class Scanner:
    """Runs `scan` every interval, and soon after it is poked."""

    def __init__(self, room: Mailroom, wake_sender: Callable[[], None]) -> None:
        self.room = room
        self.wake_sender = wake_sender
        self._poked = asyncio.Event()

    def poke(self) -> None:
        """Scan soon (facts changed)."""
        self._poked.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Scan until `stop` is set; a failed scan (database down) is logged and tried again later."""
        interval = self.room.settings.scan_interval
        while not stop.is_set():
            self._poked.clear()
            try:
                outcome = await asyncio.to_thread(scan, self.room)
                if outcome.emails:
                    self.wake_sender()
            except (OperationalError, OSError) as exc:
                log.warning("scan failed; retrying at the next interval", extra={"error": str(exc)})
            except Exception:
                log.exception("scan failed")
            waits = {asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._poked.wait())}
            try:
                await asyncio.wait(waits, timeout=interval, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for w in waits:
                    w.cancel()
            if self._poked.is_set() and not stop.is_set():
                await asyncio.sleep(SETTLE)
