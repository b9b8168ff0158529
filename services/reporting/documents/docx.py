"""The draft report as DOCX in the Party document layout (Hướng dẫn 36-HD/VPTW): A4, margins 20/20/30/17 mm,
Times New Roman 14 pt, the two-column header, the signature and "Nơi nhận:" blocks, an annex per unit."""

import copy
import io
from collections.abc import Sequence

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK, WD_COLOR_INDEX
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph

from services.reporting.documents.content import Block, ReportDocument
from shared.validation import strip_invisible

FONT = "Times New Roman"
MARGINS_MM = {"top": 20, "bottom": 20, "left": 30, "right": 17}
BODY_PT = 14


def _clean(text: str) -> str:
    # XML 1.0 forbids most control characters; python-docx would raise on them
    return "".join(c for c in strip_invisible(text) if c in "\t\n" or ord(c) >= 32)


def _font(style_font: object, size: float) -> None:
    style_font.name = FONT  # type: ignore[attr-defined]
    style_font.size = Pt(size)  # type: ignore[attr-defined]


def _set_east_asia(style: object) -> None:
    rpr = style.element.get_or_add_rPr()  # type: ignore[attr-defined]
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.append(fonts)
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attr), FONT)


def _para(container: object, text: str = "", *, bold: bool = False, italic: bool = False, underline: bool = False,
          size: float | None = None, align: WD_ALIGN_PARAGRAPH | None = None, style: str | None = None,
          space_after: float | None = None, indent_first: bool = False) -> Paragraph:
    p: Paragraph = container.add_paragraph(style=style)  # type: ignore[attr-defined]
    if text:
        run = p.add_run(_clean(text))
        run.bold, run.italic, run.underline = bold or None, italic or None, underline or None
        if size:
            run.font.size = Pt(size)
    if align is not None:
        p.alignment = align
    if space_after is not None:
        p.paragraph_format.space_after = Pt(space_after)
    if indent_first:
        p.paragraph_format.first_line_indent = Mm(10)
    return p


def no_borders(table: Table) -> None:
    """Take the borders off a layout table (a header or signature laid out side by side)."""
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        el = OxmlElement(f"w:{edge}")
        el.set(qn("w:val"), "nil")
        borders.append(el)
    table._tbl.tblPr.append(borders)


def _widths(table: Table, widths_mm: Sequence[float]) -> None:
    table.autofit = False
    for column, w in zip(table.columns, widths_mm, strict=False):
        column.width = Mm(w)  # the grid: LibreOffice lays the table out from it
    for row in table.rows:
        for cell, w in zip(row.cells, widths_mm, strict=False):
            cell.width = Mm(w)


def _cell_lines(cell: _Cell, lines: list[tuple[str, dict]],
                align: WD_ALIGN_PARAGRAPH = WD_ALIGN_PARAGRAPH.CENTER) -> None:
    first = True
    for text, fmt in lines:
        p = cell.paragraphs[0] if first else cell.add_paragraph()
        first = False
        p.alignment = align
        p.paragraph_format.space_after = Pt(0)
        run = p.add_run(_clean(text))
        run.bold = fmt.get("bold")
        run.italic = fmt.get("italic")
        run.underline = fmt.get("underline")
        if "size" in fmt:
            run.font.size = Pt(fmt["size"])


def _blocks(doc: object, blocks: list[Block]) -> None:
    for b in blocks:
        if b.kind == "heading":
            p = _para(doc, b.text, bold=True, space_after=6, align=WD_ALIGN_PARAGRAPH.LEFT)
            p.paragraph_format.keep_with_next = True
        elif b.kind in ("title", "caption"):
            _para(doc, b.text, bold=b.kind == "title", italic=b.kind == "caption", space_after=6,
                  align=WD_ALIGN_PARAGRAPH.CENTER).paragraph_format.keep_with_next = True
        elif b.kind == "subheading":
            _para(doc, b.text, bold=True, space_after=3, align=WD_ALIGN_PARAGRAPH.JUSTIFY,
                  indent_first=True).paragraph_format.keep_with_next = True
        elif b.kind == "bullet":
            _para(doc, "- " + b.text, indent_first=True)
        elif b.kind == "quote":
            _para(doc, "+ " + b.text, italic=True, indent_first=True)
        elif b.kind == "placeholder":
            p = _para(doc, b.text, italic=True, bold=True, indent_first=True)
            p.runs[0].font.highlight_color = WD_COLOR_INDEX.YELLOW
        elif b.kind == "table":
            _table(doc, b)
        elif b.kind == "pagebreak":
            doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)  # type: ignore[attr-defined]
        else:
            _para(doc, b.text, indent_first=True)


