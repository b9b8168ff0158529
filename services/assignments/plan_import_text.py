"""Text helpers for plan_import: line clean-up, Vietnamese case handling, matching and dates."""

from __future__ import annotations

import calendar
import re
import time
import unicodedata
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date, timedelta

from shared.validation import INVISIBLE

# --- time limit -----------------------------------------------------------------------------


class ParseTimeout(Exception):
    """The parse ran past its time limit."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"reading the document took longer than {seconds:g} seconds")
        self.seconds = seconds


_DEADLINE: ContextVar[tuple[float, float] | None] = ContextVar("plan_import_deadline", default=None)


@contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """Make checkpoint() raise ParseTimeout once `seconds` have passed (None: no limit)."""
    token = _DEADLINE.set(None if seconds is None else (time.monotonic() + seconds, seconds))
    try:
        yield
    finally:
        _DEADLINE.reset(token)


def checkpoint() -> None:
    """Raise ParseTimeout if the current time limit has passed; cheap enough to call per line."""
    if (deadline := _DEADLINE.get()) is not None and time.monotonic() > deadline[0]:
        raise ParseTimeout(deadline[1])


# Old ("hoá", "uỷ") and new ("hóa", "ủy") tone placement in open syllables; both are common.
_TONE_PAIRS = {
    "oá": "óa", "oà": "òa", "oả": "ỏa", "oã": "õa", "oạ": "ọa",
    "oé": "óe", "oè": "òe", "oẻ": "ỏe", "oẽ": "õe", "oẹ": "ọe",
    "uý": "úy", "uỳ": "ùy", "uỷ": "ủy", "uỹ": "ũy", "uỵ": "ụy",
}
_TONE_RE = re.compile(f"(?<!q)(?:{'|'.join(_TONE_PAIRS)})(?![^\\W\\d_])")  # open syllables only
_BOLD_RE = re.compile(r"\*\*")
_ITALIC_RE = re.compile(r"(?<![\w*])\*(?=\S)([^*]*?\S)\*(?![\w*])")
_MD_HEADING_RE = re.compile(r"^#{1,6}\s+")
_INVISIBLE_RE = re.compile(f"[{INVISIBLE}]")  # BOM, zero-width and bidi characters
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # NUL & co. (tab and line ends are split on)
_SPACES_RE = re.compile(r"[ \t\xa0\u2002\u2003\u2009]+")
_SEPARATOR_RE = re.compile(r"[*_=~\-–—.·]+|[-–]?\s*\d{1,3}\s*[-–]?|(?i:trang)\s+\d{1,3}")  # rules, page numbers
_CELL_RULE_RE = re.compile(r"[|+:\-–—=_ ]*\|[|+:\-–—=_ ]*")  # a table's cell border or "| --- |" row
_SENTENCE_END_RE = re.compile(r"[.!?…]\s+")
_WORD_RE = re.compile(r"[^\W\d_]+")

# Names and acronyms keeping their capitals inside an otherwise lower-case Vietnamese phrase.
_CANONICAL_PHRASES = (
    "Ban Thường vụ", "Ban Chấp hành", "Ban Tuyên giáo", "Ban Tổ chức", "Ban Dân vận",
    "Ban Nội chính", "Ban Bí thư", "Bộ Chính trị", "Ủy ban Kiểm tra", "Ủy ban nhân dân",
    "Hội đồng nhân dân", "Mặt trận Tổ quốc", "Hồ Chí Minh", "Việt Nam", "Cộng sản",
    "Văn phòng", "Tỉnh ủy", "Thành ủy", "Huyện ủy", "Quận ủy", "Thị ủy", "Trung ương",
    "Quốc hội", "Chính phủ", "Thủ tướng", "Bí thư", "Chủ tịch",
    "UBND", "HĐND", "MTTQ", "UBKT", "BCH", "BTV", "ĐUK", "TNCS", "CT-XH", "TW",
)
_DANG_RE = re.compile(r"(?<!tổ chức )(?<!cơ sở )(?<!\w)đảng(?!\w)(?! viên)")
_KHOI_RE = re.compile(r"(?<=Đảng ủy )khối(?!\w)|(?<=Đảng bộ )khối(?!\w)")
_CITED_RE = re.compile(  # a document cited by its number: "Chỉ thị số 19/CT-TTg"
    r"(?<!\w)(?:chỉ thị|nghị quyết|quyết định|kế hoạch|chương trình|kết luận|nghị định|thông tư|hướng dẫn"
    r"|luật|công văn|thông báo)(?=\s+(?:số\s|\d))"
)
_LOCALITY_RE = re.compile(
    r"(?<!\w)(tỉnh|thành phố|huyện|quận|thị xã|thị trấn|phường)((?:[ ](?:-[ ])?[^\W\d_]+){1,4})"
)
_LOCALITY_STOP = frozenset({
    "và", "của", "về", "trong", "giai", "đoạn", "năm", "đến", "các", "những", "với", "theo", "tại",
    "cho", "là", "lần", "thứ", "nhiệm", "kỳ", "đã", "được", "để", "nhằm", "trên", "địa", "bàn", "khóa",
    "hiện", "nay",
})


def fold(text: str) -> str:
    """Lower-case text and unify tone placement, keeping the length (indices stay valid)."""
    lowered = text.lower()
    if len(lowered) != len(text):  # rare letters such as "İ" lower to two characters
        lowered = "".join(c.lower() if len(c.lower()) == 1 else c for c in text)
    return _TONE_RE.sub(lambda m: _TONE_PAIRS[m.group()], lowered)


def kw(pattern: str) -> re.Pattern[str]:
    """Compile a lower-case keyword pattern meant to run on fold()ed text."""
    source = unicodedata.normalize("NFC", pattern)
    return re.compile(_TONE_RE.sub(lambda m: _TONE_PAIRS[m.group()], source))


def clean_lines(text: str) -> list[str]:
    """Split text into stripped lines: no BOM, CR, control or invisible characters, markdown emphasis,
    or separator rules."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = _INVISIBLE_RE.sub("", _CONTROL_RE.sub("", text))
    lines = []
    for index, line in enumerate(text.split("\n")):
        if not index % 256:
            checkpoint()
        if "*" in line:
            line = _ITALIC_RE.sub(r"\1", _BOLD_RE.sub("", line))
        line = line.strip()
        if line[:1] == "#":
            line = _MD_HEADING_RE.sub("", line)
        line = _SPACES_RE.sub(" ", line).strip()
        lines.append("" if _SEPARATOR_RE.fullmatch(line) or _CELL_RULE_RE.fullmatch(line) else line)
    return lines


