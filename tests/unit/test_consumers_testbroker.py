"""The notifications and reporting consumers on FastStream's TestRabbitBroker (no RabbitMQ), SQLite."""

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from faststream.exceptions import SubscriberNotFound
from faststream.rabbit import RabbitBroker, TestRabbitBroker
from sqlalchemy import Engine
from sqlmodel import Session, select

from services.notifications import app as notifications_app
from services.notifications import consumers as notifications_consumers
from services.notifications.handlers import DirectoryNotReady
from services.notifications.mailroom import Mailroom
from services.notifications.models import DirectoryOfficial, DirectoryUnit, OutgoingEmail
from services.notifications.settings import NotificationsSettings
from services.reporting import app as reporting_app
from services.reporting import consumers as reporting_consumers
from services.reporting import exports
from services.reporting.models import EventArchive, ReportAssignment, ReportPlan, ReportTask, ReportUnit, ReportUpdate
from services.reporting.rows import export_rows
from services.reporting.settings import ReportingSettings
from shared.db import make_engine, migrate
from shared.events import (
    AssignmentCreatedPayload,
    AssignmentCreatedV1,
    AssignmentStatusChangedPayload,
    AssignmentStatusChangedV1,
    InspectionPayload,
    InspectionRecordedV1,
    OfficialCreatedV1,
    OfficialPayload,
    PlanCreatedV1,
    PlanPayload,
    TaskPayload,
    UnitCreatedV1,
    UnitPayload,
    parse_event,
)
from shared.messaging.broker import make_broker
from shared.messaging.errors import DependencyNotReady
from shared.messaging.inbox import ProcessedEvent
from shared.messaging.publisher import outbox_publisher
from tests.support.events import publish
from tests.unit.conftest import World

AMQP = "amqp://guest:guest@127.0.0.1:5672/"  # never connected: TestRabbitBroker patches the broker


@dataclass
class Service:
    broker: RabbitBroker
    engine: Engine
    wakes: list[int] = field(default_factory=list)

    def all(self, model: type) -> list:  # type: ignore[type-arg]
        with Session(self.engine) as s:
            return list(s.exec(select(model)).all())


@pytest.fixture
def notifications(tmp_path: Path) -> Iterator[Service]:
    url = f"sqlite:///{tmp_path}/notifications.db"
    migrate(url, notifications_app.MIGRATIONS)
    engine = make_engine(url)
    service = Service(make_broker(AMQP), engine)
    room = Mailroom(engine, NotificationsSettings(place="Trà Vinh", supervisor_mode="immediate"))
    notifications_consumers.register(service.broker, room, lambda: service.wakes.append(1), lambda: None)
    yield service
    engine.dispose()


@pytest.fixture
def reporting(tmp_path: Path) -> Iterator[Service]:
    url = f"sqlite:///{tmp_path}/reporting.db"
    migrate(url, reporting_app.MIGRATIONS)
    engine = make_engine(url)
    service = Service(make_broker(AMQP), engine)
    reporting_consumers.register(service.broker, engine, ReportingSettings())
    yield service
    engine.dispose()


BLOC = UnitPayload(id=1, code="DUK", name="Đảng ủy Khối các cơ quan", kind="bloc_committee")
BOARD = UnitPayload(id=2, code="BTG", name="Ban Tuyên giáo", kind="advisory_board", parent_id=1)
CELL = UnitPayload(id=3, code="CB-STC", name="Chi bộ Sở Tài chính", kind="party_cell", parent_id=1)
OTHER_BLOC = UnitPayload(id=4, code="DUKDN", name="Đảng ủy Khối doanh nghiệp", kind="bloc_committee")
OFFICIALS = [
    OfficialPayload(id=10, name="Nguyễn Thị Lan", email="lan@example.vn", unit_id=2, role="supervisor"),
    OfficialPayload(id=11, name="Trần Văn Bình", email="binh@example.vn", unit_id=1, role="supervisor"),
    OfficialPayload(id=12, name="Lê Văn Cường", email="cuong@example.vn", unit_id=3, role="unit_officer"),
    OfficialPayload(id=13, name="Phạm Thị Dung", email="dung@example.vn", unit_id=4, role="supervisor"),
    OfficialPayload(id=14, name="Võ Văn Em", email="em@example.vn", unit_id=2, role="supervisor", active=False),
]


