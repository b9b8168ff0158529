"""Exports safe to open: no CSV cell a spreadsheet would run as a formula (OWASP CSV injection), and
no bidi or zero-width characters in CSV cells or emails, even from events of older producers."""

import csv
import io
from datetime import UTC, date, datetime

import pytest

from services.notifications.templates import review_round_email, status_changed_email, update_returned_email
from services.reporting.exports import CSV_HEADER, export_csv, review_csv
from services.reporting.models import ReportAssignment, ReportPlan
from services.reporting.progress import RoundUnit
from shared.events import (
    AssignmentStatusChangedPayload,
    AssignmentStatusChangedV1,
    ReviewRoundOpenedV1,
    StatusUpdateReviewedV1,
)
from shared.events.assignments import ReviewRoundPayload, UpdateReviewedPayload

TODAY = date(2022, 3, 28)
PLAN = ReportPlan(id=1, number="41-KH/ĐUK", title="Kế hoạch", place="Trà Vinh")
HOSTILE = [
    '=HYPERLINK("http://evil.example","x")', "+1+2", "-2+3", "@SUM(A1:A2)", "\t=1+1", "\r=1+1", "=cmd|' /C calc'!A0",
]
INVISIBLE = "\u202e\u2066\u200b\u200f\ufeff"


def rows_of(text: str) -> list[list[str]]:
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:], newline="")))


def assignment(**kw: object) -> ReportAssignment:
    fields: dict[str, object] = dict(
        id=1, plan_id=1, task_id=1, task_code="II.1", task_title="Quán triệt", unit_id=1, unit_code="CB-A",
        unit_name="Chi bộ A", status="in_progress", progress=40, summary="Đã làm", difficulties="",
        reported_by="Nguyễn Văn An",
    )
    return ReportAssignment(**(fields | kw))  # type: ignore[arg-type]


def cell(row: list[str], column: str) -> str:
    return row[CSV_HEADER.index(column)]


@pytest.mark.parametrize("value", HOSTILE)
@pytest.mark.parametrize("field, column", [
    ("summary", "Kết quả thực hiện"), ("difficulties", "Khó khăn, vướng mắc"), ("task_title", "Nhiệm vụ"),
    ("unit_name", "Đơn vị"), ("reported_by", "Người báo cáo"), ("task_code", "Mã nhiệm vụ"),
])
def test_a_cell_starting_like_a_formula_gets_a_leading_quote(field: str, column: str, value: str) -> None:
    (row,) = rows_of(export_csv(PLAN, [assignment(**{field: value})], TODAY, 7))[1:]
    assert cell(row, column) == "'" + value


def test_numbers_the_export_writes_stay_numbers() -> None:
    rows = rows_of(export_csv(PLAN, [assignment(progress=40), assignment(id=2, progress=0)], TODAY, 7))[1:]
    assert [(r[0], cell(r, "Tiến độ (%)")) for r in rows] == [("1", "40"), ("2", "0")]


def test_ordinary_text_is_left_alone() -> None:
    text = "Đã tổ chức 2 lớp; 15/15 đảng viên tham gia (100%) - đạt"
    (row,) = rows_of(export_csv(PLAN, [assignment(summary=text)], TODAY, 7))[1:]
    assert cell(row, "Kết quả thực hiện") == text


def test_bidi_and_zero_width_characters_never_reach_the_csv() -> None:
    row_in = assignment(summary=f"Đã{INVISIBLE} làm", unit_name=f"{INVISIBLE}=Chi bộ A")
    (row,) = rows_of(export_csv(PLAN, [row_in], TODAY, 7))[1:]
    assert cell(row, "Kết quả thực hiện") == "Đã làm"
    assert cell(row, "Đơn vị") == "'=Chi bộ A"  # stripped first, so the hidden formula is caught


