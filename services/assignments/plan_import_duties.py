"""Duty vocabulary for plan_import: who is responsible for a task, what they must do, by when, and
the figures it must reach. Patterns come from kw() and run on fold()ed text (offsets stay valid)."""

from __future__ import annotations

import re
from datetime import date

from .plan_import_text import day_before_month, fold, kw, month_end, quarter_end, safe_date

# --- units ------------------------------------------------------------------------------------

_NAMED = r"[^\W\d_]+"
ORGAN_HEAD = (  # a body that can be given work, Party or State
    r"cấp ủy|chi ủy|chi bộ|đảng ủy|đảng bộ|đảng đoàn|ban cán sự|ban chỉ đạo|ban chỉ huy|ban quản lý|"
    rf"ban\s+(?!hành\b|đầu\b|ngày\b|đêm\b){_NAMED}|ủy ban|văn phòng|mặt trận|tổ chức đoàn thể|"
    r"tổ chức chính trị|đoàn thể|công đoàn|đoàn thanh niên|tỉnh đoàn|thành đoàn|huyện đoàn|liên đoàn|"
    rf"hội\s+(?!nghị\b|thảo\b|thi\b|diễn\b|đồng\b|viên\b|nhập\b|chợ\b|họp\b){_NAMED}|hội đồng|"
    r"thủ trưởng|người đứng đầu|bí thư|chủ tịch|giám đốc|thủ tướng|chính phủ|"
    r"ubkt|ubnd|hđnd|ubmttq|mttq|"
    r"bộ\b(?!\s+(?:máy|phận|tiêu chí|chỉ số|hồ sơ|công cụ|luật|quy tắc|đội)\b)|bộ đội|"
    r"sở\b(?!\s+(?:hữu|thích|dĩ|trường)\b)|tổng cục|chi cục|cục\b|công an|quân sự|quân khu|tư lệnh|"
    r"kho bạc|ngân hàng|thanh tra|trung tâm|đài\b|báo\b(?!\s+cáo)|trường\b(?!\s+hợp)|viện\b|"
    r"trung ương\s+(?:hội|đoàn)|hiệp hội|tổ đảng|thông tấn xã|tổ trưởng|chủ nhiệm|trưởng đoàn|trưởng ban|thành viên|"
    r"lãnh đạo các\s+(?:cơ quan|đơn vị|sở|bộ|ban)|đoàn đại biểu|đại biểu quốc hội|thường trực|"
    r"cơ quan(?!\s+có thẩm quyền)|đơn vị|ngành\b|các\s+(?:ngành|địa phương|huyện|xã|tỉnh)\b"
)
ENTITY_HEAD_RE = kw(rf"(?:các\s+)?(?:{ORGAN_HEAD})")
PREDICATE_RE = kw(
    r"[:;(]|\b(?:tăng cường|căn cứ|thường xuyên|theo chức năng|theo dõi|chủ động|lãnh đạo|"
    r"triển khai|xây dựng|thực hiện|phối hợp|có trách nhiệm|chịu trách nhiệm|quán triệt|tiếp tục|"
    r"tập trung|quan tâm|đẩy mạnh|nâng cao|cụ thể hóa|rà soát|định kỳ|hướng dẫn|đôn đốc|"
    r"khẩn trương|nghiêm túc|phân công|bố trí|chủ trì|là cơ quan|cần|phải|xác định|tuyên truyền|"
    r"tổng hợp|ban hành|bám sát|sơ kết|tổng kết|vận động|gương mẫu|kịp thời|nghiên cứu|trực tiếp|"
    r"biên soạn|báo cáo|bảo đảm|đảm bảo|gửi|phổ biến|thẩm định|tiến hành|duy trì|nắm|đăng ký|"
    r"lựa chọn|hỗ trợ|cung cấp|chuẩn bị|tham gia|thống nhất|đề xuất|kiện toàn|(?<!cơ quan )(?<!ban )quản lý|nộp|"
    r"thành lập|lập|phát động|khảo sát|đánh giá|bảo tồn|trong|"
    r"(?<!ngoại )giao(?!\s+thông)|là đầu mối|làm đầu mối|có kế hoạch|tích cực|theo|trong phạm vi|"
    r"hằng năm|hàng năm|được giao|cập nhật|phát huy|để|nhằm|giúp(?! việc)|trong việc|trong quá trình|trên cơ sở|"
    r"đẩy nhanh|kể từ|trước ngày|vào)\b"
    r"|(?<!ban )\b(?:tham mưu|kiểm tra|chỉ đạo|giám sát)\b"
    r"|(?<!ban )(?<!cơ quan )(?<!cơ quan, )\btổ chức\b"
    r"(?!\s+(?:đảng|đoàn thể|cơ sở đảng|chính trị|hữu quan|có liên quan))"
)
# A verb right after one of these is part of a body's name ("Sở Xây dựng", "Ban Quản lý").
NAME_WORD_RE = kw(r"(?:^|[ ])(?:sở|bộ|ban|cục|phòng|viện|trường|trung tâm|tổng cục|chi cục|hội|đài|báo)[ ]*$")
DELEGATION_RE = kw(r"(?<!được )(?<!bàn )(?<!đã )(?<!ngoại )\b(?:giao(?!\s+thông)(?:\s+cho)?|đề nghị|yêu cầu)\s+")
LEADING_RE = kw(  # a list marker, a heading that names its unit, or a time before the subject
    r"(?:(?:[-–—+•*]|[a-zđ]\)|\d{1,2}(?:\.\d{1,2})*\.?)\s+)?"
    r"(?:(?:đối với|trách nhiệm của|nhiệm vụ của)\s+|(?:định kỳ|hằng năm|hàng năm|hằng quý|hàng quý|hằng tháng"
    r"|hàng tháng|hằng tuần)\s*,\s*)?"
)
SUPPORT_RE = kw(r"\bphối hợp(?:\s+chặt chẽ)?(?:\s+với)?\s+")
GENERIC_COMMITTEE_RE = kw(r"(?:các\s+)?cấp ủy(?:\s+các\s+cấp)?")
SHARED_HEAD_RE = kw(
    r"^(?:(?:các\s+)?(?P<head>sở|bộ|ban|cục|hội|đoàn thể)"
    r"|(?P<council>ubnd|ủy ban nhân dân)\s+các\s+(?P<level>xã|phường|huyện|thị trấn|quận))\s*:\s*(?P<rest>.+)$"
)
FIELD_LABEL_RE = kw(r"(?:thời gian|thời hạn|tiến độ|kinh phí|sản phẩm|kết quả)\b")
BARE_KIND_RE = re.compile(r"(?:các\s+)?(?:đơn vị|địa phương|ngành|cơ quan)(?:\s+(?:có\s+)?liên quan)?[.;,]?")
_ACRONYM_RE = re.compile(r"[A-ZĐ]{2,}[A-ZĐ&]*\b")
_SECOND_ORGAN_RE = re.compile(r"(?<=[a-zà-ỹđ]) (?=(?:Bộ|Sở|Ủy ban|Ban) [A-ZĐÂÊÔƠƯ])")
_TRAILING_JOINER_RE = re.compile(r"\s+(?:và|cùng|với|có|đã|sẽ|cần|phải)$")
SPLIT_RE = kw(r"\s*(?:[,;]|\bvà\b|\bcùng\b|\bvới\b)\s*")
OUTSIDE_UNIT = r"(?!\s+(?:tỉnh ủy|thành ủy|huyện ủy|quận ủy|thị ủy|trung ương))"
UNIT_KIND_RULES = (
    ("party_cell", kw(r"\bchi bộ\b|\bchi ủy\b")),
    ("grassroots_committee", kw(r"\bđảng bộ cơ sở\b")),
    ("advisory_board", kw(r"\bban tham mưu\b|\bban đảng\b")),
    ("mass_organisation",
     kw(r"đoàn thể|mặt trận|công đoàn|đoàn thanh niên|hội liên hiệp|hội cựu chiến binh|hội nông dân|"
        r"tỉnh đoàn|liên đoàn lao động|mttq")),
    ("state_agency", kw(r"(?<!cơ )(?<!đảng )(?<!chi )(?<!cán )(?<!toàn )"
                        r"\b(?:sở|bộ|cục|chi cục|tổng cục|công an|quân sự|kho bạc|thanh tra)\b")),
    ("people_committee", kw(r"\b(?:ủy ban nhân dân|ubnd)\b")),
)
NAMED_KINDS = frozenset({"state_agency", "people_committee"})  # kinds a phrase stands for only when collective
UNIT_CODE_RULES = (
    ("BTG", kw(r"\bban tuyên giáo\b" + OUTSIDE_UNIT + r"|\bbtg\b")),
    ("UBKT", kw(r"\bủy ban kiểm tra\b" + OUTSIDE_UNIT + r"|\bubkt\b")),
    ("BTC", kw(r"\bban tổ chức\b" + OUTSIDE_UNIT)),
    ("VP", kw(r"\bvăn phòng\b" + OUTSIDE_UNIT + r"(?!\s+(?:ủy ban|ubnd|hđnd|đoàn|bộ|sở))")),
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
ONGOING_FIELD_RE = kw(r"\b(?:thường xuyên|hằng năm|hàng năm|định kỳ|liên tục)\b")
ONGOING_CELL_RE = kw(r"^(?:thường xuyên|hằng năm|hàng năm|định kỳ|liên tục)\b")
MAX_SUBJECT = 240
MAX_RESPONSIBLES = 40


def _predicate(text: str, folded: str, start: int, stop: int) -> re.Match[str] | None:
    """The first duty verb in folded[start:stop] that is not part of a body's name ("Sở Xây dựng")."""
    while (verb := PREDICATE_RE.search(folded, start, stop)) is not None:
        if not (text[verb.start()].isupper() and _inside_name(text, verb.start())):
            return verb
        start = verb.end()
    return None


def _inside_name(text: str, pos: int) -> bool:
    """True for a capitalised word inside a name or a list of names ("Sở Xây dựng", "…, Giao Minh"), not
    one opening a clause ("Sở Du lịch\nChủ trì …")."""
    before = text[max(0, pos - 40):pos].rstrip(" ")
    if not before or before[-1] in ".:;\n-–+•(":
        return False
    words = before.split()
    last = words[-1] if words else ""
    after_and = last == "và" and any(w[:1].isupper() for w in words[-3:-1])  # "Thương mại và Hỗ trợ …"
    return before[-1] == "," or last[:1].isupper() or after_and or bool(NAME_WORD_RE.search(fold(before) + " "))


def _subject_end(text: str, folded: str, pos: int) -> int | None:
    """End of a responsible unit's name starting at pos (it must end where a duty verb starts)."""
    head = ENTITY_HEAD_RE.match(folded, pos)
    if not head or (folded.startswith(("thanh tra", "thường trực"), pos) and text[pos].islower()):
        return None  # "thanh tra", "thường trực" in lower case are a verb and an adjective, not bodies
    start = head.end()
    if shared := SHARED_LIST_RE.match(folded, pos):  # "Các Sở: Nội vụ, Tài chính; Công an tỉnh rà soát"
        start = shared.end()
    line_end = folded.find("\n", pos)
    line_end = len(folded) if line_end < 0 else line_end  # a name does not run on to the next paragraph
    verb = _predicate(text, folded, start, min(pos + MAX_SUBJECT, line_end))
    while shared and verb and verb.group() in ";:":
        verb = _predicate(text, folded, verb.end(), min(pos + MAX_SUBJECT, line_end))
    if not verb:  # a heading naming its unit ("1. Sở Du lịch"), or a verb not in the list
        if pos < line_end <= pos + MAX_SUBJECT and folded[line_end - 1] not in ".;":
            return line_end
        return _name_end(text, start, min(line_end, pos + MAX_SUBJECT))
    end = verb.start()
    while end > pos and folded[end - 1] in " ,-–":
        end -= 1
    return end if end > pos else None


SHARED_LIST_RE = kw(r"(?:các\s+)?(?:sở|bộ|ban|cục|hội|(?:ubnd|ủy ban nhân dân)\s+các\s+[^\W\d_]+(?:\s+[^\W\d_]+)?)\s*:")


def _name_end(text: str, start: int, stop: int) -> int | None:
    """Where a body's proper name ends when no duty verb follows it ("Bộ Chỉ huy Quân sự tỉnh tuần tra"):
    after its last capitalised word or locality word."""
    words = list(re.finditer(r"[^\s,.;]+", text[start:stop]))
    end, capital = None, False
    for index, word in enumerate(words):
        if text[start + words[index - 1].end() if index else start:start + word.start()].strip(" "):
            break  # a comma or full stop ends the name
        if _name_word(word.group()) or capital:  # "Du lịch": a capital and the syllable after it
            end, capital = start + word.end(), word.group()[:1].isupper()
        elif any(_name_word(w.group()) for w in words[index + 1:index + 3]):
            capital = False
        else:
            break
    return end


def _name_word(word: str) -> bool:
    """A capitalised word, or a place word that ends a body's name ("tỉnh")."""
    return word[:1].isupper() or fold(word) in ("tỉnh", "huyện", "xã", "quận", "phường", "thành phố")


def unit_kinds(name: str, folded: str | None = None) -> list[str]:
    """Kinds of units named in a responsible phrase (generic "Cấp ủy" -> cells and committees; State
    kinds only for a collective "các sở, ban, ngành", a single "Sở Nội vụ" is matched by its name)."""
    folded = fold(name) if folded is None else folded
    if GENERIC_COMMITTEE_RE.fullmatch(folded):
        return ["party_cell", "grassroots_committee"]
    collective = folded.startswith("các ") or " các " in folded
    return [kind for kind, rule in UNIT_KIND_RULES
            if rule.search(folded) and (collective or kind not in NAMED_KINDS)]


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


def split_units(name: str, cell: bool = False) -> list[str]:
    """The bodies a phrase names: "Sở Tài chính, Sở Xây dựng" is two, "các Sở: Nội vụ, Tài chính"
    spreads its head, and "Các sở, ban, ngành" or "Sở Văn hóa, Thể thao và Du lịch" stay one."""
    name = name.strip(" ,;:.-–")
    folded = fold(name)
    if shared := SHARED_HEAD_RE.match(folded):
        if shared["head"]:
            head = name[shared.start("head"):shared.end("head")]
        else:
            head = f"{name[shared.start('council'):shared.end('council')]} {shared['level']}"
        head = head[:1].upper() + head[1:]
        items = [item.strip(" .") for item in re.split(r"\s*[,;]\s*", name[shared.start("rest"):])]
        return [item if ENTITY_HEAD_RE.match(fold(item)) else f"{head} {item}" for item in items if item]
    parts, start = [], 0
    for sep in SPLIT_RE.finditer(folded):
        after = sep.end()
        listed = cell and sep.group().strip() in ",;" and _ACRONYM_RE.match(name, after) is not None  # "VTV, VOV"
        named = ENTITY_HEAD_RE.match(folded, after) and _names_another(name, start, after)
        if sep.start() > start and (listed or named):
            parts.append(name[start:sep.start()])
            start = after
    parts.append(name[start:])
    return [cleaned for p in parts if (cleaned := _TRAILING_JOINER_RE.sub("", p.strip(" ,;:.-–")).strip(" ,;:.-–"))]


def _names_another(name: str, start: int, after: int) -> bool:
    """True where a list of bodies names another one: after ";", a proper name ("…, Sở Xây dựng"),
    or "các …" after a proper name; not where a list of kinds goes on ("các chi bộ, đảng bộ cơ sở")."""
    separator = fold(name[start:after][-6:])
    current = name[start:after].split()
    proper = (len(current) > 1 and current[0][:1].isupper() and fold(current[0]) != "các"
              and any(word[:1].isupper() for word in current[1:]))  # "Liên đoàn Lao động tỉnh"
    bare_kind = not proper and BARE_KIND_RE.fullmatch(fold(name[after:]).strip())  # "… và đơn vị": kinds go on
    and_list = re.search(r"\b(?:và|cùng|với)\s*$", separator) and not bare_kind
    if name[after:after + 1].isupper() or ";" in separator or and_list:
        return True
    if "," in separator and proper and re.match(
            r"(?:bộ|sở|ban|ngành|cơ quan|đơn vị|địa phương)\s*,", fold(name[after:after + 16])):
        return True  # "Bộ Tài chính, bộ, ngành liên quan": a name, then a list of kinds
    if "," in separator and fold(name[after:after + 4]) == "các ":
        return True
    opening = name[start:after]
    return fold(name[after:after + 4]) == "các " and opening[:1].isupper() and fold(opening[:4]) != "các "


def _unit(name: str, role: str, actions: list[str]) -> dict:
    key = fold(name)
    return {"text": name, "unit_kinds": unit_kinds(name, key), "unit_codes": unit_codes(name, key),
            "role": role, "actions": actions}


def find_responsibles(text: str, folded: str | None = None) -> list[dict]:
    """Responsible units: each paragraph's subject, "giao X", "đề nghị X" and "đối với X" are leads,
    "phối hợp với X" (or a subject followed by "phối hợp") supports.

    At most MAX_RESPONSIBLES distinct units are read: each one's clause is searched for duties, and
    a text naming thousands would cost thousands of searches.
    """
    folded = fold(text) if folded is None else folded
    spans: list[tuple[int, int, str]] = []
    for pos in [0] + [m.end() for m in re.finditer("\n", folded)]:  # each paragraph's subject
        if (lead := LEADING_RE.match(folded, pos)) and lead.end() > pos:
            pos = lead.end()
        if (end := _subject_end(text, folded, pos)) is not None:
            spans.append((pos, end, "lead"))
    for rule, role in ((DELEGATION_RE, "lead"), (SUPPORT_RE, "support")):
        for match in rule.finditer(folded):
            if (end := _subject_end(text, folded, match.end())) is not None:
                spans.append((match.end(), end, role))
    spans.sort()
    next_lead, stop = [0] * len(spans), len(text)  # where the clause after each span ends
    for index in range(len(spans) - 1, -1, -1):
        next_lead[index] = stop
        if spans[index][2] == "lead":
            stop = spans[index][0]
    found: list[dict] = []
    seen: set[str] = set()
    for index, (start, end, role) in enumerate(spans):
        actions = find_actions("", folded[end:next_lead[index]])
        for name in split_units(text[start:end]):
            if (key := fold(name)) in seen:
                continue
            seen.add(key)
            found.append(_unit(name, role, actions))
            if len(found) == MAX_RESPONSIBLES:
                return found
    return found


FIELD_ROLE_RE = kw(r"^\W*(?:(?:cơ quan|đơn vị)\s+)?(?P<what>chủ trì|thực hiện|phối hợp|tham mưu|chịu trách nhiệm)"
                   r"(?:\s*,\s*(?:phối hợp|thực hiện))?\s*:?\s*")
LEAD_IN_FIELD_RE = kw(r"\s+chủ trì\b[\s,]*(?:(?:và\s+)?phối hợp(?:\s+với)?\s+)?")


def field_units(text: str) -> list[dict]:
    """The units a field names: "Cơ quan thực hiện: X chủ trì, phối hợp với Y; Z", or a label
    ("Cơ quan chủ trì", "Cơ quan phối hợp") over "- X." lines."""
    found: list[dict] = []
    role = "lead"
    for line in text.split("\n"):
        line = re.sub(r"^\s*(?:[-–—+•*]|[a-zđ]\)|\d+(?:\.\d+)*\.?)\s*", "", line)
        line = re.split(r"\s*-\s*(?:Thời gian|Tiến độ|Kinh phí|Sản phẩm)", line)[0]  # a next field glued on
        if label := FIELD_ROLE_RE.match(fold(line)):
            role = "support" if label["what"] == "phối hợp" else "lead"
            line = line[label.end():]
        line = line.strip(" .;")
        if lead := LEAD_IN_FIELD_RE.search(fold(line)):
            found += units_in_cell(line[:lead.start()], role)
            found += units_in_cell(line[lead.end():], "support") if lead.group().strip() != "chủ trì" else []
        elif line:
            found += units_in_cell(line, role)
    return found[:MAX_RESPONSIBLES]


def units_in_cell(text: str, role: str) -> list[dict]:
    """The bodies named in a table cell ("Sở Nội vụ; các sở, ngành liên quan")."""
    text = _SECOND_ORGAN_RE.sub(_second_organ, text)
    names = [_cut_at_duty(n) for line in text.split("\n") for n in split_units(line, cell=True)]
    return [_unit(name, role, []) for name in names[:MAX_RESPONSIBLES] if _names_a_body(name)]


def _second_organ(match: re.Match[str]) -> str:
    """", " where a cell runs two names together ("… Truyền thông Bộ Khoa học …"), not in "… thuộc Bộ …"."""
    words = match.string[:match.start()].split()[-2:]
    joined = len(words) == 2 and words[0][:1].isupper() and fold(words[1]) not in _LINKS
    return ", " if joined else " "


_LINKS = frozenset({"thuộc", "của", "với", "và", "các", "cho", "tại", "trực"})


def _names_a_body(name: str) -> bool:
    """True for a cell's piece that names a body: a known head, or a proper name or acronym ("VTV")."""
    if FIELD_LABEL_RE.match(fold(name)):
        return False  # "Thời gian thực hiện: …" run on after the units
    return bool(ENTITY_HEAD_RE.match(fold(name))) or (name[:1].isupper() and len(name) <= MAX_SUBJECT
                                                       and not re.search(r"\d{4}|[.!?]$", name))


def _cut_at_duty(name: str) -> str:
    """A unit's name without the duty written after it ("Sở Thông tin và Truyền thông đôn đốc …")."""
    folded = fold(name)
    head = ENTITY_HEAD_RE.match(folded)
    verb = _predicate(name, folded, head.end(), len(folded)) if head else None
    return name[:verb.start()].rstrip(" ,-–") if verb and verb.start() > 0 else name


# --- deadlines --------------------------------------------------------------------------------

_BY = r"(?:trước|chậm nhất(?:\s+là)?|hạn chót|hoàn thành(?:\s+trước)?|xong(?:\s+trước)?|hạn|thời hạn)"
DEADLINE_DAY_RE = kw(
    rf"\b{_BY}\s*:?\s+(?:là\s+)?(?:ngày\s+)?"
    r"(?:(?P<d>\d{1,2})[/.-](?P<m>\d{1,2})[/.-](?P<y>\d{4})"
    r"|(?P<d2>\d{1,2})\s+tháng\s+(?P<m2>\d{1,2})\s+năm\s+(?P<y2>\d{4})"
    r"|(?P<d3>\d{1,2})[/.-](?P<m3>\d{1,2})(?![/.-]?\d)(?!\s+năm\s+\d)"
    r"|(?P<d4>\d{1,2})\s+tháng\s+(?P<m4>\d{1,2})(?!\s*(?:năm\s+)?[/]?\d))"
)
DEADLINE_QUARTER_RE = kw(
    r"\b(?:(?P<w>trong|trước|hết|cuối|đầu|hoàn thành(?:\s+trong)?|xong(?:\s+trong)?)\s+)?"
    r"quý\s+(?P<q>iv|i{1,3}|[1-4])\s*(?:/|năm\s+|-\s*)(?P<y>\d{4})"
)
DEADLINE_MONTH_RE = kw(
    r"\b(?P<w>trong|trước|hết|cuối|hoàn thành(?:\s+trong)?|xong(?:\s+trong)?|chậm nhất(?:\s+là)?(?:\s+trong)?)"
    r"\s+tháng\s+(?P<m>\d{1,2})\s*(?:/|năm\s+|-\s*)(?P<y>\d{4})"
)
DEADLINE_YEAR_RE = kw(
    r"(?:\b(?P<w>(?<!hỗ trợ )(?<!thực hiện )trong|trước|hết|cuối|vào|hoàn thành(?:\s+trong)?|xong(?:\s+trong)?"
    r"|chậm nhất(?:\s+là)?(?:\s+trong)?|đến hết|(?<!tầm nhìn )(?<!từ nay )(?<!\d )đến)\s+|(?:^|(?<=[\n(]))\s*)"
    r"năm\s+(?P<y>\d{4})(?!\s*[-–])"
)
HORIZON_YEARS = 12
CELL_DAY_RE = kw(r"(?P<d>\d{1,2})[/.-](?P<m>\d{1,2})[/.-](?P<y>\d{4})")
CELL_MONTH_RE = kw(r"(?:tháng\s+)?(?P<m>\d{1,2})\s*/\s*(?P<y>\d{4})")
CELL_RANGE_RE = kw(r"(?:năm\s+|giai đoạn\s+)?(?:\d{4}\s*[-–—]\s*)?(?P<y>\d{4})")


def _day_without_year(day: object, month: object, year: int | None) -> date | None:
    return safe_date(year, month, day) if year else None


def find_deadline(text: str, folded: str | None = None, year: int | None = None) -> date | None:
    """The first deadline literally written in text (a day, month, quarter or year), else None;
    `year` completes a day written without one ("chậm nhất ngày 15/7")."""
    folded = fold(text) if folded is None else folded
    candidates: list[tuple[int, date | None]] = []
    for m in DEADLINE_DAY_RE.finditer(folded):
        if m["y"]:
            day = safe_date(m["y"], m["m"], m["d"])
        elif m["y2"]:
            day = safe_date(m["y2"], m["m2"], m["d2"])
        elif m["d3"]:
            day = _day_without_year(m["d3"], m["m3"], year)
        else:
            day = _day_without_year(m["d4"], m["m4"], year)
        candidates.append((m.start(), day))
    for m in DEADLINE_QUARTER_RE.finditer(folded):
        if m["w"] or _alone(folded, m):
            candidates.append((m.start(), quarter_end(int(m["y"]), m["q"])))
    for m in DEADLINE_MONTH_RE.finditer(folded):
        year_, month = int(m["y"]), int(m["m"])
        day = day_before_month(year_, month) if m["w"] == "trước" else month_end(year_, month)
        candidates.append((m.start(), day))
    for m in DEADLINE_YEAR_RE.finditer(folded):
        if m["w"] in (None, "đến") and not (re.match(r"\s*,", folded[m.end():]) and _opens_sentence(folded, m.start())):
            continue  # "Năm 2018, hoàn thành …", "Đến năm 2020, …" open a sentence; "… đến năm 2030" is a horizon
        year_ = int(m["y"]) - (m["w"] == "trước")
        candidates.append((m.start(), month_end(year_, 12)))
    horizon = year + HORIZON_YEARS if year else 9999  # "trung hòa các-bon vào năm 2050" is a vision, not a deadline
    valid = sorted((pos, day) for pos, day in candidates if day is not None and day.year <= horizon)
    return valid[0][1] if valid else None


def _opens_sentence(folded: str, pos: int) -> bool:
    """True where a sentence, clause or list item starts."""
    return bool(re.search(r"(?:^|[.;:\n(]|^[-+•*]|\n[-+•*])\s*$", folded[max(0, pos - 4):pos]) or pos == 0)


def _alone(folded: str, match: re.Match[str]) -> bool:
    """True for a quarter standing as a time of its own: "(Quý II/2023)", "- Thời gian: Quý II/2023"."""
    before = folded[max(0, match.start() - 12):match.start()]
    return bool(re.search(r"(?:^|[(:\n]|thời gian|tiến độ)\s*$", before))


def time_deadline(text: str, year: int | None = None) -> date | None:
    """The deadline a "Thời gian thực hiện: …" field gives: its first day, month, quarter or year."""
    folded = fold(text)
    value = folded.split(":", 1)[1] if ":" in folded else folded
    offset = len(folded) - len(value)
    return cell_deadline(text[offset:], year) or _first_period(value)


def _first_period(folded: str) -> date | None:
    """The first month ("tháng 12/2013") or year written in a time field."""
    if m := re.search(r"(?<!từ )tháng\s+(?:\d{1,2}\s*,\s*)*(\d{1,2})\s*/\s*(\d{4})(?!\s+trở đi)", folded):
        return month_end(int(m.group(2)), int(m.group(1)))
    if m := re.search(r"(?<!từ )năm\s+(\d{4})(?!\s*[-–])", folded):
        return month_end(int(m.group(1)), 12)
    return None


def cell_deadline(text: str, year: int | None = None) -> date | None:
    """The deadline a table's time column gives: a day, month, quarter, year or period's end."""
    folded = fold(text).strip()
    if not folded or ONGOING_CELL_RE.match(folded):
        return None
    if found := find_deadline(text, folded, year):
        return found
    if m := DEADLINE_QUARTER_RE.search(folded):
        return quarter_end(int(m["y"]), m["q"])
    if m := CELL_DAY_RE.search(folded):
        return safe_date(m["y"], m["m"], m["d"])
    if m := CELL_MONTH_RE.fullmatch(folded):
        return month_end(int(m["y"]), int(m["m"]))
    if m := CELL_RANGE_RE.fullmatch(folded):
        return month_end(int(m["y"]), 12)
    return None


# --- targets ----------------------------------------------------------------------------------

TARGET_RE = kw(
    r"(?P<cmp>đạt(?:\s+(?:trên|tối thiểu|ít nhất|từ))?|phấn đấu(?:\s+đạt)?|trên|dưới|tối thiểu|ít nhất|"
    r"không (?:thấp hơn|dưới|ít hơn)|không (?:vượt )?quá|tối đa|(?:giảm|xuống)\s+(?:xuống\s+)?(?:còn\s+)?dưới|"
    r"còn dưới|bằng)\s+(?P<v>\d{1,9}(?:[.,]\d{1,3})?)\s*(?P<u>%|[^\W\d_]+)?"
    r"|(?:^|[\s(,;:])(?P<v2>100)\s*%"
)
_AT_MOST = ("dưới", "không quá", "không vượt quá", "tối đa", "giảm", "xuống", "còn dưới")
_EXACTLY = ("bằng",)


def find_targets(text: str, folded: str | None = None) -> list[dict]:
    """Numeric targets written in text: {value, unit, comparison, text} ("đạt trên 90%" -> at least 90 %)."""
    folded = fold(text) if folded is None else folded
    found: list[dict] = []
    for m in TARGET_RE.finditer(folded):
        if m["v2"]:
            value, unit, comparison, start = 100.0, "%", "exactly", m.start("v2")
        else:
            value = float(m["v"].replace(",", "."))
            unit = text[m.start("u"):m.end("u")] if m["u"] else ""
            cmp_ = m["cmp"]
            comparison = ("at_most" if cmp_.startswith(_AT_MOST) else
                          "exactly" if cmp_.startswith(_EXACTLY) else "at_least")
            start = m.start()
        if unit and unit != "%" and not re.fullmatch(r"[^\W\d_]{1,12}", unit):
            unit = ""
        sentence_start = max(folded.rfind(c, 0, start) for c in ".;\n") + 1
        sentence_end = min((i for i in (folded.find(c, m.end()) for c in ".;\n") if i >= 0), default=len(text))
        found.append({"value": value, "unit": unit, "comparison": comparison,
                      "text": text[sentence_start:sentence_end].strip(" ,-–")[:300]})
        if len(found) == 20:
            break
    return found


_LOCALITY_TAIL_RE = kw(r"\s+(?:tỉnh|thành phố|huyện|quận|thị xã)(?:\s+[^\W\d_]+){0,4}$")
_EXPANSIONS = (("ubnd", "ủy ban nhân dân"), ("hđnd", "hội đồng nhân dân"), ("ubmttq", "ủy ban mặt trận tổ quốc"),
               ("mttq", "mặt trận tổ quốc"), ("ubkt", "ủy ban kiểm tra"), ("btg", "ban tuyên giáo"))


def unit_key(name: str) -> str:
    """A body's name compared without case, abbreviations, a leading "các" or its locality."""
    key = re.sub(r"\s+", " ", fold(name)).strip(" .,;:")
    for short, long in _EXPANSIONS:
        key = re.sub(rf"(?<!\w){short}(?!\w)", long, key)
    key = re.sub(r"^các\s+", "", key)
    return _LOCALITY_TAIL_RE.sub("", key) or key


def same_body(named: str, unit_name: str) -> bool:
    """True when a document's name for a body is an organisation unit's name ("Sở Nội vụ" is the unit
    "Sở Nội vụ tỉnh Trà Vinh"; "UBND tỉnh" is "Ủy ban nhân dân tỉnh")."""
    return unit_key(named) == unit_key(unit_name)


def is_collective(name: str) -> bool:
    """True for a phrase naming kinds of bodies rather than one ("Các sở, ban, ngành", "… liên quan")."""
    folded = fold(name)
    return (folded.startswith("các ") or "liên quan" in folded or "các cấp" in folded
            or GENERIC_COMMITTEE_RE.fullmatch(folded) is not None)
