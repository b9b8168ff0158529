"""Review exports: CSV the committee opens in a spreadsheet, in Vietnamese and document order."""

import csv
import io
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlmodel import Session

from services.reporting.exports import (
    CSV_EXTRA_HEADER,
    CSV_HEADER,
    REVIEW_CSV_EXTRA_HEADER,
    REVIEW_CSV_HEADER,
    export_csv,
    export_filename,
    get_plan,
    indicator_labels,
    review_csv,
    round_document_stem,
    unit_plan_numbers,
)
from services.reporting.models import (
    ReportAssignment,
    ReportingModel,
    ReportPlan,
    ReportReviewRound,
    ReportReviewSubmission,
    ReportTask,
    ReportUnitPlan,
)
from services.reporting.progress import RoundUnit, latest_submissions
from services.reporting.rows import export_rows
from shared.db import make_engine

TODAY = date(2022, 3, 28)
PLAN = ReportPlan(id=1, number="41-KH/ĐUK", title="Kế hoạch", place="Trà Vinh")


def assignment(id: int, code: str, unit: str = "CB-A", **kw: object) -> ReportAssignment:
    return ReportAssignment(id=id, plan_id=1, task_id=id, task_code=code, task_title=f"Nhiệm vụ {code}",
                            unit_id=1, unit_code=unit, unit_name=f"Chi bộ {unit}", **kw)  # type: ignore[arg-type]


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    engine = make_engine(f"sqlite:///{tmp_path}/reporting.db")
    ReportingModel.metadata.create_all(engine)
    with Session(engine) as s:
        yield s
    engine.dispose()


def parse(text: str) -> list[list[str]]:
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def test_csv_starts_with_bom_and_vietnamese_header() -> None:
    text = export_csv(PLAN, [], TODAY, 7)
    assert text.encode("utf-8").startswith(b"\xef\xbb\xbf")
    assert text.startswith("\ufeffSTT,Mã nhiệm vụ,Nhiệm vụ,Đơn vị,Vai trò,Thời hạn,Trạng thái,Tiến độ (%),")
    assert parse(text) == [CSV_HEADER + CSV_EXTRA_HEADER]  # the original columns first, for older readers
    assert "Khó khăn, vướng mắc" in CSV_HEADER and "Tình trạng thời hạn" in CSV_HEADER
    assert text.endswith("\r\n")


def test_rows_follow_document_task_order(session: Session) -> None:
    codes = ["III.1", "II.10", "I", "II.2", "II", "I.2", "IV", "II.1", "X", "IX", "II.9"]
    for n, code in enumerate(codes, start=1):
        session.add(assignment(n, code))
    session.add(assignment(100, "II.2", unit="CB-0"))  # same task, another unit: by unit code
    session.add(ReportAssignment(id=200, plan_id=2, task_id=1, task_code="I", task_title="x", unit_id=1,
                                 unit_code="X", unit_name="X"))  # another plan: not included
    session.commit()
    rows = export_rows(session, 1)
    assert [(r.task_code, r.unit_code) for r in rows] == [
        ("I", "CB-A"), ("I.2", "CB-A"), ("II", "CB-A"), ("II.1", "CB-A"), ("II.2", "CB-0"), ("II.2", "CB-A"),
        ("II.9", "CB-A"), ("II.10", "CB-A"), ("III.1", "CB-A"), ("IV", "CB-A"), ("IX", "CB-A"), ("X", "CB-A"),
    ]
    table = parse(export_csv(PLAN, rows, TODAY, 7))
    assert [r[0] for r in table[1:]] == [str(n) for n in range(1, 13)]  # STT numbers the rows
    assert [r[1] for r in table[1:4]] == ["I", "I.2", "II"]


def test_arabic_and_lettered_codes_sort_naturally(session: Session) -> None:
    for n, code in enumerate(["2", "10", "1.b", "1", "1.a", "1.10", "1.2"], start=1):
        session.add(assignment(n, code))
    session.commit()
    assert [r.task_code for r in export_rows(session, 1)] == ["1", "1.2", "1.10", "1.a", "1.b", "2", "10"]