def status_event(version: int = 2, *, new_status: str = "in_progress", progress: int = 40,
                 old_status: str = "not_started", day: int = 5, **changes: object) -> AssignmentStatusChangedV1:
    payload = dict(
        assignment_id=100, update_id=version, plan_id=50, plan_number="41-KH/ĐUK", task_id=60, task_code="II.1",
        task_title="Quán triệt, cụ thể hóa", unit_id=3, unit_code="CB-STC", unit_name="Chi bộ Sở Tài chính",
        old_status=old_status, new_status=new_status, progress=progress, summary=f"Báo cáo lần {version}",
        difficulties="Thiếu kinh phí." if version == 2 else "", due_on=date(2022, 3, 31), reported_by_id=12,
        reported_by_name="Lê Văn Cường", reported_at=datetime(2022, 1, day, 2, 0, tzinfo=UTC), version=version,
    )
    payload.update(changes)
    return AssignmentStatusChangedV1(correlation_id=f"req-v{version}",
                                     payload=AssignmentStatusChangedPayload(**payload))  # type: ignore[arg-type]


async def load_directory(broker: RabbitBroker) -> None:
    for unit in (BLOC, BOARD, CELL, OTHER_BLOC):
        await publish(broker, UnitCreatedV1(payload=unit))
    for official in OFFICIALS:
        await publish(broker, OfficialCreatedV1(payload=official))


# -- notifications ---------------------------------------------------------------------------


async def test_status_change_queues_emails_for_supervisors(notifications: Service) -> None:
    async with TestRabbitBroker(notifications.broker) as br:
        await load_directory(br)
        assert {u.code for u in notifications.all(DirectoryUnit)} == {"DUK", "BTG", "CB-STC", "DUKDN"}
        assert len(notifications.all(DirectoryOfficial)) == 5
        event = status_event()
        await publish(br, event)
    emails = sorted(notifications.all(OutgoingEmail), key=lambda e: e.recipient)
    assert [e.recipient for e in emails] == ["binh@example.vn", "lan@example.vn"]
    for e in emails:
        assert e.event_id == event.event_id and e.event_type == "assignment.status_changed.v1"
        assert e.correlation_id == "req-v2"
        assert e.subject == "[41-KH/ĐUK] Chi bộ Sở Tài chính cập nhật nhiệm vụ II.1: Đang thực hiện (40%)"
        assert e.body.startswith("Trà Vinh, ngày 05 tháng 01 năm 2022")
        assert f"Kính gửi đồng chí {e.recipient_name}," in e.body
        assert e.message_id.startswith(f"<{event.event_id}.") and e.sent_at is None and e.attempts == 0
    assert notifications.wakes == [1]  # the mail worker was woken once


async def test_duplicate_status_event_gives_one_email_per_recipient(notifications: Service) -> None:
    event = status_event()
    async with TestRabbitBroker(notifications.broker) as br:
        await load_directory(br)
        await publish(br, event)
        await publish(br, event)  # redelivery
        await publish(br, parse_event(event.model_dump_json()))  # same event id, re-parsed
    emails = notifications.all(OutgoingEmail)
    assert len(emails) == 2
    assert len({(e.event_id, e.recipient) for e in emails}) == 2
    assert notifications.wakes == [1]
    inbox = [p for p in notifications.all(ProcessedEvent) if p.event_id == event.event_id]
    assert len(inbox) == 1 and inbox[0].consumer == "notifications"


async def test_a_second_update_is_a_new_email(notifications: Service) -> None:
    async with TestRabbitBroker(notifications.broker) as br:
        await load_directory(br)
        await publish(br, status_event(2))
        await publish(br, status_event(3, new_status="completed", progress=100, old_status="in_progress"))
    assert len(notifications.all(OutgoingEmail)) == 4


async def test_status_change_for_an_unknown_unit_waits_for_the_directory(notifications: Service) -> None:
    event = status_event()
    async with TestRabbitBroker(notifications.broker) as br:
        for unit in (BLOC, BOARD, OTHER_BLOC):  # the reporting unit (CELL) comes last, alone
            await publish(br, UnitCreatedV1(payload=unit))
        for official in OFFICIALS:
            await publish(br, OfficialCreatedV1(payload=official))
        # the unit is unknown: DirectoryNotReady is not the message's fault, so the consumer
        # keeps the message and retries it in-process, without effects, until the unit arrives
        handling = asyncio.create_task(publish(br, event))
        await asyncio.sleep(1.0)
        assert not handling.done()
        assert notifications.all(OutgoingEmail) == [] and event.event_id not in {
            p.event_id for p in notifications.all(ProcessedEvent)}
        await publish(br, UnitCreatedV1(payload=CELL))
        await asyncio.wait_for(handling, 10)
    assert len(notifications.all(OutgoingEmail)) == 2
    assert issubclass(DirectoryNotReady, DependencyNotReady)


