"""Exports safe to open: no CSV cell a spreadsheet would run as a formula (OWASP CSV injection), and
no bidi or zero-width characters in CSV cells or emails, even from events of older producers."""

import csv
import io
from datetime import UTC, date, datetime

import pytest

from services.notifications.rendering import render
from services.reporting.exports import CSV_EXTRA_HEADER, CSV_HEADER, export_csv, review_csv
from services.reporting.models import ReportAssignment, ReportPlan
from services.reporting.progress import RoundUnit

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
    return row[(CSV_HEADER + CSV_EXTRA_HEADER).index(column)]


@pytest.mark.parametrize("value", HOSTILE)
@pytest.mark.parametrize("field, column", [
    ("summary", "Kết quả thực hiện"), ("difficulties", "Khó khăn, vướng mắc"), ("task_title", "Nhiệm vụ"),
    ("unit_name", "Đơn vị"), ("reported_by", "Người báo cáo"), ("task_code", "Mã nhiệm vụ"),
])
def test_a_cell_starting_like_a_formula_gets_a_leading_quote(field: str, column: str, value: str) -> None:
    (row,) = rows_of(export_csv(PLAN, [assignment(**{field: value})], TODAY, 7))[1:]
    assert cell(row, column) == "'" + value


@pytest.mark.parametrize("value", HOSTILE)
def test_new_csv_columns_are_neutralised(value: str) -> None:
    row_in = assignment(review_reason=value, evidence_links=[value], indicator_values={value: 1})
    (row,) = rows_of(export_csv(PLAN, [row_in], TODAY, 7, unit_plans={1: value}))[1:]
    for column in ("Lý do trả lại", "Minh chứng", "Giá trị chỉ tiêu", "Kế hoạch thực hiện của đơn vị"):
        assert cell(row, column).startswith("'"), column


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


COMMON = {"recipient_title": "", "place": "Trà Vinh", "today": date(2022, 1, 5), "link": "", "unsubscribe_url": "",
          "category": "status_update", "category_label": "Báo cáo", "reference": "req-42"}
STATUS = {"plan_number": "41-KH/ĐUK", "task_code": "II.1", "task_title": "Quán triệt",
          "unit_name": "Chi bộ Sở Tài chính",
          "old_status": "not_started", "new_status": "in_progress", "progress": 40, "summary": "Đã làm",
          "difficulties": "", "due_on": date(2022, 3, 31), "reported_by_name": "Nguyễn Văn An", "reported_by_title": "",
          "reported_at": datetime(2021, 12, 15, 3, 5, tzinfo=UTC), "evidence_links": [], "period": ""}


def test_status_email_carries_no_bidi_or_zero_width_characters() -> None:
    mail = render("status_reported", COMMON | STATUS | {
        "unit_name": f"Chi bộ{INVISIBLE} Sở Tài chính", "summary": f"Đã{INVISIBLE} làm",
        "task_title": f"\u202egnaoQ{INVISIBLE}", "recipient_name": f"Lan{INVISIBLE}", "place": f"Trà{INVISIBLE} Vinh"})
    for char in INVISIBLE:
        assert char not in mail.subject and char not in mail.text and char not in mail.html
    assert mail.subject.startswith("[41-KH/ĐUK] Chi bộ Sở Tài chính cập nhật")
    assert "Đã làm" in mail.text.splitlines() and "Kính gửi đồng chí Lan," in mail.text


def test_returned_and_review_round_emails_carry_no_invisible_characters() -> None:
    returned = render("update_returned", COMMON | {
        "recipient_name": "Lan", "plan_number": "41-KH/ĐUK", "task_code": "II.1",
        "task_title": f"Quán{INVISIBLE} triệt",
        "unit_name": f"Chi bộ{INVISIBLE} A", "reviewer_name": f"Hà{INVISIBLE}",
        "reviewed_at": datetime(2022, 1, 5, tzinfo=UTC), "reason": f"Thiếu{INVISIBLE} số liệu"})
    opened = render("review_round_opened", COMMON | {
        "recipient_name": "Lan", "plan_number": "41-KH/ĐUK", "round_kind": "preliminary",
        "round_title": f"Sơ kết{INVISIBLE}", "period_end": date(2023, 6, 30), "submit_by": date(2023, 7, 15),
        "unit_name": f"Chi bộ{INVISIBLE} A"})
    for mail in (returned, opened):
        for char in INVISIBLE:
            assert char not in mail.subject and char not in mail.text and char not in mail.html


def test_an_email_subject_stays_one_line_whatever_the_event_holds() -> None:
    mail = render("status_reported", COMMON | STATUS | {
        "recipient_name": "Lan", "unit_name": "Chi bộ A\r\nBcc: evil@example.com", "task_code": "II.1\x00"})
    assert "\r" not in mail.subject and "\n" not in mail.subject and "\x00" not in mail.subject
    assert mail.subject.startswith("[41-KH/ĐUK] Chi bộ A Bcc: evil@example.com cập nhật")
    assert "\x00" not in mail.text and "\x00" not in mail.html
