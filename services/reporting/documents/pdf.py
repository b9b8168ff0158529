"""The draft report as PDF: the DOCX converted by LibreOffice when installed (same layout), else drawn
with fpdf2 in Liberation Serif (metric-compatible with Times New Roman, with Vietnamese diacritics;
embedded). Neither: PdfUnavailable, which the route answers with 503."""

import functools
import os
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

from services.reporting.documents.content import Block, ReportDocument
from services.reporting.documents.docx import MARGINS_MM, write_docx
from shared.validation import strip_invisible

FONTS = Path("/usr/share/fonts/truetype")
STYLES = ("Regular", "Bold", "Italic", "BoldItalic")
FAMILIES: list[dict[str, Path]] = [  # serif families, best first; the first with Vietnamese glyphs is used
    {s: FONTS / "liberation2" / f"LiberationSerif-{s}.ttf" for s in STYLES},  # fonts-liberation2
    {s: FONTS / "liberation" / f"LiberationSerif-{s}.ttf" for s in STYLES},  # 1.x lacks them; 2.x has them
    {s: FONTS / "dejavu" / f"DejaVuSerif{'' if s == 'Regular' else '-' + s}.ttf" for s in STYLES},
]
VIETNAMESE_SAMPLE = "ĐđƯưƠơệếộủỹẠ"
CONVERT_TIMEOUT = 120.0
_soffice_lock = threading.Lock()  # one LibreOffice profile, one conversion at a time


class PdfUnavailable(RuntimeError):
    """Neither LibreOffice nor the fallback's fonts are installed."""


def soffice() -> str | None:
    """The LibreOffice binary, if installed (PLANTRACK_SOFFICE overrides; "" disables)."""
    override = os.environ.get("PLANTRACK_SOFFICE")
    if override is not None:
        return override or None
    return shutil.which("soffice") or shutil.which("libreoffice")


def docx_to_pdf(docx: bytes, binary: str) -> bytes:
    """Convert with LibreOffice headless, in a private profile and working directory."""
    with _soffice_lock, tempfile.TemporaryDirectory(prefix="plantrack-pdf-") as tmp:
        src = Path(tmp) / "bao-cao.docx"
        src.write_bytes(docx)
        profile = Path(tempfile.gettempdir()) / f"plantrack-soffice-{os.getuid()}"
        subprocess.run(
            [binary, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore", "--nolockcheck",
             "--convert-to", "pdf", "--outdir", tmp, str(src)],
            check=True, capture_output=True, timeout=CONVERT_TIMEOUT,
        )
        return (Path(tmp) / "bao-cao.pdf").read_bytes()


@functools.cache
def font_family() -> dict[str, Path] | None:
    """The first installed serif family whose fonts carry Vietnamese letters (None: none)."""
    from fontTools.ttLib import TTFont  # type: ignore[import-untyped]  # fpdf2's dependency

    for family in FAMILIES:
        if not all(p.exists() for p in family.values()):
            continue
        try:
            if all(ord(c) in TTFont(family["Regular"], lazy=True).getBestCmap() for c in VIETNAMESE_SAMPLE):
                return family
        except Exception:  # noqa: BLE001 - an unreadable font is as good as none
            continue
    return None


def fallback_available() -> bool:
    """True when fpdf2 can draw the report (a serif font with Vietnamese glyphs is installed)."""
    return font_family() is not None


def write_pdf(d: ReportDocument, *, prefer_soffice: bool = True) -> bytes:
    """The report as PDF (see the module's doc)."""
    binary = soffice() if prefer_soffice else None
    if binary:
        return docx_to_pdf(write_docx(d), binary)
    if fallback_available():
        return draw_pdf(d)
    raise PdfUnavailable("Neither LibreOffice (soffice) nor the Liberation Serif fonts are installed.")


def _t(text: str) -> str:
    return "".join(c for c in strip_invisible(text) if c == "\n" or ord(c) >= 32)


