"""Who is emailed about a status change, and what the email says."""

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from email import message_from_bytes, policy
from pathlib import Path
from uuid import uuid4

import pytest
from sqlmodel import Session, select

from services.notifications import app as notifications_app
from services.notifications import handlers
from services.notifications.mailer import build_message
from services.notifications.mailroom import Mailroom
from services.notifications.models import DirectoryOfficial, DirectoryUnit, OutgoingEmail
from services.notifications.recipients import root_of, supervisors_for
from services.notifications.settings import NotificationsSettings
from shared.db import make_engine, migrate
from shared.events import (
    AssignmentStatusChangedPayload,
    AssignmentStatusChangedV1,
    OfficialCreatedV1,
    OfficialPayload,
    UnitCreatedV1,
    UnitPayload,
)

# Tree 1: Đảng ủy Khối (1) -> Ban Tuyên giáo (2), Ban Tổ chức (3), Đảng ủy Sở Y tế (4) -> Chi bộ Khoa Nội (5)
#                           -> Chi bộ Sở Tài chính (6), Đoàn Thanh niên (7)
# Tree 2: Đảng ủy Khối doanh nghiệp (10) -> Ban Tuyên giáo (11)
UNITS = {u.id: u for u in [
    DirectoryUnit(id=1, code="DUK", name="Đảng ủy Khối các cơ quan", kind="bloc_committee"),
    DirectoryUnit(id=2, code="BTG", name="Ban Tuyên giáo", kind="advisory_board", parent_id=1),
    DirectoryUnit(id=3, code="BTC", name="Ban Tổ chức", kind="advisory_board", parent_id=1),
    DirectoryUnit(id=4, code="DU-SYT", name="Đảng ủy Sở Y tế", kind="grassroots_committee", parent_id=1),
    DirectoryUnit(id=5, code="CB-KN", name="Chi bộ Khoa Nội", kind="party_cell", parent_id=4),
    DirectoryUnit(id=6, code="CB-STC", name="Chi bộ Sở Tài chính", kind="party_cell", parent_id=1),
    DirectoryUnit(id=7, code="DTN", name="Đoàn Thanh niên Khối", kind="mass_organisation", parent_id=1),
    DirectoryUnit(id=10, code="DUKDN", name="Đảng ủy Khối doanh nghiệp", kind="bloc_committee"),
    DirectoryUnit(id=11, code="BTG-DN", name="Ban Tuyên giáo DN", kind="advisory_board", parent_id=10),
]}


def official(id: int, unit_id: int | None, role: str = "supervisor", *, email: str | None = None,
             active: bool = True) -> DirectoryOfficial:
    return DirectoryOfficial(id=id, name=f"Đồng chí {id}", email=email or f"o{id}@example.vn", unit_id=unit_id,
                             role=role, active=active)


OFFICIALS = [
    official(101, 1),                          # bloc committee supervisor: yes
    official(102, 2),                          # advisory board supervisor: yes
    official(103, 3),                          # another advisory board: yes
    official(104, 4),                          # ancestor (grassroots committee) of unit 5: only for 5
    official(105, 6),                          # supervisor of a sibling party cell: no
    official(106, 7),                          # mass organisation in the same tree: no
    official(107, 11),                         # advisory board of another tree: no
    official(108, 10),                         # bloc committee of another tree: no
    official(109, 2, "unit_officer"),          # not a supervisor: no
    official(110, 2, "observer"),              # not a supervisor: no
    official(111, 2, active=False),            # inactive: no
    official(112, 3, email="O102@Example.VN"),  # same email as 102 (other case): only once
    official(113, None),                       # no unit: no
    official(114, 99),                         # unknown unit: no
]


def ids(officials: list[DirectoryOfficial]) -> list[int]:
    return [o.id for o in officials]


def test_supervisors_of_a_party_cell_directly_under_the_bloc_committee() -> None:
    assert ids(supervisors_for(6, UNITS, OFFICIALS)) == [101, 102, 103]


def test_supervisors_include_the_units_own_ancestors() -> None:
    assert ids(supervisors_for(5, UNITS, OFFICIALS)) == [101, 102, 103, 104]


def test_other_tree_is_separate() -> None:
    assert ids(supervisors_for(11, UNITS, OFFICIALS)) == [107, 108]


