"""Notifications over the oversight events on FastStream's TestRabbitBroker and SQLite: directory updates,
the email to a unit whose update was returned, and the request for review reports when a round opens."""

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from faststream.rabbit import RabbitBroker, TestRabbitBroker
from sqlalchemy import Engine
from sqlmodel import Session, select

from services.notifications import app as notifications_app
from services.notifications import consumers
from services.notifications.mailroom import Mailroom
from services.notifications.models import DirectoryOfficial, OutgoingEmail
from services.notifications.recipients import unit_officers
from services.notifications.settings import NotificationsSettings
from shared.db import make_engine, migrate
from shared.events import (
    OfficialCreatedV1,
    OfficialPayload,
    OfficialUpdatedV1,
    ReviewRoundOpenedV1,
    ReviewRoundPayload,
    StatusUpdateReviewedV1,
    UnitCreatedV1,
    UnitPayload,
    UpdateReviewedPayload,
    parse_event,
)
from shared.messaging.broker import make_broker
from shared.messaging.inbox import ProcessedEvent
from tests.support.events import publish

AMQP = "amqp://guest:guest@127.0.0.1:5672/"  # never connected: TestRabbitBroker patches the broker


@dataclass
class Notifications:
    broker: RabbitBroker
    engine: Engine
    wakes: list[int] = field(default_factory=list)

    def all(self, model: type) -> list:  # type: ignore[type-arg]
        with Session(self.engine) as s:
            return list(s.exec(select(model)).all())

    def emails(self) -> list[OutgoingEmail]:
        return sorted((e for e in self.all(OutgoingEmail) if e.recipient), key=lambda e: e.recipient)

    def warnings(self) -> list[OutgoingEmail]:
        return [e for e in self.all(OutgoingEmail) if not e.recipient]

    def official(self, id: int) -> DirectoryOfficial | None:
        with Session(self.engine) as s:
            return s.get(DirectoryOfficial, id)


@pytest.fixture
def notifications(tmp_path: Path) -> Iterator[Notifications]:
    url = f"sqlite:///{tmp_path}/notifications.db"
    migrate(url, notifications_app.MIGRATIONS)
    engine = make_engine(url)
    service = Notifications(make_broker(AMQP), engine)
    room = Mailroom(engine, NotificationsSettings(place="Trà Vinh", supervisor_mode="immediate"))
    consumers.register(service.broker, room, lambda: service.wakes.append(1), lambda: None)
    yield service
    engine.dispose()


# Đảng ủy Khối (1) -> Ban Tuyên giáo (2), Chi bộ Sở Tài chính (3), Chi bộ Sở Y tế (4), Chi bộ Sở Giáo dục (5)
UNITS = [
    UnitPayload(id=1, code="DUK", name="Đảng ủy Khối các cơ quan", kind="bloc_committee"),
    UnitPayload(id=2, code="BTG", name="Ban Tuyên giáo", kind="advisory_board", parent_id=1),
    UnitPayload(id=3, code="CB-STC", name="Chi bộ Sở Tài chính", kind="party_cell", parent_id=1),
    UnitPayload(id=4, code="CB-SYT", name="Chi bộ Sở Y tế", kind="party_cell", parent_id=1),
    UnitPayload(id=5, code="CB-SGD", name="Chi bộ Sở Giáo dục", kind="party_cell", parent_id=1),
]


def person(id: int, unit_id: int, role: str = "unit_officer", *, email: str | None = None,
           active: bool = True, name: str | None = None) -> OfficialPayload:
    return OfficialPayload(id=id, name=name or f"Đồng chí {id}", email=email or f"o{id}@example.vn",
                           unit_id=unit_id, role=role, active=active)


OFFICIALS = [
    person(10, 2, "supervisor", name="Nguyễn Thị Lan"),
    person(11, 3, name="Lê Văn Cường"),                  # officer of cell 3
    person(12, 3, name="Phạm Thị Dung"),                 # a second officer of cell 3
    person(13, 3, active=False),                         # inactive: never emailed
    person(14, 3, "observer"),                           # not an officer
    person(15, 4, name="Võ Văn Em"),                     # officer of cell 4
    person(16, 5, email="O11@example.vn"),               # same address as 11, another unit
]


async def load_directory(broker: RabbitBroker) -> None:
    await publish(broker, *(UnitCreatedV1(payload=u) for u in UNITS))
    await publish(broker, *(OfficialCreatedV1(occurred_at=datetime(2024, 1, 1, tzinfo=UTC), payload=o)
                            for o in OFFICIALS))


