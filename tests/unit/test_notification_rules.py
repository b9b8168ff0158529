"""Each notification rule, through the service's own subscribers (FastStream's TestRabbitBroker) and
its scanner on SQLite: who receives what, who does not, and that each occasion is written once.
The same rules over the real broker, SMTP and two processes are in tests/e2e/test_chasing.py."""

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from faststream.rabbit import RabbitBroker, TestRabbitBroker
from sqlalchemy import Engine
from sqlmodel import Session, select

from services.notifications import app as notifications_app
from services.notifications import consumers, preferences, scanner
from services.notifications.dispatch import Outcome, Stationery
from services.notifications.mailroom import Mailroom
from services.notifications.models import DigestItem, OutgoingEmail
from services.notifications.occasions import Found
from services.notifications.preferences import Defaults, Mode
from services.notifications.rules import RULES
from services.notifications.scanner import occasion_link
from services.notifications.settings import NotificationsSettings
from shared.db import make_engine, migrate
from shared.events import (
    AssignmentCreatedPayload,
    AssignmentCreatedV1,
    AssignmentStatusChangedPayload,
    AssignmentStatusChangedV1,
    Event,
    OfficialCreatedV1,
    OfficialPayload,
    PlanCreatedV1,
    PlanPayload,
    PlanPublishedV1,
    PlanStatusPayload,
    ReviewRoundOpenedV1,
    ReviewRoundPayload,
    ReviewSubmissionPayload,
    ReviewSubmissionSubmittedV1,
    StatusUpdateReviewedV1,
    TaskPayload,
    UnitCreatedV1,
    UnitPayload,
    UnitPlanPayload,
    UnitPlanRegisteredV1,
    UnitUpdatedV1,
    UpdateReviewedPayload,
)
from shared.messaging.broker import make_broker
from tests.support.events import publish

AMQP = "amqp://guest:guest@127.0.0.1:5672/"  # never connected: TestRabbitBroker patches the broker
VN = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime.now(UTC)
TODAY = NOW.astimezone(VN).date()
LONG_AGO = NOW - timedelta(days=400)


@dataclass
class Chase:
    broker: RabbitBroker
    engine: Engine
    room: Mailroom
    pokes: list[int] = field(default_factory=list)

    def scan(self, now: datetime | None = None) -> Outcome:
        return scanner.scan(self.room, now)

    def emails(self, kind: str | None = None) -> list[OutgoingEmail]:
        with Session(self.engine) as s:
            rows = s.exec(select(OutgoingEmail).where(OutgoingEmail.recipient != "")).all()
        return sorted((r for r in rows if kind is None or r.kind == kind), key=lambda r: (r.recipient, r.id or 0))

    def to(self, kind: str) -> list[str]:
        return [e.recipient for e in self.emails(kind)]

    def warnings(self) -> list[OutgoingEmail]:
        with Session(self.engine) as s:
            return list(s.exec(select(OutgoingEmail).where(OutgoingEmail.recipient == "")).all())

    def held(self) -> list[DigestItem]:
        with Session(self.engine) as s:
            return list(s.exec(select(DigestItem).order_by(DigestItem.id)).all())  # type: ignore[arg-type]

    def prefer(self, official_id: int, mode: Mode, muted: tuple[str, ...] = (), hour: int = 7) -> None:
        with Session(self.engine) as s:
            preferences.store(s, official_id, mode, hour, list(muted))
            s.commit()


@pytest.fixture
def chase(tmp_path: Path) -> Iterator[Chase]:
    url = f"sqlite:///{tmp_path}/notifications.db"
    migrate(url, notifications_app.MIGRATIONS)
    engine = make_engine(url)
    settings = NotificationsSettings(place="Trà Vinh", public_url="https://plantrack.example.vn",
                                     unsubscribe_secret="test-key", unit_plan_after_days=30)
    room = Mailroom(engine, settings)
    service = Chase(make_broker(AMQP), engine, room)
    consumers.register(service.broker, room, lambda: None, lambda: service.pokes.append(1))
    yield service
    engine.dispose()