def is_caps(text: str) -> bool:
    """True when text has at least two letters and all of them are upper case."""
    if not text.isupper():  # cheap first: most lines are not in capitals
        return False
    letters = [c for c in text if c.isalpha()]
    return len(letters) >= 2 and all(c.isupper() for c in letters)


def _cap(word: str) -> str:
    """Upper-case the first character of a word."""
    return word[:1].upper() + word[1:]


def _cap_locality(match: re.Match[str]) -> str:
    """Capitalise the place name following a locality word, stopping at function words."""
    words, out = match.group(2).split(), list[str]()
    for index, word in enumerate(words):
        if word in _LOCALITY_STOP:
            out.extend(words[index:])
            break
        out.append(_cap(word))
    return f"{match.group(1)} {' '.join(out)}"


def _phrase_re(phrase: str) -> re.Pattern[str]:
    """Whole-word pattern for a phrase in fold()ed text."""
    return re.compile(rf"(?<!\w){re.escape(fold(phrase))}(?!\w)")


_CANONICAL_RES = tuple((_phrase_re(p), p) for p in sorted(_CANONICAL_PHRASES, key=len, reverse=True))


_SYMBOL_RE = re.compile(r"(?<!\w)\d+[A-ZĐ]?(?:\s?[-/]\s?[A-ZĐ0-9&]+)*[-/][A-ZĐ&]+[A-ZĐ0-9&-]*(?!\w)")