async def test_directory_events_are_idempotent(notifications: Service) -> None:
    event = UnitCreatedV1(payload=BLOC)
    async with TestRabbitBroker(notifications.broker) as br:
        await publish(br, event)
        await publish(br, event)
    assert len(notifications.all(DirectoryUnit)) == 1


async def test_only_subscribed_types_are_routed(notifications: Service) -> None:
    # notifications does not subscribe to inspection.recorded; a topic exchange routes by exact type
    async with TestRabbitBroker(notifications.broker) as br:
        with pytest.raises(SubscriberNotFound):
            await publish(br, InspectionRecordedV1(payload=InspectionPayload(
                id=1, plan_id=1, unit_id=3, unit_name="x", inspecting_unit_id=2, inspecting_unit_name="y",
                kind="inspection", inspected_on=date(2022, 1, 1))))


# -- reporting -------------------------------------------------------------------------------

PLAN = PlanPayload(id=50, number="41-KH/ĐUK", title="Kế hoạch thực hiện Chương trình 22-CTr/TU",
                   issuer_unit_id=1, issuer_name="Đảng ủy Khối", place="Trà Vinh", issued_on=date(2021, 12, 15),
                   tasks=[TaskPayload(id=59, code="II", title="Nhiệm vụ"),
                          TaskPayload(id=60, code="II.1", title="Quán triệt, cụ thể hóa", parent_code="II",
                                      due_on=date(2022, 3, 31))])
ASSIGNMENT = AssignmentCreatedPayload(id=100, plan_id=50, task_id=60, task_code="II.1",
                                      task_title="Quán triệt, cụ thể hóa", unit_id=3, unit_code="CB-STC",
                                      unit_name="Chi bộ Sở Tài chính", due_on=date(2022, 3, 31))


async def test_reporting_builds_the_read_model(reporting: Service) -> None:
    async with TestRabbitBroker(reporting.broker) as br:
        await publish(br, UnitCreatedV1(payload=CELL))
        await publish(br, PlanCreatedV1(payload=PLAN))
        await publish(br, AssignmentCreatedV1(payload=ASSIGNMENT))
        (row,) = reporting.all(ReportAssignment)
        assert (row.status, row.progress, row.version, row.due_on) == ("not_started", 0, 1, date(2022, 3, 31))
        await publish(br, status_event(2))
    assert [u.code for u in reporting.all(ReportUnit)] == ["CB-STC"]
    (plan,) = reporting.all(ReportPlan)
    assert plan.number == "41-KH/ĐUK" and plan.place == "Trà Vinh"
    assert {t.code: t.parent_code for t in reporting.all(ReportTask)} == {"II": None, "II.1": "II"}
    (row,) = reporting.all(ReportAssignment)
    assert (row.status, row.progress, row.version) == ("in_progress", 40, 2)
    assert row.difficulties == "Thiếu kinh phí." and row.reported_by == "Lê Văn Cường"
    assert row.completed_on is None


async def test_an_older_status_event_does_not_regress_the_read_model(reporting: Service) -> None:
    v2 = status_event(2)
    v3 = status_event(3, new_status="completed", progress=100, old_status="in_progress", day=6)
    async with TestRabbitBroker(reporting.broker) as br:
        await publish(br, AssignmentCreatedV1(payload=ASSIGNMENT))
        await publish(br, v3)  # overtook v2
        await publish(br, v2)
        await publish(br, v3)  # duplicate
        await publish(br, AssignmentCreatedV1(payload=ASSIGNMENT))  # late, separate event: version 1
    (row,) = reporting.all(ReportAssignment)
    assert (row.status, row.progress, row.version) == ("completed", 100, 3)
    assert row.summary == "Báo cáo lần 3" and row.completed_on == date(2022, 1, 6)
    assert len([p for p in reporting.all(ProcessedEvent) if p.event_id == v3.event_id]) == 1
    # each update is kept once, and each event archived once, duplicates or not
    assert sorted((u.version, u.status, u.review_state) for u in reporting.all(ReportUpdate)) == [
        (2, "in_progress", "pending"), (3, "completed", "pending")]
    archived = reporting.all(EventArchive)
    assert len(archived) == len({a.event_id for a in archived}) == 4
    assert parse_event(next(a.body for a in archived if a.event_id == v3.event_id)) == v3


async def test_completion_date_is_the_vietnamese_day(reporting: Service) -> None:
    # reported 01:30 on 1 April in Trà Vinh (still 31 March in UTC) against a 31 March deadline
    late = status_event(3, new_status="completed", progress=100, old_status="in_progress",
                        reported_at=datetime(2022, 3, 31, 18, 30, tzinfo=UTC))
    async with TestRabbitBroker(reporting.broker) as br:
        await publish(br, AssignmentCreatedV1(payload=ASSIGNMENT))
        await publish(br, late)
    (row,) = reporting.all(ReportAssignment)
    assert row.completed_on == date(2022, 4, 1)
    csv_text = exports.export_csv(ReportPlan(id=50, number="41-KH/ĐUK"), [row], date(2022, 4, 2), 7)
    assert "Hoàn thành trễ hạn" in csv_text and "01/04/2022 01:30" in csv_text