# Đảng ủy Khối (1) -> Ban Tuyên giáo (2) and three party cells: 3 has an officer, 4 only a mailbox,
# 5 nobody at all
UNITS = [
    UnitPayload(id=1, code="DUK", name="Đảng ủy Khối các cơ quan", kind="bloc_committee"),
    UnitPayload(id=2, code="BTG", name="Ban Tuyên giáo", kind="advisory_board", parent_id=1),
    UnitPayload(id=3, code="CB-STC", name="Chi bộ Sở Tài chính", kind="party_cell", parent_id=1),
    UnitPayload(id=4, code="CB-SYT", name="Chi bộ Sở Y tế", kind="party_cell", parent_id=1, email="cbsyt@example.vn"),
    UnitPayload(id=5, code="CB-SGD", name="Chi bộ Sở Giáo dục", kind="party_cell", parent_id=1),
]
LAN, BINH, INACTIVE = 10, 11, 12
OFFICIALS = [
    OfficialPayload(id=LAN, name="Nguyễn Thị Lan", email="lan@example.vn", title="Trưởng ban", unit_id=2,
                    role="supervisor"),
    OfficialPayload(id=BINH, name="Trần Văn Bình", email="binh@example.vn", title="Bí thư Chi bộ", unit_id=3,
                    role="unit_officer"),
    OfficialPayload(id=INACTIVE, name="Cũ", email="old@example.vn", unit_id=4, role="unit_officer", active=False),
]
PLAN = PlanPayload(id=1, number="41-KH/ĐUK", title="Kế hoạch thực hiện Chương trình số 22-CTr/TU",
                   issuer_unit_id=1, issuer_name="Đảng ủy Khối", status="draft", reporting_period="quarterly",
                   tasks=[TaskPayload(id=1, code="III.1", title="Quán triệt, cụ thể hóa thành kế hoạch")])


def given(id: int, unit_id: int, *, due_on: date | None = None, role: str = "lead", kind: str = "one_off",
          task_code: str = "III.1", at: datetime = NOW) -> AssignmentCreatedV1:
    return AssignmentCreatedV1(occurred_at=at, payload=AssignmentCreatedPayload(
        id=id, plan_id=1, plan_number="41-KH/ĐUK", task_id=id, task_code=task_code, task_title=f"Nhiệm vụ {task_code}",
        task_kind=kind, unit_id=unit_id, unit_code="X", unit_name="X", role=role, due_on=due_on))


def published(at: datetime = NOW) -> PlanPublishedV1:
    return PlanPublishedV1(payload=PlanStatusPayload(plan_id=1, number="41-KH/ĐUK", status="published",
                                                     changed_at=at))


def reported(assignment_id: int, unit_id: int, *, status: str = "in_progress", progress: int = 40,
             version: int = 2, by: int | None = BINH) -> AssignmentStatusChangedV1:
    return AssignmentStatusChangedV1(correlation_id=f"req-{assignment_id}-{version}",
                                     payload=AssignmentStatusChangedPayload(
        assignment_id=assignment_id, update_id=version, plan_id=1, plan_number="41-KH/ĐUK", task_id=assignment_id,
        task_code="III.1", task_title="Quán triệt", unit_id=unit_id, unit_code="CB-STC",
        unit_name="Chi bộ Sở Tài chính",
        old_status="not_started", new_status=status, progress=progress, summary="Đã ban hành kế hoạch",
        reported_by_id=by, reported_by_name="Trần Văn Bình", reported_at=NOW, version=version,
        evidence_links=["https://docs.example.vn/kh-12"]))


async def world(br: RabbitBroker, *events: Event) -> None:
    await publish(br, *(UnitCreatedV1(payload=u) for u in UNITS))
    await publish(br, *(OfficialCreatedV1(payload=o) for o in OFFICIALS))
    await publish(br, PlanCreatedV1(payload=PLAN), *events)


# -- assignment given -------------------------------------------------------------------------------


