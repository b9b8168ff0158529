"""Parse the plain text of a Vietnamese Party plan document into a structured draft.

Entry point: parse_plan(text) -> PlanDraft. The parser never invents values: anything expected
but absent stays None/empty and is named in PlanDraft.warnings (English, human-readable). Values
longer than a plan body (PlanCreate) allows are cut, with a warning. It runs in time linear in the
document's size and stops with ParseTimeout past its time limit (`timeout`, or time_limit()).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from pydantic import BaseModel, Field
from pydantic.fields import FieldInfo

from services.assignments.schemas import ImportWarning, PlanCreate, Recipient, TaskCreate

from .plan_import_duties import (
    ONGOING_CELL_RE,
    ONGOING_FIELD_RE,
    cell_deadline,
    field_units,
    find_actions,
    find_deadline,
    find_responsibles,
    find_targets,
    is_generic_committee,
    is_ongoing,
    time_deadline,
    units_in_cell,
)
from .plan_import_text import (
    BULLET_RE,
    RANK_PLAIN,
    Para,
    ParseTimeout,
    checkpoint,
    clean_lines,
    clip,
    fold,
    is_caps,
    kw,
    letter_code,
    looks_like_name,
    make_para,
    name_case,
    normalise_number,
    paragraphs,
    repair_layout,
    safe_date,
    short_title,
    strip_rules,
    time_limit,
    vn_case,
)

__all__ = ["ParseTimeout", "PlanDraft", "ResponsibleDraft", "SectionDraft", "TargetDraft", "TaskDraft", "parse_plan",
           "time_limit"]

# --- models -------------------------------------------------------------------------------


class ResponsibleDraft(BaseModel):
    """A unit named as responsible for a task."""

    text: str
    unit_kinds: list[str] = Field(default_factory=list)
    unit_codes: list[str] = Field(default_factory=list)
    role: str = "lead"
    actions: list[str] = Field(default_factory=list)  # duties in this unit's own clause


class TargetDraft(BaseModel):
    """A figure a task must reach ("đạt trên 90%": at least 90 %), with the sentence that sets it."""

    value: float
    unit: str = ""
    comparison: Literal["at_least", "at_most", "exactly"] = "at_least"
    text: str = ""


class TaskDraft(BaseModel):
    """A numbered item (or bullet sub-item) of a tasks/implementation section."""

    code: str
    parent_code: str | None = None
    section_code: str
    title: str
    text: str
    responsible: list[ResponsibleDraft] = Field(default_factory=list)
    ongoing: bool = False
    deadline: date | None = None
    actions: list[str] = Field(default_factory=list)
    targets: list[TargetDraft] = Field(default_factory=list)


class SectionDraft(BaseModel):
    """A top-level section ("I- MỤC ĐÍCH, YÊU CẦU")."""

    code: str
    title: str
    kind: str
    text: str = ""


class PlanDraft(BaseModel):
    """Everything recognised in one plan document."""

    number: str | None = None
    kind: str | None = None
    issuer: str | None = None
    issuer_parent: str | None = None
    place: str | None = None
    issued_on: date | None = None
    title: str | None = None
    implements: str | None = None
    implements_date: date | None = None
    period: str | None = None
    vision_year: int | None = None
    signer_name: str | None = None
    signer_title: str | None = None
    signing_authority: str | None = None
    recipients: list[str] = Field(default_factory=list)
    sections: list[SectionDraft] = Field(default_factory=list)
    tasks: list[TaskDraft] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)


# --- patterns (fold()ed patterns come from kw(); the rest run on the cleaned text) ----------

KINDS = {fold(name): kind for name, kind in {
    "kế hoạch": "ke_hoach", "chương trình": "chuong_trinh", "nghị quyết": "nghi_quyet",
    "chỉ thị": "chi_thi", "quyết định": "quyet_dinh", "hướng dẫn": "huong_dan",
    "thông báo": "thong_bao", "báo cáo": "bao_cao",
}.items()}
KIND_HEADING_RE = kw(r"^(?P<kind>" + "|".join(KINDS) + r")(?![\w/])\s*(?P<rest>.*)$")
NUMBER_RE = re.compile(
    r"^Số\s*[:.]?\s*(?P<num>\d+[a-zA-Z]?)\s*(?P<sep>[-/])\s*(?P<code>[^\s,;]+(?:\s+[-/]\s+[^\s,;]+)*)"
)
DATE_LINE_RE = kw(
    r"(?:(?P<place>[^\d,]{2,60}),\s*)?ngày\s+(?P<d>\d{1,2})\s+tháng\s+(?P<m>\d{1,2})"
    r"\s+năm\s+(?P<y>\d{4})"
)
MOTTO_RE = kw(
    r"đảng\s+cộng\s+sản\s+việt\s+nam|cộng\s+hòa\s+xã\s+hội\s+chủ\s+nghĩa\s+việt\s+nam"
    r"|độc\s+lập\s*[-–—]\s*tự\s+do\s*[-–—]\s*hạnh\s+phúc"
)
# A header line carrying on the one above: "ỦY BAN NHÂN DÂN" / "TỈNH NGHỆ AN" (but "HUYỆN ỦY …" is a body).
HEADER_JOINER_RE = kw(
    r"^(?:và|của|các|trực thuộc|thuộc|(?:tỉnh|thành phố|huyện|quận|thị xã|xã|phường|thị trấn)\b(?!\s+ủy))\b"
)
ORGAN_NAME_RE = kw(r"^(?:bộ|sở|cục|tổng cục|chi cục|ban|văn phòng|phòng|viện|học viện|trường|thanh tra|kho bạc)\s+")
AUTHORITY_SUBJECT_RE = kw(
    r"^(?:ủy ban nhân dân|ubnd|hội đồng nhân dân|chủ tịch|bộ trưởng|thủ tướng|chính phủ|giám đốc|"
    r"ban thường vụ|ủy ban thường vụ|ban chấp hành|ban bí thư|bộ chính trị|thường trực)\b"
)
ATTACHED_NOTE_RE = kw(r"^[(\[]?\s*(?:ban hành\s+)?kèm theo\b")
ISSUED_WITH_RE = kw(r"\bban hành kèm theo\b|\bkèm theo (?:quyết định|nghị quyết) này\b")
WRAPPER_KINDS = frozenset({"quyet_dinh", "nghi_quyet"})
ANNEX_RE = kw(r"^(?:phụ lục|danh mục)\b")
PREAMBLE_RE = re.compile(r"^(?:Thực hiện|Căn cứ|Để|Nhằm)\b")
REFERENCE_RE = kw(
    r"(?:chương trình|nghị quyết|chỉ thị|kế hoạch|kết luận|quyết định|hướng dẫn|thông tư|nghị định|công văn)"
    r"(?:\s+hành động)?\s+số\s*:?\s*(?P<ref>\d+\s*[-/]\s*[^\s,;()]+)"
    r"(?:,?\s*ngày\s+(?P<d>\d{1,2})[/.-](?P<m>\d{1,2})[/.-](?P<y>\d{4}))?"
)
PERIOD_RE = kw(r"giai đoạn\s+(?P<a>\d{4})\s*[-–—]\s*(?P<b>\d{4})")
VISION_RE = kw(r"tầm nhìn\s+(?:đến\s+)?(?:năm\s+)?(?P<y>\d{4})")
IMPLEMENTS_HINT_RE = kw(r"^(?:thực hiện|triển khai)\b")

SECTION_WORD_RE = kw(
    r"^(?:mục đích|yêu cầu|mục tiêu|nhiệm vụ|giải pháp|tổ chức thực hiện|nội dung|kinh phí|phân công)"
)
NOI_NHAN_RE = kw(r"^nơi nhận\s*:?\s*(?P<rest>.*)$")
KINH_GUI_RE = kw(r"^kính gửi\b")
AUTHORITY_RE = re.compile(r"^(?P<prefix>T/M|TM\.?|K/T|KT\.?|T/L|TL\.?|TUQ\.?)\s*(?P<rest>\S.*)$")
SIGNER_TITLE_RE = kw(
    r"(?:^|\s)(?P<title>(?:phó\s+)?(?:bí thư|chủ tịch|trưởng ban|giám đốc|chánh văn phòng|chủ nhiệm"
    r"|ủy viên|trưởng phòng|tổng biên tập))$"
)
AUTHORITY_PREFIXES = {"TM": "T/M", "KT": "K/T", "TL": "T/L", "TUQ": "TUQ"}  # Party style (HD 36-HD/VPTW)
STATE_PREFIXES = {"TM": "TM.", "KT": "KT.", "TL": "TL.", "TUQ": "TUQ."}  # State style (NĐ 30/2020/NĐ-CP)
SIGNATURE_NOTE_RE = kw(r"^[(\[]?\s*(?:đã ký|ký tên|ký,|ký và|ký\)|chữ ký)")

SECTION_KIND_RULES = (
    (kw(r"tổ chức thực hiện"), "implementation"),
    (kw(r"^(?:mục đích|yêu cầu)"), "purpose"),
    (kw(r"nhiệm vụ|giải pháp|nội dung|hoạt động"), "tasks"),
    (kw(r"mục đích|yêu cầu"), "purpose"),
)
TASK_SECTION_KINDS = frozenset({"tasks", "implementation"})

TABLE_COLUMN_RULES = (
    ("number", kw(r"^(?:s?tt|số\s+tt|số thứ tự)\.?$")),
    ("time", kw(r"thời gian|thời hạn|tiến độ|hoàn thành")),
    ("support", kw(r"phối hợp")),
    ("lead", kw(r"chủ trì|thực hiện|trách nhiệm|đơn vị|cơ quan")),
    ("task", kw(r"nhiệm vụ|nội dung|hoạt động|công việc|tên\s+(?:đề án|dự án|văn bản)|giải pháp")),
)
FIELD_RULES = (
    ("content",
     kw(r"^(?:nội dung|nhiệm vụ)(?:\s*(?:,|và)\s*(?:biện pháp|giải pháp|nhiệm vụ))?(?:\s+thực hiện)?\s*:?$")),
    ("units", kw(r"^(?:cơ quan|đơn vị)\s+(?:chủ trì|thực hiện|phối hợp|tham mưu|chịu trách nhiệm)"
                 r"|^(?:trách nhiệm|phân công)\s+thực hiện\s*:|^chủ trì(?:\s*,\s*phối hợp)?(?:\s+thực hiện)?\s*:?$")),
    ("time", kw(r"^(?:thời gian|thời hạn|tiến độ)(?:\s+(?:thực hiện|hoàn thành|hoàn tất|triển khai))?\s*(?::|$)")),
    ("other", kw(r"^(?:sản phẩm|kết quả|hình thức|kinh phí)(?:\s+[^\W\d_]+){0,2}\s*:")),
)
PURPOSE_ITEM_RE = kw(r"^(?:mục tiêu|mục đích|yêu cầu|chỉ tiêu)(?:\s+(?:chung|cụ thể|tổng quát|chủ yếu))?\s*[:.]?\s*$")
ROMAN_CELL_RE = re.compile(r"[IVXL]{1,6}\.?|[A-Z]\.?")
SWALLOW_PARAGRAPHS = 15  # a task this long has probably eaten a list or a table
MAX_LINE_WARNINGS = 5
HEADER_MAX_LINES = 15  # header guess when no kind heading is found


def _max_length(info: FieldInfo | object) -> int:
    """The max_length a plan body declares for a field (or list)."""
    metadata = info.metadata if isinstance(info, FieldInfo) else getattr(info, "__metadata__", ())
    for item in reversed(metadata):  # the outermost constraint wins
        nested = item.metadata if isinstance(item, FieldInfo) else [item]
        limits = [int(m.max_length) for m in nested if getattr(m, "max_length", None) is not None]
        if limits:
            return min(limits)
    raise LookupError(f"no max_length on {info!r}")


# Draft fields and the plan-body fields whose limits they must respect.
PLAN_LIMITS = {
    "number": ("number", _max_length(PlanCreate.model_fields["number"])),
    "title": ("title", _max_length(PlanCreate.model_fields["title"])),
    "place": ("place", _max_length(PlanCreate.model_fields["place"])),
    "implements": ("implements", _max_length(PlanCreate.model_fields["implements"])),
    "period": ("period", _max_length(PlanCreate.model_fields["period"])),
    "signer_name": ("signer", _max_length(PlanCreate.model_fields["signer"])),
    "signer_title": ("signer title", _max_length(PlanCreate.model_fields["signer_title"])),
}
RECIPIENTS_MAX = _max_length(PlanCreate.model_fields["recipients"])
RECIPIENT_MAX = _max_length(Recipient)
TASK_TEXT_MAX = _max_length(TaskCreate.model_fields["text"])
TASK_TITLE_MAX = _max_length(TaskCreate.model_fields["title"])

# --- internal structures ------------------------------------------------------------------


@dataclass
class Ctx:
    """Parse state shared by the helpers: warnings and code bookkeeping."""

    warnings: list[str] = field(default_factory=list)
    notes: list[ImportWarning] = field(default_factory=list)
    codes: set[str] = field(default_factory=set)
    repeats: dict[str, int] = field(default_factory=dict)
    seen: set[str] = field(default_factory=set)
    line_warnings: int = 0
    party: bool = True  # a Party document (signed "T/M …"), unless its header is a State one

    def warn(self, code: str, message: str, **params: object) -> None:
        """Record a warning once: its English text, and its code and values for a translated page."""
        if message not in self.seen:
            self.seen.add(message)
            self.warnings.append(message)
            self.notes.append(ImportWarning(code=code, text=message, params={k: str(v) for k, v in params.items()}))

    def warn_line(self, where: str, line: str) -> None:
        """Record an unclassified line, capped to keep the list readable."""
        self.line_warnings += 1
        if self.line_warnings <= MAX_LINE_WARNINGS:
            self.warn("unclassified_line", f"unclassified line {where}: '{clip(line)}'", line=clip(line))

    def fit(self, value: str, limit: int, what: str) -> str:
        """Value, or its first `limit` characters (ending with "…") and a warning."""
        if len(value) <= limit:
            return value
        self.warn("text_cut", f"{what} longer than {limit} characters cut: '{clip(value)}'", limit=limit,
                  value=clip(value))
        return value[: limit - 1].rstrip() + "…"

    def unique(self, code: str) -> str:
        """Return code, or code#2, code#3... if it was already used."""
        candidate = code
        while candidate in self.codes:
            self.repeats[code] = self.repeats.get(code, 1) + 1
            candidate = f"{code}#{self.repeats[code]}"
        if candidate != code:
            self.warn("duplicate_code", f"duplicate code {code} renamed {candidate}", original=code, renamed=candidate)
        self.codes.add(candidate)
        return candidate


