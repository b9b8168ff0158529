"""Review documents: the XLSX workbook, the DOCX draft report and its PDF, each opened with its own reader
and checked against the read-model rows the test wrote."""

import io
import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import openpyxl
import pytest
from docx import Document
from docx.shared import Mm, Pt
from pypdf import PdfReader
from sqlmodel import Session

from services.reporting.documents import content, data, docx, pdf, xlsx
from services.reporting.models import (
    ReportAssignment,
    ReportingModel,
    ReportPlan,
    ReportReviewRound,
    ReportReviewSubmission,
    ReportTask,
    ReportUnit,
    ReportUnitPlan,
)
from shared.db import make_engine

TODAY = date(2022, 4, 10)
HOSTILE = '=HYPERLINK("http://evil.example","x")'
UNITS = {1: ("CB-A", "Chi bộ Sở Tài chính"), 2: ("CB-B", "Chi bộ Sở Xây dựng"), 3: ("CB-C", "Đảng bộ Công ty Điện lực")}


def build_world(session: Session) -> None:
    """Plan 41-KH/ĐUK: 3 units, 3 tasks, 6 assignments, a unit plan, a sơ kết round with 2 of 3 reports."""
    session.add(ReportPlan(id=1, number="41-KH/ĐUK", kind="ke_hoach", place="Trà Vinh", issued_on=date(2021, 12, 15),
                           title="thực hiện Chương trình số 22-CTr/TU về phát triển kinh tế đô thị tỉnh Trà Vinh",
                           issuer_name="Đảng ủy Khối các cơ quan và doanh nghiệp", status="published",
                           reporting_period="quarterly", signer="Nguyễn Văn Triết"))
    for uid, (code, name) in UNITS.items():
        session.add(ReportUnit(id=uid, code=code, name=name, kind="chi_bo"))
    session.add(ReportTask(id=10, plan_id=1, code="II.1", title="Tuyên truyền, quán triệt Chương trình 22-CTr/TU",
                           due_on=date(2022, 3, 31), indicators=[
                               {"code": "lop", "name": "Số lớp tuyên truyền", "unit_of_measure": "lớp", "target": 10}]))
    session.add(ReportTask(id=11, plan_id=1, code="II.2", title="Báo cáo định kỳ", kind="ongoing"))
    session.add(ReportTask(id=12, plan_id=1, code="III.1", title="Kiểm tra, giám sát", due_on=date(2022, 2, 28)))

    def a(id: int, task: int, code: str, unit: int, **kw: object) -> None:
        session.add(ReportAssignment(id=id, plan_id=1, task_id=task, task_code=code, task_title=f"Nhiệm vụ {code}",
                                     unit_id=unit, unit_code=UNITS[unit][0], unit_name=UNITS[unit][1],
                                     assigned_on=date(2021, 12, 20), **kw))  # type: ignore[arg-type]

    a(1, 10, "II.1", 1, due_on=date(2022, 3, 31), status="completed", progress=100, completed_on=date(2022, 3, 20),
      summary="Đã tổ chức 4 lớp tuyên truyền cho 120 đảng viên.", indicator_values={"lop": 4},
      review_state="accepted", evidence_links=["https://vb.example/a1.pdf"], reported_by="Nguyễn Văn An",
      reported_at=datetime(2022, 3, 20, 2, 0, tzinfo=UTC))
    a(2, 10, "II.1", 2, due_on=date(2022, 3, 31), status="in_progress", progress=50, indicator_values={"lop": 3},
      difficulties="Thiếu kinh phí tổ chức lớp.", review_state="returned", review_reason="Thiếu số liệu")
    a(3, 10, "II.1", 3, due_on=date(2022, 3, 31), status="completed", progress=100, completed_on=date(2022, 4, 5),
      indicator_values={"lop": 5}, summary="Hoàn thành 5 lớp.")
    a(4, 12, "III.1", 1, due_on=date(2022, 2, 28), status="not_started")
    a(5, 12, "III.1", 2, due_on=date(2022, 2, 28), status="in_progress", progress=30, summary=HOSTILE,
      difficulties="Chưa bố trí được cán bộ kiểm tra.")
    a(6, 11, "II.2", 1, task_kind="ongoing", status="in_progress", progress=60, last_reported_on=date(2022, 4, 2))
    session.add(ReportUnitPlan(id=1, plan_id=1, unit_id=1, unit_code="CB-A", unit_name=UNITS[1][1],
                               number="12-KH/CB", issued_on=date(2022, 1, 5), title="Kế hoạch thực hiện"))
    session.add(ReportReviewRound(id=5, plan_id=1, plan_number="41-KH/ĐUK", kind="preliminary",
                                  title="Sơ kết quý I năm 2022", period_end=date(2022, 3, 31),
                                  submit_by=date(2022, 4, 5), unit_ids=[1, 2, 3]))
    session.add(ReportReviewSubmission(id=1, round_id=5, plan_id=1, unit_id=1, unit_name=UNITS[1][1],
                                       submitted_at=datetime(2022, 4, 1, 3, 0, tzinfo=UTC), on_time=True,
                                       link="https://vb.example/sk-a.pdf", summary="Tóm tắt A", results="Kết quả A",
                                       difficulties="Khó khăn A", proposals="Đề nghị tăng kinh phí"))
    session.add(ReportReviewSubmission(id=2, round_id=5, plan_id=1, unit_id=3, unit_name=UNITS[3][1],
                                       submitted_at=datetime(2022, 4, 8, 3, 0, tzinfo=UTC), on_time=False,
                                       summary="Tóm tắt C", results="@Kết quả C"))
    session.commit()


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    engine = make_engine(f"sqlite:///{tmp_path}/reporting.db")
    ReportingModel.metadata.create_all(engine)
    with Session(engine) as s:
        build_world(s)
        yield s
    engine.dispose()