async def test_published_plan_tells_each_unit_its_tasks_once_mailbox_when_no_officer_warning_when_nobody(
        chase: Chase) -> None:
    async with TestRabbitBroker(chase.broker) as br:
        await world(br, given(1, 3, due_on=TODAY + timedelta(days=60)), given(2, 3, role="support", kind="ongoing",
                                                                               task_code="III.2"),
                    given(3, 4, due_on=TODAY + timedelta(days=60)), given(4, 5, due_on=TODAY + timedelta(days=60)))
        chase.scan()
        assert chase.emails() == [], "a draft plan announces nothing"
        await publish(br, published())
    assert chase.pokes, "publication wakes the scanner"
    chase.scan()
    chase.scan()  # a second pass (a restart, a replica) sends nothing again
    assert chase.to("assignment_given") == ["binh@example.vn", "cbsyt@example.vn"]
    [binh, mailbox] = chase.emails("assignment_given")
    assert "2 nhiệm vụ" in binh.subject and "41-KH/ĐUK" in binh.subject
    assert "chủ trì" in binh.body and "phối hợp" in binh.body and "hằng quý" in binh.body
    assert "https://plantrack.example.vn/unit/assignments/1" in binh.body  # the assignment's page
    assert mailbox.recipient_official_id is None and "Chi bộ Sở Y tế" in mailbox.body
    [warning] = chase.warnings()
    assert warning.recipient_unit_id == 5 and "unreachable" in (warning.last_error or "")
    assert "lan@example.vn" not in chase.to("assignment_given")


async def test_an_assignment_added_to_a_published_plan_is_announced_alone(chase: Chase) -> None:
    async with TestRabbitBroker(chase.broker) as br:
        await world(br, given(1, 3, due_on=TODAY + timedelta(days=60)), published())
        chase.scan()
        await publish(br, given(5, 3, due_on=TODAY + timedelta(days=90), task_code="III.5"))
    chase.scan()
    first, second = chase.emails("assignment_given")
    assert "III.1" in first.body and "III.5" not in first.body
    assert "III.5" in second.body and "III.1" not in second.body and "III.5" in second.subject


# -- status reported, returned ----------------------------------------------------------------------


async def test_status_update_goes_to_supervisors_digest_by_default_and_immediately_when_chosen(chase: Chase) -> None:
    async with TestRabbitBroker(chase.broker) as br:
        await world(br, given(1, 3, due_on=TODAY + timedelta(days=60)))
        await publish(br, reported(1, 3))
        assert chase.to("status_reported") == []
        [item] = chase.held()
        assert item.official_id == LAN and item.kind == "status_reported"
        assert "Đã ban hành kế hoạch" in item.text_content
        chase.prefer(LAN, Mode.IMMEDIATE)
        await publish(br, reported(1, 3, progress=60, version=3))
    [email] = chase.emails("status_reported")
    assert email.recipient == "lan@example.vn" and "60%" in email.subject
    assert "https://docs.example.vn/kh-12" in email.body and "Bí thư Chi bộ" in email.body
    assert "binh@example.vn" not in chase.to("status_reported"), "the reporter is not told of his own report"


async def test_the_same_event_three_times_is_one_email_per_recipient(chase: Chase) -> None:
    chase.prefer(LAN, Mode.IMMEDIATE)
    event = reported(1, 3)
    async with TestRabbitBroker(chase.broker) as br:
        await world(br, given(1, 3, due_on=TODAY + timedelta(days=60)))
        await publish(br, event, event, event)
    assert chase.to("status_reported") == ["lan@example.vn"]


async def test_returned_update_goes_to_the_unit_with_the_reason_not_to_supervisors(chase: Chase) -> None:
    chase.prefer(LAN, Mode.IMMEDIATE)
    review = StatusUpdateReviewedV1(payload=UpdateReviewedPayload(
        update_id=2, assignment_id=1, plan_id=1, plan_number="41-KH/ĐUK", task_code="III.1", task_title="Quán triệt",
        unit_id=3, unit_name="Chi bộ Sở Tài chính", decision="returned", reason="Thiếu số liệu minh chứng",
        reviewer_id=LAN, reviewer_name="Nguyễn Thị Lan", assignment_status="not_started", assignment_progress=0,
        version=3, reviewed_at=NOW))
    async with TestRabbitBroker(chase.broker) as br:
        await world(br, given(1, 3, due_on=TODAY + timedelta(days=60)), review)
    assert chase.to("update_returned") == ["binh@example.vn"]
    assert "Thiếu số liệu minh chứng" in chase.emails("update_returned")[0].body


# -- deadlines --------------------------------------------------------------------------------------


async def test_deadline_approaching_reminds_the_unit_once(chase: Chase) -> None:
    async with TestRabbitBroker(chase.broker) as br:
        await world(br, given(1, 3, due_on=TODAY + timedelta(days=1)), given(2, 3, due_on=TODAY + timedelta(days=30),
                                                                             task_code="III.2"), published())
    chase.scan()
    chase.scan()
    [reminder] = chase.emails("deadline_approaching")
    assert reminder.recipient == "binh@example.vn" and "III.1" in reminder.subject
    assert reminder.category == "deadline" and "1 ngày" in reminder.body