def join_code(*parts: str | None) -> str:
    """Join code parts with dots, skipping empty ones."""
    return ".".join(p for p in parts if p)


# --- header -------------------------------------------------------------------------------


def is_kind_heading(line: str) -> bool:
    """True for a caps line naming the document's kind ("KẾ HOẠCH", "CHƯƠNG TRÌNH HÀNH ĐỘNG …")."""
    return is_caps(line) and bool(KIND_HEADING_RE.match(fold(line)))


def find_heading(lines: list[str]) -> int | None:
    """Index of the kind heading line ("KẾ HOẠCH"), before any Roman section heading."""
    for index, line in enumerate(lines):
        if is_caps(line) and make_para(line).kind == "roman":
            return None
        if is_kind_heading(line):
            return index
    return None


def heading_kind(line: str) -> str:
    """The kind a heading line names."""
    match = KIND_HEADING_RE.match(fold(line))
    assert match is not None  # is_kind_heading() matched it
    return KINDS[match["kind"]]


def find_attached(lines: list[str], heading: int) -> int | None:
    """The heading of the plan a decision or resolution issues ("ban hành kèm theo"), if it does."""
    if heading_kind(lines[heading]) not in WRAPPER_KINDS:
        return None
    issues = False
    for index in range(heading + 1, len(lines)):
        line = lines[index]
        issues = issues or bool(ISSUED_WITH_RE.search(fold(line)))
        if not is_kind_heading(line) or heading_kind(line) in WRAPPER_KINDS:
            continue
        after = [lines[i] for i in range(index + 1, min(index + 8, len(lines))) if lines[i]]
        if issues or any(ATTACHED_NOTE_RE.match(fold(a)) for a in after):
            return index
    return None