def everyone(unit_id: int) -> bool:
    return True


def report_of(session: Session, round_id: int | None = None, can_read=everyone) -> data.PlanReport:  # type: ignore[no-untyped-def]
    plan = session.get(ReportPlan, 1)
    assert plan is not None
    round_ = session.get(ReportReviewRound, round_id) if round_id else None
    return data.build_report(session, plan, TODAY, 7, can_read=can_read, round_=round_)


# -- XLSX --------------------------------------------------------------------------------------


def sheet_rows(ws) -> list[list[object]]:  # type: ignore[no-untyped-def]
    return [list(r) for r in ws.iter_rows(values_only=True)]


def table_of(ws, header_first: str = "STT") -> list[dict[str, object]]:  # type: ignore[no-untyped-def]
    rows = sheet_rows(ws)
    top = next(i for i, r in enumerate(rows) if r[0] == header_first)
    header = rows[top]
    return [dict(zip(header, r, strict=True)) for r in rows[top + 1:]]


def workbook(session: Session, round_id: int | None = None, can_read=everyone):  # type: ignore[no-untyped-def]
    return openpyxl.load_workbook(io.BytesIO(xlsx.write_workbook(report_of(session, round_id, can_read))))


def test_plan_workbook_sheets_and_figures(session: Session) -> None:
    wb = workbook(session)
    assert wb.sheetnames == ["Tổng hợp", "Theo đơn vị", "Theo nhiệm vụ", "Quá hạn", "Chỉ tiêu"]
    summary = {r["Nội dung"] if not r["Chi tiết"] else r["Chi tiết"]: r for r in table_of(wb["Tổng hợp"], "Nội dung")}
    assert summary["Tổng số lượt giao nhiệm vụ"]["Số lượng"] == 6
    assert summary["Đã hoàn thành"]["Số lượng"] == 2 and summary["Đang thực hiện"]["Số lượng"] == 3
    assert summary["Chưa triển khai"]["Số lượng"] == 1
    assert summary["Quá hạn"]["Số lượng"] == 3  # II.1 of unit 2, III.1 of units 1 and 2
    assert summary["Hoàn thành trễ hạn"]["Số lượng"] == 1
    assert summary["Đã hoàn thành / tổng số"]["Tỷ lệ"] == pytest.approx(2 / 6)
    assert summary["Hoàn thành đúng hạn / hoàn thành có thời hạn"]["Tỷ lệ"] == pytest.approx(0.5)
    facts = {r[0]: r[1] for r in sheet_rows(wb["Tổng hợp"])[1:6]}
    assert facts["Văn bản"] == "Kế hoạch số 41-KH/ĐUK"
    assert facts["Ngày ban hành"] == datetime(2021, 12, 15)  # a real date
    assert facts["Số liệu tính đến ngày"] == datetime(2022, 4, 10)

    units = table_of(wb["Theo đơn vị"])
    assert [(u["Mã đơn vị"], u["Số nhiệm vụ được giao"], u["Đã hoàn thành"], u["Quá hạn"]) for u in units] == [
        ("CB-A", 3, 1, 1), ("CB-B", 2, 0, 2), ("CB-C", 1, 1, 0)]
    assert units[0]["Kế hoạch thực hiện của đơn vị"] == "12-KH/CB, 05/01/2022"
    assert units[2]["Tỷ lệ hoàn thành"] == 1

    tasks = table_of(wb["Theo nhiệm vụ"])
    assert [(t["Mã nhiệm vụ"], t["Số đơn vị được giao"], t["Đã hoàn thành"], t["Loại nhiệm vụ"]) for t in tasks] == [
        ("II.1", 3, 2, "Có thời hạn"), ("II.2", 1, 0, "Thường xuyên"), ("III.1", 2, 0, "Có thời hạn")]
    assert tasks[0]["Thời hạn"] == datetime(2022, 3, 31) and tasks[1]["Thời hạn"] is None
    assert tasks[0]["Tiến độ bình quân (%)"] == pytest.approx(83.3)

    overdue = table_of(wb["Quá hạn"])
    assert [(o["Mã nhiệm vụ"], o["Đơn vị"]) for o in overdue] == [
        ("II.1", "Chi bộ Sở Xây dựng"), ("III.1", "Chi bộ Sở Tài chính"), ("III.1", "Chi bộ Sở Xây dựng")]
    assert overdue[1]["Thời hạn"] == datetime(2022, 2, 28)

    (indicator,) = table_of(wb["Chỉ tiêu"])
    assert indicator["Chỉ tiêu"] == "Số lớp tuyên truyền" and indicator["Đơn vị tính"] == "lớp"
    assert indicator["Chỉ tiêu kế hoạch"] == 10 and indicator["Kết quả thực hiện (tổng)"] == 12
    assert indicator["Số lượt đơn vị báo cáo"] == 3 and indicator["Tỷ lệ đạt"] == pytest.approx(1.2)