def draw_pdf(d: ReportDocument) -> bytes:
    """The report drawn with fpdf2 (the fallback)."""
    from fpdf import FPDF  # imported here: only the fallback needs it
    from fpdf.enums import XPos, YPos

    pdf = FPDF(format="A4", unit="mm")
    pdf.set_margins(MARGINS_MM["left"], MARGINS_MM["top"], MARGINS_MM["right"])
    pdf.set_auto_page_break(True, MARGINS_MM["bottom"])
    family = font_family()
    if family is None:
        raise PdfUnavailable("No serif font with Vietnamese glyphs is installed.")
    for style, name in (("", "Regular"), ("B", "Bold"), ("I", "Italic"), ("BI", "BoldItalic")):
        pdf.add_font("Serif", style, str(family[name]))
    pdf.add_page()
    width = 210 - MARGINS_MM["left"] - MARGINS_MM["right"]
    left_w, right_w = 75.0, width - 75.0
    x0, y0 = pdf.l_margin, pdf.get_y()

    def lines(x: float, w: float, items: list[tuple[str, str, int]], align: str = "C") -> float:
        pdf.set_xy(x, y0)
        for text, style, size in items:
            pdf.set_font("Serif", style, size)
            pdf.set_x(x)
            pdf.multi_cell(w, 6.5, _t(text), align=align, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        return pdf.get_y()

    bottom = max(lines(x0, left_w, [(d.superior, "", 14), (d.issuer, "B", 14), ("*", "", 14), (d.number, "", 14)]),
                 lines(x0 + left_w, right_w, [("ĐẢNG CỘNG SẢN VIỆT NAM", "BU", 15), ("", "", 8),
                                               (d.date_line, "I", 14)]))
    pdf.set_y(bottom + 6)
    pdf.set_font("Serif", "B", 16)
    pdf.multi_cell(width, 8, d.title, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("Serif", "B", 14)
    for line in d.subject:
        pdf.multi_cell(width, 6.5, _t(line), align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("Serif", "", 14)
    pdf.multi_cell(width, 6.5, "-----", align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(3)
    _draw_blocks(pdf, d.body, width)
    pdf.ln(4)
    y0 = pdf.get_y()
    if y0 > 297 - MARGINS_MM["bottom"] - 50:
        pdf.add_page()
        y0 = pdf.get_y()
    lines(x0, 80, [("Nơi nhận:", "U", 14)] + [(r, "", 12) for r in d.recipients], align="L")
    lines(x0 + 80, width - 80, [(d.signer_on_behalf, "B", 14), (d.signer_title, "B", 14), ("", "", 30),
                                (d.signer_name, "B", 14)])
    pdf.add_page()
    _draw_blocks(pdf, d.annex, width)
    return bytes(pdf.output())


def _draw_blocks(pdf: object, blocks: list[Block], width: float) -> None:
    from fpdf.enums import XPos, YPos

    p = pdf  # fpdf.FPDF
    for b in blocks:
        if b.kind == "table":
            p.set_font("Serif", "", 11)  # type: ignore[attr-defined]
            widths: list[float] = [float(w) for w in b.widths_mm] or [width / len(b.header)] * len(b.header)
            scale = width / sum(widths)
            with p.table(col_widths=[w * scale for w in widths], width=width,  # type: ignore[attr-defined]
                         text_align="CENTER", line_height=5.5) as table:
                for row in [b.header, *b.rows]:
                    cells = table.row()
                    for text in row:
                        cells.cell(_t(text))
            continue
        style, align, indent, prefix = {
            "heading": ("B", "L", False, ""), "subheading": ("B", "J", True, ""), "title": ("B", "C", False, ""),
            "caption": ("I", "C", False, ""), "bullet": ("", "J", True, "- "), "quote": ("I", "J", True, "+ "),
            "placeholder": ("BI", "J", True, ""),
        }.get(b.kind, ("", "J", True, ""))
        p.set_font("Serif", style, 14)  # type: ignore[attr-defined]
        text = ("        " if indent else "") + prefix + _t(b.text)
        p.multi_cell(width, 6.5, text, align=align, new_x=XPos.LMARGIN, new_y=YPos.NEXT)  # type: ignore[attr-defined]
        p.ln(1.5)  # type: ignore[attr-defined]