def reviewed(decision: str, *, unit_id: int = 3, reason: str = "") -> StatusUpdateReviewedV1:
    return StatusUpdateReviewedV1(correlation_id="req-review", payload=UpdateReviewedPayload(
        update_id=11, assignment_id=7, plan_id=3, plan_number="41-KH/ĐUK", task_code="III.1",
        task_title="Cụ thể hóa thành kế hoạch của chi bộ", unit_id=unit_id, unit_name="Chi bộ Sở Tài chính",
        decision=decision, reason=reason, reviewer_id=10, reviewer_name="Nguyễn Thị Lan",
        assignment_status="not_started", assignment_progress=0, version=3,
        reviewed_at=datetime(2024, 3, 4, 1, 30, tzinfo=UTC),
    ))


def round_opened(kind: str = "preliminary", unit_ids: tuple[int, ...] = (3, 4)) -> ReviewRoundOpenedV1:
    # 18:00 UTC on 30 June is already 1 July in Trà Vinh: the date line uses local time
    return ReviewRoundOpenedV1(occurred_at=datetime(2024, 6, 30, 18, 0, tzinfo=UTC), correlation_id="req-round",
                               payload=ReviewRoundPayload(
        id=5, plan_id=3, plan_number="41-KH/ĐUK", kind=kind, title="Sơ kết 6 tháng đầu năm 2024",
        period_end=date(2024, 6, 30), submit_by=date(2024, 7, 15), unit_ids=list(unit_ids),
    ))


# -- recipients -----------------------------------------------------------------------------------


def test_unit_officers_are_the_active_officers_of_the_units_one_per_address() -> None:
    directory = [DirectoryOfficial(**o.model_dump()) for o in OFFICIALS]
    assert [o.id for o in unit_officers([3], directory)] == [11, 12]
    assert [o.id for o in unit_officers([4, 3], directory)] == [15, 11, 12]
    assert [o.id for o in unit_officers([5, 3], directory)] == [16, 12]  # 11 shares 16's address
    assert unit_officers([2, 99], directory) == []  # supervisors are not unit officers; unknown unit: nobody


# -- official.updated -----------------------------------------------------------------------------


async def test_official_updates_change_role_active_flag_and_email(notifications: Notifications) -> None:
    async with TestRabbitBroker(notifications.broker) as br:
        await load_directory(br)
        await publish(br, OfficialUpdatedV1(payload=person(11, 3, "supervisor", name="Lê Văn Cường")),
                      OfficialUpdatedV1(payload=person(12, 3, email="dung.moi@example.vn", name="Phạm Thị Dung")),
                      OfficialUpdatedV1(payload=person(15, 4, active=False)),
                      OfficialUpdatedV1(payload=person(13, 3)))  # reactivated
        await publish(br, reviewed("returned", reason="Thiếu số liệu"), round_opened(unit_ids=(4,)))
    assert notifications.official(11).role == "supervisor"  # type: ignore[union-attr]
    assert notifications.official(15).active is False  # type: ignore[union-attr]
    assert [e.recipient for e in notifications.emails()] == ["dung.moi@example.vn", "o13@example.vn"]


async def test_an_update_that_overtook_the_creation_wins(notifications: Notifications) -> None:
    created = OfficialCreatedV1(occurred_at=datetime(2024, 1, 1, tzinfo=UTC), payload=person(20, 3))
    updated = OfficialUpdatedV1(occurred_at=datetime(2024, 1, 2, tzinfo=UTC), payload=person(20, 3, active=False))
    async with TestRabbitBroker(notifications.broker) as br:
        await publish(br, updated, created, updated)
    official = notifications.official(20)
    assert official is not None and official.active is False
    assert len([p for p in notifications.all(ProcessedEvent) if p.event_id == updated.event_id]) == 1


# -- status_update.reviewed -----------------------------------------------------------------------


