"""Plan documents in the formats offices send: Vietnamese text encodings (with the legacy TCVN3 and VNI
fonts), Word (.docx) with its tables, and PDF; and what is refused (scans, .doc, zip bombs, binaries)."""

import io
import zipfile
from pathlib import Path

import pytest
from docx import Document
from fpdf import FPDF
from PIL import Image

from services.assignments import plan_documents
from services.assignments.legacy_fonts import from_tcvn3, from_vni
from services.assignments.plan_documents import DOCX_TYPE, UnreadableDocument, document_text
from services.assignments.plan_import import parse_plan

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "services" / "assignments" / "demo" / "ke-hoach-41-KH-DUK.txt"
FORMATS = ROOT / "tests" / "fixtures" / "plans" / "formats"
SEED_TEXT = SEED.read_text(encoding="utf-8")
NAME = "ke-hoach-41-KH-DUK"


def lines(text: str) -> list[str]:
    """`text` split into lines, whatever its line ends."""
    return text.replace("\r\n", "\n").split("\n")


def draft(text: str) -> dict:
    return parse_plan(text).model_dump()  # warnings too: the same document gives the same draft


# -- text encodings ------------------------------------------------------------------------------

ENCODED = {
    "utf-8": SEED.read_bytes(),
    "utf-8 with BOM": b"\xef\xbb\xbf" + SEED.read_bytes().replace(b"\n", b"\r\n"),
    "utf-16 LE with BOM": (FORMATS / f"{NAME}.utf16le.txt").read_bytes(),
    "utf-16 BE without BOM": (FORMATS / f"{NAME}.utf16be-nobom.txt").read_bytes(),
    "utf-16 LE without BOM": SEED_TEXT.encode("utf-16-le"),
    "windows-1258": (FORMATS / f"{NAME}.cp1258.txt").read_bytes(),
    "VNI": (FORMATS / f"{NAME}.vni.txt").read_bytes(),
}


@pytest.mark.parametrize("encoding", ENCODED)
def test_each_encoding_of_the_seed_reads_as_the_utf8_text(encoding: str) -> None:
    text = document_text(ENCODED[encoding])
    assert lines(text) == lines(SEED_TEXT)
    assert draft(text) == draft(SEED_TEXT)


def test_the_tcvn3_seed_reads_as_the_utf8_text_but_for_capitals_the_font_cannot_type() -> None:
    text = document_text((FORMATS / f"{NAME}.tcvn3.txt").read_bytes())
    # .VnTime has no capital toned letters: "Ủy ban" inside a sentence was typed as "ủy ban"
    assert lines(text.lower()) == lines(SEED_TEXT.lower())
    capitals = [line for line in lines(SEED_TEXT) if line.isupper()]
    assert capitals and [line for line in lines(text) if line.isupper()] == capitals  # typed with .VnTimeH
    assert "ĐẢNG CỘNG SẢN VIỆT NAM" in lines(text) and "Số 41 -KH/ĐUK" in lines(text)


def test_a_declared_charset_is_honoured_and_a_wrong_one_is_not_trusted() -> None:
    cp1258 = ENCODED["windows-1258"]
    assert lines(document_text(cp1258, content_type="text/plain; charset=windows-1258")) == lines(SEED_TEXT)
    assert lines(document_text(cp1258, content_type="text/plain; charset=utf-8")) == lines(SEED_TEXT)
    assert lines(document_text(cp1258, content_type="text/plain; charset=nonsense")) == lines(SEED_TEXT)


@pytest.mark.parametrize(("typed", "unicode"), [
    ("Céng hßa x· héi chñ nghÜa ViÖt Nam", "Cộng hòa xã hội chủ nghĩa Việt Nam"),
    ("§éc lËp - Tù do - H¹nh phóc", "Độc lập - Tự do - Hạnh phúc"),
    ("ng­êi ®øng ®Çu", "người đứng đầu"),
])
def test_tcvn3_words(typed: str, unicode: str) -> None:
    assert from_tcvn3(typed) == unicode
    assert document_text(typed.encode("cp1252")) == unicode
    assert document_text(typed.encode("utf-8")) == unicode  # saved as Unicode with the old font applied