def test_reporter_is_left_out() -> None:
    chosen = ids(supervisors_for(5, UNITS, OFFICIALS, exclude_official_id=102))
    assert 102 not in chosen and {101, 103, 104} <= set(chosen)
    assert ids(supervisors_for(5, UNITS, OFFICIALS, exclude_official_id=104)) == [101, 102, 103]


def test_one_email_per_address_case_insensitively() -> None:
    chosen = supervisors_for(6, UNITS, OFFICIALS)
    emails = [o.email.lower() for o in chosen]
    assert len(emails) == len(set(emails))
    assert 112 not in ids(chosen)


def test_unknown_unit_gets_nobody_from_other_trees() -> None:
    assert supervisors_for(999, UNITS, OFFICIALS) == []


def test_root_of_and_cycles_terminate() -> None:
    assert root_of(5, UNITS) == 1 and root_of(11, UNITS) == 10 and root_of(1, UNITS) == 1
    cyclic = {
        1: DirectoryUnit(id=1, code="A", name="A", kind="advisory_board", parent_id=2),
        2: DirectoryUnit(id=2, code="B", name="B", kind="party_cell", parent_id=1),
    }
    root_of(2, cyclic)  # returns, does not loop
    assert ids(supervisors_for(2, cyclic, [official(1, 1)])) == [1]


def event(**changes: object) -> AssignmentStatusChangedV1:
    payload = dict(
        assignment_id=7, update_id=3, plan_id=1, plan_number="41-KH/ĐUK", task_id=4, task_code="II.1",
        task_title="Quán triệt, cụ thể hóa Chương trình 22-CTr/TU", unit_id=6, unit_code="CB-STC",
        unit_name="Chi bộ Sở Tài chính", old_status="not_started", new_status="in_progress", progress=40,
        summary="Đã tổ chức hội nghị quán triệt cho 100% đảng viên.", difficulties="Chưa bố trí được kinh phí.",
        due_on=date(2022, 3, 31), reported_by_id=9, reported_by_name="Nguyễn Văn An",
        reported_at=datetime(2021, 12, 15, 3, 5, tzinfo=UTC), version=2,
    )
    payload.update(changes)
    return AssignmentStatusChangedV1(correlation_id="req-42",
                                     payload=AssignmentStatusChangedPayload(**payload))  # type: ignore[arg-type]


Written = Callable[..., OutgoingEmail]


@pytest.fixture
def written(tmp_path: Path) -> Iterator[Written]:
    """The email the service writes for an event, to supervisor "Nguyễn Thị Lan" of board 2."""
    url = f"sqlite:///{tmp_path}/n.db"
    migrate(url, notifications_app.MIGRATIONS)
    engine = make_engine(url)
    room = Mailroom(engine, NotificationsSettings(place="Trà Vinh", supervisor_mode="immediate",
                                                  unsubscribe_secret="k"))
    for u in (UNITS[1], UNITS[2], UNITS[6]):
        handlers.record_unit(room, UnitCreatedV1(payload=UnitPayload(**u.model_dump(exclude={"email", "as_of"}))))
    handlers.record_official(room, OfficialCreatedV1(payload=OfficialPayload(
        id=102, name="Nguyễn Thị Lan", email="lan@example.vn", unit_id=2, role="supervisor")))

    def write(e: AssignmentStatusChangedV1, place: str = "Trà Vinh") -> OutgoingEmail:
        room.settings.place = place
        room._paper = None
        handlers.queue_status_emails(room, e)
        with Session(engine) as session:
            return session.exec(select(OutgoingEmail).where(OutgoingEmail.event_id == e.event_id)).one()

    yield write
    engine.dispose()


def test_email_subject_is_vietnamese(written: Written) -> None:
    mail = written(event())
    assert mail.subject == "[41-KH/ĐUK] Chi bộ Sở Tài chính cập nhật nhiệm vụ II.1: Đang thực hiện (40%)"


