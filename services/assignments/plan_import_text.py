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
_SENTENCE_END_RE = re.compile(r"[.!?…]\s+")
_WORD_RE = re.compile(r"[^\W\d_]+")

# Names and acronyms keeping their capitals inside an otherwise lower-case Vietnamese phrase.
_CANONICAL_PHRASES = (
    "Ban Thường vụ", "Ban Chấp hành", "Ban Tuyên giáo", "Ban Tổ chức", "Ban Dân vận",
    "Ban Nội chính", "Ban Bí thư", "Bộ Chính trị", "Ủy ban Kiểm tra", "Ủy ban nhân dân",
    "Hội đồng nhân dân", "Mặt trận Tổ quốc", "Hồ Chí Minh", "Việt Nam", "Cộng sản",
    "Văn phòng", "Tỉnh ủy", "Thành ủy", "Huyện ủy", "Quận ủy", "Thị ủy", "Trung ương",
    "Quốc hội", "Chính phủ", "Bí thư", "Chủ tịch",
    "UBND", "HĐND", "MTTQ", "UBKT", "BCH", "BTV", "ĐUK", "TNCS", "CT-XH", "TW",
)
_DANG_RE = re.compile(r"(?<!tổ chức )(?<!cơ sở )(?<!\w)đảng(?!\w)(?! viên)")
_KHOI_RE = re.compile(r"(?<=Đảng ủy )khối(?!\w)|(?<=Đảng bộ )khối(?!\w)")
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
        lines.append("" if _SEPARATOR_RE.fullmatch(line) else line)
    return lines


def is_caps(text: str) -> bool:
    """True when text has at least two letters and all of them are upper case."""
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


def vn_case(text: str, proper_nouns: Iterable[str] = (), first_upper: bool = True) -> str:
    """Sentence-case an ALL-CAPS Vietnamese phrase, restoring Party/organ names and places."""
    out = fold(text.strip())
    extra = [(_phrase_re(n), n) for n in proper_nouns if n]
    for pattern, noun in (*_CANONICAL_RES, *extra):
        out = pattern.sub(lambda _, noun=noun: noun, out)  # type: ignore[misc]
    out = _KHOI_RE.sub("Khối", _DANG_RE.sub("Đảng", out))
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


# --- duty vocabulary: who is responsible, what they must do, by when ----------------------