def vn_case(text: str, proper_nouns: Iterable[str] = (), first_upper: bool = True) -> str:
    """Sentence-case an ALL-CAPS Vietnamese phrase, restoring Party/organ names, places and
    document symbols ("19/CT-TTg")."""
    symbols = _SYMBOL_RE.findall(text)
    if not symbols:
        return _vn_case(text, proper_nouns, first_upper)
    masked = _SYMBOL_RE.sub(lambda m: f"\x00{symbols.index(m.group())}\x00", text)
    out = _vn_case(masked, proper_nouns, first_upper)
    return re.sub("\x00(\\d+)\x00", lambda m: symbols[int(m.group(1))].replace("TTG", "TTg"), out)


def _vn_case(text: str, proper_nouns: Iterable[str], first_upper: bool) -> str:
    out = fold(text.strip())
    extra = [(_phrase_re(n), n) for n in proper_nouns if n]
    for pattern, noun in (*_CANONICAL_RES, *extra):
        out = pattern.sub(lambda _, noun=noun: noun, out)  # type: ignore[misc]
    out = _KHOI_RE.sub("Khối", _DANG_RE.sub("Đảng", out))
    out = _CITED_RE.sub(lambda m: _cap(m.group()), out)
    out = _LOCALITY_RE.sub(_cap_locality, out)
    return _cap(out) if first_upper else out


def name_case(text: str) -> str:
    """Title-case a personal name written in capitals ("PHẠM PHƯỚC TRÃI")."""
    return " ".join(_cap(w.lower()) for w in text.split()) if is_caps(text) else text


def looks_like_name(line: str) -> bool:
    """True for a 2-6 word line of capitalised words only (a signer's name)."""
    words = line.split()
    return 2 <= len(words) <= 6 and all(_WORD_RE.fullmatch(w) and w[0].isupper() for w in words)


def first_sentence(text: str) -> str:
    """The first sentence of the first paragraph of text."""
    para = text.split("\n", 1)[0]
    for match in _SENTENCE_END_RE.finditer(para):
        rest = para[match.end():].lstrip("\"“'(")
        if rest[:1].isupper():
            return para[: match.start() + 1]
    return para


def short_title(text: str, limit: int = 160) -> str:
    """First sentence, at most `limit` chars: cut after a clause or word, marked with "…"."""
    title = first_sentence(text)
    if len(title) <= limit:
        return title.rstrip(" ,;:.-–—…")
    cut = title[:limit]  # leaves room for the ellipsis
    clause = max(cut.rfind(","), cut.rfind(";"))  # end on a whole clause when one is long enough
    space = cut.rfind(" ")
    if clause > limit // 2:
        cut = cut[:clause]
    elif space > limit // 2:
        cut = cut[:space]
    else:
        cut = title[: limit - 1]
    return cut.rstrip(" ,;:.-–—…") + "…"


def safe_date(year: object, month: object, day: object) -> date | None:
    """A date, or None when the numbers do not form one."""
    try:
        return date(int(str(year)), int(str(month)), int(str(day)))
    except (TypeError, ValueError):
        return None


def month_end(year: int, month: int) -> date | None:
    """The last day of a month, or None if the month is invalid."""
    if not 1 <= month <= 12 or not 1900 <= year <= 2200:
        return None
    return date(year, month, calendar.monthrange(year, month)[1])


def day_before_month(year: int, month: int) -> date | None:
    """The last day before a month starts ("trước tháng 6/2022" -> 2022-05-31)."""
    start = safe_date(year, month, 1)
    return start - timedelta(days=1) if start and 1900 <= year <= 2200 else None


def quarter_end(year: int, quarter: str) -> date | None:
    """The last day of a quarter given as I-IV or 1-4."""
    number = {"i": 1, "ii": 2, "iii": 3, "iv": 4}.get(quarter.lower()) or (
        int(quarter) if quarter.isdigit() else 0
    )
    return month_end(year, number * 3) if 1 <= number <= 4 else None


