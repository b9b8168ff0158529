"""Review exports: the tables the committee reads, in Vietnamese."""

import csv
import functools
import io
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, datetime
from typing import Any

from sqlmodel import Session, col, select

from services.reporting.models import (
    ReportAssignment,
    ReportPlan,
    ReportReviewRound,
    ReportReviewSubmission,
    ReportTask,
    ReportUnitPlan,
)
from services.reporting.progress import RoundUnit, due_states, task_kinds, unit_names
from services.reporting.rows import ExportRow, row_batches
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
# added after the original columns, so readers of the older files still find theirs where they were
CSV_EXTRA_HEADER = ["Tình trạng duyệt báo cáo", "Lý do trả lại", "Minh chứng", "Giá trị chỉ tiêu",
                    "Kế hoạch thực hiện của đơn vị"]
REVIEW_CSV_EXTRA_HEADER = ["Tóm tắt", "Kết quả đạt được", "Khó khăn, vướng mắc", "Đề xuất, kiến nghị"]
REVIEW_STATE_LABELS: dict[str, str] = {"pending": "Chờ duyệt", "accepted": "Đã chấp nhận", "returned": "Bị trả lại"}


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


@functools.lru_cache(maxsize=4096)
def _safe_text(text: str) -> str:
    # the same few labels and names fill most cells: neutralise each once (bounded: constant memory)
    return str(safe_cell(text))


class _SafeWriter:
    """A csv writer whose rows go through safe_cell()."""

    def __init__(self, out: io.StringIO) -> None:
        self._writer = csv.writer(out, lineterminator="\r\n")

    def writerow(self, row: list[Any]) -> None:
        """Write one row of neutralised cells."""
        self._writer.writerow([_safe_text(value) if isinstance(value, str) else value for value in row])


def _spreadsheet_csv(header: list[str]) -> tuple[io.StringIO, _SafeWriter]:
    """A CSV buffer that spreadsheet programs open with the diacritics right (UTF-8 BOM, CRLF)."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = _SafeWriter(out)
    writer.writerow(header)
    return out, writer


def _local(moment: datetime | None) -> str:
    return local_time(moment).strftime("%d/%m/%Y %H:%M") if moment else ""


def csv_chunks(
    plan: ReportPlan, batches: Iterable[Sequence[ExportRow]], today: date, soon_days: int, *,
    kinds: dict[int, str] | None = None, names: dict[int, str] | None = None,
    indicators: dict[int, dict[str, str]] | None = None, unit_plans: dict[int, str] | None = None,
) -> Iterator[str]:
    """The plan CSV (see export_csv) piece by piece: the header, then one piece per batch of rows."""
    kinds, names, indicators, unit_plans = kinds or {}, names or {}, indicators or {}, unit_plans or {}
    every = f"Báo cáo {REPORTING_PERIOD_LABELS.get(plan.reporting_period, plan.reporting_period)}"
    out, writer = _spreadsheet_csv(CSV_HEADER + CSV_EXTRA_HEADER)
    yield out.getvalue()
    n = 0
    for rows in batches:
        states = due_states(plan, rows, today, soon_days, kinds)
        out = io.StringIO()
        writer = _SafeWriter(out)
        for r in rows:
            n += 1
            ongoing = kinds.get(r.task_id, r.task_kind) == "ongoing"
            writer.writerow([
                n, r.task_code, r.task_title, names.get(r.unit_id, r.unit_name), ROLE_LABELS.get(r.role, r.role),
                every if ongoing else short_date(r.due_on), status_label(r.status), r.progress,
                DUE_STATE_LABELS[states[r.id]], r.summary, r.difficulties, r.reported_by, _local(r.reported_at),
                REVIEW_STATE_LABELS.get(r.review_state, r.review_state), r.review_reason,
                "\n".join(r.evidence_links or []), indicator_text(r.indicator_values, indicators.get(r.task_id, {})),
                unit_plans.get(r.unit_id, ""),
            ])
        yield out.getvalue()


def export_csv(
    plan: ReportPlan, rows: Sequence[ExportRow], today: date, soon_days: int, *,
    kinds: dict[int, str] | None = None, names: dict[int, str] | None = None,
    indicators: dict[int, dict[str, str]] | None = None, unit_plans: dict[int, str] | None = None,
) -> str:
    """CSV (UTF-8 with BOM, so spreadsheet programs show the diacritics) of a plan's assignments.

    `kinds`: the plan's task kinds by task id; `names`: current unit names by unit id (else the
    name each assignment's events carried); `indicators`: each task's indicator labels by code;
    `unit_plans`: each unit's registered implementing documents."""
    return "".join(csv_chunks(plan, [rows], today, soon_days, kinds=kinds, names=names, indicators=indicators,
                              unit_plans=unit_plans))


