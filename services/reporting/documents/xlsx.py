"""The review workbook (XLSX): summary, per unit, per task, overdue, indicators and a round's reports.

Written with XlsxWriter: real dates, frozen header rows, auto filters, widths fitted to the content.
Every text cell goes through exports.safe_cell() and is written as text, never as a formula."""

import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

import xlsxwriter  # type: ignore[import-untyped]
from xlsxwriter.format import Format  # type: ignore[import-untyped]
from xlsxwriter.worksheet import Worksheet  # type: ignore[import-untyped]

from services.reporting.documents.data import PlanReport
from services.reporting.exports import safe_cell
from shared.due import DueState
from shared.vietnamese import (
    DUE_STATE_LABELS,
    REPORTING_PERIOD_LABELS,
    ROLE_LABELS,
    STATUS_LABELS,
    SUBMISSION_STATE_LABELS,
    local_time,
    review_kind_label,
    status_label,
)

SHEET_SUMMARY = "Tổng hợp"
SHEET_UNITS = "Theo đơn vị"
SHEET_TASKS = "Theo nhiệm vụ"
SHEET_OVERDUE = "Quá hạn"
SHEET_INDICATORS = "Chỉ tiêu"

UNIT_HEADER = ["STT", "Mã đơn vị", "Đơn vị", "Số nhiệm vụ được giao", "Đã hoàn thành", "Đang thực hiện",
               "Chưa triển khai", "Quá hạn", "Tỷ lệ hoàn thành", "Kế hoạch thực hiện của đơn vị"]
TASK_HEADER = ["STT", "Mã nhiệm vụ", "Nhiệm vụ", "Loại nhiệm vụ", "Thời hạn", "Số đơn vị được giao", "Đã hoàn thành",
               "Đang thực hiện", "Chưa triển khai", "Quá hạn", "Tiến độ bình quân (%)"]
OVERDUE_HEADER = ["STT", "Mã nhiệm vụ", "Nhiệm vụ", "Đơn vị", "Vai trò", "Thời hạn", "Trạng thái", "Tiến độ (%)",
                  "Tình trạng thời hạn", "Khó khăn, vướng mắc", "Người báo cáo", "Cập nhật lần cuối"]
INDICATOR_HEADER = ["STT", "Mã nhiệm vụ", "Mã chỉ tiêu", "Chỉ tiêu", "Đơn vị tính", "Chỉ tiêu kế hoạch",
                    "Kết quả thực hiện (tổng)", "Số lượt đơn vị báo cáo", "Tỷ lệ đạt"]
ROUND_HEADER = ["STT", "Đơn vị", "Đã nộp", "Đúng hạn", "Tình trạng nộp báo cáo", "Thời gian nộp", "Tóm tắt",
                "Kết quả đạt được", "Khó khăn, vướng mắc", "Đề xuất, kiến nghị", "Đường dẫn báo cáo"]
TASK_KIND_LABELS = {"ongoing": "Thường xuyên", "one_off": "Có thời hạn"}
MAX_WIDTH = 60
WRAP_FROM = 40  # columns wider than this wrap their text


def round_sheet_name(kind: str) -> str:
    """"Báo cáo sơ kết" or "Báo cáo tổng kết"."""
    return f"Báo cáo {review_kind_label(kind)}"[:31]