ISSUING_TITLE_RE = kw(
    r"^(?:về việc\s+|v/v\s+)?(?:ban hành|phê duyệt)\s+(?P<kind>kế hoạch|chương trình)(?:\s+hành động)?\s+"
)


def issues_plan(lines: list[str], draft: PlanDraft) -> bool:
    """For a decision whose title issues a plan ("Ban hành Kế hoạch X"), make the plan's kind and
    title the draft's; True when it does."""
    if draft.kind not in WRAPPER_KINDS or not draft.title or not (m := ISSUING_TITLE_RE.match(fold(draft.title))):
        return False
    draft.kind = KINDS[m["kind"]]
    draft.title = draft.title[m.end():].strip(" :“”\"")
    return any(ISSUED_WITH_RE.search(fold(line)) for line in lines)


def title_stop(line: str) -> bool:
    """True for a line that ends a title: preamble, list item, or the authority deciding."""
    return bool(PREAMBLE_RE.match(line) or make_para(line).kind in ("roman", "part", "row")
                or ATTACHED_NOTE_RE.match(fold(line)) or (is_caps(line) and AUTHORITY_SUBJECT_RE.match(fold(line)))
                or NOI_NHAN_RE.match(fold(line)) or KINH_GUI_RE.match(fold(line)))


def parse_title(lines: list[str], heading: int, draft: PlanDraft) -> int:
    """Fill kind and title from the heading; return the index where the body starts."""
    match = KIND_HEADING_RE.match(fold(lines[heading]))
    assert match is not None  # find_heading() found it
    draft.kind = KINDS[match["kind"]]
    rest = lines[heading][match.start("rest"):].strip(" :")
    parts = [rest] if rest and fold(rest) != "hành động" else []
    index = heading + 1
    if not parts:  # "KẾ HOẠCH", a blank line, then the title
        while index < len(lines) and not lines[index] and index < heading + 3:
            index += 1
    while index < len(lines) and len(parts) < 8:
        line = lines[index]
        if not line:  # a title goes on over a blank line with a lower-case word, or in capitals
            after = next_line(lines, index)
            caps = bool(parts) and after is not None and is_caps(parts[-1]) and is_caps(lines[after])
            if not parts or after is None or after > index + 2 or not (lines[after][:1].islower() or caps):
                break
            index = after
            continue
        opens = not parts and len(line) <= 200 and line[-1:] not in ":;," and not NOI_NHAN_RE.match(fold(line))
        if title_stop(line) and not (opens and PREAMBLE_RE.match(line)):
            break
        parts.append(line)
        index += 1
    draft.title = join_title(parts) or None
    while index < len(lines) and (not lines[index] or ATTACHED_NOTE_RE.match(fold(lines[index]))):
        index += 1
    return index


def join_title(parts: list[str]) -> str:
    """One title from its lines: runs of caps lines are sentence-cased together (a name split over
    two lines keeps its capitals); the symbols in them keep theirs."""
    out: list[str] = []
    run: list[str] = []
    for part in [*parts, ""]:
        if part and is_caps(part):
            run.append(part)
            continue
        if run:
            out.append(vn_case(" ".join(run), first_upper=False))
            run = []
        if part:
            out.append(part)
    return " ".join(out)


def parse_references(draft: PlanDraft, ctx: Ctx, text: str) -> None:
    """Read implements / implements_date / period / vision_year from the title."""
    if not draft.title:
        ctx.warn("title_not_found", "title not found")
        return
    folded = fold(draft.title)
    if m := REFERENCE_RE.search(folded):
        draft.implements = written_symbol(normalise_number(draft.title[m.start("ref"):m.end("ref")]), text)
        if m["y"]:
            draft.implements_date = safe_date(m["y"], m["m"], m["d"])
    elif IMPLEMENTS_HINT_RE.match(folded):
        ctx.warn("implements_not_found", "implemented document reference not found in title")
    if m := PERIOD_RE.search(folded):
        draft.period = f"{m['a']} - {m['b']}"
    if m := VISION_RE.search(folded):
        draft.vision_year = int(m["y"])


