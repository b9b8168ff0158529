"""Emails rendered from the Jinja2 templates: every kind, in text and HTML, sanitised and escaped."""

import re
import unicodedata
from datetime import UTC, date, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from services.notifications.rendering import KINDS, TEMPLATES, Rendered, period_vi, render, time_vi

PLAN = "41-KH/ĐUK"
PLAN_TITLE = ("thực hiện Chương trình số 22-CTr/TU, ngày 11/11/2021 của Ban Thường vụ Tỉnh ủy về phát triển "
              "kinh tế đô thị tỉnh Trà Vinh, giai đoạn 2021 - 2025, tầm nhìn đến năm 2030")
III_1 = ("Cấp ủy các chi bộ, đảng bộ cơ sở tổ chức quán triệt, triển khai thực hiện Chương trình số 22-CTr/TU "
         "của Ban Thường vụ Tỉnh ủy…")
II_1 = ("Cấp ủy các chi bộ, đảng bộ cơ sở tăng cường công tác tuyên truyền quán triệt, nâng cao nhận thức trong "
        "cán bộ, đảng viên, đoàn viên, hội viên…")
II_2 = ("Cấp ủy các chi bộ, đảng bộ cơ sở căn cứ vào chức năng, nhiệm vụ của từng ngành, từng lĩnh vực, phối hợp "
        "với thủ trưởng cơ quan…")
UNIT = "Chi bộ Sở Xây dựng"
BASE = "https://plantrack.travinh.gov.vn"
UNSUBSCRIBE = "https://plantrack.travinh.gov.vn/unsubscribe?t=eyJpIjo3fQ.c2lnbmF0dXJl"
TODAY = date(2026, 11, 27)
REPORTED = datetime(2026, 11, 27, 2, 30, tzinfo=UTC)  # 09 giờ 30 in Trà Vinh

COMMON: dict[str, Any] = {
    "recipient_name": "Huỳnh Ngọc Diệp", "recipient_title": "Bí thư Chi bộ", "place": "Trà Vinh",
    "today": TODAY, "link": f"{BASE}/assignments/12", "unsubscribe_url": UNSUBSCRIBE,
    "category": "deadlines", "category_label": "Hạn nhiệm vụ", "reference": "req-7f3a9c",
}
TASK = {"plan_number": PLAN, "plan_title": PLAN_TITLE, "unit_name": UNIT, "task_code": "III.1", "task_title": III_1,
        "role": "lead", "due_on": date(2026, 12, 31), "ongoing": False, "period_label": ""}
ONGOING = TASK | {"task_code": "II.1", "task_title": II_1, "ongoing": True, "period_label": "quý IV/2026"}
ROUND = {"plan_number": PLAN, "round_kind": "preliminary",
         "round_title": "Sơ kết 5 năm thực hiện Chương trình 22-CTr/TU",
         "period_end": date(2026, 11, 30), "submit_by": date(2026, 12, 15), "unit_name": UNIT}