class _Book:
    def __init__(self, out: io.BytesIO) -> None:
        self.wb = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_formulas": False,
                                           "strings_to_urls": False, "strings_to_numbers": False})
        font = {"font_name": "Times New Roman", "font_size": 12, "valign": "top"}
        self.text = self.wb.add_format(font)
        self.wrap = self.wb.add_format(font | {"text_wrap": True})
        self.head = self.wb.add_format(font | {"bold": True, "text_wrap": True, "align": "center",
                                               "valign": "vcenter", "bg_color": "#DDEBF7", "border": 1})
        self.date = self.wb.add_format(font | {"num_format": "dd/mm/yyyy", "align": "left"})
        self.moment = self.wb.add_format(font | {"num_format": "dd/mm/yyyy hh:mm", "align": "left"})
        self.percent = self.wb.add_format(font | {"num_format": "0.0%"})
        self.number = self.wb.add_format(font | {"num_format": "#,##0.##"})
        self.title = self.wb.add_format(font | {"bold": True, "font_size": 14})
        self.bold = self.wb.add_format(font | {"bold": True})
        self._texts: dict[str, tuple[str, int]] = {}
        self._moments: dict[datetime, datetime] = {}

    def cell(self, ws: Worksheet, row: int, col: int, value: Any, fmt: Format | None = None) -> int:
        """Write one typed cell; returns the width its content needs."""
        if isinstance(value, str) and value:
            text, width = self._text(value)
            ws.write_string(row, col, text, fmt or self.text)
            return width
        if value is None or value == "":
            return 0  # nothing to show: no cell (a sheet of thousands of rows writes faster)
        if isinstance(value, bool):
            return self.cell(ws, row, col, "Có" if value else "Không", fmt)
        if isinstance(value, datetime):
            ws.write_datetime(row, col, self._local(value), fmt or self.moment)
            return 16
        if isinstance(value, date):
            ws.write_datetime(row, col, datetime(value.year, value.month, value.day), fmt or self.date)
            return 10
        ws.write_number(row, col, value, fmt or self.number)
        return len(f"{value:,}") if isinstance(value, int) else 8

    def _text(self, value: str) -> tuple[str, int]:
        """A text as written (safe_cell) and the width it needs; the same names and labels fill most
        cells, so each distinct text is worked out once."""
        found = self._texts.get(value)
        if found is None:
            text = str(safe_cell(value))
            found = self._texts[value] = (text, max((len(line) for line in text.splitlines()), default=0))
        return found

    def _local(self, moment: datetime) -> datetime:
        """A moment as the Vietnamese wall-clock time Excel shows."""
        found = self._moments.get(moment)
        if found is None:
            found = self._moments[moment] = local_time(moment).replace(tzinfo=None)
        return found

    def table(self, name: str, header: list[str], rows: Iterable[Sequence[Any]],
              formats: dict[int, Format] | None = None, *, top: int = 0, ws: Worksheet | None = None) -> Worksheet:
        """A sheet (or the rest of `ws` from row `top`) with a frozen header row and an auto filter."""
        ws = ws or self.wb.add_worksheet(name)
        formats = formats or {}
        widths = [min(max(len(w) for w in h.split()) + 2, 14) if len(h) > 14 else len(h) + 2 for h in header]
        for c, h in enumerate(header):
            ws.write_string(top, c, h, self.head)
        r = top
        for r, row in enumerate(rows, start=top + 1):
            for c, value in enumerate(row):
                width = self.cell(ws, r, c, value, formats.get(c)) + 1
                if width > widths[c]:
                    widths[c] = width
        for c, w in enumerate(widths):
            width = min(w, MAX_WIDTH)
            ws.set_column(c, c, width, self.wrap if width >= WRAP_FROM else None)
        ws.set_row(top, 32)
        ws.freeze_panes(top + 1, 0)
        ws.autofilter(top, 0, r, len(header) - 1)
        return ws


def _due_cell(report: PlanReport, row: Any) -> object:
    if report.kinds.get(row.task_id, row.task_kind) == "ongoing":
        return f"Báo cáo {REPORTING_PERIOD_LABELS.get(report.plan.reporting_period, report.plan.reporting_period)}"
    return row.due_on


