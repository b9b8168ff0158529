"""The text of an uploaded plan document: plain text in any common Vietnamese encoding, Word (.docx), or PDF."""

import codecs
import io
import re
import unicodedata
import zipfile
from collections.abc import Iterator
from email.message import Message
from pathlib import PurePath
from typing import Any

from docx import Document
from docx.oxml.ns import qn
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph
from pypdf import PdfReader

from services.assignments.legacy_fonts import convert_legacy, score
from services.assignments.pdf_layout import reading_order
from services.assignments.plan_import_text import ParseTimeout, checkpoint

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
MAX_UNZIPPED_BYTES = 64_000_000  # a Word file's parts, as declared in the archive
MAX_ZIP_ENTRIES = 2_000
MAX_PDF_PAGES = 500
MAX_CONTROL_SHARE = 0.05  # more control characters than this: binary data, not text

ASK_FOR = "Send the Word file (.docx), a PDF with text, or plain text (.txt)."
ASK_FOR_VI = "Hãy gửi tệp Word (.docx), PDF có lớp chữ hoặc văn bản thuần (.txt)."
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\ufffd]")
_SPACES_RE = re.compile(r"\s+")
_LAYOUT_CELL_RE = re.compile(
    r"(?:đảng bộ|đảng ủy|đảng uỷ|đảng cộng sản|cộng hòa|cộng hoà|số\b|nơi nhận|t/m|k/t|tm\.|kt\.|t/l|tl\.)")
_TASK_COLUMN_RE = re.compile(r"nhiệm vụ|nội dung|công việc")
_OWNER_COLUMN_RE = re.compile(r"chủ trì|thực hiện|phối hợp|thời gian|thời hạn")


class UnreadableDocument(ValueError):
    """The upload holds no plan text this service can read; `vi` says why in Vietnamese (for the pages)."""

    def __init__(self, message: str, vi: str) -> None:
        super().__init__(message)
        self.vi = vi


def document_text(data: bytes, *, content_type: str | None = None, filename: str | None = None) -> str:
    """The document's text (NFC); its format is told by its content, the content type and file name are hints."""
    media, charset = _media_type(content_type)
    suffix = PurePath(filename or "").suffix.lower()
    if data.startswith(b"PK\x03\x04"):
        text = _docx_text(data)
    elif b"%PDF-" in data[:1024]:
        text = _pdf_text(data)
    elif data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        raise UnreadableDocument(f"This is an old Word document (.doc), which cannot be read. {ASK_FOR}",
                                 f"Tệp Word cũ (.doc) không đọc được: hãy lưu lại thành .docx. {ASK_FOR_VI}")
    elif data.lstrip()[:5] == b"{\\rtf":
        raise UnreadableDocument(f"This is a Rich Text (.rtf) document, which cannot be read. {ASK_FOR}",
                                 f"Tệp RTF không đọc được: hãy lưu lại thành .docx. {ASK_FOR_VI}")
    elif media == DOCX_TYPE or suffix == ".docx":
        raise UnreadableDocument(f"The file is not a valid Word document. {ASK_FOR}",
                                 f"Tệp không phải tệp Word hợp lệ. {ASK_FOR_VI}")
    elif media == "application/pdf" or suffix == ".pdf":
        raise UnreadableDocument(f"The file is not a valid PDF. {ASK_FOR}", f"Tệp không phải PDF hợp lệ. {ASK_FOR_VI}")
    else:
        text = _plain_text(data, charset)
    text = unicodedata.normalize("NFC", convert_legacy(text))
    if not text.strip():
        raise UnreadableDocument("The document is empty.", "Tệp không có nội dung: hãy chọn tệp văn bản kế hoạch.")
    return text


def _media_type(content_type: str | None) -> tuple[str, str | None]:
    """The media type (lower case) and its charset parameter, if any."""
    if not content_type:
        return "", None
    message = Message()
    message["content-type"] = content_type
    charset = message.get_param("charset")
    return message.get_content_type(), charset if isinstance(charset, str) else None


# -- plain text ------------------------------------------------------------------------------------
def _plain_text(data: bytes, charset: str | None) -> str:
    text = _declared(data, charset) if charset else None
    if text is None:
        text = _sniffed(data)
    sample = text[:200_000]
    if sample and len(_CONTROL_RE.findall(sample)) > len(sample) * MAX_CONTROL_SHARE:
        raise UnreadableDocument(f"The file is not text nor a supported document. {ASK_FOR}",
                                 f"Tệp không phải văn bản hoặc tài liệu được hỗ trợ. {ASK_FOR_VI}")
    return text


def _declared(data: bytes, charset: str) -> str | None:
    """`data` in its declared charset; None when the name is unknown or the bytes do not fit it."""
    try:
        name = codecs.lookup(charset).name
        return data.decode("utf-8-sig" if name == "utf-8" else name)
    except (LookupError, UnicodeDecodeError):
        return None