def test_tcvn3_capital_lines_get_their_capitals_back() -> None:
    assert from_tcvn3("§¶NG Bé TØNH TRµ VINH\nSè 41-KH/§UK") == "ĐẢNG BỘ TỈNH TRÀ VINH\nSố 41-KH/ĐUK"


@pytest.mark.parametrize(("typed", "unicode"), [
    ("Coäng hoøa xaõ hoäi chuû nghóa Vieät Nam", "Cộng hòa xã hội chủ nghĩa Việt Nam"),
    ("ÑAÛNG BOÄ TÆNH TRAØ VINH", "ĐẢNG BỘ TỈNH TRÀ VINH"),
    ("ngöôøi ñöùng ñaàu, naêm hoïc", "người đứng đầu, năm học"),
])
def test_vni_words(typed: str, unicode: str) -> None:
    assert from_vni(typed) == unicode
    assert document_text(typed.encode("cp1252")) == unicode


ENGLISH = "Plan of work\n1. Review the budget.\n2. Report by 30 June."
FRENCH = "Le café est prêt. Déjà vu à la carte, naïve résumé."
GERMAN = "Müller über Straße, Ørsted, señor, garçon."
STRAY_SYMBOLS = "Kế hoạch © 2021 — nhiệt độ 30°C, « trích dẫn », § 3."


@pytest.mark.parametrize(("text", "encoding"), [
    (ENGLISH, "ascii"), (FRENCH, "utf-8"), (FRENCH, "cp1252"), (GERMAN, "utf-8"), (GERMAN, "cp1252"),
    (STRAY_SYMBOLS, "utf-8"), (SEED_TEXT, "utf-8"),
])
def test_ordinary_text_is_not_taken_for_a_legacy_font(text: str, encoding: str) -> None:
    assert document_text(text.encode(encoding)) == text


# -- Word --------------------------------------------------------------------------------------------

def docx_bytes(document: Document) -> bytes:  # type: ignore[valid-type]
    out = io.BytesIO()
    document.save(out)  # type: ignore[attr-defined]
    return out.getvalue()


def test_word_layout_tables_read_cell_by_cell_and_data_tables_row_by_row() -> None:
    document = Document()
    header = document.add_table(rows=1, cols=2)
    header.cell(0, 0).text = "ĐẢNG BỘ TỈNH TRÀ VINH"
    header.cell(0, 0).add_paragraph("Số 7-KH/ĐUK")
    header.cell(0, 1).text = "ĐẢNG CỘNG SẢN VIỆT NAM"
    header.cell(0, 1).add_paragraph("Trà Vinh, ngày 2 tháng 3 năm 2024")
    document.add_paragraph("KẾ HOẠCH")
    tasks = document.add_table(rows=3, cols=3)
    for row, texts in zip(tasks.rows, [("TT", "Nhiệm vụ", "Đơn vị chủ trì"),
                                       ("1", "Tuyên truyền", "Ban Tuyên giáo"),
                                       ("2", "Kiểm tra", "Ủy ban Kiểm tra")], strict=True):
        for cell, text in zip(row.cells, texts, strict=True):
            cell.text = text
    tasks.cell(2, 1).paragraphs[0].add_run().add_break()
    tasks.cell(2, 1).paragraphs[0].add_run("giám sát")
    tasks.cell(2, 2).add_paragraph("phối hợp Văn phòng")
    two_rows = document.add_table(rows=2, cols=2)  # a two-column task table, named by its header
    for row, texts in zip(two_rows.rows, [("Nội dung", "Thời gian"), ("Sơ kết", "Quý IV")], strict=True):
        for cell, text in zip(row.cells, texts, strict=True):
            cell.text = text
    signature = document.add_table(rows=1, cols=2)
    signature.cell(0, 0).text = "Nơi nhận:"
    signature.cell(0, 0).add_paragraph("- Như trên,")
    signature.cell(0, 1).text = "T/M BAN THƯỜNG VỤ"
    signature.cell(0, 1).add_paragraph("BÍ THƯ")
    assert lines(document_text(docx_bytes(document))) == [
        "ĐẢNG BỘ TỈNH TRÀ VINH", "Số 7-KH/ĐUK", "ĐẢNG CỘNG SẢN VIỆT NAM", "Trà Vinh, ngày 2 tháng 3 năm 2024",
        "KẾ HOẠCH",
        "TT | Nhiệm vụ | Đơn vị chủ trì", "1 | Tuyên truyền | Ban Tuyên giáo",
        "2 | Kiểm tra giám sát | Ủy ban Kiểm tra phối hợp Văn phòng",
        "Nội dung | Thời gian", "Sơ kết | Quý IV",
        "Nơi nhận:", "- Như trên,", "T/M BAN THƯỜNG VỤ", "BÍ THƯ",
    ]