def test_workbook_sheets_have_frozen_headers_filters_and_widths(session: Session) -> None:
    wb = workbook(session, 5)
    for name in wb.sheetnames[1:]:
        ws = wb[name]
        assert ws.freeze_panes == "A2", name
        assert ws.auto_filter.ref and ws.auto_filter.ref.startswith("A1:"), name
        assert max(d.width for d in ws.column_dimensions.values()) >= 20, name
    assert wb["Tổng hợp"].auto_filter.ref


def test_round_workbook_has_each_units_report(session: Session) -> None:
    wb = workbook(session, 5)
    assert wb.sheetnames[1] == "Báo cáo sơ kết"
    rows = table_of(wb["Báo cáo sơ kết"])
    assert [(r["Đơn vị"], r["Đã nộp"], r["Đúng hạn"], r["Tình trạng nộp báo cáo"]) for r in rows] == [
        ("Chi bộ Sở Tài chính", "Có", "Có", "Đã nộp đúng hạn"), ("Chi bộ Sở Xây dựng", "Không", None, "Chưa nộp"),
        ("Đảng bộ Công ty Điện lực", "Có", "Không", "Nộp trễ hạn")]
    assert rows[0]["Thời gian nộp"] == datetime(2022, 4, 1, 10, 0)  # Vietnam time, a real date-time
    assert (rows[0]["Tóm tắt"], rows[0]["Kết quả đạt được"], rows[0]["Khó khăn, vướng mắc"],
            rows[0]["Đề xuất, kiến nghị"], rows[0]["Đường dẫn báo cáo"]) == (
        "Tóm tắt A", "Kết quả A", "Khó khăn A", "Đề nghị tăng kinh phí", "https://vb.example/sk-a.pdf")
    assert rows[2]["Kết quả đạt được"] == "'@Kết quả C"  # made safe