def test_email_body_has_labels_date_line_and_details(written: Written) -> None:
    body = written(event()).body
    lines = body.splitlines()
    assert lines[0] == "Trà Vinh, ngày 15 tháng 12 năm 2021"
    assert "Kính gửi đồng chí Nguyễn Thị Lan," in lines
    assert "  Nhiệm vụ:    II.1. Quán triệt, cụ thể hóa Chương trình 22-CTr/TU" in lines
    assert "  Trạng thái:  Chưa triển khai → Đang thực hiện" in lines
    assert "  Tiến độ:     40%" in lines
    assert "  Thời hạn:    31/03/2022" in lines
    assert "Kết quả thực hiện:" in lines and "Đã tổ chức hội nghị quán triệt cho 100% đảng viên." in lines
    i = lines.index("Khó khăn, vướng mắc:")
    assert lines[i + 1] == "Chưa bố trí được kinh phí."
    # 03:05 UTC is 10:05 in Vietnam
    assert "Người báo cáo: đồng chí Nguyễn Văn An, lúc 10 giờ 05, ngày 15/12/2021." in lines
    assert "Xem chi tiết: http://127.0.0.1:8001/board/plans/1" in lines  # the plan board, where it is reviewed
    assert "Mã tham chiếu: req-42" in lines
    assert "Trân trọng," in lines


def test_email_date_is_the_vietnamese_calendar_day(written: Written) -> None:
    # 18:30 UTC on the 14th is 01:30 on the 15th in Vietnam
    body = written(event(reported_at=datetime(2021, 12, 14, 18, 30, tzinfo=UTC))).body
    assert body.startswith("Trà Vinh, ngày 15 tháng 12 năm 2021\n")
    assert "lúc 01 giờ 30, ngày 15/12/2021" in body
    body = written(event(reported_at=datetime(2022, 1, 4, 20, 0, tzinfo=UTC))).body
    assert body.startswith("Trà Vinh, ngày 05 tháng 01 năm 2022\n")


@pytest.mark.parametrize("empty", ["difficulties", "summary"])
def test_empty_sections_are_left_out(empty: str, written: Written) -> None:
    body = written(event(**{empty: ""})).body
    heading = {"difficulties": "Khó khăn, vướng mắc:", "summary": "Kết quả thực hiện:"}[empty]
    other = {"difficulties": "Kết quả thực hiện:", "summary": "Khó khăn, vướng mắc:"}[empty]
    assert heading not in body
    assert other in body


def test_no_deadline_and_no_reporter_name(written: Written) -> None:
    mail = written(event(due_on=None, reported_by_name="", new_status="completed", progress=100,
                         old_status="in_progress"))
    assert "Thời hạn" not in mail.body
    assert "đồng chí ," not in mail.body and "lúc 10 giờ 05, ngày 15/12/2021" in mail.body
    assert mail.subject.endswith("Đã hoàn thành (100%)")
    assert "Đang thực hiện → Đã hoàn thành" in mail.body


def test_reference_falls_back_to_event_id(written: Written) -> None:
    e = AssignmentStatusChangedV1(payload=event().payload)
    assert f"Mã tham chiếu: {e.event_id}" in written(e).body


def test_mime_message_of_a_rendered_email(written: Written) -> None:
    e = event()
    row = mail = written(e)
    parsed = message_from_bytes(build_message(row, "plantrack <no-reply@example.org>"), policy=policy.default)
    assert parsed["Subject"] == mail.subject
    assert parsed["To"] == "Nguyễn Thị Lan <lan@example.vn>"
    assert parsed["Message-ID"] == f"<{e.event_id}.102@plantrack>"
    assert parsed["X-Correlation-ID"] == "req-42" and parsed["X-Plantrack-Event-ID"] == str(e.event_id)
    plain = parsed.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert plain.replace("\r\n", "\n").rstrip("\n") == mail.body.rstrip("\n")  # CRLF, as on the wire


def test_line_breaks_in_names_do_not_break_the_headers(written: Written) -> None:
    # names come from admins and imported documents; a line break must not make the send fail forever
    mail = written(event(unit_name="Chi bộ\nSở Tài chính", plan_number="41-KH/\r\nĐUK"), place="")
    row = OutgoingEmail(event_id=uuid4(), event_type="assignment.status_changed.v1", recipient="lan@example.vn",
                        recipient_name="Nguyễn\nThị Lan", subject=mail.subject, body=mail.body, message_id="<x@y>")
    parsed = message_from_bytes(build_message(row, "plantrack <no-reply@example.org>"), policy=policy.default)
    assert parsed["Subject"].startswith("[41-KH/ ĐUK] Chi bộ Sở Tài chính cập nhật")
    assert parsed["To"] == "Nguyễn Thị Lan <lan@example.vn>"