def written_symbol(symbol: str, text: str) -> str:
    """A document symbol as the text writes it where it is not in capitals ("19/CT-TTG" -> "19/CT-TTg")."""
    if not symbol.isupper():
        return symbol
    pattern = re.compile(r"\s*".join(re.escape(c) for c in symbol), re.IGNORECASE)
    for match in pattern.finditer(text):
        if (written := normalise_number(match.group())) != written.upper() or not written.isupper():
            return written
    return symbol.replace("TTG", "TTg")


def is_date_line(line: str) -> bool:
    """True for a header's date line: "Place, ngày … tháng … năm …", or one starting with "ngày"."""
    m = DATE_LINE_RE.search(fold(line))
    return m is not None and (m["place"] is not None or not line[:m.start()].strip(" *(|"))


def parse_date_line(line: str, draft: PlanDraft, ctx: Ctx) -> None:
    """Fill place and issued_on from a line like 'Trà Vinh, ngày 15 tháng 12 năm 2021'."""
    m = DATE_LINE_RE.search(fold(line))
    assert m is not None  # the caller matched it
    draft.issued_on = safe_date(m["y"], m["m"], m["d"])
    if draft.issued_on is None:
        ctx.warn("issue_date_invalid", f"issue date is not a valid date: '{clip(line)}'", line=clip(line))
    if m["place"]:
        words = re.split(r"[\d/*|]", line[m.start("place"):m.end("place")])[-1].split()
        while words and is_caps(words[0]):
            words.pop(0)  # e.g. the tail of "Số 12-CTr/ĐU" on the same line
        place = " ".join(words).strip(" ,.-")
        draft.place = place if 2 <= len(place) <= 40 and place[0].isupper() and not garbled(place) else None


def motto_lines(lines: list[str]) -> set[int]:
    """Lines holding nothing but mottos, also when one is broken over lines ("CỘNG HÒA XÃ HỘI" /
    "CHỦ NGHĨA VIỆT NAM") or two share a line."""
    joined = "\n".join(fold(line) for line in lines)
    covered = bytearray(len(joined))
    for m in MOTTO_RE.finditer(joined):
        covered[m.start():m.end()] = b"\x01" * (m.end() - m.start())
    found: set[int] = set()
    start = 0
    for index, line in enumerate(lines):
        end = start + len(line)
        if any(covered[start:end]) and not any(c.isalpha() and not covered[i]
                                               for i, c in enumerate(joined[start:end], start)):
            found.add(index)
        start = end + 1
    return found


def header_blocks(lines: list[str], used: set[int], motto: set[int]) -> list[list[str]]:
    """Runs of ALL-CAPS lines; motto lines are skipped, number/date/other lines end a run."""
    blocks: list[list[str]] = [[]]
    for index, line in enumerate(lines):
        if not line or index in motto:
            continue
        text = MOTTO_RE.sub(" ", fold(line)).strip()  # a motto flattened onto the same line
        if index not in used and text and is_caps(line):
            blocks[-1].append(line if text == fold(line) else text.upper())
            used.add(index)
        elif blocks[-1]:
            blocks.append([])
    return [b for b in blocks if b]


def garbled(text: str) -> bool:
    """True for text whose words a converter broke apart ("T hành phố Hồ Chí M inh")."""
    singles = sum(1 for word in text.split() if len(word) == 1 and word.isalpha())
    return singles >= 2


def organ_case(name: str) -> str:
    """Capitals of a State body's own name: "Bộ y tế" -> "Bộ Y tế", "Sở kế hoạch và đầu tư" ->
    "Sở Kế hoạch và Đầu tư"."""
    head = ORGAN_NAME_RE.match(fold(name))
    if not head or name[head.end():head.end() + 1].isupper():
        return name
    rest = re.sub(r"(^|, | và | - )(\w)", lambda m: m.group(1) + m.group(2).upper(), name[head.end():])
    return name[:head.end()] + rest


def parse_issuer(block: list[str], draft: PlanDraft) -> None:
    """First header line is the parent organisation, the rest the issuing committee."""
    runs: list[list[str]] = []
    for line in block:
        checkpoint()
        if runs and HEADER_JOINER_RE.match(fold(line)):
            runs[-1].append(line)
        else:
            runs.append([line])
    merged = [" ".join(run) for run in runs]
    if any(garbled(line) for line in merged):
        return  # letters spaced apart by a converter: "ỦY B AN NHÂN D Â N" is no name to keep
    nouns = [draft.place] if draft.place else []
    if len(merged) == 1:
        draft.issuer = organ_case(vn_case(merged[0], nouns))
    else:
        draft.issuer_parent = organ_case(vn_case(merged[0], nouns))
        draft.issuer = organ_case(vn_case(" ".join(merged[1:]), nouns))


def complete_issuer(lines: list[str], heading: int | None, draft: PlanDraft) -> None:
    """The issuer in full when the header cut it short and the deciding line under the title restates
    it ("ỦY BAN THƯỜNG VỤ" in the header, "ỦY BAN THƯỜNG VỤ QUỐC HỘI" deciding)."""
    if heading is None or not draft.issuer or draft.issuer_parent:
        return
    wanted = fold(draft.issuer)
    for line in lines[heading + 1:heading + 12]:
        folded = fold(line)
        if is_caps(line) and folded.startswith(wanted + " ") and len(line) <= 120 and not garbled(line):
            draft.issuer = organ_case(vn_case(line, [draft.place] if draft.place else []))
            return


def table_cells(lines: list[str]) -> list[str]:
    """A header laid out as a table ("A | B" rows) read column by column, each cell a line."""
    out: list[str] = []
    index = 0
    while index < len(lines):
        if "|" not in lines[index]:
            out.append(lines[index])
            index += 1
            continue
        rows = []
        while index < len(lines) and "|" in lines[index]:
            rows.append([strip_rules(c) for c in lines[index].strip().strip("|").split("|")])
            index += 1
        for column in range(max(len(r) for r in rows)):
            out += [r[column] for r in rows if column < len(r)] + [""]
    return out


def header_start(lines: list[str], motto: set[int]) -> int:
    """Where the header begins: the caps block above its first number, motto or date line (a web
    page's text above it is not the document's); `motto` are the motto lines' indexes."""
    anchors = (i for i, line in enumerate(lines) if i in motto or NUMBER_RE.match(line) or is_date_line(line))
    first = next(anchors, None)
    if first is None:
        return 0
    start, seen = first, 0
    while start > 0 and seen < 10 and (not lines[start - 1] or is_caps(lines[start - 1])
                                       or lines[start - 1] in "*" or start - 1 in motto):
        start -= 1
        seen += bool(lines[start])
    while start < first and not lines[start]:
        start += 1
    return start