def test_workbook_cells_never_hold_formulas(session: Session) -> None:
    wb = workbook(session)
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                assert c.data_type != "f", (ws.title, c.coordinate, c.value)
    overdue = table_of(wb["Quá hạn"])
    assert all(not str(v).startswith("=") for r in overdue for v in r.values() if v is not None)


def test_workbook_holds_only_the_callers_scope(session: Session) -> None:
    wb = workbook(session, 5, can_read=lambda unit_id: unit_id in {1, 2})
    assert [u["Mã đơn vị"] for u in table_of(wb["Theo đơn vị"])] == ["CB-A", "CB-B"]
    assert [r["Đơn vị"] for r in table_of(wb["Báo cáo sơ kết"])] == ["Chi bộ Sở Tài chính", "Chi bộ Sở Xây dựng"]
    (indicator,) = table_of(wb["Chỉ tiêu"])
    assert indicator["Kết quả thực hiện (tổng)"] == 7  # unit 3's 5 lớp left out
    text = " ".join(str(v) for ws in wb.worksheets for r in sheet_rows(ws) for v in r if v is not None)
    assert "Điện lực" not in text and "Tóm tắt C" not in text


# -- DOCX --------------------------------------------------------------------------------------


def docx_of(session: Session, round_id: int | None = 5, can_read=everyone):  # type: ignore[no-untyped-def]
    return Document(io.BytesIO(docx.write_docx(content.build_document(report_of(session, round_id, can_read)))))


def test_docx_page_layout_follows_the_party_style(session: Session) -> None:
    doc = docx_of(session)
    section = doc.sections[0]
    assert abs(section.page_width - Mm(210)) < Mm(0.1) and abs(section.page_height - Mm(297)) < Mm(0.1)
    assert Mm(20) <= section.top_margin <= Mm(25) and Mm(20) <= section.bottom_margin <= Mm(25)
    assert Mm(30) <= section.left_margin <= Mm(35) and Mm(15) <= section.right_margin <= Mm(20)
    normal = doc.styles["Normal"]
    assert normal.font.name == "Times New Roman" and Pt(13) <= normal.font.size <= Pt(14)

    header = doc.tables[0]
    left, right = (cell.paragraphs for cell in header.rows[0].cells)
    assert [p.text for p in left] == ["ĐẢNG BỘ TỈNH TRÀ VINH", "ĐẢNG ỦY KHỐI CÁC CƠ QUAN VÀ DOANH NGHIỆP", "*",
                                      "Số      -BC/ĐUK"]
    assert left[1].runs[0].bold
    assert right[0].text == "ĐẢNG CỘNG SẢN VIỆT NAM" and right[0].runs[0].bold and right[0].runs[0].underline
    assert right[-1].text == "Trà Vinh, ngày 10 tháng 4 năm 2022" and right[-1].runs[0].italic
    borders = header._tbl.tblPr.xml
    assert 'w:val="nil"' in borders