ENTITY_HEAD_RE = kw(
    r"(?:các\s+)?(?:cấp ủy|chi ủy|chi bộ|đảng ủy|đảng bộ|đảng đoàn|ban cán sự|"
    r"ban\s+(?!hành\b)[^\W\d_]+|ủy ban|văn phòng|mặt trận|tổ chức đoàn thể|đoàn thể|công đoàn|"
    r"đoàn thanh niên|hội\s+(?!nghị\b|thảo\b|thi\b|diễn\b)[^\W\d_]+|thủ trưởng|người đứng đầu|"
    r"bí thư|ubkt|ubnd)\b"
)
PREDICATE_RE = kw(
    r"[:;(]|\b(?:tăng cường|căn cứ|thường xuyên|theo chức năng|theo dõi|chủ động|lãnh đạo|"
    r"triển khai|xây dựng|thực hiện|phối hợp|có trách nhiệm|chịu trách nhiệm|quán triệt|tiếp tục|"
    r"tập trung|quan tâm|đẩy mạnh|nâng cao|cụ thể hóa|rà soát|định kỳ|hướng dẫn|đôn đốc|"
    r"khẩn trương|nghiêm túc|phân công|bố trí|chủ trì|là cơ quan|cần|phải|xác định|tuyên truyền|"
    r"tổng hợp|ban hành|bám sát|sơ kết|tổng kết|vận động|gương mẫu|kịp thời|nghiên cứu|trực tiếp|"
    r"biên soạn|báo cáo|bảo đảm|đảm bảo|gửi|phổ biến|thẩm định|tiến hành|duy trì|nắm|đăng ký|"
    r"lựa chọn|hỗ trợ|cung cấp|chuẩn bị|tham gia|thống nhất|đề xuất|kiện toàn|quản lý|nộp)\b"
    r"|(?<!ban )\b(?:tham mưu|kiểm tra|chỉ đạo)\b"
    r"|(?<!ban )\btổ chức\b(?!\s+(?:đảng|đoàn thể|cơ sở đảng|chính trị))"
)
DELEGATION_RE = kw(r"(?<!được )(?<!bàn )\bgiao(?:\s+cho)?\s+")
SUPPORT_RE = kw(r"\bphối hợp(?:\s+chặt chẽ)?\s+với\s+")
GENERIC_COMMITTEE_RE = kw(r"(?:các\s+)?cấp ủy(?:\s+các\s+cấp)?")
OUTSIDE_UNIT = r"(?!\s+(?:tỉnh ủy|thành ủy|huyện ủy|quận ủy|thị ủy|trung ương))"
UNIT_KIND_RULES = (
    ("party_cell", kw(r"\bchi bộ\b|\bchi ủy\b")),
    ("grassroots_committee", kw(r"\bđảng bộ cơ sở\b")),
    ("advisory_board", kw(r"\bban tham mưu\b|\bban đảng\b")),
    ("mass_organisation",
     kw(r"đoàn thể|mặt trận|công đoàn|đoàn thanh niên|hội liên hiệp|hội cựu chiến binh")),
)
UNIT_CODE_RULES = (
    ("BTG", kw(r"\bban tuyên giáo\b" + OUTSIDE_UNIT + r"|\bbtg\b")),
    ("UBKT", kw(r"\bủy ban kiểm tra\b" + OUTSIDE_UNIT + r"|\bubkt\b")),
    ("BTC", kw(r"\bban tổ chức\b" + OUTSIDE_UNIT)),
    ("VP", kw(r"\bvăn phòng\b" + OUTSIDE_UNIT + r"(?!\s+ủy ban)")),
)
ACTION_RULES = (
    ("propagate", kw(r"\b(?:tuyên truyền|quán triệt)\b")),
    ("plan", kw(r"\b(?:xây dựng|ban hành)\s+(?:chương trình,?\s+)?kế hoạch\b"
                r"|\bcụ thể hóa\s+(?:thành|bằng)\s+(?:các\s+)?(?:chương trình|kế hoạch)\b")),
    ("inspect", kw(r"(?<!ban )(?<!vai trò )\b(?:kiểm tra|giám sát)\b")),
    ("monitor", kw(r"\btheo dõi\b")),
    ("aggregate", kw(r"\btổng hợp\b")),
    ("review", kw(r"\b(?:sơ kết|tổng kết)\b")),
    ("advise", kw(r"(?<!ban )\btham mưu\b")),
)
ONGOING_RE = kw(r"\bthường xuyên\b")
DEADLINE_DAY_RE = kw(
    r"\b(?:trước|chậm nhất|hạn chót|hoàn thành)\s+(?:là\s+)?(?:ngày\s+)?"
    r"(?:(?P<d>\d{1,2})[/.-](?P<m>\d{1,2})[/.-](?P<y>\d{4})"
    r"|(?P<d2>\d{1,2})\s+tháng\s+(?P<m2>\d{1,2})\s+năm\s+(?P<y2>\d{4}))"
)
DEADLINE_QUARTER_RE = kw(
    r"\b(?:trong|trước|hết|cuối)\s+quý\s+(?P<q>iv|i{1,3}|[1-4])\s*(?:/|năm\s+)(?P<y>\d{4})"
)
DEADLINE_MONTH_RE = kw(r"\b(?P<w>trong|trước|hết|cuối)\s+tháng\s+(?P<m>\d{1,2})\s*(?:/|năm\s+)(?P<y>\d{4})")
MAX_SUBJECT = 140
MAX_RESPONSIBLES = 40


def _subject_end(folded: str, pos: int) -> int | None:
    """End of a responsible unit's name starting at pos (it must end where a duty verb starts)."""
    head = ENTITY_HEAD_RE.match(folded, pos)
    if not head:
        return None
    verb = PREDICATE_RE.search(folded, head.end(), pos + MAX_SUBJECT)
    if not verb:
        return None
    end = verb.start()
    while end > pos and folded[end - 1] in " ,":
        end -= 1
    return end if end > pos else None


def unit_kinds(name: str, folded: str | None = None) -> list[str]:
    """Kinds of units named in a responsible phrase (generic "Cấp ủy" -> cells and committees)."""
    folded = fold(name) if folded is None else folded
    if GENERIC_COMMITTEE_RE.fullmatch(folded):
        return ["party_cell", "grassroots_committee"]
    return [kind for kind, rule in UNIT_KIND_RULES if rule.search(folded)]


def unit_codes(name: str, folded: str | None = None) -> list[str]:
    """Codes of the issuing committee's own organs named in a responsible phrase."""
    folded = fold(name) if folded is None else folded
    return [code for code, rule in UNIT_CODE_RULES if rule.search(folded)]


def find_actions(text: str, folded: str | None = None) -> list[str]:
    """Duty verbs found in text (or in its fold()ed form, when given), in vocabulary order."""
    folded = fold(text) if folded is None else folded
    return [action for action, rule in ACTION_RULES if rule.search(folded)]