def _summary(book: _Book, report: PlanReport) -> None:
    ws = book.wb.add_worksheet(SHEET_SUMMARY)
    plan = report.plan
    ws.write_string(0, 0, "TỔNG HỢP KẾT QUẢ THỰC HIỆN", book.title)
    facts: list[tuple[str, Any]] = [
        ("Văn bản", report.plan_label()), ("Trích yếu", plan.title), ("Cơ quan ban hành", plan.issuer_name),
        ("Ngày ban hành", plan.issued_on), ("Số liệu tính đến ngày", report.today),
    ]
    if report.round is not None:
        rnd = report.round
        facts += [("Đợt", f"{review_kind_label(rnd.kind).capitalize()}: {rnd.title}"),
                  ("Kỳ báo cáo đến ngày", rnd.period_end), ("Hạn nộp báo cáo", rnd.submit_by)]
    for i, (label, value) in enumerate(facts, start=1):
        ws.write_string(i, 0, label, book.bold)
        book.cell(ws, i, 1, value, book.wrap if isinstance(value, str) else None)
    top = len(facts) + 2
    rows: list[tuple[str, str, Any, Any]] = [("Tổng số lượt giao nhiệm vụ", "", report.total, None)]

    def rate(n: int) -> float:
        return n / report.total if report.total else 0.0

    rows += [("Theo trạng thái", label, report.by_status.get(code, 0), rate(report.by_status.get(code, 0)))
             for code, label in STATUS_LABELS.items()]
    rows += [("Theo thời hạn", DUE_STATE_LABELS[s.value], report.by_due_state.get(s.value, 0),
              rate(report.by_due_state.get(s.value, 0))) for s in DueState]
    rows += [("Tỷ lệ hoàn thành", "Đã hoàn thành / tổng số", report.completed, report.completion_rate),
             ("Tỷ lệ hoàn thành đúng hạn", "Hoàn thành đúng hạn / hoàn thành có thời hạn",
              report.by_due_state.get("completed_on_time", 0), report.on_time_rate),
             ("Số đơn vị", "", len(report.units), None),
             ("Số đơn vị đã có kế hoạch thực hiện", "", sum(1 for u in report.units if u.unit_plans), None)]
    if report.round is not None:
        subs = report.submissions
        for state, label in SUBMISSION_STATE_LABELS.items():
            n = sum(1 for s in subs if s.state == state)
            rows.append(("Báo cáo " + review_kind_label(report.round.kind), label, n, n / len(subs) if subs else 0.0))
    book.table(SHEET_SUMMARY, ["Nội dung", "Chi tiết", "Số lượng", "Tỷ lệ"], rows, {3: book.percent}, top=top, ws=ws)
    ws.set_column(0, 0, 36, book.wrap)
    ws.set_column(1, 1, 48, book.wrap)


def write_workbook(report: PlanReport) -> bytes:
    """The workbook of `report`: the plan's sheets, and the round's when the report has one."""
    out = io.BytesIO()
    book = _Book(out)
    _summary(book, report)
    if report.round is not None:
        book.table(round_sheet_name(report.round.kind), ROUND_HEADER, (
            [n, s.unit_name, s.state != "missing", None if s.state == "missing" else s.state == "on_time",
             SUBMISSION_STATE_LABELS[s.state], s.submitted_at, s.summary, s.results, s.difficulties, s.proposals,
             s.link] for n, s in enumerate(report.submissions, start=1)))
    book.table(SHEET_UNITS, UNIT_HEADER, (
        [n, u.code, u.name, u.assigned, u.completed, u.in_progress, u.not_started, u.overdue, u.completion_rate,
         "; ".join(u.unit_plans)] for n, u in enumerate(report.units, start=1)), {8: book.percent})
    book.table(SHEET_TASKS, TASK_HEADER, (
        [n, t.code, t.title, TASK_KIND_LABELS.get(t.kind, t.kind), None if t.kind == "ongoing" else t.due_on,
         t.assigned, t.completed, t.in_progress, t.not_started, t.overdue, round(t.average_progress, 1)]
        for n, t in enumerate(report.tasks, start=1)))
    book.table(SHEET_OVERDUE, OVERDUE_HEADER, (
        [n, r.task_code, r.task_title, report.unit_name(r), ROLE_LABELS.get(r.role, r.role), _due_cell(report, r),
         status_label(r.status), r.progress, DUE_STATE_LABELS[report.states[r.id]], r.difficulties, r.reported_by,
         r.reported_at] for n, r in enumerate(report.overdue, start=1)))
    book.table(SHEET_INDICATORS, INDICATOR_HEADER, (
        [n, i.task_code, i.code, i.name, i.unit_of_measure, i.target, i.achieved, i.reporting_units, i.rate]
        for n, i in enumerate(report.indicators, start=1)), {8: book.percent})
    book.wb.close()
    return out.getvalue()