def test_docx_body_has_the_sections_figures_and_placeholders(session: Session) -> None:
    doc = docx_of(session)
    texts = [p.text for p in doc.paragraphs]
    assert "BÁO CÁO" in texts
    subject = next(t for t in texts if t.startswith("Sơ kết quý I năm 2022 thực hiện Kế hoạch số 41-KH/ĐUK"))
    assert "Ban Thường vụ Đảng ủy Khối các cơ quan và doanh nghiệp" in subject
    headings = [t for t in texts if t[:4] in ("I- C", "II- ", "III-", "IV- ", "V- N")]
    assert headings == ["I- CÔNG TÁC QUÁN TRIỆT, TRIỂN KHAI", "II- KẾT QUẢ THỰC HIỆN", "III- HẠN CHẾ, NGUYÊN NHÂN",
                        "IV- BÀI HỌC KINH NGHIỆM", "V- NHIỆM VỤ, GIẢI PHÁP THỜI GIAN TỚI"]
    body = "\n".join(texts)
    assert "tổng số 6 lượt giao cho 3 đơn vị" in body and "có 1/3 đơn vị (33,3%)" in body
    assert "đã hoàn thành 2 (33,3%)" in body and "quá hạn 3 (50,0%)" in body
    assert "1. Nhiệm vụ II.1: Tuyên truyền, quán triệt Chương trình 22-CTr/TU" in texts
    assert "- Số đơn vị được giao: 3; đã hoàn thành: 2; đang thực hiện: 1; chưa triển khai: 0; quá hạn: 1." in texts
    assert "- Chỉ tiêu Số lớp tuyên truyền: 12/10 lớp (đạt 120,0%)." in texts
    assert "+ Chi bộ Sở Tài chính: “Đã tổ chức 4 lớp tuyên truyền cho 120 đảng viên.”" in texts
    assert "2/3 đơn vị đã nộp báo cáo sơ kết (đúng hạn: 1, trễ hạn: 1); chưa nộp: 1: Chi bộ Sở Xây dựng." in body
    assert "+ Chi bộ Sở Xây dựng (nhiệm vụ II.1): “Thiếu kinh phí tổ chức lớp.”" in texts
    assert "+ Chi bộ Sở Tài chính: “Đề nghị tăng kinh phí”" in texts
    placeholders = [t for t in texts if t.startswith("[Đề nghị bổ sung")]
    assert len(placeholders) >= 4 and all(t.endswith("]") for t in placeholders)
    assert any("bài học kinh nghiệm" in t for t in placeholders)
    assert any("nhiệm vụ, giải pháp" in t for t in placeholders)


def test_docx_signature_recipients_and_annex(session: Session) -> None:
    doc = docx_of(session)
    sign = doc.tables[1]
    left, right = (cell.paragraphs for cell in sign.rows[0].cells)
    assert [p.text for p in left] == ["Nơi nhận:", "- Như trên,", "- Lưu Văn phòng."]
    assert right[0].text == "T/M BAN THƯỜNG VỤ" and right[-1].text == "Nguyễn Văn Triết"
    texts = [p.text for p in doc.paragraphs]
    assert "PHỤ LỤC" in texts
    annex = doc.tables[2]
    rows = [[c.text for c in r.cells] for r in annex.rows]
    assert rows[0] == ["STT", "Đơn vị", "Được giao", "Hoàn thành", "Đang thực hiện", "Chưa triển khai", "Quá hạn",
                       "Tỷ lệ hoàn thành", "Báo cáo sơ kết"]
    assert rows[1:] == [
        ["1", "Chi bộ Sở Tài chính", "3", "1", "1", "1", "1", "33,3%", "Đã nộp đúng hạn"],
        ["2", "Chi bộ Sở Xây dựng", "2", "0", "2", "0", "2", "0,0%", "Chưa nộp"],
        ["3", "Đảng bộ Công ty Điện lực", "1", "1", "0", "0", "0", "100,0%", "Nộp trễ hạn"],
    ]


def test_plan_docx_without_round_and_in_scope(session: Session) -> None:
    doc = docx_of(session, None, can_read=lambda unit_id: unit_id == 1)
    texts = [p.text for p in doc.paragraphs]
    assert any(t.startswith("Kết quả thực hiện Kế hoạch số 41-KH/ĐUK") for t in texts)
    body = "\n".join(texts) + "\n".join(c.text for t in doc.tables for r in t.rows for c in r.cells)
    assert "Xây dựng" not in body and "Điện lực" not in body
    assert [c.text for c in doc.tables[2].rows[1].cells][:3] == ["1", "Chi bộ Sở Tài chính", "3"]