def test_row_labels_are_vietnamese() -> None:
    rows = [
        assignment(1, "I.1", role="lead", due_on=date(2022, 3, 31), status="completed", progress=100,
                   completed_on=date(2022, 3, 31), summary="Đã hoàn thành, đúng kế hoạch.\nCó báo cáo kèm theo.",
                   difficulties="", reported_by="Nguyễn Văn An",
                   reported_at=datetime(2022, 3, 31, 3, 5, tzinfo=UTC)),
        assignment(2, "I.2", role="support", due_on=date(2022, 3, 1), status="in_progress", progress=40,
                   difficulties="Thiếu kinh phí, thiếu người."),
        assignment(3, "I.3", due_on=date(2022, 4, 2), status="not_started"),
        assignment(4, "I.4", due_on=date(2022, 6, 30), status="not_started"),
        assignment(5, "I.5", due_on=None, status="in_progress", progress=10),
        assignment(6, "I.6", due_on=date(2022, 3, 1), status="completed", progress=100, completed_on=date(2022, 3, 2)),
    ]
    table = parse(export_csv(PLAN, rows, TODAY, 7))
    col = {name: i for i, name in enumerate(table[0])}

    def cell(row: int, name: str) -> str:
        return table[row][col[name]]

    assert cell(1, "Vai trò") == "Chủ trì" and cell(2, "Vai trò") == "Phối hợp"
    assert cell(1, "Thời hạn") == "31/03/2022" and cell(5, "Thời hạn") == ""
    assert [cell(i, "Trạng thái") for i in (1, 2, 3)] == ["Đã hoàn thành", "Đang thực hiện", "Chưa triển khai"]
    assert [cell(i, "Tình trạng thời hạn") for i in range(1, 7)] == [
        "Hoàn thành đúng hạn", "Quá hạn", "Sắp đến hạn", "Trong hạn", "Không có thời hạn", "Hoàn thành trễ hạn",
    ]
    assert cell(1, "Tiến độ (%)") == "100" and cell(2, "Tiến độ (%)") == "40"
    # multi-line and comma-containing text survives quoting
    assert cell(1, "Kết quả thực hiện") == "Đã hoàn thành, đúng kế hoạch.\nCó báo cáo kèm theo."
    assert cell(2, "Khó khăn, vướng mắc") == "Thiếu kinh phí, thiếu người."
    assert cell(1, "Người báo cáo") == "Nguyễn Văn An"
    assert cell(1, "Cập nhật lần cuối") == "31/03/2022 10:05"  # Vietnam time
    assert cell(3, "Cập nhật lần cuối") == ""
    assert cell(1, "Đơn vị") == "Chi bộ CB-A" and cell(1, "Nhiệm vụ") == "Nhiệm vụ I.1"


def test_export_filename_is_ascii() -> None:
    name = export_filename(PLAN, TODAY, "csv")
    assert name == "bao-cao-41-KH-DUK-2022-03-28.csv"
    assert name.isascii()
    for number, expected in [("12-CTr/ĐUK", "12-CTr-DUK"), ("03-NQ/CB", "03-NQ-CB"), ("22–CTr/TU", "22-CTr-TU"),
                             ("Số 5 KH/ĐU ngày", "So-5-KH-DU-ngay")]:
        assert export_filename(ReportPlan(id=7, number=number, title=""), TODAY, "csv") == \
            f"bao-cao-{expected}-2022-03-28.csv"
    odd = ReportPlan(id=7, number="Số ///", title="")
    assert export_filename(odd, TODAY, "csv") == "bao-cao-So-2022-03-28.csv"
    assert export_filename(ReportPlan(id=7, number="///", title=""), TODAY, "csv") == "bao-cao-7-2022-03-28.csv"


def test_get_plan(session: Session) -> None:
    session.add(ReportPlan(id=1, number="41-KH/ĐUK"))
    session.commit()
    assert get_plan(session, 1).number == "41-KH/ĐUK"  # type: ignore[union-attr]
    assert get_plan(session, 2) is None


def test_ongoing_rows_show_the_reporting_period_and_where_the_unit_stands_in_it() -> None:
    plan = ReportPlan(id=1, number="41-KH/ĐUK", title="Kế hoạch", reporting_period="quarterly")
    rows = [  # TODAY, 28/03/2022, is in the last week of the first quarter
        assignment(1, "I.1", task_kind="ongoing", assigned_on=date(2022, 1, 5)),
        assignment(2, "I.2", task_kind="ongoing", assigned_on=date(2021, 11, 1), last_reported_on=date(2022, 2, 1)),
        assignment(3, "I.3", task_kind="ongoing", assigned_on=date(2021, 11, 1), last_reported_on=date(2021, 9, 30)),
        assignment(4, "I.4", assigned_on=date(2021, 11, 1)),  # the plan's task says ongoing; its event did not
        assignment(5, "I.5", due_on=date(2022, 3, 1)),
    ]
    table = parse(export_csv(plan, rows, TODAY, 7, kinds={4: "ongoing"}, names={1: "Chi bộ Sở Tài chính tỉnh"}))
    col = {name: i for i, name in enumerate(table[0])}
    assert [(r[col["Thời hạn"]], r[col["Tình trạng thời hạn"]]) for r in table[1:]] == [
        ("Báo cáo hằng quý", "Đến kỳ báo cáo"),
        ("Báo cáo hằng quý", "Đã báo cáo kỳ này"),
        ("Báo cáo hằng quý", "Chưa báo cáo kỳ trước"),
        ("Báo cáo hằng quý", "Chưa báo cáo kỳ trước"),
        ("01/03/2022", "Quá hạn"),
    ]
    assert {r[col["Đơn vị"]] for r in table[1:]} == {"Chi bộ Sở Tài chính tỉnh"}  # every row is of unit 1
    monthly = ReportPlan(id=1, number="41-KH/ĐUK", title="Kế hoạch", reporting_period="monthly")
    assert parse(export_csv(monthly, rows[:1], TODAY, 7))[1][col["Thời hạn"]] == "Báo cáo hằng tháng"