SPECIFIC: dict[str, dict[str, Any]] = {
    "assignment_given": {
        "plan_number": PLAN, "plan_title": PLAN_TITLE, "unit_name": UNIT,
        "issuer_name": "Ban Thường vụ Đảng ủy Khối các cơ quan và doanh nghiệp tỉnh",
        "items": [
            {"task_code": "III.1", "task_title": III_1, "role": "lead", "due_on": date(2022, 6, 30),
             "ongoing": False, "period_label": "", "link": f"{BASE}/assignments/12"},
            {"task_code": "II.1", "task_title": II_1, "role": "lead", "due_on": None, "ongoing": True,
             "period_label": "hằng quý", "link": f"{BASE}/assignments/13"},
            {"task_code": "II.2", "task_title": II_2, "role": "support", "due_on": None, "ongoing": False,
             "period_label": "", "link": ""},
        ],
    },
    "status_reported": {
        "plan_number": PLAN, "task_code": "III.1", "task_title": III_1, "unit_name": UNIT,
        "old_status": "not_started", "new_status": "in_progress", "progress": 40,
        "summary": "Đã tổ chức hội nghị quán triệt cho 45/48 đảng viên.\nBan hành Kế hoạch số 12-KH/CB.",
        "difficulties": "Một số đảng viên đi công tác, chưa dự hội nghị.", "due_on": date(2026, 12, 31),
        "reported_by_name": "Huỳnh Ngọc Diệp", "reported_by_title": "Bí thư Chi bộ", "reported_at": REPORTED,
        "evidence_links": ["https://vanban.travinh.gov.vn/12-KH-CB.pdf", "javascript:alert(1)"], "period": "",
    },
    "update_returned": {
        "plan_number": PLAN, "task_code": "III.1", "task_title": III_1, "unit_name": UNIT,
        "reviewer_name": "Nguyễn Thị Thu Hà", "reviewed_at": REPORTED,
        "reason": "Đề nghị bổ sung số liệu đảng viên dự hội nghị quán triệt.",
    },
    "deadline_approaching": TASK | {"days_left": 7},
    "overdue": TASK | {"days_late": 5, "status": "in_progress", "progress": 40, "reminder_number": 2},
    "escalation": TASK | {"days_late": 12, "status": "not_started", "progress": 0},
    "review_round_opened": ROUND,
    "review_round_reminder": ROUND | {"days_left": 3},
    "review_round_missing": {
        "plan_number": PLAN, "round_kind": "final", "round_title": "Tổng kết Chương trình 22-CTr/TU",
        "submit_by": date(2026, 12, 15), "expected": 10,
        "missing_units": [UNIT, "Chi bộ Sở Kế hoạch và Đầu tư", "Đảng bộ Công ty Điện lực Trà Vinh"],
    },
    "unit_plan_missing": {
        "plan_number": PLAN, "plan_title": PLAN_TITLE, "unit_name": UNIT, "published_on": date(2026, 10, 1),
        "days_since": 57,
    },
    "signin_link": {"expires_at": REPORTED, "link_label": "Đăng nhập", "link": f"{BASE}/signin/abc123",
                    "unsubscribe_url": ""},
}


def context(kind: str, **overrides: Any) -> dict[str, Any]:
    """A realistic context for `kind`, from the seed plan."""
    if kind == "digest":
        parts = [render(k, context(k)) for k in ("status_reported", "overdue")]
        items = [{"subject": r.subject, "category_label": label, "at": REPORTED, "text_content": r.text_content,
                  "html_content": r.html_content, "link": f"{BASE}/assignments/12"}
                 for r, label in zip(parts, ["Báo cáo của đơn vị", "Hạn nhiệm vụ"], strict=True)]
        return COMMON | {"items": items, "count": len(items)} | overrides
    return COMMON | SPECIFIC[kind] | overrides