def _sniffed(data: bytes) -> str:
    """`data` decoded in the encoding it looks like: BOM, UTF-16 by its NUL bytes, UTF-8, else one byte a letter."""
    if data.startswith(codecs.BOM_UTF8):
        return data[3:].decode("utf-8", errors="replace")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", errors="replace")
    if order := _utf16_order(data):
        try:
            return data.decode(order)
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    mended = data.decode("utf-8", errors="replace")  # UTF-8 but for a few broken bytes (a cut download)
    multibyte = sum(1 for b in data if b >= 0xC2 and b <= 0xF4)
    if multibyte and mended.count("\ufffd") <= max(1, multibyte // 100):
        return mended
    # Windows-1258 writes most tones as combining marks; TCVN3 and VNI text is read as its
    # Windows-1252 characters, which convert_legacy() recognises
    cp1258 = unicodedata.normalize("NFC", data.decode("cp1258", errors="replace"))
    legacy = convert_legacy(data.decode("cp1252", errors="replace"))
    return legacy if score(legacy) > score(cp1258) else cp1258


def _utf16_order(data: bytes) -> str | None:
    """"utf-16-le" or "utf-16-be" when NUL bytes fill one side of most byte pairs, as ASCII and Vietnamese do."""
    sample = data[:4096]
    pairs = len(sample) // 2
    if pairs < 2 or len(data) % 2:
        return None
    even, odd = sample[0:pairs * 2:2].count(0), sample[1:pairs * 2:2].count(0)
    if odd > pairs * 0.3 and even < pairs * 0.05:
        return "utf-16-le"
    if even > pairs * 0.3 and odd < pairs * 0.05:
        return "utf-16-be"
    return None


# -- Word --------------------------------------------------------------------------------------------
def _docx_text(data: bytes) -> str:
    not_word = UnreadableDocument(f"The archive is not a Word document. {ASK_FOR}",
                                  f"Tệp nén không phải tệp Word. {ASK_FOR_VI}")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise not_word from exc
    if "word/document.xml" not in {e.filename for e in entries}:
        raise not_word
    if len(entries) > MAX_ZIP_ENTRIES or sum(e.file_size for e in entries) > MAX_UNZIPPED_BYTES:
        raise UnreadableDocument(
            f"The Word document unpacks to more than {MAX_UNZIPPED_BYTES // 1_000_000} MB: it cannot be read.",
            f"Tệp Word giải nén lớn hơn {MAX_UNZIPPED_BYTES // 1_000_000} MB: không đọc được.")
    try:
        document = Document(io.BytesIO(data))
        numbers = _Numbering(document)
        return "\n".join(_block_lines(document.iter_inner_content(), numbers))
    except ParseTimeout:
        raise
    except Exception as exc:  # a hostile or broken file fails deep inside python-docx/lxml in many ways
        raise UnreadableDocument(f"The Word document is damaged and cannot be read. {ASK_FOR}",
                                 f"Tệp Word bị hỏng, không đọc được. {ASK_FOR_VI}") from exc


def _block_lines(blocks: Iterator[Paragraph | Table], numbers: "_Numbering") -> Iterator[str]:
    for block in blocks:
        checkpoint()
        if isinstance(block, Paragraph):
            yield from (numbers.label(block) + block.text).split("\n")
        else:
            yield from _table_lines(block, numbers)


def _table_lines(table: Table, numbers: "_Numbering") -> Iterator[str]:
    """A layout table (letterhead, signature) cell by cell; a data table one row a line, cells joined by " | "."""
    rows = [[_Cell(tc, table) for tc in tr.tc_lst if tc.vMerge != "continue"] for tr in table._tbl.tr_lst]
    if _is_layout(rows):
        for row in rows:
            for cell in row:
                yield from _block_lines(cell.iter_inner_content(), numbers)
        return
    for row in rows:
        texts = [_SPACES_RE.sub(" ", " ".join(_block_lines(cell.iter_inner_content(), numbers))).strip()
                 for cell in row]
        if any(texts):
            yield " | ".join(texts)


class _Numbering:
    """The labels Word shows before its numbered and bulleted paragraphs ("1.", "a)", "-"), which are not text."""

    def __init__(self, document: Any) -> None:
        try:
            root = document.part.numbering_part.element
        except (KeyError, NotImplementedError):  # a document without numbering
            root = None
        found = root.findall(qn("w:abstractNum")) if root is not None else []
        abstract = {a.get(qn("w:abstractNumId")): a for a in found}
        self.levels: dict[str, dict[int, tuple[str, str, int]]] = {}
        for num in root.findall(qn("w:num")) if root is not None else []:
            levels = {}
            for lvl in abstract.get(_val(num, "w:abstractNumId", ""), []):
                if lvl.tag == qn("w:lvl"):
                    levels[int(lvl.get(qn("w:ilvl"), "0"))] = (
                        _val(lvl, "w:numFmt", "decimal"), _val(lvl, "w:lvlText", ""), int(_val(lvl, "w:start", "1")))
            self.levels[num.get(qn("w:numId"), "")] = levels
        self.counters: dict[str, list[int]] = {}

    def label(self, paragraph: Paragraph) -> str:
        num_id, level = _num_pr(paragraph)
        levels = self.levels.get(num_id, {})
        if level not in levels:
            return ""
        counts = self.counters.setdefault(num_id, [0] * 9)
        counts[level] += 1
        counts[level + 1:] = [0] * (8 - level)
        fmt, text, _ = levels[level]
        if fmt == "bullet":
            return "- "  # bullet glyphs live in symbol fonts (e.g. U+F0B7): no text
        for depth in range(level, -1, -1):
            depth_fmt, _, start = levels.get(depth, ("decimal", "", 1))
            text = text.replace(f"%{depth + 1}", _format(depth_fmt, start - 1 + max(counts[depth], 1)))
        return f"{text} " if text.strip() else ""


def _val(element: Any, tag: str, default: str) -> str:
    child = element.find(qn(tag))
    return default if child is None else child.get(qn("w:val"), default)


def _num_pr(paragraph: Paragraph) -> tuple[str, int]:
    """The paragraph's numbering (its own, else its style's) as (numId, level); ("", 0) when none."""
    properties = [paragraph._p.pPr]
    style, depth = paragraph.style, 0
    while style is not None and depth < 10:
        properties.append(style.element.pPr)
        style, depth = style.base_style, depth + 1
    for ppr in properties:
        num_pr: Any = ppr.numPr if ppr is not None else None  # python-docx types it loosely
        if num_pr is not None and num_pr.numId is not None:
            level = num_pr.ilvl.val if num_pr.ilvl is not None else 0
            return str(num_pr.numId.val), min(int(level), 8)
    return "", 0


def _format(fmt: str, n: int) -> str:
    if fmt in ("lowerLetter", "upperLetter"):
        letter = chr(ord("a") + (n - 1) % 26)
        return letter.upper() if fmt == "upperLetter" else letter
    if fmt in ("lowerRoman", "upperRoman"):
        roman = _roman(n)
        return roman.lower() if fmt == "lowerRoman" else roman
    return str(n)


def _roman(n: int) -> str:
    out = ""
    for value, numeral in ((1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
                           (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")):
        count, n = divmod(n, value)
        out += numeral * count
    return out


def _is_layout(rows: list[list[_Cell]]) -> bool:
    width = max((len(row) for row in rows), default=0)
    starts = [unicodedata.normalize("NFC", cell.text.strip().lower()) for row in rows for cell in row]
    if width <= 2 and any(_LAYOUT_CELL_RE.match(start) for start in starts):
        return True
    header = [unicodedata.normalize("NFC", cell.text.lower()) for cell in rows[0]] if rows else []
    names_tasks = any(_TASK_COLUMN_RE.search(h) for h in header) and any(_OWNER_COLUMN_RE.search(h) for h in header)
    return not (names_tasks or (width >= 3 and len(rows) >= 3))


# -- PDF ------------------------------------------------------------------------------------------------
def _pdf_text(data: bytes) -> str:
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise UnreadableDocument(f"The PDF is protected by a password. {ASK_FOR}",
                                     f"Tệp PDF có mật khẩu. {ASK_FOR_VI}")
        if len(reader.pages) > MAX_PDF_PAGES:
            raise UnreadableDocument(f"The PDF has more than {MAX_PDF_PAGES} pages: it cannot be read.",
                                     f"Tệp PDF dài hơn {MAX_PDF_PAGES} trang: không đọc được.")
        pages = []
        for page in reader.pages:
            checkpoint()
            pages.append(page.extract_text(extraction_mode="layout") or "")
    except (UnreadableDocument, ParseTimeout):
        raise
    except Exception as exc:  # as for Word: broken PDFs fail inside pypdf in many ways
        raise UnreadableDocument(f"The PDF is damaged and cannot be read. {ASK_FOR}",
                                 f"Tệp PDF bị hỏng, không đọc được. {ASK_FOR_VI}") from exc
    text = "\n".join(reading_order("\n".join(pages)))
    if sum(not c.isspace() for c in text) < 20:
        raise UnreadableDocument(
            "The PDF has no text layer: it looks like a scan. Send the Word file or a PDF with text.",
            "Tệp PDF không có lớp chữ (có vẻ là bản quét): hãy gửi tệp Word hoặc PDF có chữ.")
    return text