def test_csv_has_review_evidence_indicator_and_unit_plan_columns(session: Session) -> None:
    session.add(ReportTask(id=1, plan_id=1, code="I.1", title="x", indicators=[
        {"code": "lop", "name": "Số lớp", "unit_of_measure": "lớp", "target": 10}]))
    session.add(ReportUnitPlan(id=1, plan_id=1, unit_id=1, unit_code="CB-A", unit_name="Chi bộ CB-A",
                               number="12-KH/CB", issued_on=date(2022, 1, 5), title="Kế hoạch"))
    session.add(ReportUnitPlan(id=2, plan_id=2, unit_id=1, unit_code="CB-A", unit_name="Chi bộ CB-A",
                               number="99-KH/CB", issued_on=date(2022, 1, 5), title="another plan's"))
    session.commit()
    rows = [
        assignment(1, "I.1", review_state="returned", review_reason="Thiếu số liệu",
                   evidence_links=["https://vb.example/1.pdf", "https://vb.example/2.pdf"],
                   indicator_values={"lop": 4, "khac": 2.5}),
        assignment(2, "I.2", review_state="accepted"),
        assignment(3, "I.3"),
    ]
    table = parse(export_csv(PLAN, rows, TODAY, 7, indicators=indicator_labels(session, 1),
                             unit_plans=unit_plan_numbers(session, 1)))
    col = {name: i for i, name in enumerate(table[0])}
    assert table[0][:len(CSV_HEADER)] == CSV_HEADER
    first = table[1]
    assert first[col["Tình trạng duyệt báo cáo"]] == "Bị trả lại" and first[col["Lý do trả lại"]] == "Thiếu số liệu"
    assert first[col["Minh chứng"]] == "https://vb.example/1.pdf\nhttps://vb.example/2.pdf"
    assert first[col["Giá trị chỉ tiêu"]] == "Số lớp: 4 lớp; khac: 2.5"
    assert first[col["Kế hoạch thực hiện của đơn vị"]] == "12-KH/CB (05/01/2022)"
    assert [r[col["Tình trạng duyệt báo cáo"]] for r in table[2:]] == ["Đã chấp nhận", ""]


def test_review_csv_carries_each_units_latest_report(session: Session) -> None:
    round_ = ReportReviewRound(id=3, plan_id=1, plan_number="41-KH/ĐUK", kind="preliminary", title="Sơ kết",
                               period_end=date(2022, 6, 30), submit_by=date(2022, 7, 15), unit_ids=[1, 2])
    session.add(round_)
    for id, at, summary in [(1, datetime(2022, 7, 1, tzinfo=UTC), "cũ"), (2, datetime(2022, 7, 2, tzinfo=UTC), "mới")]:
        session.add(ReportReviewSubmission(id=id, round_id=3, plan_id=1, unit_id=1, unit_name="A", submitted_at=at,
                                           on_time=True, summary=summary, results="KQ", difficulties="KK",
                                           proposals="=ĐX"))
    session.commit()
    units = [RoundUnit(unit_id=1, unit_name="A", expected=True, state="on_time",
                       submitted_at=datetime(2022, 7, 1, tzinfo=UTC)),
             RoundUnit(unit_id=2, unit_name="B", expected=True, state="missing")]
    table = parse(review_csv(units, latest_submissions(session, 3)))
    assert table[0] == REVIEW_CSV_HEADER + REVIEW_CSV_EXTRA_HEADER
    assert table[1][len(REVIEW_CSV_HEADER):] == ["mới", "KQ", "KK", "'=ĐX"]
    assert table[2][len(REVIEW_CSV_HEADER):] == ["", "", "", ""]
    assert round_document_stem(round_, TODAY) == "bao-cao-so-ket-41-KH-DUK-dot-3-2022-03-28"