def test_word_numbering_and_bullets_are_written_out() -> None:
    document = Document()
    document.add_paragraph("II- NHIỆM VỤ")
    for text in ("Tuyên truyền.", "Kiểm tra."):
        document.add_paragraph(text, style="List Number")
    document.add_paragraph("Xây dựng kế hoạch.", style="List Bullet")
    assert lines(document_text(docx_bytes(document))) == [
        "II- NHIỆM VỤ", "1. Tuyên truyền.", "2. Kiểm tra.", "- Xây dựng kế hoạch."]


def test_the_word_seed_reads_as_the_text_seed() -> None:
    text = document_text((FORMATS / f"{NAME}.docx").read_bytes(), content_type=DOCX_TYPE)
    assert draft(text) == draft(SEED_TEXT)


def test_a_zip_bomb_is_refused_before_it_is_unpacked() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", b"\0" * (plan_documents.MAX_UNZIPPED_BYTES + 1))
    assert len(out.getvalue()) < 200_000
    with pytest.raises(UnreadableDocument, match="unpacks to more than"):
        document_text(out.getvalue())


def test_a_zip_that_is_no_word_document_is_refused() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("content.xml", "<office:document/>")  # e.g. an OpenDocument text
    with pytest.raises(UnreadableDocument, match="not a Word document") as refused:
        document_text(out.getvalue(), filename="ke-hoach.odt")
    assert ".docx" in refused.value.vi


# -- PDF ---------------------------------------------------------------------------------------------

def test_the_pdf_seed_reads_as_the_text_seed() -> None:
    """Its header and signature tables read column by column, lines the page wrapped joined back."""
    text = document_text((FORMATS / f"{NAME}.pdf").read_bytes(), content_type="application/pdf")
    assert draft(text) == draft(SEED_TEXT)


def test_the_pdf_seed_reads_its_header_number_and_tasks() -> None:
    got = parse_plan(document_text((FORMATS / f"{NAME}.pdf").read_bytes()))
    want = parse_plan(SEED_TEXT)
    assert (got.number, got.issued_on, got.title) == (want.number, want.issued_on, want.title)
    assert [t.code for t in got.tasks] == [t.code for t in want.tasks]


def scanned_pdf() -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.image(Image.new("RGB", (400, 200), "white"), x=10, y=10, w=150)
    return bytes(pdf.output())


def test_a_scanned_pdf_is_refused_with_a_clear_message() -> None:
    with pytest.raises(UnreadableDocument, match="no text layer: it looks like a scan") as refused:
        document_text(scanned_pdf(), content_type="application/pdf")
    assert "bản quét" in refused.value.vi


# -- refused ------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("data", "hint", "message"), [
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), "ke-hoach.doc", "old Word document"),
    (b"{\\rtf1\\ansi Ke hoach}", "ke-hoach.rtf", "Rich Text"),
    (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "scan.png", "not text"),
    (b"plain words", "ke-hoach.docx", "not a valid Word document"),
    (b"plain words", "ke-hoach.pdf", "not a valid PDF"),
    (b"%PDF-1.7\n garbage", "ke-hoach.pdf", "PDF is damaged"),
    (b" \r\n\t", "ke-hoach.txt", "empty"),
])
def test_what_cannot_be_read_is_refused_asking_for_a_readable_format(data: bytes, hint: str, message: str) -> None:
    with pytest.raises(UnreadableDocument, match=message) as refused:
        document_text(data, filename=hint)
    assert refused.value.vi and refused.value.vi != str(refused.value)