def parse_header(lines: list[str], draft: PlanDraft, ctx: Ctx, strict: bool) -> None:
    """Read number, place/date and issuer from the lines above the heading."""
    lines = table_cells(lines)
    motto = motto_lines(lines)
    start = header_start(lines, motto)
    if skipped := sum(1 for line in lines[:start] if line):
        ctx.warn("text_before_header", f"{skipped} lines before the document's header ignored", count=skipped)
    lines = lines[start:]
    motto = {index - start for index in motto if index >= start}  # the walk back kept every motto line
    used: set[int] = set()
    mottos = " ".join(fold(lines[i]) for i in motto)
    ctx.party = "đảng" in mottos or "cộng hòa" not in mottos
    for index, line in enumerate(lines):
        if draft.issued_on is None and index not in used:
            pair = f"{line} {lines[index + 1]}" if index + 1 < len(lines) else line
            if is_date_line(line):
                parse_date_line(line, draft, ctx)
                used.add(index)
            elif fold(line).rstrip().endswith("ngày") and is_date_line(pair):
                parse_date_line(pair, draft, ctx)  # "Bình Định, ngày" / "29 tháng 04 năm 2021" in one cell
                used |= {index, index + 1}
        if draft.number is None and (m := NUMBER_RE.match(line)):
            draft.number = normalise_number(f"{m['num']}{m['sep']}{m['code']}")
            used.add(index)
    blocks = header_blocks(lines, used, motto)
    used |= motto
    if blocks:
        parse_issuer(blocks[0], draft)
    for block in blocks[1:] if strict else []:
        for line in block:
            ctx.warn_line("in the header", line)
    for index, line in enumerate(lines):
        if strict and line and index not in used:
            ctx.warn_line("in the header", line)
    for value, code, message in ((draft.number, "number_not_found", "document number not found"),
                                 (draft.issuer, "issuer_not_found", "issuer not found in the header"),
                                 (draft.issued_on, "issue_date_not_found", "issue date not found"),
                                 (draft.place, "place_not_found", "place not found")):
        if value is None:
            ctx.warn(code, message)


# --- body: sections and tasks ---------------------------------------------------------------


def mark_headings(paras: list[Para]) -> None:
    """Flag section headings: Roman numerals, else top-level numbers with a caps/keyword title."""
    parts = False
    for para in paras:
        if para.kind == "part" or (para.kind == "plain" and para.body_is_caps() and ANNEX_RE.match(fold(para.body))):
            para.heading = True
            parts = parts or para.kind == "part"
            para.label = para.label if para.kind == "part" else "PL"
    if parts:  # "A. …", "PHẦN II …" are the sections: Roman numerals inside them are items
        return
    roman = [p for p in paras if p.kind == "roman" and len(p.body) <= 100]
    for para in roman:
        para.heading = True
    if roman:
        return
    for para in paras:
        short = len(para.body) <= 120 and para.body[-1:] not in ".;"
        keyword = len(para.body) <= 60 and SECTION_WORD_RE.match(fold(para.body))
        if para.kind == "num" and "." not in para.label and short and (is_caps(para.body) or keyword):
            para.heading = True


def section_kind(title: str) -> str:
    """purpose / tasks / implementation / other, from the section title."""
    folded = fold(title)
    return next((kind for rule, kind in SECTION_KIND_RULES if rule.search(folded)), "other")


def item_code(para: Para, base: str, section_code: str, index: int) -> str:
    """Code of a list item under `base` (a section or a parent task code)."""
    if para.kind == "num":
        if "." in para.label and section_code and para.label.startswith(section_code + "."):
            return para.label
        return join_code(base, para.label)
    if para.kind == "letter":
        return join_code(base, para.label)
    last = base.rsplit(".", 1)[-1]
    if base != section_code and last.isdigit():
        return join_code(base, letter_code(index))
    return join_code(base, str(index + 1))


def make_task(code: str, parent: str | None, section: str, texts: list[str], ctx: Ctx,
              year: int | None = None, fields: list[tuple[str, str]] | None = None,
              has_subtasks: bool = False) -> TaskDraft:
    """Build a TaskDraft from its own paragraphs (a text too long for a task is cut first)."""
    checkpoint()
    if len(texts) > SWALLOW_PARAGRAPHS:
        ctx.warn("task_swallows", f"task {code} holds {len(texts)} paragraphs: check that no list or table "
                 "was read into it", task=code, count=len(texts))
    text = ctx.fit("\n".join(t for t in texts if t), TASK_TEXT_MAX, f"task {code} text")
    folded = fold(text)
    responsible = [ResponsibleDraft(**found) for found in find_responsibles(text, folded)]
    for unit in responsible:
        if is_generic_committee(unit.text):
            ctx.warn("generic_committee", f"task {code}: generic '{unit.text}' read as the committees of "
                     "party cells and grassroots party committees", task=code, text=unit.text)
    ongoing, deadline = is_ongoing(text, folded), find_deadline(text, folded, year)
    for kind, value in fields or []:
        if kind == "units":
            named = {r.text for r in responsible}
            responsible += [ResponsibleDraft(**u) for u in field_units(value) if u["text"] not in named]
        elif kind == "time":
            deadline = time_deadline(value, year) or deadline
            ongoing = ongoing or bool(ONGOING_FIELD_RE.search(fold(value)))
    if parent is None and not responsible and not has_subtasks:  # sub-tasks name their own units
        ctx.warn("no_responsible_unit", f"task {code}: no responsible unit recognised", task=code)
    return TaskDraft(
        code=code, parent_code=parent, section_code=section,
        title=ctx.fit(short_title(text) or code, TASK_TITLE_MAX, f"task {code} title"),
        text=text, responsible=responsible, ongoing=ongoing, deadline=deadline, actions=find_actions(text, folded),
        targets=[TargetDraft(**found) for found in find_targets(text, folded)],
    )


def build_tasks(section: str, paras: list[Para], ctx: Ctx, year: int | None) -> tuple[list[str], list[TaskDraft]]:
    """Split a section's paragraphs into intro text and tasks with one level of sub-tasks."""
    rows = [p for p in paras if p.kind == "row"]
    table = table_tasks(section, rows, ctx, year) if rows else []
    if rows:
        paras = [p for p in paras if p.kind != "row"]
        if not table and section == "PL" and paras:  # an annex table whose cells a converter scattered over lines
            ctx.warn("table_garbled", f"section {section or '(none)'}: a table whose cells are scattered over "
                     f"{len(paras)} loose lines was not read: enter its tasks by hand", section=section or "-",
                     count=len(paras))
            return [p.raw for p in paras], []
    intro, tasks = outline_tasks(section, paras, ctx, year)
    return intro, tasks + table


