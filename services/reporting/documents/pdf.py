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
from typing import Any

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
    line_font = _line_font()
    for font in pdf.fonts.values():
        font.__class__ = line_font  # this document's fonts only
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


_line = threading.local()  # the text _LineFont measured last, per thread


def _line_font() -> type:
    """fpdf2's TTFFont with a get_text_width() for its line breaker, which measures the line it builds
    anew after each character it adds (quadratic in the line's length): measuring the last text
    measured plus one character costs one lookup. Same result: the sum of the characters' integer widths."""
    from fpdf.fonts import TTFFont  # type: ignore[attr-defined]

    class LineFont(TTFFont):  # type: ignore[misc]
        __slots__ = ()  # TTFFont's layout: a font's class can be switched to this one

        def get_text_width(self, text: str, font_size_pt: float, text_shaping_params: Any) -> tuple[int, float]:
            if text_shaping_params or self.is_symbol:
                return super().get_text_width(text, font_size_pt, text_shaping_params)  # type: ignore[no-any-return]
            font, last, units = getattr(_line, "last", (None, "", 0))
            if len(text) == 1:
                units = self.cw[ord(text)]
            elif font is self and text.startswith(last) and len(text) - len(last) <= 1:  # the same, or one more
                units += self.cw[ord(text[-1])] if len(text) > len(last) else 0
            else:
                units = sum(self.cw[ord(c)] for c in text)
            if len(text) > 1:  # single characters are probed between two lengths of the line
                _line.last = (self, text, units)
            if font_size_pt > self.biggest_size_pt:
                self.biggest_size_pt = font_size_pt
            return len(text), units * font_size_pt * 0.001

    return LineFont


def _draw_blocks(pdf: object, blocks: list[Block], width: float) -> None:
    from fpdf.enums import XPos, YPos

    p = pdf  # fpdf.FPDF
    for b in blocks:
        if b.kind == "table":
            _draw_table(p, b, width)
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


TABLE_PT = 11
TABLE_LINE_MM = 5.5


def _draw_table(pdf: Any, b: Block, width: float) -> None:
    """`b` as a table, its header row (bold) repeated on each page, every cell's text centred and
    wrapped at spaces. Drawn line by line: fpdf2's own table lays each cell out twice with
    multi_cell(), seconds for a 200-unit annex."""
    widths = [float(w) for w in b.widths_mm] or [width / len(b.header)] * len(b.header)
    widths = [w * width / sum(widths) for w in widths]
    measured: dict[tuple[str, str], float] = {}

    def text_width(style: str, text: str) -> float:
        found = measured.get((style, text))
        if found is None:
            found = measured[(style, text)] = pdf.get_string_width(text)
        return found

    def wrap(style: str, text: str, room: float) -> list[str]:
        lines: list[str] = []
        for paragraph in text.split("\n"):
            line = ""
            for word in paragraph.split(" "):
                longer = f"{line} {word}" if line else word
                if line and text_width(style, longer) > room:
                    lines.append(line)
                    line = word
                else:
                    line = longer
            lines.append(line)
        return lines

    def draw(style: str, cells: list[str]) -> None:
        pdf.set_font("Serif", style, TABLE_PT)
        wrapped = [wrap(style, _t(text), w - 2 * pdf.c_margin) for text, w in zip(cells, widths, strict=False)]
        height = max(len(lines) for lines in wrapped) * TABLE_LINE_MM
        if pdf.get_y() + height > pdf.page_break_trigger and cells is not b.header:
            pdf.add_page()
            draw("B", b.header)
            pdf.set_font("Serif", style, TABLE_PT)
        x, y = pdf.l_margin, pdf.get_y()
        baseline = TABLE_LINE_MM / 2 + 0.3 * pdf.font_size
        for lines, w in zip(wrapped, widths, strict=False):
            pdf.rect(x, y, w, height)
            top = y + (height - len(lines) * TABLE_LINE_MM) / 2
            for n, line in enumerate(lines):
                if line:
                    pdf.text(x + (w - text_width(style, line)) / 2, top + n * TABLE_LINE_MM + baseline, line)
            x += w
        pdf.set_y(y + height)

    draw("B", b.header)
    for row in b.rows:
        draw("", row)