async def test_overdue_reminds_the_unit_and_escalates_to_supervisors_until_completed(chase: Chase) -> None:
    chase.prefer(LAN, Mode.IMMEDIATE)
    async with TestRabbitBroker(chase.broker) as br:
        await world(br, given(1, 3, due_on=TODAY - timedelta(days=1)), given(2, 3, due_on=TODAY - timedelta(days=4),
                                                                             task_code="III.2"), published())
        chase.scan()
        assert [e.recipient for e in chase.emails("overdue")] == ["binh@example.vn"] * 2
        [escalation] = chase.emails("escalation")  # only III.2 is past the 3-day grace period
        assert escalation.recipient == "lan@example.vn" and "III.2" in escalation.body
        # a week later: the second reminder and escalation; III.1 was completed meanwhile
        await publish(br, reported(1, 3, status="completed", progress=100))
    chase.scan(NOW + timedelta(days=7))
    assert [("III.2" in e.body) for e in chase.emails("overdue")] == [False, True, True]
    assert len(chase.emails("escalation")) == 2
    chase.scan(NOW + timedelta(days=8))
    assert len(chase.emails("overdue")) == 3, "never daily: the next one is a week later"


async def test_ongoing_task_with_no_report_last_period_is_reported_missing(chase: Chase) -> None:
    async with TestRabbitBroker(chase.broker) as br:
        await world(br, given(1, 3, kind="ongoing", at=LONG_AGO), published())
    chase.scan()
    [missing] = chase.emails("overdue")
    assert missing.recipient == "binh@example.vn" and "kỳ" in missing.body


# -- review rounds, unit plans ----------------------------------------------------------------------


def round_opened(submit_by: date, round_id: int = 1, at: datetime | None = None) -> ReviewRoundOpenedV1:
    return ReviewRoundOpenedV1(occurred_at=at or datetime.now(UTC), payload=ReviewRoundPayload(
        id=round_id, plan_id=1, plan_number="41-KH/ĐUK", kind="preliminary", title="Sơ kết 2026",
        period_end=TODAY, submit_by=submit_by, unit_ids=[3, 4, 5]))


async def test_review_round_asks_every_expected_unit_then_reminds_those_missing(chase: Chase) -> None:
    async with TestRabbitBroker(chase.broker) as br:
        await world(br, published(), round_opened(TODAY + timedelta(days=2), at=NOW - timedelta(days=12)))
        assert chase.to("review_round_opened") == ["binh@example.vn", "cbsyt@example.vn"]
        assert [w.recipient_unit_id for w in chase.warnings()] == [5]
        await publish(br, ReviewSubmissionSubmittedV1(payload=ReviewSubmissionPayload(
            id=1, round_id=1, plan_id=1, unit_id=3, unit_name="Chi bộ Sở Tài chính", submitted_at=NOW, on_time=True)))
    chase.scan()
    assert chase.to("review_round_reminder") == ["cbsyt@example.vn"], "unit 3 submitted; unit 5 is a warning"
    async with TestRabbitBroker(chase.broker) as br:  # a round opened two days before its deadline: no reminder
        await publish(br, round_opened(TODAY + timedelta(days=2), round_id=2))
    chase.scan()
    assert chase.to("review_round_reminder") == ["cbsyt@example.vn"]
    chase.prefer(LAN, Mode.IMMEDIATE)
    chase.scan(NOW + timedelta(days=3))
    [missing] = [e for e in chase.emails("review_round_missing") if e.correlation_id == "round_missing:1"]
    assert missing.recipient == "lan@example.vn"
    assert "Chi bộ Sở Y tế" in missing.body and "Chi bộ Sở Giáo dục" in missing.body
    assert "Chi bộ Sở Tài chính" not in missing.body