def letter_code(index: int) -> str:
    """0 -> "a", 25 -> "z", 26 -> "aa"."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("a") + rest) + letters
    return letters


def clip(text: str, limit: int = 60) -> str:
    """Shorten text for a warning message."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- outline: list markers and paragraphs -------------------------------------------------

ROMAN_RE = re.compile(r"^(?P<label>[IVXL]{1,6})\s*(?:[.\-–—:)]|/(?=\s))\s*(?P<body>\S.*)$")
NUM_RE = re.compile(
    r"^(?:(?P<deep>\d{1,2}(?:\.\d{1,2}){1,3})\.?\s+|(?P<top>\d{1,2})\s*[.)/]\s*)(?P<body>(?!\d)\S.*)$"
)
LETTER_RE = re.compile(r"^(?P<label>[a-zđ])(?:\)\s*|\.\s+)(?P<body>\S.*)$")
BULLET_RE = re.compile(r"^(?P<label>[-–—+•·*●○▪■◦])\s*(?P<body>\S.*)$")
PART_RE = re.compile(  # "PHẦN I. …", "PHẦN THỨ HAI: …", "Mục 2. …", "Chương I …"
    r"^(?P<word>PHẦN|Phần|MỤC|Mục|CHƯƠNG|Chương)\s+(?P<label>[IVXL]{1,6}|\d{1,2}|THỨ\s+\S+|thứ\s+\S+)"
    r"\s*(?:[.:\-–—)]\s*|\s+)(?P<body>\S.*)$"
)
LETTER_PART_RE = re.compile(r"^(?P<label>[A-ZĐ])\.\s+(?P<body>\S.*)$")  # "B. NHIỆM VỤ, GIẢI PHÁP"
ARTICLE_RE = re.compile(r"^(?:Điều|ĐIỀU)\s+(?P<label>\d{1,3})\s*[.:]\s*(?P<body>\S.*)$")
RANK_ROMAN, RANK_LETTER, RANK_DASH, RANK_PLUS, RANK_BULLET, RANK_PLAIN = 0, 10, 11, 12, 13, 99
_LETTER_MARKS = "abcdefghijklmnopqrstuvwxyzđ"
_BULLET_MARKS = "-–—+•·*●○▪■◦"


@dataclass
class Para:
    """One body paragraph with its list marker (if any)."""

    kind: str  # roman, num, letter, dash, plus, bullet, plain
    label: str
    body: str
    raw: str
    last_line: str
    heading: bool = False
    fields: list[tuple[str, str]] = field(default_factory=list, repr=False)  # ("units", "Cơ quan chủ trì: …")
    more: list[str] = field(default_factory=list, repr=False)  # continuation lines, joined by done()
    letters: int = -1  # letters in body, and whether all are capitals: is_caps(body) without rereading it
    upper: bool = True

    def add(self, line: str) -> None:
        """Carry the paragraph on with `line` (in constant time: body and raw are joined by done())."""
        if self.letters < 0:
            self._count(self.body)
        self.more.append(line)
        self.last_line = line
        self._count(line)

    def _count(self, text: str) -> None:
        letters = [c for c in text if c.isalpha()]
        self.letters = max(self.letters, 0) + len(letters)
        self.upper = self.upper and all(c.isupper() for c in letters)

    def body_is_caps(self) -> bool:
        """is_caps(body), from the running count."""
        if self.letters < 0:
            self._count(self.body)
        return self.letters >= 2 and self.upper

    def done(self) -> Para:
        """Join the continuation lines into body and raw."""
        if self.more:
            tail = " ".join(self.more)
            self.body, self.raw, self.more = f"{self.body} {tail}", f"{self.raw} {tail}", []
        return self

    @property
    def rank(self) -> int:
        """Nesting rank of the marker: lower is higher in the outline."""
        if self.kind == "num":
            return self.label.count(".") + 1
        return {"roman": RANK_ROMAN, "letter": RANK_LETTER, "dash": RANK_DASH, "plus": RANK_PLUS,
                "bullet": RANK_BULLET}.get(self.kind, RANK_PLAIN)