def field_kind(para: Para) -> str | None:
    """What a field item states of the item above it ("Cơ quan chủ trì: …" -> "units"), if it is one."""
    if len(para.body) > 2000:
        return None
    folded = fold(para.body)
    return next((kind for kind, rule in FIELD_RULES if rule.match(folded)), None)


def apply_fields(paras: list[Para]) -> list[Para]:
    """Fold field items ("Cơ quan chủ trì: …", "Thời gian thực hiện: …", and a "Nội dung, biện pháp"
    label beside them) into the item they describe (in linear time: the items still open are a stack)."""
    kinds = [field_kind(p) for p in paras]
    ranks = [p.rank for p in paras]
    out: list[Para] = []
    open_items: list[Para] = []  # ranks strictly rising: the item each deeper one sits under
    index = 0
    while index < len(paras):
        para, kind, rank = paras[index], kinds[index], ranks[index]
        while open_items and open_items[-1].rank >= rank:
            open_items.pop()
        owner = open_items[-1] if open_items else None
        if kind is None or owner is None:
            out.append(para)
            open_items.append(para)
            index += 1
            continue
        end = index + 1
        while end < len(paras) and ranks[end] > rank:
            end += 1
        if kind == "content":
            if not _has_field_sibling(kinds, ranks, end, rank):
                out.append(para)
                open_items.append(para)
            index += 1  # else the label goes and its items become the owner's sub-items
            continue
        owner.fields.append((kind, "\n".join(p.raw for p in paras[index:end])))
        index = end
    return out


def _has_field_sibling(kinds: list[str | None], ranks: list[int], start: int, rank: int) -> bool:
    """True when a units or time field follows at `rank` before the block under the owner ends."""
    for index in range(start, len(ranks)):
        if ranks[index] < rank:
            return False
        if ranks[index] == rank and kinds[index] in ("units", "time"):
            return True
        if ranks[index] == rank and kinds[index] is None:
            return False  # an ordinary item: this level is a list of items, not of fields
    return False


def outline_tasks(section: str, paras: list[Para], ctx: Ctx, year: int | None) -> tuple[list[str], list[TaskDraft]]:
    """Tasks from a section's numbered and bulleted items."""
    paras = apply_fields(paras)
    marked = [p.rank for p in paras if p.rank < RANK_PLAIN]
    if not marked:
        return [p.raw for p in paras], []
    top = min(marked)
    intro: list[str] = []
    groups: list[tuple[Para, list[Para]]] = []
    for para in paras:
        if para.rank == top:
            groups.append((para, []))
        elif groups:
            groups[-1][1].append(para)
        else:
            intro.append(para.raw)
    tasks: list[TaskDraft] = []
    for index, (head, children) in enumerate(groups):
        if PURPOSE_ITEM_RE.match(fold(head.body)):  # "1. Mục tiêu" inside a section of tasks
            intro += [head.raw] + [child.raw for child in children]
            continue
        code = ctx.unique(item_code(head, section, section, index))
        sub_ranks = [c.rank for c in children if top < c.rank < RANK_PLAIN]
        sub = min(sub_ranks) if sub_ranks else None
        own, subs = [head.body], []
        fields = list(head.fields)
        for child in children:
            if child.rank == sub:
                subs.append((child, [child.body], list(child.fields)))
            elif subs:
                subs[-1][1].append(child.body if child.kind == "plain" else child.raw)
                subs[-1][2].extend(child.fields)
            else:
                own.append(child.body if child.kind == "plain" else child.raw)
                fields.extend(child.fields)
        tasks.append(make_task(code, None, section, own, ctx, year, fields, has_subtasks=bool(subs)))
        for sub_index, (child, texts, sub_fields) in enumerate(subs):
            sub_code = ctx.unique(item_code(child, code, section, sub_index))
            tasks.append(make_task(sub_code, code, section, texts, ctx, year, sub_fields))
    return intro, tasks


def row_cells(line: str) -> list[str]:
    """The cells of a table row written "a | b | c" (or "| a | b |")."""
    return [cell.strip() for cell in line.strip().removeprefix("|").removesuffix("|").split("|")]


def table_columns(cells: list[str]) -> dict[str, int] | None:
    """Which column holds what, if these cells head a table of tasks (short cells naming its columns)."""
    if any(len(cell) > 60 for cell in cells) or ROMAN_CELL_RE.fullmatch(cells[0]) or cells[0].rstrip(".").isdigit():
        return None
    columns: dict[str, int] = {}
    for index, cell in enumerate(cells):
        folded = fold(cell)
        name = next((name for name, rule in TABLE_COLUMN_RULES if rule.search(folded)), None)
        if name and name not in columns:
            columns[name] = index
    return columns if "task" in columns and ("lead" in columns or "time" in columns) else None


def column(cells: list[str], columns: dict[str, int], name: str) -> str:
    """The cell of a row in the named column ("" when the row is short or the table has none)."""
    index = columns.get(name)
    return cells[index] if index is not None and index < len(cells) else ""


def table_tasks(section: str, rows: list[Para], ctx: Ctx, year: int | None) -> list[TaskDraft]:
    """Tasks from the rows of tables whose header names a task column and a unit or time column."""
    records: list[tuple[str, str | None, dict[str, str]]] = []  # (number, its group's number, cells by column)
    groups: set[int] = set()  # indexes of the group rows ("I | CÔNG TÁC TUYÊN TRUYỀN"): their cells repeat a title
    columns: dict[str, int] | None = None
    group: str | None = None
    for row in rows:
        cells = row_cells(row.body)
        if (found := table_columns(cells)) is not None:
            columns = found
            continue
        if columns is None:
            continue
        number = column(cells, columns, "number")
        values = {name: column(cells, columns, name) for name in ("task", "lead", "support", "time")}
        if not number and records and not values["task"][:1].isupper():
            for name, value in values.items():  # a cell's text carried onto the next row
                if value:
                    records[-1][2][name] = f"{records[-1][2][name]} {value}".strip()
            continue
        if not values["task"]:
            continue
        if ROMAN_CELL_RE.fullmatch(number) or (not values["lead"] and not values["time"] and is_caps(values["task"])):
            group = number or str(len(records) + 1)
            groups.add(len(records))
            records.append((group, None, values))
        else:
            records.append((number or str(len(records) + 1), group, values))
    tasks: list[TaskDraft] = []
    codes: dict[str, str] = {}
    base = section or "PL"
    for index, (number, parent, values) in enumerate(records):
        parent_code = codes.get(parent) if parent else None
        code = ctx.unique(join_code(parent_code or base, number.strip(". ")))
        if parent is None:
            codes[number] = code
        task = make_task(code, parent_code, section, [values["task"]], ctx, year, has_subtasks=index in groups)
        units = [] if index in groups else (
            units_in_cell(values["lead"], "lead") + units_in_cell(values["support"], "support"))
        if units:
            task.responsible = [ResponsibleDraft(**unit) for unit in units]
        if values["time"] and index not in groups:
            task.deadline = cell_deadline(values["time"], year)
            task.ongoing = task.ongoing or bool(ONGOING_CELL_RE.match(fold(values["time"])))
            if task.deadline is None and not task.ongoing:
                ctx.warn("deadline_unread", f"task {code}: time '{clip(values['time'])}' not read as a deadline",
                         task=code, line=clip(values["time"]))
        tasks.append(task)
    if rows and not records:
        ctx.warn("table_not_read", f"section {section or '(none)'}: a table without task columns was not read",
                 section=section or "-")
    return tasks