class _Html(HTMLParser):
    """Collects the text, the tags and the links of an HTML document."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.tags: list[str] = []
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.hrefs += [v or "" for k, v in attrs if k == "href"]

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(html: str) -> _Html:
    parser = _Html()
    parser.feed(html)
    parser.close()
    return parser


def words(text: str) -> str:
    return " ".join(text.split())


ALL_KINDS = sorted(KINDS)


def test_every_kind_has_its_three_templates() -> None:
    assert set(ALL_KINDS) == set(SPECIFIC) | {"digest"}
    for kind in ALL_KINDS:
        for part in ("subject", "txt", "html"):
            assert (TEMPLATES / f"{kind}.{part}.j2").is_file()


def test_templates_are_nfc() -> None:
    for path in TEMPLATES.glob("*.j2"):
        assert unicodedata.is_normalized("NFC", path.read_text("utf-8")), path.name


@pytest.mark.parametrize("kind", [k for k in ALL_KINDS if k != "signin_link"])  # no one mutes a sign-in link
def test_every_kind_renders(kind: str) -> None:
    r = render(kind, context(kind))
    assert isinstance(r, Rendered)
    assert r.subject and "\n" not in r.subject and r.subject == r.subject.strip()
    assert len(r.subject) <= 200
    lines = r.text.split("\n")
    assert lines[0] == "Trà Vinh, ngày 27 tháng 11 năm 2026"
    assert lines[2] == "Kính gửi đồng chí Huỳnh Ngọc Diệp, Bí thư Chi bộ,"
    assert "Trân trọng,\nHệ thống theo dõi thực hiện kế hoạch plantrack" in r.text
    assert "Mã tham chiếu: req-7f3a9c" in r.text
    assert f"Không muốn nhận loại thư này (Hạn nhiệm vụ)? Hủy nhận: {UNSUBSCRIBE}" in r.text
    assert f"Xem chi tiết: {BASE}/assignments/12" in r.text
    assert "\n\n\n" not in r.text and r.text.endswith("\n") and not r.text.endswith("\n\n")
    assert all(line == line.rstrip() for line in lines)
    # the content alone: none of the frame
    assert r.text_content and r.text_content in r.text
    for frame in ("Kính gửi", "Trân trọng", "Mã tham chiếu", "Hủy nhận", "Trà Vinh, ngày"):
        assert frame not in r.text_content, frame
    html = parse(r.html)
    text = words("".join(html.text))
    assert r.html.startswith("<!DOCTYPE html>") and '<meta name="viewport"' in r.html
    assert "Trà Vinh, ngày 27 tháng 11 năm 2026" in text
    assert "Kính gửi đồng chí Huỳnh Ngọc Diệp, Bí thư Chi bộ," in text
    assert "Mã tham chiếu: req-7f3a9c" in text and "Không muốn nhận loại thư này (Hạn nhiệm vụ)? Hủy nhận" in text
    assert UNSUBSCRIBE in html.hrefs and f"{BASE}/assignments/12" in html.hrefs
    assert "Xem chi tiết" in text
    assert r.html_content and r.html_content in r.html and "Kính gửi" not in r.html_content
    assert "max-width:600px" in r.html
    assert not re.search(r"\bwidth=\"[0-9]{3,}\"|[^-]width:\s*[0-9]{3,}px", r.html), "a fixed width"
    sizes = [int(s) for s in re.findall(r"font-size:(\d+)px", r.html)]
    assert sizes and min(sizes) >= 14
    for out in (r.subject, r.text, r.html, r.text_content, r.html_content):
        assert unicodedata.is_normalized("NFC", out)


EXPECTED_SUBJECTS = {
    "assignment_given": "[41-KH/ĐUK] Giao nhiệm vụ cho Chi bộ Sở Xây dựng: 3 nhiệm vụ",
    "status_reported": "[41-KH/ĐUK] Chi bộ Sở Xây dựng cập nhật nhiệm vụ III.1: Đang thực hiện (40%)",
    "update_returned": "[41-KH/ĐUK] Báo cáo nhiệm vụ III.1 của Chi bộ Sở Xây dựng bị trả lại",
    "deadline_approaching": "[41-KH/ĐUK] Nhiệm vụ III.1 sắp đến hạn: 31/12/2026 (còn 7 ngày)",
    "overdue": "[41-KH/ĐUK] Nhiệm vụ III.1 đã quá hạn 5 ngày, nhắc lần 2",
    "escalation": "[41-KH/ĐUK] Chi bộ Sở Xây dựng chậm thực hiện nhiệm vụ III.1 (quá hạn 12 ngày)",
    "review_round_opened": "[41-KH/ĐUK] Đề nghị báo cáo sơ kết thực hiện kế hoạch, hạn nộp 15/12/2026",
    "review_round_reminder": "[41-KH/ĐUK] Nhắc nộp báo cáo sơ kết: hạn 15/12/2026 (còn 3 ngày)",
    "review_round_missing": "[41-KH/ĐUK] 3/10 đơn vị chưa nộp báo cáo tổng kết (hạn 15/12/2026)",
    "unit_plan_missing": "[41-KH/ĐUK] Đề nghị Chi bộ Sở Xây dựng xây dựng kế hoạch thực hiện",
    "digest": "Tổng hợp thông báo ngày 27/11/2026: 2 thông báo",
    "signin_link": "Đường dẫn đăng nhập Hệ thống theo dõi thực hiện kế hoạch",
}


def test_the_signin_email_has_its_link_and_no_unsubscribe_line() -> None:
    r = render("signin_link", context("signin_link"))
    link = f"{BASE}/signin/abc123"
    assert f"Đăng nhập: {link}" in r.text and "Hủy nhận" not in r.text and "một lần" in r.text
    assert time_vi(REPORTED) in r.text
    html = parse(r.html)
    assert link in html.hrefs and "Đăng nhập" in words("".join(html.text)) and "Hủy nhận" not in r.html


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_subjects(kind: str) -> None:
    assert render(kind, context(kind)).subject == EXPECTED_SUBJECTS[kind]


def test_assignment_given_says_what_the_unit_must_do() -> None:
    r = render("assignment_given", context("assignment_given"))
    assert ("Căn cứ Kế hoạch số 41-KH/ĐUK (thực hiện Chương trình số 22-CTr/TU, ngày 11/11/2021 của Ban Thường vụ "
            "Tỉnh ủy") in r.text
    assert "Ban Thường vụ Đảng ủy Khối các cơ quan và doanh nghiệp tỉnh giao Chi bộ Sở Xây dựng thực hiện 3" in r.text
    assert f"1. Nhiệm vụ III.1 (đơn vị chủ trì):\n   {III_1}\n   Thời hạn: 30/06/2022" in r.text
    assert "2. Nhiệm vụ II.1 (đơn vị chủ trì):" in r.text and "Thời hạn: Thường xuyên, báo cáo hằng quý" in r.text
    assert "3. Nhiệm vụ II.2 (đơn vị phối hợp):" in r.text and "Thời hạn: Không quy định" in r.text
    assert "phối hợp chặt chẽ với đơn vị chủ trì" in r.text
    assert f"{BASE}/assignments/13" in parse(r.html).hrefs
    one = render("assignment_given", context("assignment_given", items=SPECIFIC["assignment_given"]["items"][:1]))
    assert one.subject == "[41-KH/ĐUK] Giao nhiệm vụ cho Chi bộ Sở Xây dựng: nhiệm vụ III.1"
    assert "thực hiện nhiệm vụ sau:" in one.text and "phối hợp chặt chẽ" not in one.text


def test_status_reported_says_what_the_old_email_said() -> None:
    r = render("status_reported", context("status_reported"))
    for line in [
        "Chi bộ Sở Xây dựng vừa báo cáo tình hình thực hiện nhiệm vụ III.1 thuộc Kế hoạch số 41-KH/ĐUK:",
        f"  Nhiệm vụ:    III.1. {III_1}",
        "  Trạng thái:  Chưa triển khai → Đang thực hiện",
        "  Tiến độ:     40%",
        "  Thời hạn:    31/12/2026",
        "Kết quả thực hiện:\nĐã tổ chức hội nghị quán triệt cho 45/48 đảng viên.\nBan hành Kế hoạch số 12-KH/CB.",
        "Khó khăn, vướng mắc:\nMột số đảng viên đi công tác, chưa dự hội nghị.",
        "Tài liệu minh chứng:\n  - https://vanban.travinh.gov.vn/12-KH-CB.pdf",
        "Người báo cáo: đồng chí Huỳnh Ngọc Diệp, Bí thư Chi bộ, lúc 09 giờ 30, ngày 27/11/2026.",
    ]:
        assert line in r.text, line
    html = parse(r.html)
    assert "https://vanban.travinh.gov.vn/12-KH-CB.pdf" in html.hrefs
    assert not any(h.startswith("javascript") for h in html.hrefs)  # shown, never linked
    assert "javascript:alert(1)" in "".join(html.text)
    assert "45/48 đảng viên." in r.html and "<br>Ban hành" in r.html
    same = render("status_reported", context("status_reported", old_status="in_progress", period="2026-Q4",
                                             reported_by_name="", summary="", difficulties="", evidence_links=[]))
    assert "  Trạng thái:  Đang thực hiện\n" in same.text and "  Kỳ báo cáo:  quý IV/2026" in same.text
    assert same.subject == ("[41-KH/ĐUK] Chi bộ Sở Xây dựng cập nhật nhiệm vụ III.1 (kỳ quý IV/2026): "
                            "Đang thực hiện (40%)")
    assert "\nBáo cáo lúc 09 giờ 30, ngày 27/11/2026.\n" in same.text
    assert "Kết quả thực hiện" not in same.text and "Tài liệu minh chứng" not in same.html


def test_update_returned_without_a_reason() -> None:
    r = render("update_returned", context("update_returned"))
    assert "Lý do trả lại:\nĐề nghị bổ sung số liệu" in r.text
    assert "  Người trả lại:  đồng chí Nguyễn Thị Thu Hà" in r.text
    assert "  Thời gian:      09 giờ 30, ngày 27/11/2026" in r.text
    bare = render("update_returned", context("update_returned", reason=""))
    assert "Lý do trả lại:\n(không ghi lý do)" in bare.text and "(không ghi lý do)" in bare.html


def test_deadline_approaching_one_off_and_ongoing() -> None:
    r = render("deadline_approaching", context("deadline_approaching"))
    assert "do Chi bộ Sở Xây dựng chủ trì thực hiện, sẽ đến hạn vào ngày 31/12/2026 (còn 7 ngày)." in r.text
    today = render("deadline_approaching", context("deadline_approaching", days_left=0))
    assert "(hôm nay là hạn cuối)" in today.subject
    ongoing = render("deadline_approaching", ONGOING | COMMON | {"days_left": 3})
    assert ongoing.subject == "[41-KH/ĐUK] Sắp đến kỳ báo cáo quý IV/2026 nhiệm vụ II.1: hạn 31/12/2026 (còn 3 ngày)"
    assert "Sắp đến kỳ báo cáo quý IV/2026 đối với nhiệm vụ thường xuyên II.1" in ongoing.text
    assert "báo cáo kết quả thực hiện kỳ quý IV/2026 trước ngày 31/12/2026 (còn 3 ngày)" in ongoing.text
    assert "  Hạn báo cáo:  31/12/2026" in ongoing.text


def test_overdue_and_escalation() -> None:
    r = render("overdue", context("overdue"))
    assert "đã quá thời hạn 5 ngày (thời hạn: 31/12/2026) nhưng đến nay chưa hoàn thành" in r.text
    assert "  Trạng thái:   Đang thực hiện (40%)" in r.text and "lần thứ 2" in r.text
    first = render("overdue", context("overdue", reminder_number=1))
    assert first.subject == "[41-KH/ĐUK] Nhiệm vụ III.1 đã quá hạn 5 ngày" and "lần thứ" not in first.text
    ongoing = render("overdue", ONGOING | COMMON | {"days_late": 5, "status": "in_progress", "progress": 40,
                                                     "reminder_number": 1})
    assert ongoing.subject == "[41-KH/ĐUK] Chưa báo cáo kỳ quý IV/2026 nhiệm vụ II.1 (quá hạn 5 ngày)"
    assert "Chi bộ Sở Xây dựng chưa báo cáo kỳ quý IV/2026 đối với nhiệm vụ thường xuyên II.1" in ongoing.text
    up = render("escalation", ONGOING | COMMON | {"days_late": 12, "status": "in_progress", "progress": 40})
    assert up.subject == "[41-KH/ĐUK] Chi bộ Sở Xây dựng chưa báo cáo kỳ quý IV/2026 nhiệm vụ II.1 (quá hạn 12 ngày)"
    esc = render("escalation", context("escalation"))
    assert "Xin thông tin để đồng chí nắm: Chi bộ Sở Xây dựng, đơn vị chủ trì thực hiện nhiệm vụ III.1" in esc.text
    assert "  Trạng thái:   Chưa triển khai (0%)" in esc.text


def test_review_rounds() -> None:
    opened = render("review_round_opened", context("review_round_opened"))
    assert "Thực hiện Kế hoạch số 41-KH/ĐUK, đề nghị Chi bộ Sở Xây dựng báo cáo sơ kết tình hình" in opened.text
    assert "  Hạn nộp báo cáo:   chậm nhất ngày 15/12/2026" in opened.text
    assert "Báo cáo nộp sau ngày 15/12/2026 được ghi nhận là nộp trễ hạn." in opened.text
    reminder = render("review_round_reminder", context("review_round_reminder"))
    assert "chưa nhận được báo cáo sơ kết của Chi bộ Sở Xây dựng" in reminder.text
    missing = render("review_round_missing", context("review_round_missing"))
    assert "còn 3/10 đơn vị chưa nộp báo cáo:\n\n  1. Chi bộ Sở Xây dựng\n  2. Chi bộ Sở Kế hoạch" in missing.text
    assert missing.html.count("<li ") == 3


def test_unit_plan_missing() -> None:
    r = render("unit_plan_missing", context("unit_plan_missing"))
    assert "đã được ban hành từ ngày 01/10/2026 (57 ngày trước), nhưng đến nay hệ thống" in r.text
    assert "chưa ghi nhận kế hoạch thực hiện của Chi bộ Sở Xây dựng" in r.text


def test_digest_holds_each_items_content() -> None:
    ctx = context("digest")
    r = render("digest", ctx)
    for n, item in enumerate(ctx["items"], 1):
        assert f"{n}. [{item['category_label']}] {item['subject']}" in r.text
        assert item["html_content"] in r.html  # inserted as it is, not escaped again
        first_line = item["text_content"].split("\n")[0]
        assert f"   {first_line}" in r.text
    assert "Lúc 09 giờ 30, ngày 27/11/2026" in r.text
    assert "bản tổng hợp 2 thông báo" in r.text
    assert r.html.count("<!DOCTYPE") == 1 and r.html.count("Kính gửi") == 1


def test_unsubscribe_line_and_link_are_left_out_when_empty() -> None:
    r = render("overdue", context("overdue", unsubscribe_url="", link="", recipient_title=""))
    assert "Hủy nhận" not in r.text and "Hủy nhận" not in r.html and "Không muốn nhận" not in r.text
    assert "Xem chi tiết" not in r.text and "Xem chi tiết" not in r.html
    assert "Kính gửi đồng chí Huỳnh Ngọc Diệp,\n" in r.text
    assert "Mã tham chiếu: req-7f3a9c" in r.text


def test_optional_keys_may_be_left_out() -> None:
    ctx = context("update_returned")
    for key in ("recipient_title", "link", "unsubscribe_url", "reason"):
        del ctx[key]
    assert "(không ghi lý do)" in render("update_returned", ctx).text


def test_missing_keys_and_unknown_kinds_are_errors() -> None:
    ctx = context("overdue")
    del ctx["days_late"]
    with pytest.raises(Exception, match="days_late"):
        render("overdue", ctx)
    with pytest.raises(ValueError, match="unknown email kind"):
        render("nope", ctx)


def test_user_text_is_escaped_in_html() -> None:
    hostile = '<script>alert("x")</script> & <b>đậm</b>'
    r = render("status_reported", context("status_reported", task_title=hostile, summary=hostile,
                                          unit_name='Chi bộ "A" <img src=x onerror=alert(1)>'))
    html = parse(r.html)
    assert "script" not in html.tags and "img" not in html.tags and "b" not in html.tags
    assert "<script>" not in r.html and "&lt;script&gt;" in r.html
    assert hostile in "".join(html.text)  # shown as text
    assert hostile in r.text  # the plain text shows it as it is
    digest = render("digest", context("digest"))
    assert "script" not in parse(digest.html).tags


def test_nfd_input_gives_nfc_output() -> None:
    nfd = {k: unicodedata.normalize("NFD", v) if isinstance(v, str) else v for k, v in context("overdue").items()}
    assert nfd["unit_name"] != UNIT
    r = render("overdue", nfd)
    assert r == render("overdue", context("overdue"))


def test_controls_bidi_and_line_breaks_are_removed() -> None:
    r = render("status_reported", context(
        "status_reported",
        unit_name="Chi bộ\r\nSở\u202e Xây\u200b dựng\x07",
        summary="Dòng một\r\nDòng hai\x00\x1b[31m\u2066",
        recipient_name="Huỳnh\tNgọc Diệp",
    ))
    assert r.subject.startswith("[41-KH/ĐUK] Chi bộ Sở Xây dựng cập nhật")
    assert "Dòng một\nDòng hai[31m" in r.text
    for out in (r.subject, r.text, r.html, r.text_content, r.html_content):
        assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]", out)
    assert "\t" not in r.subject and "\n" not in r.subject


def test_a_leading_combining_mark_cannot_join_the_markup() -> None:
    # NFC composes ">" + U+0338 into "≯": a value starting with it would eat the ">" of a tag
    r = render("status_reported", context("status_reported", unit_name="\u0338\u0338 Chi bộ", summary="\u0338x",
                                          difficulties="Dòng một\n\u0338 onmouseover=alert(1) x"))
    assert "\u226f" not in r.html and "\u226f" not in r.text
    assert "<strong> Chi bộ</strong>" in r.html and "Dòng một<br> onmouseover=alert(1) x</p>" in r.html
    html = parse(r.html)
    assert "br" in html.tags and "onmouseover=alert(1) x" in "".join(html.text)


def test_long_subjects_are_shortened_on_a_word() -> None:
    r = render("escalation", context("escalation", unit_name="Chi bộ " + "Sở Xây dựng " * 40))
    assert len(r.subject) <= 200 and r.subject.endswith("…") and "\n" not in r.subject
    assert r.subject.removesuffix("…").split(" ")[-1] in {"Sở", "Xây", "dựng"}


def test_filters() -> None:
    assert time_vi(datetime(2026, 11, 27, 2, 30, tzinfo=UTC)) == "09 giờ 30, ngày 27/11/2026"
    assert time_vi(datetime(2026, 11, 27, 2, 30)) == "09 giờ 30, ngày 27/11/2026"  # naive is UTC
    assert [period_vi(p) for p in ("2026-Q4", "2026-H1", "2026-H2", "2026-03", "2026-M11", "kỳ 1", "")] == [
        "quý IV/2026", "6 tháng đầu năm 2026", "6 tháng cuối năm 2026", "tháng 03/2026", "tháng 11/2026", "kỳ 1", "",
    ]
    jan = render("unit_plan_missing", context("unit_plan_missing", today=date(2026, 1, 5)))
    assert jan.text.startswith("Trà Vinh, ngày 05 tháng 01 năm 2026\n")


def write_examples(directory: Path) -> list[Path]:
    """Write each kind's HTML (for a look in a browser); returns the files."""
    paths = []
    for kind in ALL_KINDS:
        path = directory / f"{kind}.html"
        path.write_text(render(kind, context(kind)).html, "utf-8")
        paths.append(path)
    return paths