def make_para(line: str) -> Para:
    """Classify one line by its leading list marker (a table row, with cells split by "|", is "row")."""
    if line.count("|") >= 2:
        return Para("row", "", line, line, line)
    first = line[:1]  # each test below is a cheap pre-check of a marker's first character
    if first in "PpMmCc" and (m := PART_RE.match(line)):
        label = m["label"] if m["label"][:1].isalnum() and " " not in m["label"] else str(_ordinal(m["label"]))
        return Para("part", label, m["body"], line, line)
    if first == "Đ" and (m := ARTICLE_RE.match(line)):
        return Para("num", m["label"], m["body"], line, line)
    if first.isupper() and first not in "IVXL" and (m := LETTER_PART_RE.match(line)) and is_caps(m["body"]):
        return Para("part", m["label"], m["body"], line, line)
    if first in "IVXL" and (m := ROMAN_RE.match(line)):
        return Para("roman", m["label"], m["body"], line, line)
    if first.isdigit() and (m := NUM_RE.match(line)):
        return Para("num", m["deep"] or m["top"], m["body"], line, line)
    if first in _LETTER_MARKS and (m := LETTER_RE.match(line)):
        return Para("letter", m["label"], m["body"], line, line)
    if first in _BULLET_MARKS and (m := BULLET_RE.match(line)):
        kind = {"+": "plus"}.get(m["label"], "dash" if m["label"] in "-–—" else "bullet")
        return Para(kind, m["label"], m["body"], line, line)
    return Para("plain", "", line, line, line)


_ORDINALS = ("nhất", "hai", "ba", "tư", "năm", "sáu", "bảy", "tám", "chín", "mười")


def _ordinal(words: str) -> int | str:
    """"THỨ HAI" -> 2 (the words of a part's ordinal), else the words themselves."""
    last = words.split()[-1].lower()
    return _ORDINALS.index(last) + 1 if last in _ORDINALS else last


def continues(prev: Para, line: str, after_blank: bool) -> bool:
    """True when an unmarked line carries on the previous paragraph."""
    if prev.kind == "row":
        return False
    if not after_blank and is_caps(line) and prev.body_is_caps():
        return True  # a heading written over two lines
    if prev.heading or prev.kind == "roman":
        return False
    if line[:1].islower():
        return True  # e.g. a paragraph split by a page break
    return not after_blank and len(prev.last_line) >= 60 and prev.last_line[-1] not in ".:;!?"


def paragraphs(lines: list[str]) -> list[Para]:
    """Group cleaned lines into paragraphs, starting a new one at every list marker."""
    paras: list[Para] = []
    after_blank = True
    for index, line in enumerate(lines):
        if not index % 256:
            checkpoint()
        if not line:
            after_blank = True
            continue
        para = make_para(line)
        if para.kind == "plain" and paras and continues(paras[-1], line, after_blank):
            paras[-1].add(line)
        else:
            paras.append(para)
        after_blank = False
    return [p.done() for p in paras]


def normalise_number(text: str) -> str:
    """'41 -KH/ĐUK.' -> '41-KH/ĐUK'."""
    return re.sub(r"\s*([-/])\s*", r"\1", text.strip()).rstrip(".,;:")


# --- layout repair: lines a web crawler or a PDF converter ran together -------------------

_EDGE_RULE_RE = re.compile(r"\s+[-=_–—]{3,}$|^[-=_–—]{3,}\s+")
_SPLITS = (  # (where to cut, a cheap test that the line may hold one)
    (re.compile(r"(?<=\S)\s+(?=(?:TM|KT|TL|TUQ)\.\s*\w|[TK]/[MLT]\s+\w)"), re.compile(r"TM|KT|TL|TUQ|/")),
    (re.compile(r"(?<=\S)\s+(?=(?:QUYẾT ĐỊNH|QUYẾT NGHỊ|NGHỊ QUYẾT)\s*:\s*$)"), re.compile(r":\s*$")),
    (re.compile(r"(?<=\S)\s*(?=\((?:Ban hành |BAN HÀNH )?(?:[Kk]èm|KÈM) theo)"), re.compile(r"\([^)]{0,12}(?:èm|ÈM)")),
)
_DATE_END_RE = re.compile(r"năm \d{4}\s+")
_AUTHORITY_START_RE = re.compile(r"^(?:TM|KT|TL|TUQ)\.|^[TK]/[MLT]\s")
_GLUED_LABEL_RE = re.compile(r"^(?P<text>.*[^\d\s.])\s+(?P<label>\d{1,2}(?:\.\d{1,2}){1,3}\.?)$")
_LONE_LABEL_RE = re.compile(r"(?:\d{1,2}(?:\.\d{1,2}){0,3}\.|[a-zđ]\)|(?:Điều|ĐIỀU)\s+\d{1,3}\s*[.:]?)")