def _table(doc: object, b: Block) -> None:
    table = doc.add_table(rows=2, cols=len(b.header))  # type: ignore[attr-defined]
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    header_row = table.rows[0]
    tr_pr = header_row._tr.get_or_add_trPr()
    repeat = OxmlElement("w:tblHeader")  # the header row repeats on every page
    repeat.set(qn("w:val"), "true")
    tr_pr.append(repeat)
    for cell, text in zip(header_row.cells, b.header, strict=True):
        p = cell.paragraphs[0]
        p.style = "Table Text"
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        p.add_run(text).bold = True
    template = table.rows[1]
    for c, cell in enumerate(template.cells):
        p = cell.paragraphs[0]
        p.style = "Table Text"
        p.alignment = WD_ALIGN_PARAGRAPH.LEFT if c == 1 else WD_ALIGN_PARAGRAPH.CENTER
        p.add_run("-")  # a w:t to fill in
    if b.widths_mm:
        _widths(table, b.widths_mm)
    # the data rows: copies of a styled template row, their texts set in the XML (python-docx's cell API
    # would take a second for a 200-unit annex)
    tr = template._tr
    tbl = table._tbl
    tbl.remove(tr)
    for values in b.rows:
        row = copy.deepcopy(tr)
        for t, text in zip(row.iter(qn("w:t")), values, strict=True):
            t.text = _clean(text)
            t.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
        tbl.append(row)


def write_docx(d: ReportDocument) -> bytes:
    """The report as a .docx file."""
    doc = Document()
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(MARGINS_MM["top"]), Mm(MARGINS_MM["bottom"])
    section.left_margin, section.right_margin = Mm(MARGINS_MM["left"]), Mm(MARGINS_MM["right"])
    normal = doc.styles["Normal"]
    _font(normal.font, BODY_PT)
    _set_east_asia(normal)
    pf = normal.paragraph_format
    pf.space_before, pf.space_after, pf.line_spacing = Pt(0), Pt(6), 1.1
    pf.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    table_text = doc.styles.add_style("Table Text", 1)  # 1: paragraph style
    table_text.base_style = normal
    _font(table_text.font, 12)
    table_text.paragraph_format.space_after = Pt(0)
    table_text.paragraph_format.line_spacing = 1.0
    table_text.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.LEFT

    header = doc.add_table(rows=1, cols=2)
    no_borders(header)
    left, right = header.rows[0].cells
    _cell_lines(left, [(d.superior, {}), (d.issuer, {"bold": True}), ("*", {}), (d.number, {})])
    _cell_lines(right, [("ĐẢNG CỘNG SẢN VIỆT NAM", {"bold": True, "underline": True, "size": 15}), ("", {}),
                        (d.date_line, {"italic": True})])
    _widths(header, [75, 88])
    _para(doc, "", space_after=6)
    _para(doc, d.title, bold=True, size=16, align=WD_ALIGN_PARAGRAPH.CENTER, space_after=0)
    for line in d.subject:
        _para(doc, line, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, space_after=0)
    _para(doc, "-----", align=WD_ALIGN_PARAGRAPH.CENTER, space_after=12)
    _blocks(doc, d.body)

    _para(doc, "", space_after=6)
    sign = doc.add_table(rows=1, cols=2)
    no_borders(sign)
    left, right = sign.rows[0].cells
    _cell_lines(left, [("Nơi nhận:", {"underline": True, "size": 14})] + [(r, {"size": 12}) for r in d.recipients],
                align=WD_ALIGN_PARAGRAPH.LEFT)
    _cell_lines(right, [(d.signer_on_behalf, {"bold": True}), (d.signer_title, {"bold": True}), ("", {}), ("", {}),
                        ("", {}), (d.signer_name, {"bold": True})])
    _widths(sign, [78, 85])

    doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
    _blocks(doc, d.annex)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