def plan_csv(session: Session, plan: ReportPlan, today: date, soon_days: int, *, as_of: date | None = None,
             can_read: Callable[[int], bool] = lambda _: True) -> Iterator[str]:
    """The plan CSV of the assignments `can_read` admits (as they stood at the end of `as_of`, if given),
    read and written a batch at a time: constant memory, whatever the plan's size."""
    unit_ids = set(session.exec(select(ReportAssignment.unit_id).where(ReportAssignment.plan_id == plan.id)
                                .distinct()).all())
    batches = ([r for r in batch if can_read(r.unit_id)] for batch in row_batches(session, plan.id, as_of))
    return csv_chunks(plan, batches, today, soon_days, kinds=task_kinds(session, plan.id),
                      names=unit_names(session, unit_ids), indicators=indicator_labels(session, plan.id),
                      unit_plans=unit_plan_numbers(session, plan.id))


def indicator_text(values: dict[str, Any] | None, labels: dict[str, str]) -> str:
    """"Số lớp tuyên truyền: 4 lớp; ..." from an assignment's reported indicator values."""
    parts = []
    for code, value in (values or {}).items():
        number = f"{value:g}" if isinstance(value, int | float) and not isinstance(value, bool) else str(value)
        label = labels.get(code, code)
        parts.append(f"{label}: {number}" if "{n}" not in label else label.replace("{n}", number))
    return "; ".join(parts)


def indicator_labels(session: Session, plan_id: int) -> dict[int, dict[str, str]]:
    """Each task's indicator labels ("{n}" where the value goes) by code."""
    labels: dict[int, dict[str, str]] = {}
    for t in session.exec(select(ReportTask).where(ReportTask.plan_id == plan_id)).all():
        for ind in t.indicators or []:
            unit = str(ind.get("unit_of_measure") or "")
            labels.setdefault(t.id, {})[str(ind.get("code", ""))] = \
                f"{ind.get('name') or ind.get('code')}: {{n}}" + (f" {unit}" if unit else "")
    return labels


def unit_plan_numbers(session: Session, plan_id: int) -> dict[int, str]:
    """Each unit's registered implementing documents: "12-KH/CB (05/01/2022)"; "; " between several."""
    found: dict[int, list[str]] = {}
    for p in session.exec(select(ReportUnitPlan).where(ReportUnitPlan.plan_id == plan_id)
                          .order_by(col(ReportUnitPlan.issued_on), col(ReportUnitPlan.id))).all():
        found.setdefault(p.unit_id, []).append(f"{p.number} ({short_date(p.issued_on)})")
    return {unit_id: "; ".join(v) for unit_id, v in found.items()}


def review_csv(units: list[RoundUnit], contents: dict[int, ReportReviewSubmission] | None = None) -> str:
    """CSV of who submitted their report in a review round: on time, late, or not yet, and what it says
    (`contents`: each unit's latest submission)."""
    contents = contents or {}
    out, writer = _spreadsheet_csv(REVIEW_CSV_HEADER + REVIEW_CSV_EXTRA_HEADER)
    for n, u in enumerate(units, start=1):
        sub = contents.get(u.unit_id)
        writer.writerow([n, u.unit_name, SUBMISSION_STATE_LABELS[u.state], _local(u.submitted_at), u.link,
                         *((sub.summary, sub.results, sub.difficulties, sub.proposals) if sub else ("",) * 4)])
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


def round_document_stem(round_: ReportReviewRound, today: date) -> str:
    """An ASCII file-name stem such as bao-cao-so-ket-41-KH-DUK-dot-3-2026-11-27."""
    number = ascii_slug(round_.plan_number) or str(round_.plan_id)
    return f"bao-cao-{ascii_slug(review_kind_label(round_.kind))}-{number}-dot-{round_.id}-{today.isoformat()}"


def get_plan(session: Session, plan_id: int) -> ReportPlan | None:
    """The plan as the read model knows it."""
    return session.get(ReportPlan, plan_id)