def strip_rules(text: str) -> str:
    """Text without the rules ("-------") drawn before or after it."""
    return _EDGE_RULE_RE.sub("", text.strip()).strip()


def repair_layout(lines: list[str]) -> list[str]:
    """Undo what crawlers and converters do to a document's lines: rules glued to text, a header,
    heading and signature run onto one line, a list label left at the end of the line above or
    alone on its own."""
    out: list[str] = []
    for line in lines:
        if not line:
            out.append(line)
            continue
        line = _EDGE_RULE_RE.sub("", line)
        pieces = _split_after_date(line) if "năm" in line else [line]
        for rule, hint in _SPLITS:
            if hint.search(line):
                pieces = [part for piece in pieces for part in rule.split(piece)]
        for piece in pieces:
            out += _case_runs(piece) if _AUTHORITY_START_RE.match(piece) and not piece.isupper() else [piece]
    out = [piece for line in out for piece in _end_matter_cells(line)]
    joined: list[str] = []
    for line in out:
        if joined and _LONE_LABEL_RE.fullmatch(joined[-1]) and line:
            joined[-1] = f"{joined[-1]} {line}"
            continue
        if joined and (m := _GLUED_LABEL_RE.match(joined[-1])) and line[:1].isupper() and len(m["text"]) > 20:
            joined[-1] = m["text"]
            line = f"{m['label']} {line}"
        joined.append(line)
    return joined


def _split_after_date(line: str) -> list[str]:
    """"Kon Tum, ngày 04 tháng 5 năm 2020 QUYẾT ĐỊNH …" -> the date line and the heading."""
    for m in _DATE_END_RE.finditer(line):
        words = line[m.end():].split()[:2]
        if len(words) == 2 and all(is_caps(w) or not any(c.isalpha() for c in w) for w in words) and is_caps(words[0]):
            return [line[:m.end()].rstrip(), line[m.end():]]
    return [line]


def _case_runs(line: str) -> list[str]:
    """A signature run onto one line, cut where capitals and a name alternate: "KT. CHỦ TỊCH PHÓ CHỦ
    TỊCH Nguyễn Hữu Tháp CHƯƠNG TRÌNH …" -> the authority and title, the name, the next heading."""
    runs: list[list[str]] = []
    kinds: list[bool] = []
    for word in line.split():
        letters = [c for c in word if c.isalpha()]
        caps = not letters or all(c.isupper() for c in letters) or len(letters) == 1
        if runs and kinds[-1] == caps:
            runs[-1].append(word)
        else:
            runs.append([word])
            kinds.append(caps)
    if not any(not caps and 2 <= len(run) <= 6 for run, caps in zip(runs, kinds, strict=True)):
        return [line]
    return [" ".join(run) for run in runs]


_RECIPIENT_ITEM_RE = re.compile(r"\s+(?=[-–•]\s+\S)")


def _end_matter_cells(line: str) -> list[str]:
    """A recipients-and-signature table row ("| Nơi nhận: - A; - B | TM. … |") as its cells' lines, one
    recipient a line."""
    if "|" not in line or "Nơi nhận" not in line:
        return [line]
    out: list[str] = []
    for cell in line.strip().strip("|").split("|"):
        out += [piece.strip() for piece in _RECIPIENT_ITEM_RE.split(cell.strip()) if piece.strip()]
    return out