def parse_body(paras: list[Para], draft: PlanDraft, ctx: Ctx, implicit: bool, year: int | None = None) -> None:
    """Fill sections and tasks from the body paragraphs."""
    mark_headings(paras)
    scopes: list[tuple[SectionDraft | None, list[Para]]] = []
    if implicit and not any(p.heading for p in paras):
        scopes.append((None, paras))
        ctx.warn("no_section_headings",
                 "no section headings found; numbered items read as tasks of the whole document")
    for para in paras:
        checkpoint()
        if para.heading:
            body = para.body.rstrip(" :.")
            title = vn_case(body) if is_caps(body) else body
            code = ctx.unique(para.label)
            scopes.append((SectionDraft(code=code, title=title, kind=section_kind(title)), []))
        elif scopes and scopes[-1][0] is not None:
            scopes[-1][1].append(para)
    for section, scope in scopes:
        code = section.code if section else ""
        if section and section.kind not in TASK_SECTION_KINDS and not any(p.kind == "row" for p in scope):
            section.text = "\n".join(p.raw for p in scope)
        else:
            intro, tasks = build_tasks(code, scope, ctx, year)
            draft.tasks.extend(tasks)
            if section:
                section.text = "\n".join(intro)
                if not tasks:
                    ctx.warn("empty_section", f"section {code} has no numbered or bulleted items", section=code)
        if section:
            draft.sections.append(section)
    if not draft.sections and not implicit:
        ctx.warn("no_sections", "no sections found")
    if not draft.tasks:
        ctx.warn("no_tasks", "no tasks found")


# --- tail: recipients and signature ---------------------------------------------------------


def is_authority(line: str) -> bool:
    """True for a signing-authority line such as 'T/M BAN THƯỜNG VỤ'."""
    return bool((m := AUTHORITY_RE.match(line)) and is_caps(m["rest"]))


def is_bare_title(line: str) -> bool:
    """True for a stand-alone signer title such as 'BÍ THƯ'."""
    return is_caps(line) and bool(SIGNER_TITLE_RE.match(fold(line)))


def last_index(lines: list[str], start: int, test) -> int | None:
    """Index of the last line at or after start passing test."""
    return next((i for i in range(len(lines) - 1, start - 1, -1) if test(lines[i])), None)


def parse_recipients(lines: list[str], start: int, draft: PlanDraft, used: set[int]) -> None:
    """Read the 'Nơi nhận:' bullets starting at line index start."""
    found = NOI_NHAN_RE.match(fold(lines[start]))
    assert found is not None  # the caller matched it
    rest = found["rest"]
    items = [lines[start][len(lines[start]) - len(rest):]] if rest else []
    used.add(start)
    parts = [[item] for item in items]
    for index in range(start + 1, len(lines)):
        checkpoint()
        line = lines[index]
        if not line:
            continue
        if m := BULLET_RE.match(line):
            parts.append([m["body"]])
        elif parts and line[:1].islower():
            parts[-1].append(line)
        elif signature_line(line) and BULLET_RE.match(lines[next_line(lines, index) or index]):
            continue  # the signature column read in between the recipients (a converted PDF)
        else:
            break
        used.add(index)
    cleaned = (BULLET_RE.sub(r"\g<body>", " ".join(p)).strip().rstrip(",.;").strip() for p in parts)
    draft.recipients = [i for i in cleaned if i]


def parse_authority(lines: list[str], auth: int, draft: PlanDraft, used: set[int], party: bool) -> int:
    """Fill signing_authority (and signer_title); return the last line index used."""
    m = AUTHORITY_RE.match(lines[auth])
    assert m is not None  # is_authority() matched it
    prefixes = AUTHORITY_PREFIXES if party or "/" in m["prefix"] else STATE_PREFIXES
    prefix = prefixes.get(m["prefix"].rstrip(".").replace("/", ""), m["prefix"])
    rest, title = m["rest"], None
    if found := SIGNER_TITLE_RE.search(fold(rest)):  # "T/M BAN THƯỜNG VỤ PHÓ BÍ THƯ" on one line
        head = rest[: found.start()].strip()
        if head and not fold(head).endswith("ban"):
            rest, title = head, rest[found.start("title"):]
    if garbled(rest):
        return auth  # "KT. CHỦ TỊ CH": letters a converter spaced apart
    draft.signing_authority = f"{prefix} {vn_case(rest)}"
    used.add(auth)
    if title is None and (nxt := next_unlisted(lines, auth)) is not None and is_title_line(lines, nxt):
        title, auth = lines[nxt], nxt
        used.add(nxt)
    draft.signer_title = vn_case(title) if title else None
    return auth


def signature_line(line: str) -> bool:
    """True for a line of a signature block: its authority or a title in capitals."""
    return is_authority(line) or is_bare_title(line) or (is_caps(line) and len(line.split()) <= 6)


def next_unlisted(lines: list[str], index: int) -> int | None:
    """Index of the next non-blank line after index that is no recipient's bullet."""
    return next((i for i in range(index + 1, min(len(lines), index + 8)) if lines[i] and not BULLET_RE.match(lines[i])),
                None)


def next_line(lines: list[str], index: int) -> int | None:
    """Index of the next non-blank line after index."""
    return next((i for i in range(index + 1, len(lines)) if lines[i]), None)


def is_title_line(lines: list[str], index: int) -> bool:
    """True for a caps signer title: a known one, or any short caps line followed by a name."""
    line = lines[index]
    if not is_caps(line) or len(line.split()) > 8:
        return False
    if is_bare_title(line):
        return True
    after = next_line(lines, index)
    return after is not None and looks_like_name(lines[after]) and not is_caps(lines[after])


def parse_signer_name(lines: list[str], after: int, draft: PlanDraft, used: set[int]) -> None:
    """The first name-like line after the signature title, skipping '(Đã ký)' notes."""
    for index in range(after + 1, len(lines)):
        line = lines[index]
        if not line or SIGNATURE_NOTE_RE.match(fold(line)):
            used.add(index)
            continue
        if index in used or BULLET_RE.match(line) or NOI_NHAN_RE.match(fold(line)):
            continue  # recipients read in between (a converted PDF)
        if looks_like_name(line) and not NOI_NHAN_RE.match(fold(line)):
            draft.signer_name = name_case(line)
            used.add(index)
        return


