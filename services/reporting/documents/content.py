"""The draft sơ kết / tổng kết report as blocks of text, rendered by docx.py (and pdf.py's fallback).

Figures come from the read model; what only a person can write (lessons, next steps, causes) is a
clearly marked placeholder "[Đề nghị bổ sung …]"."""

from dataclasses import dataclass, field

from services.reporting.documents.data import PlanReport
from shared.vietnamese import SUBMISSION_STATE_LABELS, date_line, review_kind_label, short_date

QUOTE_LIMIT = 400  # characters of a unit's text quoted in the body (the workbook has all of it)
DIFFICULTY_LIMIT = 20  # difficulties quoted in section III
ROUND_QUOTES = 10  # units' round reports quoted in the body


@dataclass
class Block:
    """A paragraph (kind: heading, subheading, para, bullet, quote, placeholder), a table or a page break."""

    kind: str
    text: str = ""
    header: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    widths_mm: list[int] = field(default_factory=list)


@dataclass
class ReportDocument:
    """The report: header fields, body blocks, the signature and recipients blocks, the annex."""

    superior: str  # ĐẢNG BỘ TỈNH TRÀ VINH
    issuer: str  # ĐẢNG ỦY KHỐI CÁC CƠ QUAN VÀ DOANH NGHIỆP
    number: str  # Số    -BC/ĐUK
    date_line: str
    title: str  # BÁO CÁO
    subject: list[str]
    body: list[Block]
    signer_on_behalf: str
    signer_title: str
    signer_name: str
    recipients: list[str]
    annex: list[Block]


def placeholder(what: str) -> Block:
    """A marked gap a person has to fill."""
    return Block("placeholder", f"[Đề nghị bổ sung {what}]")


def _pct(part: int, whole: int) -> str:
    return f"{part / whole * 100:.1f}%".replace(".", ",") if whole else "0%"


def _num(value: float) -> str:
    text = f"{value:,.2f}".rstrip("0").rstrip(".")
    return text.replace(",", " ").replace(".", ",").replace(" ", ".")


def _clip(text: str, limit: int = QUOTE_LIMIT) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _issuer_short(number: str) -> str:
    return number.split("/", 1)[1] if "/" in number else ""