async def test_status_event_before_assignment_created_is_kept(reporting: Service) -> None:
    async with TestRabbitBroker(reporting.broker) as br:
        await publish(br, status_event(2))
        await publish(br, AssignmentCreatedV1(payload=ASSIGNMENT.model_copy(update={"role": "support"})))
    (row,) = reporting.all(ReportAssignment)
    assert (row.status, row.progress, row.version, row.role) == ("in_progress", 40, 2, "support")
    assert reporting.all(ReportPlan)[0].number == "41-KH/ĐUK"  # a placeholder plan until plan.created


# -- the whole chain: API outbox -> exchange -> both consumers ---------------------------------


async def test_api_outbox_rows_drive_both_services(world: World, tmp_path: Path) -> None:
    api = world.api
    # the supervisor's board and the bloc committee are in the world; officer A reports
    api.ok(api.post(f"/assignments/{world.a_assignment['id']}/updates",
                    {"status": "in_progress", "progress": 25, "difficulties": "Thiếu kinh phí."},
                    token=world.officer_a, request_id="req-chain"))
    n_url, r_url = f"sqlite:///{tmp_path}/n2.db", f"sqlite:///{tmp_path}/r2.db"
    migrate(n_url, notifications_app.MIGRATIONS)
    migrate(r_url, reporting_app.MIGRATIONS)
    notifications = Service(make_broker(AMQP), make_engine(n_url))
    reporting = Service(make_broker(AMQP), make_engine(r_url))
    notifications_consumers.register(notifications.broker, Mailroom(notifications.engine, NotificationsSettings(
        place="Trà Vinh", supervisor_mode="immediate")), lambda: None, lambda: None)
    reporting_consumers.register(reporting.broker, reporting.engine, ReportingSettings())
    try:
        async with TestRabbitBroker(notifications.broker, reporting.broker) as (br, _):
            send = outbox_publisher(br)
            for row in api.outbox():  # every event the API produced has a subscriber
                await send(row)
        emails = notifications.all(OutgoingEmail)
        supervisor = api.get("/me", token=world.supervisor).json()
        assert [e.recipient for e in emails] == [supervisor["email"]]
        assert emails[0].correlation_id == "req-chain" and "Thiếu kinh phí." in emails[0].body
        rows = reporting.all(ReportAssignment)
        by_id = {r.id: r for r in rows}
        assert by_id[world.a_assignment["id"]].progress == 25
        assert by_id[world.b_assignment["id"]].status == "not_started"
        with Session(reporting.engine) as s:
            plan = exports.get_plan(s, world.plan["id"])
            assert plan is not None
            csv_text = exports.export_csv(plan, export_rows(s, plan.id), date(2021, 12, 20), 7)
        assert "Đang thực hiện" in csv_text and "Chi bộ Sở Tài chính" in csv_text
    finally:
        notifications.engine.dispose()
        reporting.engine.dispose()


async def test_a_signin_link_is_emailed_once_to_its_address_even_when_muted(notifications: Service) -> None:
    from services.notifications import preferences
    from services.notifications.rules import Category
    from shared.events import SigninLinkPayload, SigninLinkRequestedV1

    with Session(notifications.engine) as s:  # the official mutes every category and reads digests
        preferences.store(s, 7, preferences.Mode.DIGEST, 7, [c.value for c in Category])
        s.commit()
    link = "https://plantrack.example.vn/signin/one-time-token"
    event = SigninLinkRequestedV1(correlation_id="req-signin", payload=SigninLinkPayload(
        official_id=7, name="Trần Văn Bình", title="Chuyên viên", email="binh@example.vn", link=link,
        expires_at=datetime(2026, 11, 27, 2, 45, tzinfo=UTC)))
    async with TestRabbitBroker(notifications.broker) as br:
        await publish(br, event)
        await publish(br, event)  # redelivery
    (email,) = notifications.all(OutgoingEmail)
    assert email.recipient == "binh@example.vn" and email.kind == "signin_link" and email.unsubscribe_url == ""
    assert f"Đăng nhập: {link}" in email.body and link in email.html and email.sent_at is None
    assert email.subject == "Đường dẫn đăng nhập Hệ thống theo dõi thực hiện kế hoạch"
    assert notifications.wakes == [1]