# -- PDF ---------------------------------------------------------------------------------------


ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "documents"


def render_pages(body: bytes, name: str) -> list[Path]:
    """The PDF's pages as PNGs, kept in artifacts/documents/ (what a reader of the report sees)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTIFACTS.glob(f"{name}-*.png"):
        old.unlink()
    path = ARTIFACTS / f"{name}.pdf"
    path.write_bytes(body)
    subprocess.run(["pdftoppm", "-r", "60", "-png", str(path), str(ARTIFACTS / name)], check=True)
    return sorted(ARTIFACTS.glob(f"{name}-*.png"))


def pdf_text(body: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(body)).pages)


def test_fallback_pdf_embeds_a_vietnamese_font_and_says_the_same(session: Session,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    if not pdf.fallback_available():
        pytest.skip("no serif font with Vietnamese glyphs installed")
    monkeypatch.setenv("PLANTRACK_SOFFICE", "")
    body = pdf.write_pdf(content.build_document(report_of(session, 5)))
    assert body.startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(body))
    assert len(reader.pages) >= 2
    fonts = reader.pages[0]["/Resources"]["/Font"]
    for key in fonts:  # every font embedded (a reader without Times New Roman shows the same letters)
        descendant = fonts[key].get_object()["/DescendantFonts"][0].get_object()
        assert "/FontFile2" in descendant["/FontDescriptor"].get_object(), key
    text = " ".join(pdf_text(body).split())
    for expected in ("BÁO CÁO", "ĐẢNG CỘNG SẢN VIỆT NAM", "Nhiệm vụ II.1", "PHỤ LỤC", "Chi bộ Sở Tài chính",
                     "Nơi nhận:"):
        assert expected in text, expected
    if shutil.which("pdftoppm"):
        assert len(render_pages(body, "bao-cao-fpdf2")) == len(reader.pages)


def test_no_pdf_renderer_raises(monkeypatch: pytest.MonkeyPatch, session: Session) -> None:
    monkeypatch.setenv("PLANTRACK_SOFFICE", "")
    monkeypatch.setattr(pdf, "font_family", lambda: None)
    with pytest.raises(pdf.PdfUnavailable):
        pdf.write_pdf(content.build_document(report_of(session, 5)))


needs_soffice = pytest.mark.skipif(pdf.soffice() is None or shutil.which("pdftotext") is None
                                   or shutil.which("pdftoppm") is None,
                                   reason="LibreOffice and poppler-utils not installed (see .ci/run)")


@needs_soffice
def test_libreoffice_pdf_renders_the_docx(session: Session, tmp_path: Path) -> None:
    body = pdf.write_pdf(content.build_document(report_of(session, 5)))
    path = tmp_path / "bao-cao.pdf"
    path.write_bytes(body)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True,
                          text=True).stdout
    flat = " ".join(text.split())
    for expected in ("ĐẢNG BỘ TỈNH TRÀ VINH", "ĐẢNG CỘNG SẢN VIỆT NAM", "Trà Vinh, ngày 10 tháng 4 năm 2022",
                     "BÁO CÁO", "I- CÔNG TÁC QUÁN TRIỆT, TRIỂN KHAI", "12/10 lớp", "PHỤ LỤC", "Nơi nhận:",
                     "[Đề nghị bổ sung"):
        assert expected in flat, expected
    fonts = subprocess.run(["pdffonts", str(path)], check=True, capture_output=True, text=True).stdout
    assert "LiberationSerif" in fonts or "TimesNewRoman" in fonts.replace(" ", "")
    # the pages as images, kept as test artifacts
    assert len(render_pages(body, "bao-cao-libreoffice")) == len(PdfReader(io.BytesIO(body)).pages) >= 2
