"""Review exports: the tables the committee reads, in Vietnamese."""

import csv
import io
import re
import unicodedata
from datetime import date, datetime
from typing import Any

from sqlmodel import Session, select

from services.reporting.models import ReportAssignment, ReportPlan, ReportReviewRound
from services.reporting.progress import RoundUnit, due_states
from shared.validation import strip_invisible
from shared.vietnamese import (
    DUE_STATE_LABELS,
    REPORTING_PERIOD_LABELS,
    ROLE_LABELS,
    SUBMISSION_STATE_LABELS,
    local_time,
    review_kind_label,
    short_date,
    status_label,
)

CSV_HEADER = [
    "STT", "Mã nhiệm vụ", "Nhiệm vụ", "Đơn vị", "Vai trò", "Thời hạn", "Trạng thái", "Tiến độ (%)",
    "Tình trạng thời hạn", "Kết quả thực hiện", "Khó khăn, vướng mắc", "Người báo cáo", "Cập nhật lần cuối",
]
REVIEW_CSV_HEADER = ["STT", "Đơn vị", "Tình trạng nộp báo cáo", "Thời gian nộp", "Đường dẫn báo cáo"]


def _task_sort_key(code: str) -> tuple:
    parts = []
    for part in code.split("."):
        roman = {"I": 1, "II": 2, "III": 3, "IV": 4, "V": 5, "VI": 6, "VII": 7, "VIII": 8, "IX": 9, "X": 10}
        parts.append((0, roman[part], "") if part in roman else (1, int(part), "") if part.isdigit() else (2, 0, part))
    return tuple(parts)


def plan_rows(session: Session, plan_id: int) -> list[ReportAssignment]:
    """The plan's assignments in document order, then by unit."""
    rows = session.exec(select(ReportAssignment).where(ReportAssignment.plan_id == plan_id)).all()
    return sorted(rows, key=lambda r: (_task_sort_key(r.task_code), r.unit_code, r.id))


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> object:
    """A cell a spreadsheet shows as it is (OWASP, CSV injection).

    Text loses bidi and zero-width characters, then, if it starts with = + - @ tab or CR, gets a
    leading "'" so that no spreadsheet runs it as a formula. Only text is touched: numbers the
    export itself computes (row number, progress) are ints and stay numbers, even negative ones;
    a number typed by a user inside a text ("-5 đảng viên") is text and gets the quote.
    """
    if not isinstance(value, str):
        return value
    text = strip_invisible(value)
    return "'" + text if text.startswith(FORMULA_START) else text


class _SafeWriter:
    """A csv writer whose rows go through safe_cell()."""

    def __init__(self, out: io.StringIO) -> None:
        self._writer = csv.writer(out, lineterminator="\r\n")

    def writerow(self, row: list[Any]) -> None:
        """Write one row of neutralised cells."""
        self._writer.writerow([safe_cell(value) for value in row])


def _spreadsheet_csv(header: list[str]) -> tuple[io.StringIO, _SafeWriter]:
    """A CSV buffer that spreadsheet programs open with the diacritics right (UTF-8 BOM, CRLF)."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = _SafeWriter(out)
    writer.writerow(header)
    return out, writer


def _local(moment: datetime | None) -> str:
    return local_time(moment).strftime("%d/%m/%Y %H:%M") if moment else ""


def export_csv(
    plan: ReportPlan, rows: list[ReportAssignment], today: date, soon_days: int, *,
    kinds: dict[int, str] | None = None, names: dict[int, str] | None = None,
) -> str:
    """CSV (UTF-8 with BOM, so spreadsheet programs show the diacritics) of a plan's assignments.

    `kinds`: the plan's task kinds by task id; `names`: current unit names by unit id (else the
    name each assignment's events carried)."""
    kinds, names = kinds or {}, names or {}
    states = due_states(plan, rows, today, soon_days, kinds)
    every = f"Báo cáo {REPORTING_PERIOD_LABELS.get(plan.reporting_period, plan.reporting_period)}"
    out, writer = _spreadsheet_csv(CSV_HEADER)
    for n, r in enumerate(rows, start=1):
        ongoing = kinds.get(r.task_id, r.task_kind) == "ongoing"
        writer.writerow([
            n, r.task_code, r.task_title, names.get(r.unit_id, r.unit_name), ROLE_LABELS.get(r.role, r.role),
            every if ongoing else short_date(r.due_on), status_label(r.status), r.progress,
            DUE_STATE_LABELS[states[r.id]], r.summary, r.difficulties, r.reported_by, _local(r.reported_at),
        ])
    return out.getvalue()


def review_csv(units: list[RoundUnit]) -> str:
    """CSV of who submitted their report in a review round: on time, late, or not yet."""
    out, writer = _spreadsheet_csv(REVIEW_CSV_HEADER)
    for n, u in enumerate(units, start=1):
        writer.writerow([n, u.unit_name, SUBMISSION_STATE_LABELS[u.state], _local(u.submitted_at), u.link])
    return out.getvalue()


def ascii_slug(text: str) -> str:
    """Vietnamese text as an ASCII file-name part: "41-KH/ĐUK" -> "41-KH-DUK", "sơ kết" -> "so-ket"."""
    decomposed = unicodedata.normalize("NFKD", text.replace("Đ", "D").replace("đ", "d"))
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return re.sub(r"[^A-Za-z0-9_]+", "-", bare).strip("-")


def export_filename(plan: ReportPlan, today: date, ext: str) -> str:
    """An ASCII file name such as bao-cao-41-KH-DUK-2026-11-27.csv."""
    return f"bao-cao-{ascii_slug(plan.number) or plan.id}-{today.isoformat()}.{ext}"


def review_filename(round_: ReportReviewRound, today: date) -> str:
    """An ASCII file name such as nop-bao-cao-so-ket-41-KH-DUK-dot-3-2026-11-27.csv."""
    number = ascii_slug(round_.plan_number) or str(round_.plan_id)
    return f"nop-bao-cao-{ascii_slug(review_kind_label(round_.kind))}-{number}-dot-{round_.id}-{today.isoformat()}.csv"


def get_plan(session: Session, plan_id: int) -> ReportPlan | None:
    """The plan as the read model knows it."""
    return session.get(ReportPlan, plan_id)