async def test_returned_update_emails_the_units_officers(notifications: Notifications) -> None:
    event = reviewed("returned", reason="Chưa có số liệu minh chứng kết quả quán triệt.")
    async with TestRabbitBroker(notifications.broker) as br:
        await load_directory(br)
        await publish(br, event)
    emails = notifications.emails()
    assert [(e.recipient, e.recipient_name) for e in emails] == [
        ("o11@example.vn", "Lê Văn Cường"), ("o12@example.vn", "Phạm Thị Dung")]
    for e in emails:
        assert e.subject == "[41-KH/ĐUK] Báo cáo nhiệm vụ III.1 của Chi bộ Sở Tài chính bị trả lại"
        assert e.body.startswith("Trà Vinh, ngày 04 tháng 3 năm 2024\n")
        assert f"Kính gửi đồng chí {e.recipient_name}," in e.body
        assert "Chưa có số liệu minh chứng kết quả quán triệt." in e.body
        assert "gửi lại báo cáo" in e.body and "Nguyễn Thị Lan" in e.body
        assert "08 giờ 30, ngày 04/03/2024" in e.body  # reviewed at 01:30 UTC
        assert (e.event_type, e.correlation_id) == ("status_update.reviewed.v1", "req-review")
        assert e.message_id.startswith(f"<{event.event_id}.")
    assert notifications.wakes == [1]


async def test_duplicate_returned_review_gives_one_email_per_officer(notifications: Notifications) -> None:
    event = reviewed("returned", reason="Thiếu số liệu")
    async with TestRabbitBroker(notifications.broker) as br:
        await load_directory(br)
        await publish(br, event, event, parse_event(event.model_dump_json()))
    assert len(notifications.emails()) == 2
    assert notifications.wakes == [1]


async def test_accepted_review_sends_nothing(notifications: Notifications) -> None:
    event = reviewed("accepted")
    async with TestRabbitBroker(notifications.broker) as br:
        await publish(br, event)  # no email, so the directory need not know the unit
    assert notifications.emails() == [] and notifications.wakes == []
    assert [p.event_id for p in notifications.all(ProcessedEvent)] == [event.event_id]


async def test_returned_review_for_an_unknown_unit_is_retried(notifications: Notifications) -> None:
    event = reviewed("returned", reason="x")
    async with TestRabbitBroker(notifications.broker) as br:
        # DirectoryNotReady is not the message's fault: the consumer holds it and retries in-process
        handling = asyncio.create_task(publish(br, event))
        await asyncio.sleep(1.0)
        assert not handling.done()
        assert notifications.all(OutgoingEmail) == [] and notifications.all(ProcessedEvent) == []
        await load_directory(br)
        await asyncio.wait_for(handling, 10)  # the retry succeeds
    assert len(notifications.emails()) == 2


# -- review_round.opened --------------------------------------------------------------------------


async def test_opened_round_asks_every_expected_unit_for_its_report(notifications: Notifications) -> None:
    event = round_opened()
    async with TestRabbitBroker(notifications.broker) as br:
        await load_directory(br)
        await publish(br, event)
    emails = notifications.emails()
    assert [e.recipient for e in emails] == ["o11@example.vn", "o12@example.vn", "o15@example.vn"]
    for e in emails:
        assert e.subject == "[41-KH/ĐUK] Đề nghị báo cáo sơ kết thực hiện kế hoạch, hạn nộp 15/07/2024"
        assert e.body.startswith("Trà Vinh, ngày 01 tháng 7 năm 2024\n")
        assert "báo cáo sơ kết" in e.body and "Kế hoạch số 41-KH/ĐUK" in e.body
        assert "ngày 30/06/2024" in e.body and "chậm nhất ngày 15/07/2024" in e.body
        assert e.correlation_id == "req-round"
    by_recipient = {e.recipient: e.body for e in emails}
    assert "đề nghị Chi bộ Sở Tài chính báo cáo" in by_recipient["o11@example.vn"]
    assert "đề nghị Chi bộ Sở Y tế báo cáo" in by_recipient["o15@example.vn"]
    assert notifications.wakes == [1]


async def test_final_round_says_tong_ket_and_is_idempotent(notifications: Notifications) -> None:
    event = round_opened("final", unit_ids=(4,))
    async with TestRabbitBroker(notifications.broker) as br:
        await load_directory(br)
        await publish(br, event, event)
    (email,) = notifications.emails()
    assert "báo cáo tổng kết" in email.subject and "báo cáo tổng kết" in email.body


async def test_round_with_an_unknown_unit_is_retried(notifications: Notifications) -> None:
    event = round_opened(unit_ids=(3, 99))
    async with TestRabbitBroker(notifications.broker) as br:
        await load_directory(br)
        handling = asyncio.create_task(publish(br, event))
        await asyncio.sleep(1.0)
        assert not handling.done()
        assert notifications.all(OutgoingEmail) == []
        await publish(br, UnitCreatedV1(payload=UnitPayload(id=99, code="CB-X", name="Chi bộ X", kind="party_cell")))
        await asyncio.wait_for(handling, 10)
    assert [e.recipient for e in notifications.emails()] == ["o11@example.vn", "o12@example.vn"]
