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

from pydantic import BaseModel, Field
from pydantic.fields import FieldInfo

from services.assignments.schemas import ImportWarning, PlanCreate, Recipient, TaskCreate

from .plan_import_text import (
    BULLET_RE,
    RANK_PLAIN,
    Para,
    ParseTimeout,
    checkpoint,
    clean_lines,
    clip,
    find_actions,
    find_deadline,
    find_responsibles,
    fold,
    is_caps,
    is_generic_committee,
    is_ongoing,
    kw,
    letter_code,
    looks_like_name,
    make_para,
    name_case,
    normalise_number,
    paragraphs,
    safe_date,
    short_title,
    time_limit,
    vn_case,
)

__all__ = ["ParseTimeout", "PlanDraft", "ResponsibleDraft", "SectionDraft", "TaskDraft", "parse_plan", "time_limit"]

# --- models -------------------------------------------------------------------------------


class ResponsibleDraft(BaseModel):
    """A unit named as responsible for a task."""

    text: str
    unit_kinds: list[str] = Field(default_factory=list)
    unit_codes: list[str] = Field(default_factory=list)
    role: str = "lead"
    actions: list[str] = Field(default_factory=list)  # duties in this unit's own clause


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
NUMBER_RE = re.compile(r"^Số\s*[:.]?\s*(?P<num>\d+[a-zA-Z]?)\s*(?P<sep>[-/])\s*(?P<code>[^\s,;]+)")
DATE_LINE_RE = kw(
    r"(?:(?P<place>[^\d,]{2,60}),\s*)?ngày\s+(?P<d>\d{1,2})\s+tháng\s+(?P<m>\d{1,2})"
    r"\s+năm\s+(?P<y>\d{4})"
)
MOTTO_RE = kw(
    r"đảng cộng sản việt nam|cộng hòa xã hội chủ nghĩa việt nam|độc lập\s*-\s*tự do\s*-\s*hạnh phúc"
)
HEADER_JOINER_RE = kw(r"^(?:và|của|các|trực thuộc|thuộc)\b")
PREAMBLE_RE = re.compile(r"^(?:Thực hiện|Căn cứ|Để|Nhằm)\b")
REFERENCE_RE = kw(
    r"(?:chương trình|nghị quyết|chỉ thị|kế hoạch|kết luận|quyết định|hướng dẫn)"
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
AUTHORITY_RE = re.compile(r"^(?P<prefix>T/M|TM\.?|K/T|KT\.?|T/L|TL\.?|TUQ\.?)\s*(?P<rest>\S.*)$")
SIGNER_TITLE_RE = kw(
    r"(?:^|\s)(?P<title>(?:phó\s+)?(?:bí thư|chủ tịch|trưởng ban|giám đốc|chánh văn phòng|chủ nhiệm"
    r"|ủy viên|trưởng phòng|tổng biên tập))$"
)
AUTHORITY_PREFIXES = {"TM": "T/M", "KT": "K/T", "TL": "T/L", "TUQ": "TUQ"}
SIGNATURE_NOTE_RE = kw(r"^[(\[]?\s*(?:đã ký|ký tên|ký,|ký và|ký\)|chữ ký)")

SECTION_KIND_RULES = (
    (kw(r"tổ chức thực hiện"), "implementation"),
    (kw(r"^(?:mục đích|yêu cầu)"), "purpose"),
    (kw(r"nhiệm vụ|giải pháp|nội dung|hoạt động"), "tasks"),
    (kw(r"mục đích|yêu cầu"), "purpose"),
)
TASK_SECTION_KINDS = frozenset({"tasks", "implementation"})

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


def find_heading(lines: list[str]) -> int | None:
    """Index of the kind heading line ("KẾ HOẠCH"), before any Roman section heading."""
    for index, line in enumerate(lines):
        if is_caps(line) and make_para(line).kind == "roman":
            return None
        if is_caps(line) and KIND_HEADING_RE.match(fold(line)):
            return index
    return None


def parse_title(lines: list[str], heading: int, draft: PlanDraft) -> int:
    """Fill kind and title from the heading; return the index where the body starts."""
    match = KIND_HEADING_RE.match(fold(lines[heading]))
    assert match is not None  # find_heading() found it
    draft.kind = KINDS[match["kind"]]
    rest = lines[heading][match.start("rest"):].strip(" :")
    parts = [vn_case(rest, first_upper=False)] if rest and fold(rest) != "hành động" else []
    index = heading + 1
    while index < len(lines) and lines[index] and len(parts) < 8:
        line = lines[index]
        if PREAMBLE_RE.match(line) or make_para(line).kind == "roman":
            break
        parts.append(vn_case(line, first_upper=False) if is_caps(line) else line)
        index += 1
    draft.title = " ".join(parts) or None
    return index


def parse_references(draft: PlanDraft, ctx: Ctx) -> None:
    """Read implements / implements_date / period / vision_year from the title."""
    if not draft.title:
        ctx.warn("title_not_found", "title not found")
        return
    folded = fold(draft.title)
    if m := REFERENCE_RE.search(folded):
        draft.implements = normalise_number(draft.title[m.start("ref"):m.end("ref")])
        if m["y"]:
            draft.implements_date = safe_date(m["y"], m["m"], m["d"])
    elif IMPLEMENTS_HINT_RE.match(folded):
        ctx.warn("implements_not_found", "implemented document reference not found in title")
    if m := PERIOD_RE.search(folded):
        draft.period = f"{m['a']} - {m['b']}"
    if m := VISION_RE.search(folded):
        draft.vision_year = int(m["y"])


def parse_date_line(line: str, draft: PlanDraft, ctx: Ctx) -> None:
    """Fill place and issued_on from a line like 'Trà Vinh, ngày 15 tháng 12 năm 2021'."""
    m = DATE_LINE_RE.search(fold(line))
    assert m is not None  # the caller matched it
    draft.issued_on = safe_date(m["y"], m["m"], m["d"])
    if draft.issued_on is None:
        ctx.warn("issue_date_invalid", f"issue date is not a valid date: '{clip(line)}'", line=clip(line))
    if m["place"]:
        words = re.split(r"[\d/*]", line[m.start("place"):m.end("place")])[-1].split()
        while words and is_caps(words[0]):
            words.pop(0)  # e.g. the tail of "Số 12-CTr/ĐU" on the same line
        place = " ".join(words).strip(" ,.-")
        draft.place = place if 2 <= len(place) <= 40 and place[0].isupper() else None


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
    nouns = [draft.place] if draft.place else []
    if len(merged) == 1:
        draft.issuer = vn_case(merged[0], nouns)
    else:
        draft.issuer_parent = vn_case(merged[0], nouns)
        draft.issuer = vn_case(" ".join(merged[1:]), nouns)


def parse_header(lines: list[str], draft: PlanDraft, ctx: Ctx, strict: bool) -> None:
    """Read number, place/date and issuer from the lines above the heading."""
    used: set[int] = set()
    motto = {i for i, line in enumerate(lines) if MOTTO_RE.fullmatch(fold(line))}
    for index, line in enumerate(lines):
        if draft.number is None and (m := NUMBER_RE.match(line)):
            draft.number = normalise_number(f"{m['num']}{m['sep']}{m['code']}")
            used.add(index)
        if draft.issued_on is None and DATE_LINE_RE.search(fold(line)):
            parse_date_line(line, draft, ctx)
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


def make_task(code: str, parent: str | None, section: str, texts: list[str], ctx: Ctx) -> TaskDraft:
    """Build a TaskDraft from its own paragraphs (a text too long for a task is cut first)."""
    checkpoint()
    text = ctx.fit("\n".join(t for t in texts if t), TASK_TEXT_MAX, f"task {code} text")
    folded = fold(text)
    responsible = [ResponsibleDraft(**found) for found in find_responsibles(text, folded)]
    for unit in responsible:
        if is_generic_committee(unit.text):
            ctx.warn("generic_committee", f"task {code}: generic '{unit.text}' read as the committees of "
                     "party cells and grassroots party committees", task=code, text=unit.text)
    if parent is None and not responsible:
        ctx.warn("no_responsible_unit", f"task {code}: no responsible unit recognised", task=code)
    return TaskDraft(
        code=code, parent_code=parent, section_code=section,
        title=ctx.fit(short_title(text) or code, TASK_TITLE_MAX, f"task {code} title"),
        text=text, responsible=responsible, ongoing=is_ongoing(text, folded),
        deadline=find_deadline(text, folded), actions=find_actions(text, folded),
    )


def build_tasks(section: str, paras: list[Para], ctx: Ctx) -> tuple[list[str], list[TaskDraft]]:
    """Split a section's paragraphs into intro text and tasks with one level of sub-tasks."""
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
        code = ctx.unique(item_code(head, section, section, index))
        sub_ranks = [c.rank for c in children if top < c.rank < RANK_PLAIN]
        sub = min(sub_ranks) if sub_ranks else None
        own, subs = [head.body], []
        for child in children:
            if child.rank == sub:
                subs.append((child, [child.body]))
            elif subs:
                subs[-1][1].append(child.body if child.kind == "plain" else child.raw)
            else:
                own.append(child.body if child.kind == "plain" else child.raw)
        tasks.append(make_task(code, None, section, own, ctx))
        for sub_index, (child, texts) in enumerate(subs):
            sub_code = ctx.unique(item_code(child, code, section, sub_index))
            tasks.append(make_task(sub_code, code, section, texts, ctx))
    return intro, tasks


def parse_body(paras: list[Para], draft: PlanDraft, ctx: Ctx, implicit: bool) -> None:
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
        if section and section.kind not in TASK_SECTION_KINDS:
            section.text = "\n".join(p.raw for p in scope)
        else:
            intro, tasks = build_tasks(code, scope, ctx)
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
        else:
            break
        used.add(index)
    cleaned = (BULLET_RE.sub(r"\g<body>", " ".join(p)).strip().rstrip(",.;").strip() for p in parts)
    draft.recipients = [i for i in cleaned if i]


def parse_authority(lines: list[str], auth: int, draft: PlanDraft, used: set[int]) -> int:
    """Fill signing_authority (and signer_title); return the last line index used."""
    m = AUTHORITY_RE.match(lines[auth])
    assert m is not None  # is_authority() matched it
    prefix = AUTHORITY_PREFIXES.get(m["prefix"].rstrip(".").replace("/", ""), m["prefix"])
    rest, title = m["rest"], None
    if found := SIGNER_TITLE_RE.search(fold(rest)):  # "T/M BAN THƯỜNG VỤ PHÓ BÍ THƯ" on one line
        head = rest[: found.start()].strip()
        if head and not fold(head).endswith("ban"):
            rest, title = head, rest[found.start("title"):]
    draft.signing_authority = f"{prefix} {vn_case(rest)}"
    used.add(auth)
    if title is None and (nxt := next_line(lines, auth)) is not None and is_title_line(lines, nxt):
        title, auth = lines[nxt], nxt
        used.add(nxt)
    draft.signer_title = vn_case(title) if title else None
    return auth


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
        if looks_like_name(line) and not NOI_NHAN_RE.match(fold(line)):
            draft.signer_name = name_case(line)
            used.add(index)
        return


def parse_tail(lines: list[str], start: int, draft: PlanDraft, ctx: Ctx) -> int:
    """Parse recipients and signature after start; return where the body ends."""
    noi = next((i for i in range(start, len(lines))
                if lines[i][:1] in "Nn" and NOI_NHAN_RE.match(fold(lines[i]))), None)
    auth = last_index(lines, start, is_authority)
    title_line = last_index(lines, start, is_bare_title) if auth is None else None
    ends = [i for i in (noi, auth, title_line) if i is not None]
    end = min(ends) if ends else len(lines)
    used: set[int] = set()
    if noi is not None:
        parse_recipients(lines, noi, draft, used)
    else:
        ctx.warn("recipients_not_found", "recipients ('Nơi nhận') not found")
    if auth is None and title_line is None:
        ctx.warn("signature_not_found", "signature block not found")
    if auth is not None:
        parse_signer_name(lines, parse_authority(lines, auth, draft, used), draft, used)
    elif title_line is not None:
        draft.signer_title = vn_case(lines[title_line])
        used.add(title_line)
        parse_signer_name(lines, title_line, draft, used)
    if (auth is not None or title_line is not None) and not draft.signer_name:
        ctx.warn("signer_name_not_found", "signer name not found")
    if auth is not None and not draft.signer_title:
        ctx.warn("signer_title_not_found", "signer title not found")
    for index in range(end, len(lines)):
        if lines[index] and index not in used:
            ctx.warn_line("after the body", lines[index])
    return end


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
    lines = clean_lines(text or "")
    if not any(lines):
        ctx.warn("document_empty", "document is empty")
        draft.warnings = ctx.warnings
        return draft, ctx.notes
    heading = find_heading(lines)
    if heading is None:
        ctx.warn("kind_heading_not_found", "document kind heading not found")
        body_like = (i for i, line in enumerate(lines) if len(line) > 100 or make_para(line).kind != "plain")
        header_end = body_start = min(next(body_like, len(lines)), HEADER_MAX_LINES)
    else:
        header_end, body_start = heading, parse_title(lines, heading, draft)
    parse_header(lines[:header_end], draft, ctx, strict=heading is not None)
    parse_references(draft, ctx)
    body_end = parse_tail(lines, body_start, draft, ctx)
    parse_body(paragraphs(lines[body_start:body_end]), draft, ctx, implicit=heading is not None)
    fit_limits(draft, ctx)
    if ctx.line_warnings > MAX_LINE_WARNINGS:
        more = ctx.line_warnings - MAX_LINE_WARNINGS
        ctx.warn("more_unclassified_lines", f"{more} more unclassified lines not listed", count=more)
    draft.warnings = ctx.warnings
    return draft, ctx.notes