async def test_unit_without_its_own_plan_is_reminded_after_n_days(chase: Chase) -> None:
    async with TestRabbitBroker(chase.broker) as br:
        await world(br, given(1, 3, due_on=TODAY + timedelta(days=90)), given(2, 4, due_on=TODAY + timedelta(days=90)),
                    given(3, 2, due_on=TODAY + timedelta(days=90)), published(NOW - timedelta(days=31)),
                    UnitPlanRegisteredV1(payload=UnitPlanPayload(
                        id=1, plan_id=1, unit_id=4, unit_code="CB-SYT", unit_name="Chi bộ Sở Y tế", number="05-KH/CB",
                        issued_on=TODAY, title="Kế hoạch của chi bộ")))
    chase.scan()
    assert chase.to("unit_plan_missing") == ["binh@example.vn"], "4 registered; 2 is a board, not a cell"


# -- preferences, digests ---------------------------------------------------------------------------


async def test_a_muted_category_is_not_sent_and_nothing_else_changes(chase: Chase) -> None:
    chase.prefer(BINH, Mode.IMMEDIATE, muted=("deadline",))
    async with TestRabbitBroker(chase.broker) as br:
        await world(br, given(1, 3, due_on=TODAY + timedelta(days=1)), published())
    chase.scan()
    assert chase.to("deadline_approaching") == []
    assert chase.to("assignment_given") == ["binh@example.vn"]


async def test_digest_holds_what_the_immediate_email_said_and_goes_once_a_day(chase: Chase) -> None:
    async with TestRabbitBroker(chase.broker) as br:
        await world(br, given(1, 3, due_on=TODAY + timedelta(days=60)))
        await publish(br, UnitCreatedV1(payload=UnitPayload(id=6, code="BKT", name="Ủy ban Kiểm tra",
                                                            kind="advisory_board", parent_id=1)),
                      OfficialCreatedV1(payload=OfficialPayload(id=20, name="Hồ Văn Tư", email="tu@example.vn",
                                                                unit_id=6, role="supervisor")))
        chase.prefer(20, Mode.IMMEDIATE)
        chase.prefer(LAN, Mode.DIGEST, hour=0)
        await publish(br, reported(1, 3), reported(1, 3, progress=70, version=3))
    [immediate_first, immediate_second] = chase.emails("status_reported")
    assert {i.official_id for i in chase.held()} == {LAN}
    chase.scan()
    [digest] = chase.emails("digest")
    assert digest.recipient == "lan@example.vn" and "2 thông báo" in digest.subject
    for item in chase.held():  # each item says what the immediate email said, line for line
        assert item.digest_email_id == digest.id
        assert item.text_content in immediate_first.body or item.text_content in immediate_second.body
        assert all(line.strip() in digest.body for line in item.text_content.splitlines())
        assert item.subject in digest.body
    chase.scan()
    assert len(chase.emails("digest")) == 1


async def test_unit_mailbox_follows_unit_updated(chase: Chase) -> None:
    async with TestRabbitBroker(chase.broker) as br:
        await world(br, given(1, 5, due_on=TODAY + timedelta(days=1)))
        await publish(br, UnitUpdatedV1(payload=UnitPayload(id=5, code="CB-SGD", name="Chi bộ Sở Giáo dục và Đào tạo",
                                                            kind="party_cell", parent_id=1, email="cbsgd@example.vn")),
                      published())
    chase.scan()
    assert chase.to("assignment_given") == ["cbsgd@example.vn"]
    assert "Chi bộ Sở Giáo dục và Đào tạo" in chase.emails("assignment_given")[0].body


@pytest.mark.parametrize(("key", "rule", "page"), [
    ("deadline:7:2026-12-31:7", "deadline_approaching", "/unit/assignments/7"),
    ("report_due:7:2026-Q4:7", "deadline_approaching", "/unit/assignments/7"),
    ("overdue:7:2026-12-31:1", "overdue", "/unit/assignments/7"),
    ("escalation:7:2026-12-31:1", "escalation", "/unit/assignments/7"),
    ("round_reminder:3:12", "review_round_reminder", "/unit/reviews/3"),
    ("round_missing:3", "review_round_missing", "/board/reviews/3"),
    ("unit_plan:41:12", "unit_plan_missing", "/unit/plans/41/unit-plan"),
])
def test_every_occasion_links_to_its_page(key: str, rule: str, page: str) -> None:
    paper = Stationery(place="Trà Vinh", public_url="https://plantrack.example.vn/", unsubscribe_url="",
                       key=b"k", tz=ZoneInfo("Asia/Ho_Chi_Minh"), defaults=Defaults())
    assert occasion_link(paper, Found(key, RULES[rule], 12)) == "https://plantrack.example.vn" + page