def parse_tail(lines: list[str], start: int, stop: int, draft: PlanDraft, party: bool) -> tuple[int, set[int]]:
    """Read recipients and signature found in lines[start:stop] into what the draft still lacks;
    return where the body before them ends and the lines they used."""
    window = lines[:stop]
    noi = next((i for i in range(start, stop) if lines[i][:1] in "Nn" and NOI_NHAN_RE.match(fold(lines[i]))), None)
    auth = last_index(window, start, is_authority)
    title_line = last_index(window, start, is_bare_title) if auth is None else None
    ends = [i for i in (noi, auth, title_line) if i is not None]
    used: set[int] = set()
    if noi is not None and not draft.recipients:
        parse_recipients(window, noi, draft, used)
    if draft.signing_authority or draft.signer_title:
        return (min(ends) if ends else stop), used
    if auth is not None:
        used |= {i for i in range(max(start, auth - 3), auth) if is_authority(lines[i])}  # "TM. UBND" / "KT. …"
        parse_signer_name(window, parse_authority(window, auth, draft, used, party), draft, used)
    elif title_line is not None:
        draft.signer_title = vn_case(lines[title_line])
        used.add(title_line)
        parse_signer_name(window, title_line, draft, used)
    return (min(ends) if ends else stop), used


def tail_warnings(draft: PlanDraft, ctx: Ctx) -> None:
    """Name what the end matter lacks."""
    signed = draft.signing_authority is not None or draft.signer_title is not None
    if not draft.recipients:
        ctx.warn("recipients_not_found", "recipients ('Nơi nhận') not found")
    if not signed:
        ctx.warn("signature_not_found", "signature block not found")
    if signed and not draft.signer_name:
        ctx.warn("signer_name_not_found", "signer name not found")
    if draft.signing_authority is not None and not draft.signer_title:
        ctx.warn("signer_title_not_found", "signer title not found")


def is_annex_heading(line: str) -> bool:
    """True for an annex's heading in capitals ("PHỤ LỤC II", "DANH MỤC NHIỆM VỤ")."""
    return is_caps(line) and bool(ANNEX_RE.match(fold(line)))


def annex_start(lines: list[str], start: int, used: set[int]) -> int | None:
    """Where an annex after the signature begins ("PHỤ LỤC", or a table of tasks), if there is one."""
    for index in range(start, len(lines)):
        line = lines[index]
        if index in used or not line:
            continue
        if is_annex_heading(line) or make_para(line).kind == "row":
            return index
    return None


# --- entry point ----------------------------------------------------------------------------


def fit_limits(draft: PlanDraft, ctx: Ctx) -> None:
    """Cut values longer than a plan body allows, with a warning each."""
    for name, (what, limit) in PLAN_LIMITS.items():
        if (value := getattr(draft, name)) is not None:
            setattr(draft, name, ctx.fit(value, limit, what))
    if len(draft.recipients) > RECIPIENTS_MAX:
        ctx.warn("recipients_cut", f"recipients beyond the first {RECIPIENTS_MAX} cut ({len(draft.recipients)} found)",
                 limit=RECIPIENTS_MAX, found=len(draft.recipients))
        del draft.recipients[RECIPIENTS_MAX:]
    draft.recipients = [ctx.fit(r, RECIPIENT_MAX, f"recipient {n}") for n, r in enumerate(draft.recipients, 1)]


def parse_plan(text: str, *, timeout: float | None = None) -> PlanDraft:
    """Parse the plain text of a plan document into a PlanDraft (never raises on odd input, but
    ParseTimeout once `timeout` seconds, or the enclosing time_limit(), have passed)."""
    return read_plan(text, timeout=timeout)[0]


def read_plan(text: str, *, timeout: float | None = None) -> tuple[PlanDraft, list[ImportWarning]]:
    """As parse_plan, with the warnings' codes and values (for a translated page)."""
    if timeout is not None:
        with time_limit(timeout):
            return read_plan(text)
    draft, ctx = PlanDraft(), Ctx()
    lines = repair_layout(clean_lines(text or ""))
    if not any(lines):
        ctx.warn("document_empty", "document is empty")
        draft.warnings = ctx.warnings
        return draft, ctx.notes
    heading = find_heading(lines)
    attached = find_attached(lines, heading) if heading is not None else None
    used: set[int] = set()
    if heading is None:
        ctx.warn("kind_heading_not_found", "document kind heading not found")
        body_like = (i for i, line in enumerate(lines) if len(line) > 100 or make_para(line).kind != "plain"
                     or is_annex_heading(line))  # an annex alone: "PHỤ LỤC II"
        header_end = body_start = min(next(body_like, len(lines)), HEADER_MAX_LINES)
    else:  # a decision issuing a plan: its header and signature, the plan's title and body
        header_end, body_start = heading, parse_title(lines, heading if attached is None else attached, draft)
    parse_header(lines[:header_end], draft, ctx, strict=heading is not None)
    complete_issuer(lines, heading, draft)
    if heading is not None and attached is not None:
        used |= parse_tail(lines, heading, attached, draft, ctx.party)[1]
    parse_references(draft, ctx, text)
    body_end, found = parse_tail(lines, body_start, len(lines), draft, ctx.party)
    used |= found
    tail_warnings(draft, ctx)
    year = draft.issued_on.year if draft.issued_on else None
    paras = paragraphs(lines[body_start:body_end])
    annex = annex_start(lines, body_end, used)
    after = annex if annex is not None else len(lines)
    for index in range(body_end, after):
        if lines[index] and index not in used:
            ctx.warn_line("after the body", lines[index])
    if annex is not None:
        annex_paras = paragraphs([line if i not in used else "" for i, line in enumerate(lines[annex:], annex)])
        if annex_paras and not annex_paras[0].body_is_caps():  # a table straight after the signature
            annex_paras.insert(0, make_para("PHỤ LỤC"))
        paras += annex_paras
    if attached is None and heading is not None and issues_plan(lines[heading:body_end], draft):
        ctx.warn("attached_plan_not_found", "the decision issues a plan that is not in the text: its articles "
                 "are not tasks")
        paras = []
    parse_body(paras, draft, ctx, implicit=heading is not None, year=year)
    if draft.issued_on:  # a day before the document was issued is a condition, not its deadline
        for task in draft.tasks:
            if task.deadline and task.deadline < draft.issued_on:
                task.deadline = None
    fit_limits(draft, ctx)
    if ctx.line_warnings > MAX_LINE_WARNINGS:
        more = ctx.line_warnings - MAX_LINE_WARNINGS
        ctx.warn("more_unclassified_lines", f"{more} more unclassified lines not listed", count=more)
    draft.warnings = ctx.warnings
    return draft, ctx.notes