@pytest.mark.parametrize("value", HOSTILE)
def test_review_export_cells_are_neutralised(value: str) -> None:
    unit = RoundUnit(unit_id=1, unit_name=value + INVISIBLE, expected=True, state="late",
                     submitted_at=datetime(2023, 7, 20, tzinfo=UTC), link=value)
    (row,) = rows_of(review_csv([unit]))[1:]
    assert row[0] == "1" and row[1] == "'" + value and row[4] == "'" + value


# -- emails ------------------------------------------------------------------------------------


def status_event(**changes: object) -> AssignmentStatusChangedV1:
    payload: dict[str, object] = dict(
        assignment_id=7, update_id=3, plan_id=1, plan_number="41-KH/ĐUK", task_id=4, task_code="II.1",
        task_title="Quán triệt", unit_id=6, unit_code="CB-STC", unit_name="Chi bộ Sở Tài chính",
        old_status="not_started", new_status="in_progress", progress=40, summary="Đã làm", difficulties="",
        due_on=date(2022, 3, 31), reported_by_id=9, reported_by_name="Nguyễn Văn An",
        reported_at=datetime(2021, 12, 15, 3, 5, tzinfo=UTC), version=2,
    )
    return AssignmentStatusChangedV1(correlation_id="req-42",
                                     payload=AssignmentStatusChangedPayload(**(payload | changes)))  # type: ignore[arg-type]


def test_status_email_carries_no_bidi_or_zero_width_characters() -> None:
    mail = status_changed_email(status_event(unit_name=f"Chi bộ{INVISIBLE} Sở Tài chính", summary=f"Đã{INVISIBLE} làm",
                                             task_title=f"\u202egnaoQ{INVISIBLE}"),
                                f"Lan{INVISIBLE}", f"Trà{INVISIBLE} Vinh")
    for char in INVISIBLE:
        assert char not in mail.subject and char not in mail.body
    assert mail.subject.startswith("[41-KH/ĐUK] Chi bộ Sở Tài chính cập nhật")
    assert "Đã làm" in mail.body.splitlines() and "Kính gửi đồng chí Lan," in mail.body


def test_returned_and_review_round_emails_carry_no_invisible_characters() -> None:
    returned = StatusUpdateReviewedV1(correlation_id="r", payload=UpdateReviewedPayload(
        update_id=3, assignment_id=7, plan_id=1, plan_number="41-KH/ĐUK", task_code="II.1",
        task_title=f"Quán{INVISIBLE} triệt", unit_id=6, unit_name=f"Chi bộ{INVISIBLE} A", decision="returned",
        reason=f"Thiếu{INVISIBLE} số liệu", reviewer_id=2, reviewer_name=f"Hà{INVISIBLE}",
        assignment_status="in_progress", assignment_progress=40, version=3,
        reviewed_at=datetime(2022, 1, 5, tzinfo=UTC)))
    opened = ReviewRoundOpenedV1(correlation_id="r", payload=ReviewRoundPayload(
        id=1, plan_id=1, plan_number="41-KH/ĐUK", kind="preliminary", title=f"Sơ kết{INVISIBLE}",
        period_end=date(2023, 6, 30), submit_by=date(2023, 7, 15), unit_ids=[6]))
    for mail in (update_returned_email(returned, "Lan", "Trà Vinh"),
                 review_round_email(opened, "Lan", f"Chi bộ{INVISIBLE} A", "Trà Vinh")):
        for char in INVISIBLE:
            assert char not in mail.subject and char not in mail.body


def test_an_email_subject_stays_one_line_whatever_the_event_holds() -> None:
    mail = status_changed_email(status_event(unit_name="Chi bộ A\r\nBcc: evil@example.com", task_code="II.1\x00"),
                                "Lan", "Trà Vinh")
    assert "\r" not in mail.subject and "\n" not in mail.subject and "\x00" not in mail.subject
    assert mail.subject.startswith("[41-KH/ĐUK] Chi bộ A Bcc: evil@example.com cập nhật")
    assert "\x00" not in mail.body
