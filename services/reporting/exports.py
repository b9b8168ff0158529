"""Review exports: the tables the committee reads, in Vietnamese."""

import csv
import io
import unicodedata
from datetime import date

from sqlmodel import Session, select

from services.reporting.models import ReportAssignment, ReportPlan
from shared.due import due_state
from shared.vietnamese import DUE_STATE_LABELS, ROLE_LABELS, local_time, short_date, status_label

CSV_HEADER = [
    "STT", "Mã nhiệm vụ", "Nhiệm vụ", "Đơn vị", "Vai trò", "Thời hạn", "Trạng thái", "Tiến độ (%)",
    "Tình trạng thời hạn", "Kết quả thực hiện", "Khó khăn, vướng mắc", "Người báo cáo", "Cập nhật lần cuối",
]


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


def export_csv(plan: ReportPlan, rows: list[ReportAssignment], today: date, soon_days: int) -> str:
    """CSV (UTF-8 with BOM, so spreadsheet programs show the diacritics) of a plan's assignments."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for n, r in enumerate(rows, start=1):
        state = due_state(r.status, r.due_on, today, r.completed_on, soon_days=soon_days)
        writer.writerow([
            n, r.task_code, r.task_title, r.unit_name, ROLE_LABELS.get(r.role, r.role), short_date(r.due_on),
            status_label(r.status), r.progress, DUE_STATE_LABELS[state], r.summary, r.difficulties,
            r.reported_by, local_time(r.reported_at).strftime("%d/%m/%Y %H:%M") if r.reported_at else "",
        ])
    return out.getvalue()


def export_filename(plan: ReportPlan, today: date, ext: str) -> str:
    """An ASCII file name such as bao-cao-41-KH-DUK-2026-11-27.csv."""
    ascii_number = unicodedata.normalize("NFKD", plan.number.replace("Đ", "D").replace("đ", "d"))
    ascii_number = "".join(c for c in ascii_number if c.isascii() and (c.isalnum() or c in "-_"))
    return f"bao-cao-{ascii_number or plan.id}-{today.isoformat()}.{ext}"


def get_plan(session: Session, plan_id: int) -> ReportPlan | None:
    """The plan as the read model knows it."""
    return session.get(ReportPlan, plan_id)
