"""Write the seed plan 41-KH/ĐUK in the other formats an office sends: .docx, PDF, UTF-16, cp1258, TCVN3, VNI.

    .venv/bin/python scripts/make_seed_copies.py   # into tests/fixtures/plans/formats/

The PDF needs LibreOffice (`soffice`); without it the PDF is left as it is.
"""

import shutil
import subprocess
import sys
import tempfile
import unicodedata
from pathlib import Path

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Pt

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from services.assignments.legacy_fonts import TCVN3, VNI  # noqa: E402
from services.reporting.documents.docx import no_borders  # noqa: E402

SEED = ROOT / "services" / "assignments" / "demo" / "ke-hoach-41-KH-DUK.txt"
OUT = ROOT / "tests" / "fixtures" / "plans" / "formats"
NAME = "ke-hoach-41-KH-DUK"
TONES = "\u0301\u0300\u0309\u0303\u0323"

HEADER_LEFT = ["ĐẢNG BỘ TỈNH TRÀ VINH", "ĐẢNG ỦY KHỐI CÁC CƠ QUAN", "VÀ DOANH NGHIỆP", "*", "Số 41-KH/ĐUK"]
HEADER_RIGHT = ["ĐẢNG CỘNG SẢN VIỆT NAM", "Trà Vinh, ngày 15 tháng 12 năm 2021"]
SIGNATURE = ["T/M BAN THƯỜNG VỤ", "PHÓ BÍ THƯ", "", "Phạm Phước Trãi"]


# -- legacy encodings ------------------------------------------------------------------------------
def to_tcvn3(text: str) -> bytes:
    """TCVN3 bytes, capitals typed with the lower-case codes as in the ".VnTimeH" font."""
    codes = {letter: glyph for glyph, letter in TCVN3.items()}
    out = []
    for char in text:
        glyph = codes.get(char) or codes.get(char.lower(), char)
        out.append(glyph)
    return "".join(out).encode("cp1252")


def to_vni(text: str) -> bytes:
    """VNI bytes (VNI-Windows)."""
    codes: dict[str, str] = {}
    for seq, letter in VNI.items():
        if seq[1:] == seq[1:].upper() or letter.islower():  # upper-case letters take upper-case marks
            codes.setdefault(letter, seq)
    return "".join(codes.get(char, char) for char in text).encode("cp1252")


def to_cp1258(text: str) -> bytes:
    """Windows-1258 bytes: letters it lacks as one code are written with a combining tone mark."""
    out = bytearray()
    for char in text:
        try:
            out += char.encode("cp1258")
        except UnicodeEncodeError:
            parts = unicodedata.normalize("NFD", char)
            tone = "".join(c for c in parts if c in TONES)
            base = unicodedata.normalize("NFC", "".join(c for c in parts if c not in TONES))
            out += (base + tone).encode("cp1258")
    return bytes(out)


# -- Word and PDF -------------------------------------------------------------------------------
def _fill(cell, lines: list[str], bold: int = 0) -> None:  # type: ignore[no-untyped-def]
    """Write `lines` into a table cell, centred, the first `bold` of them in bold."""
    for index, line in enumerate(lines):
        paragraph = cell.paragraphs[0] if index == 0 else cell.add_paragraph()
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        run = paragraph.add_run(line)
        run.bold = index < bold


def body_paragraphs(seed: str) -> list[str]:
    """The seed's paragraphs between the date line and "Nơi nhận:", as typed (no markdown)."""
    start = seed.index("KẾ HOẠCH")
    end = seed.index("Nơi nhận:")
    paragraphs: list[str] = []
    for text in seed[start:end].replace("*", "").split("\n\n"):
        text = text.strip()
        if text[:1].islower():  # a page break of the source cut this paragraph: typed, it is one
            paragraphs[-1] += " " + text
        elif text:
            paragraphs.append(text)
    return paragraphs


def recipients(seed: str) -> list[str]:
    tail = seed[seed.index("Nơi nhận:"):seed.index("**T/M")]
    return [line for line in tail.splitlines() if line.strip()]


def make_docx(seed: str, path: Path) -> None:
    document = Document()
    style = document.styles["Normal"]
    style.font.name = "Times New Roman"
    style.font.size = Pt(13)
    header = document.add_table(rows=1, cols=2)
    no_borders(header)
    _fill(header.cell(0, 0), HEADER_LEFT, bold=3)
    _fill(header.cell(0, 1), HEADER_RIGHT, bold=1)
    for text in body_paragraphs(seed):
        if text.startswith("KẾ HOẠCH"):
            for index, line in enumerate(text.split("\n")):
                paragraph = document.add_paragraph()
                paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
                paragraph.add_run(line).bold = index == 0
            continue
        paragraph = document.add_paragraph(text)
        paragraph.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
        if text[:4] in {"I- M", "II- ", "III-"}:
            paragraph.runs[0].bold = True
    signature = document.add_table(rows=1, cols=2)
    no_borders(signature)
    _fill(signature.cell(0, 0), recipients(seed))
    _fill(signature.cell(0, 1), SIGNATURE, bold=2)
    document.save(str(path))


def make_pdf(docx: Path, pdf: Path) -> bool:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        return False
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([soffice, f"-env:UserInstallation=file://{tmp}/profile", "--headless",
                        "--convert-to", "pdf", "--outdir", tmp, str(docx)], check=True, capture_output=True)
        shutil.copyfile(Path(tmp) / f"{docx.stem}.pdf", pdf)
    return True


def main() -> int:
    seed = SEED.read_text(encoding="utf-8")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"{NAME}.utf16le.txt").write_bytes(seed.replace("\n", "\r\n").encode("utf-16"))
    (OUT / f"{NAME}.utf16be-nobom.txt").write_bytes(seed.encode("utf-16-be"))
    (OUT / f"{NAME}.cp1258.txt").write_bytes(to_cp1258(seed.replace("\n", "\r\n")))
    (OUT / f"{NAME}.tcvn3.txt").write_bytes(to_tcvn3(seed.replace("\n", "\r\n")))
    (OUT / f"{NAME}.vni.txt").write_bytes(to_vni(seed.replace("\n", "\r\n")))
    docx = OUT / f"{NAME}.docx"
    make_docx(seed, docx)
    if not make_pdf(docx, OUT / f"{NAME}.pdf"):
        print("soffice not found: the PDF was not rebuilt", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