def build_document(report: PlanReport) -> ReportDocument:
    """The draft report of `report` (a review round's when it has one, else the plan's to date)."""
    plan, rnd = report.plan, report.round
    issued = f", ngày {short_date(plan.issued_on)}" if plan.issued_on else ""
    issuer = plan.issuer_name or "[cơ quan ban hành]"
    plan_ref = f"{report.plan_label()}{issued} của {_ban_thuong_vu(issuer)}"
    if rnd is not None:
        head = f"{review_kind_label(rnd.kind).capitalize()} {rnd.title.strip()}".strip()
        if rnd.title.strip().lower().startswith(review_kind_label(rnd.kind)):
            head = rnd.title.strip()
        subject = [f"{head} thực hiện {plan_ref}"]
    else:
        subject = [f"Kết quả thực hiện {plan_ref}", f"(số liệu đến ngày {short_date(report.today)})"]
    if plan.title:
        subject.append(plan.title)

    units, total = len(report.units), report.total
    body: list[Block] = []
    body.append(Block("heading", "I- CÔNG TÁC QUÁN TRIỆT, TRIỂN KHAI"))
    planned = sum(1 for u in report.units if u.unit_plans)
    body.append(Block("para", (
        f"Thực hiện {plan_ref}, các cấp ủy trực thuộc đã được giao {len(report.tasks)} nhiệm vụ "
        f"với tổng số {total} lượt giao cho {units} đơn vị. Đến ngày {short_date(report.today)}, "
        f"có {planned}/{units} đơn vị ({_pct(planned, units)}) đã ban hành kế hoạch thực hiện của đơn vị.")))
    body.append(placeholder("hình thức quán triệt, triển khai; số cán bộ, đảng viên được quán triệt …"))

    body.append(Block("heading", "II- KẾT QUẢ THỰC HIỆN"))
    s = report.by_status
    on_time = report.on_time_rate
    body.append(Block("para", (
        f"Trong tổng số {total} lượt nhiệm vụ được giao: đã hoàn thành {s.get('completed', 0)} "
        f"({_pct(s.get('completed', 0), total)}); đang thực hiện {s.get('in_progress', 0)} "
        f"({_pct(s.get('in_progress', 0), total)}); chưa triển khai {s.get('not_started', 0)} "
        f"({_pct(s.get('not_started', 0), total)}); quá hạn {report.overdue_count} "
        f"({_pct(report.overdue_count, total)})."
        + (f" Tỷ lệ hoàn thành đúng hạn: {on_time * 100:.1f}%.".replace(".", ",", 1) if on_time is not None else ""))))
    for n, t in enumerate(report.tasks, start=1):
        body.append(Block("subheading", f"{n}. Nhiệm vụ {t.code}: {t.title}"))
        body.append(Block("bullet", (
            f"Số đơn vị được giao: {t.assigned}; đã hoàn thành: {t.completed}; đang thực hiện: {t.in_progress}; "
            f"chưa triển khai: {t.not_started}; quá hạn: {t.overdue}.")))
        for i in t.indicators:
            target = f"/{_num(i.target)} {i.unit_of_measure}".rstrip() if i.target is not None else \
                f" {i.unit_of_measure}".rstrip()
            rate = f" (đạt {i.rate * 100:.1f}%)".replace(".", ",") if i.rate is not None else ""
            body.append(Block("bullet", f"Chỉ tiêu {i.name}: {_num(i.achieved)}{target}{rate}."))
        for unit, summary in t.summaries:
            body.append(Block("quote", f"{unit}: “{_clip(summary)}”"))
    if rnd is not None:
        subs = report.submissions
        counts = {k: sum(1 for x in subs if x.state == k) for k in SUBMISSION_STATE_LABELS}
        kind = review_kind_label(rnd.kind)
        body.append(Block("subheading", f"{len(report.tasks) + 1}. Báo cáo {kind} của các đơn vị"))
        body.append(Block("bullet", (
            f"{counts['on_time'] + counts['late']}/{len(subs)} đơn vị đã nộp báo cáo {kind} "
            f"(đúng hạn: {counts['on_time']}, trễ hạn: {counts['late']}); chưa nộp: {counts['missing']}"
            + (": " + ", ".join(x.unit_name for x in subs if x.state == "missing") if counts["missing"] else "")
            + ".")))
        quoted = [x for x in subs if x.results.strip() or x.summary.strip()][:ROUND_QUOTES]
        for x in quoted:
            body.append(Block("quote", f"{x.unit_name}: “{_clip(x.results or x.summary)}”"))
    body.append(placeholder("đánh giá chung về kết quả đạt được"))

    body.append(Block("heading", "III- HẠN CHẾ, NGUYÊN NHÂN"))
    body.append(Block("subheading", "1. Hạn chế"))
    body.append(Block("bullet", (
        f"Còn {report.overdue_count} lượt nhiệm vụ quá hạn hoặc chưa báo cáo đúng kỳ, "
        f"{s.get('not_started', 0)} lượt chưa triển khai.")))
    difficulties = list(dict.fromkeys(report.difficulties))
    if difficulties:
        body.append(Block("para", "Khó khăn, vướng mắc các đơn vị đã báo cáo:"))
    for unit, code, text in difficulties[:DIFFICULTY_LIMIT]:
        where = f" (nhiệm vụ {code})" if code else ""
        body.append(Block("quote", f"{unit}{where}: “{_clip(text)}”"))
    if len(difficulties) > DIFFICULTY_LIMIT:
        body.append(Block("para", f"… và {len(difficulties) - DIFFICULTY_LIMIT} ý kiến khác (xem bảng tổng hợp)."))
    body.append(Block("subheading", "2. Nguyên nhân"))
    body.append(placeholder("nguyên nhân khách quan, chủ quan của hạn chế"))

    body.append(Block("heading", "IV- BÀI HỌC KINH NGHIỆM"))
    body.append(placeholder("bài học kinh nghiệm rút ra qua quá trình thực hiện"))
    body.append(Block("heading", "V- NHIỆM VỤ, GIẢI PHÁP THỜI GIAN TỚI"))
    body.append(placeholder("nhiệm vụ, giải pháp trọng tâm thời gian tới"))
    proposals = [x for x in report.submissions if x.proposals.strip()]
    if proposals:
        body.append(Block("para", "Đề xuất, kiến nghị của các đơn vị:"))
        for x in proposals[:ROUND_QUOTES]:
            body.append(Block("quote", f"{x.unit_name}: “{_clip(x.proposals)}”"))

    annex_header = ["STT", "Đơn vị", "Được giao", "Hoàn thành", "Đang thực hiện", "Chưa triển khai", "Quá hạn",
                    "Tỷ lệ hoàn thành"]
    widths = [12, 50, 16, 17, 17, 17, 14, 20]
    state_of = {x.unit_id: x.state for x in report.submissions}
    if rnd is not None:
        annex_header.append(f"Báo cáo {review_kind_label(rnd.kind)}")
        widths = [12, 35, 15, 15, 15, 15, 13, 17, 26]
    rows = []
    for n, u in enumerate(report.units, start=1):
        row = [str(n), u.name, str(u.assigned), str(u.completed), str(u.in_progress), str(u.not_started),
               str(u.overdue), _pct(u.completed, u.assigned)]
        if rnd is not None:
            row.append(SUBMISSION_STATE_LABELS[state_of[u.unit_id]] if u.unit_id in state_of else "")
        rows.append(row)
    annex = [Block("title", "PHỤ LỤC"),
             Block("caption", f"Kết quả thực hiện {report.plan_label()} theo đơn vị "
                                 f"(số liệu đến ngày {short_date(report.today)})"),
             Block("table", header=annex_header, rows=rows, widths_mm=widths)]
    suffix = _issuer_short(plan.number)
    return ReportDocument(
        superior=f"ĐẢNG BỘ TỈNH {plan.place.upper()}" if plan.place else "[ĐẢNG BỘ CẤP TRÊN]",
        issuer=issuer.upper(), number=f"Số      -BC/{suffix}" if suffix else "Số      -BC",
        date_line=date_line(plan.place, report.today), title="BÁO CÁO", subject=subject, body=body,
        signer_on_behalf="T/M BAN THƯỜNG VỤ", signer_title="[Chức vụ người ký]",
        signer_name=plan.signer or "[Họ và tên người ký]",
        recipients=["- Như trên,", "- Lưu Văn phòng."], annex=annex,
    )


def _ban_thuong_vu(issuer: str) -> str:
    """"Ban Thường vụ Đảng ủy Khối …" from the issuing body's name."""
    return issuer if issuer.lower().startswith("ban ") else f"Ban Thường vụ {issuer}"