def is_ongoing(text: str, folded: str | None = None) -> bool:
    """True when the text calls the duty regular ("thường xuyên")."""
    return bool(ONGOING_RE.search(fold(text) if folded is None else folded))


def is_generic_committee(name: str) -> bool:
    """True for a bare "Cấp ủy" / "Các cấp ủy" with no unit named."""
    return bool(GENERIC_COMMITTEE_RE.fullmatch(fold(name)))


def find_responsibles(text: str, folded: str | None = None) -> list[dict]:
    """Responsible units: the item's subject and "giao X" are leads, "phối hợp với X" supports.

    At most MAX_RESPONSIBLES distinct units are read: each one's clause is searched for duties, and
    a text naming thousands would cost thousands of searches.
    """
    folded = fold(text) if folded is None else folded
    spans: list[tuple[int, int, str]] = []
    starts = [0] + [m.end() for m in re.finditer("\n", folded)]  # each paragraph's subject
    spans += [(pos, end, "lead") for pos in starts if (end := _subject_end(folded, pos)) is not None]
    for rule, role in ((DELEGATION_RE, "lead"), (SUPPORT_RE, "support")):
        for match in rule.finditer(folded):
            if (end := _subject_end(folded, match.end())) is not None:
                spans.append((match.end(), end, role))
    spans.sort()
    next_lead, stop = [0] * len(spans), len(text)  # where the clause after each span ends
    for index in range(len(spans) - 1, -1, -1):
        next_lead[index] = stop
        if spans[index][2] == "lead":
            stop = spans[index][0]
    found, seen = [], set()
    for index, (start, end, role) in enumerate(spans):
        name, key = text[start:end], folded[start:end]  # fold() keeps offsets; names end at a non-letter
        if (key, role) in seen:
            continue
        seen.add((key, role))
        found.append({"text": name, "unit_kinds": unit_kinds(name, key), "unit_codes": unit_codes(name, key),
                      "role": role, "actions": find_actions("", folded[end:next_lead[index]])})
        if len(found) == MAX_RESPONSIBLES:
            break
    return found


def find_deadline(text: str, folded: str | None = None) -> date | None:
    """The first deadline literally written in text (day, month or quarter), else None."""
    folded = fold(text) if folded is None else folded
    candidates: list[tuple[int, date | None]] = []
    for m in DEADLINE_DAY_RE.finditer(folded):
        day = safe_date(m["y"], m["m"], m["d"]) if m["y"] else safe_date(m["y2"], m["m2"], m["d2"])
        candidates.append((m.start(), day))
    for m in DEADLINE_QUARTER_RE.finditer(folded):
        candidates.append((m.start(), quarter_end(int(m["y"]), m["q"])))
    for m in DEADLINE_MONTH_RE.finditer(folded):
        year, month = int(m["y"]), int(m["m"])
        day = day_before_month(year, month) if m["w"] == "trước" else month_end(year, month)
        candidates.append((m.start(), day))
    valid = sorted((pos, day) for pos, day in candidates if day is not None)
    return valid[0][1] if valid else None


# --- outline: list markers and paragraphs -------------------------------------------------

ROMAN_RE = re.compile(r"^(?P<label>[IVXL]{1,6})\s*(?:[.\-–—:)]|/(?=\s))\s*(?P<body>\S.*)$")
NUM_RE = re.compile(
    r"^(?:(?P<deep>\d{1,2}(?:\.\d{1,2}){1,3})\.?\s+|(?P<top>\d{1,2})\s*[.)/]\s*)(?P<body>(?!\d)\S.*)$"
)
LETTER_RE = re.compile(r"^(?P<label>[a-zđ])(?:\)\s*|\.\s+)(?P<body>\S.*)$")
BULLET_RE = re.compile(r"^(?P<label>[-–—+•·*●○▪■◦])\s*(?P<body>\S.*)$")
RANK_LETTER, RANK_DASH, RANK_PLUS, RANK_BULLET, RANK_PLAIN = 10, 11, 12, 13, 99
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
        return {"letter": RANK_LETTER, "dash": RANK_DASH, "plus": RANK_PLUS,
                "bullet": RANK_BULLET}.get(self.kind, RANK_PLAIN)


def make_para(line: str) -> Para:
    """Classify one line by its leading list marker."""
    first = line[:1]  # each test below is a cheap pre-check of a marker's first character
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


def continues(prev: Para, line: str, after_blank: bool) -> bool:
    """True when an unmarked line carries on the previous paragraph."""
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
