"""Tests for the plan-document parser (services/assignments/plan_import.py)."""

import json
import random
import textwrap
import unicodedata
from datetime import date
from pathlib import Path

import pytest

from services.assignments.plan_import import PlanDraft, TaskDraft, parse_plan, read_plan
from services.assignments.plan_import_text import clean_lines, fold, short_title, vn_case

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "services" / "assignments" / "demo" / "ke-hoach-41-KH-DUK.txt"
FIXTURES = ROOT / "tests" / "fixtures" / "plans"


def read(path: Path) -> str:
    """Decode a sample file exactly as stored (BOM and CR kept)."""
    return path.read_bytes().decode("utf-8")


def task(draft: PlanDraft, code: str) -> TaskDraft:
    """The task with the given code."""
    return next(t for t in draft.tasks if t.code == code)


@pytest.fixture(scope="module")
def seed() -> PlanDraft:
    return parse_plan(read(SEED))


# --- the seed document: Kế hoạch 41-KH/ĐUK ---------------------------------------------------


def test_seed_header(seed: PlanDraft) -> None:
    assert seed.number == "41-KH/ĐUK"
    assert seed.kind == "ke_hoach"
    assert seed.issuer == "Đảng ủy Khối các cơ quan và doanh nghiệp"
    assert seed.issuer_parent == "Đảng bộ tỉnh Trà Vinh"
    assert seed.place == "Trà Vinh"
    assert seed.issued_on == date(2021, 12, 15)


def test_seed_title_and_references(seed: PlanDraft) -> None:
    assert seed.title == (
        "thực hiện Chương trình số 22-CTr/TU, ngày 11/11/2021 của Ban Thường vụ Tỉnh ủy về phát triển "
        "kinh tế đô thị tỉnh Trà Vinh, giai đoạn 2021 - 2025, tầm nhìn đến năm 2030"
    )
    assert seed.implements == "22-CTr/TU"
    assert seed.implements_date == date(2021, 11, 11)
    assert seed.period == "2021 - 2025"
    assert seed.vision_year == 2030


def test_seed_signature_and_recipients(seed: PlanDraft) -> None:
    assert seed.signer_name == "Phạm Phước Trãi"
    assert seed.signer_title == "Phó Bí thư"
    assert seed.signing_authority == "T/M Ban Thường vụ"
    assert len(seed.recipients) == 7
    assert seed.recipients[0] == "Thường trực Tỉnh ủy"
    assert seed.recipients[2] == "Đ/c Nguyễn Văn Triết, UVTV.TU, Chủ tịch Ủy ban MTTQ tỉnh"
    assert seed.recipients[-1] == "Lưu Văn phòng, Ban Tuyên giáo ĐUK"


def test_seed_sections(seed: PlanDraft) -> None:
    assert [(s.code, s.kind) for s in seed.sections] == [
        ("I", "purpose"), ("II", "tasks"), ("III", "implementation"),
    ]
    assert [s.title for s in seed.sections] == ["Mục đích, yêu cầu", "Nhiệm vụ, giải pháp", "Tổ chức thực hiện"]
    purpose = seed.sections[0].text.split("\n")
    assert len(purpose) == 2 and purpose[0].startswith("- Tuyên truyền sâu rộng")


def test_seed_task_codes(seed: PlanDraft) -> None:
    top = [t.code for t in seed.tasks if t.parent_code is None]
    assert top == ["II.1", "II.2", "II.3", "III.1", "III.2"]
    assert [t.code for t in seed.tasks if t.parent_code == "II.2"] == [f"II.2.{c}" for c in "abcde"]
    assert [t.code for t in seed.tasks] == [
        "II.1", "II.2", "II.2.a", "II.2.b", "II.2.c", "II.2.d", "II.2.e", "II.3", "III.1", "III.2",
    ]
    assert all(t.section_code == t.code.split(".")[0] for t in seed.tasks)


def test_seed_purposes_are_not_tasks(seed: PlanDraft) -> None:
    assert not any(t.section_code == "I" for t in seed.tasks)


def test_seed_page_break_paragraphs_are_joined(seed: PlanDraft) -> None:
    first, last = task(seed, "II.2.a"), task(seed, "II.2.e")
    assert "trong quá trình triển khai thực hiện. Đồng thời" in first.text
    assert "góp phần vào cải cách hành chính" in last.text
    assert "\n" not in first.text and "\n" not in last.text


def test_seed_task_titles(seed: PlanDraft) -> None:
    for item in seed.tasks:
        assert 0 < len(item.title) <= 160
        assert item.text.startswith(item.title.removesuffix("…"))
        assert item.title.removesuffix("…")[-1] not in " ,;:.-"
    assert task(seed, "II.2.a").title.startswith("Xây dựng kế hoạch thực hiện")


def test_seed_responsible_committees(seed: PlanDraft) -> None:
    for code in ("II.1", "II.2", "III.1"):
        lead = task(seed, code).responsible[0]
        assert lead.text == "Cấp ủy các chi bộ, đảng bộ cơ sở"
        assert lead.unit_kinds == ["party_cell", "grassroots_committee"]
        assert lead.role == "lead"


def test_seed_support_unit(seed: PlanDraft) -> None:
    support = task(seed, "II.2").responsible[1]
    assert (support.text, support.role) == ("thủ trưởng cơ quan, đơn vị", "support")
    assert support.unit_kinds == [] and support.unit_codes == []


def test_seed_generic_committee_is_interpreted_and_flagged(seed: PlanDraft) -> None:
    (unit,) = task(seed, "II.3").responsible
    assert unit.text == "Cấp ủy"
    assert unit.unit_kinds == ["party_cell", "grassroots_committee"]
    assert any("II.3" in w and "generic" in w for w in seed.warnings)


def test_seed_implementation_assignments(seed: PlanDraft) -> None:
    boards, propaganda = task(seed, "III.2").responsible
    assert boards.text == "Các Ban tham mưu giúp việc Đảng ủy Khối"
    assert boards.unit_kinds == ["advisory_board"] and boards.actions == ["inspect"]
    assert propaganda.text == "Ban Tuyên giáo Đảng ủy Khối"
    assert propaganda.unit_codes == ["BTG"] and propaganda.role == "lead"
    assert propaganda.actions == ["monitor", "aggregate", "review", "advise"]


def test_seed_actions_ongoing_deadlines(seed: PlanDraft) -> None:
    assert task(seed, "II.1").ongoing and task(seed, "II.1").actions == ["propagate"]
    assert task(seed, "II.3").ongoing and task(seed, "II.3").actions == ["inspect"]
    assert task(seed, "II.2.c").ongoing  # "thường xuyên và lâu dài"
    assert not task(seed, "II.2.e").ongoing
    assert task(seed, "II.2.a").actions == ["plan", "advise"]
    assert task(seed, "III.1").actions == ["propagate", "plan"]
    assert all(t.deadline is None for t in seed.tasks)  # the seed states no deadline
    assert all(not t.responsible for t in seed.tasks if t.parent_code)  # bullets name no unit


def test_seed_has_no_missing_field_warnings(seed: PlanDraft) -> None:
    assert len(seed.warnings) == 1  # only the generic "Cấp ủy" note


def test_seed_round_trips_through_json(seed: PlanDraft) -> None:
    assert PlanDraft.model_validate_json(seed.model_dump_json()) == seed


# --- the same document in other encodings -----------------------------------------------------


@pytest.mark.parametrize(
    "transform",
    [
        lambda t: "\ufeff" + t.replace("\n", "\r\n"),  # Windows line endings and a BOM
        lambda t: t.replace("\n", "\r"),  # old Mac line endings
        lambda t: t.replace("**", "").replace("*", ""),  # markdown markers removed
        lambda t: unicodedata.normalize("NFD", t),  # decomposed diacritics
        lambda t: t.replace("\n", "  \n\t"),  # trailing spaces and tabs
    ],
    ids=["crlf-bom", "cr", "no-markdown", "nfd", "whitespace"],
)
def test_seed_variants_parse_identically(seed: PlanDraft, transform) -> None:
    assert parse_plan(transform(read(SEED))) == seed


def _wrap(text: str, width: int) -> str:
    """Hard-wrap every paragraph line, as text copied from a PDF often is."""
    return "\n".join("\n".join(textwrap.wrap(line, width)) if line else "" for line in text.split("\n"))


def _shape(draft: PlanDraft) -> list[tuple]:
    """Task structure with whitespace-insensitive text."""
    return [
        (t.code, t.parent_code, " ".join(t.text.split()), [r.model_dump() for r in t.responsible], t.actions)
        for t in draft.tasks
    ]


@pytest.mark.parametrize(
    "transform",
    [
        lambda t: _wrap(t, 80),
        lambda t: "\n".join(line for line in t.split("\n") if line.strip()),  # no blank lines at all
        lambda t: "\n".join(line for line in _wrap(t, 70).split("\n") if line.strip()),
        lambda t: t.replace("góp phần vào\n\n", "góp phần vào\n\n- 3 -\n\n"),  # page number in a break
    ],
    ids=["wrapped", "no-blank-lines", "wrapped-no-blank-lines", "page-number"],
)
def test_seed_layout_variants_keep_the_structure(seed: PlanDraft, transform) -> None:
    draft = parse_plan(transform(read(SEED)))
    assert _shape(draft) == _shape(seed)
    assert draft.model_dump(exclude={"tasks", "sections"}) == seed.model_dump(exclude={"tasks", "sections"})


# --- other sample documents -------------------------------------------------------------------


def test_chuong_trinh_with_arabic_sections_crlf_and_bom() -> None:
    raw = read(FIXTURES / "chuong-trinh-12-CTr-DUK-crlf-bom.txt")
    assert raw.startswith("\ufeff") and "\r\n" in raw
    draft = parse_plan(raw)
    assert (draft.number, draft.kind, draft.place) == ("12-CTr/ĐUK", "chuong_trinh", "Vĩnh Long")
    assert draft.issued_on == date(2022, 3, 5)
    assert draft.issuer_parent == "Đảng bộ tỉnh Vĩnh Long"
    assert draft.issuer == "Đảng ủy Khối cơ quan - doanh nghiệp"
    assert (draft.implements, draft.implements_date) == ("05-NQ/TU", date(2022, 1, 20))
    assert draft.period == "2022 - 2025" and draft.vision_year is None
    assert [(s.code, s.kind) for s in draft.sections] == [("1", "purpose"), ("2", "tasks"), ("3", "implementation")]
    assert [t.code for t in draft.tasks] == ["2.a", "2.a.1", "2.a.2", "2.b", "2.c", "3.a", "3.b"]
    assert "+ Phát huy dân chủ" in task(draft, "2.a.2").text  # "+" items nest inside the "-" item
    assert task(draft, "2.a.1").deadline == date(2022, 6, 30)
    assert task(draft, "2.b").deadline == date(2022, 9, 30)  # "trong quý III/2022"
    assert task(draft, "3.a").deadline == date(2022, 12, 31)  # "trong tháng 12/2022"
    assert task(draft, "3.b").deadline == date(2022, 4, 15)  # "trước ngày 15 tháng 4 năm 2022"
    assert task(draft, "2.b").responsible[0].unit_codes == ["UBKT"]
    assert task(draft, "2.c").responsible[0].unit_codes == ["VP"] and task(draft, "2.c").ongoing
    lead, support = task(draft, "3.a").responsible
    assert (lead.unit_codes, lead.role, support.unit_codes, support.role) == (["BTC"], "lead", ["VP"], "support")
    assert task(draft, "3.b").responsible[0].unit_kinds == ["party_cell", "grassroots_committee"]
    assert (draft.signing_authority, draft.signer_title) == ("T/M Ban Thường vụ", "Bí thư")
    assert draft.signer_name == "Nguyễn Thị Thu Hà"  # written in capitals
    assert draft.recipients == ["Ban Thường vụ Tỉnh ủy (b/c)", "Các đảng bộ, chi bộ cơ sở", "Lưu VP"]
    assert draft.warnings == []


def test_nghi_quyet_with_markdown_plus_bullets_and_no_recipients() -> None:
    draft = parse_plan(read(FIXTURES / "nghi-quyet-03-NQ-CB-markdown.txt"))
    assert (draft.number, draft.kind, draft.place) == ("03-NQ/CB", "nghi_quyet", "Sóc Trăng")
    assert draft.issued_on == date(2023, 1, 10)
    assert draft.issuer == "Chi bộ Văn phòng HĐND tỉnh"
    assert draft.issuer_parent == "Đảng bộ Khối các cơ quan tỉnh"
    assert draft.title == "về lãnh đạo thực hiện nhiệm vụ chính trị năm 2023"
    assert draft.implements is None
    assert [(s.code, s.kind) for s in draft.sections] == [
        ("I", "other"), ("II", "other"), ("III", "tasks"), ("IV", "implementation"),
    ]
    assert [t.code for t in draft.tasks] == ["III.1", "III.1.a", "III.1.b", "III.2", "IV.1", "IV.2"]
    heading_task = task(draft, "III.1")
    assert heading_task.title == "Công tác chính trị, tư tưởng"
    assert heading_task.responsible[0].text == "Chi ủy" and heading_task.ongoing
    assert task(draft, "III.1.a").deadline == date(2023, 6, 30)
    old_spelling = task(draft, "IV.1")  # "Chi uỷ cụ thể hoá thành kế hoạch"
    assert old_spelling.responsible[0].unit_kinds == ["party_cell"] and old_spelling.actions == ["plan"]
    assert draft.recipients == []
    assert "recipients ('Nơi nhận') not found" in draft.warnings
    assert "task IV.2: no responsible unit recognised" in draft.warnings
    assert (draft.signing_authority, draft.signer_title, draft.signer_name) == ("T/M Chi bộ", "Bí thư", "Trần Văn Bình")
    assert not any("**" in t.text or "**" in t.title for t in draft.tasks)


def test_plan_without_number_or_date() -> None:
    draft = parse_plan(read(FIXTURES / "ke-hoach-khong-so-khong-ngay.txt"))
    assert draft.kind == "ke_hoach"
    assert draft.number is None and draft.issued_on is None and draft.place is None
    for message in ("document number not found", "issue date not found", "place not found"):
        assert message in draft.warnings
    assert draft.issuer_parent == "Đảng bộ tỉnh Trà Vinh"  # place name cased without a date line
    assert [s.title for s in draft.sections] == ["Mục đích, yêu cầu", "Nội dung, hình thức", "Tổ chức thực hiện"]
    assert [t.code for t in draft.tasks] == ["II.1", "II.2", "II.2.a", "II.2.b"]  # document's own letters
    lead, support = task(draft, "II.1").responsible
    assert lead.unit_codes == ["BTG"]
    assert (support.text, support.role, support.unit_codes) == ("Ban Tuyên giáo Tỉnh ủy", "support", [])
    assert task(draft, "II.1").deadline == date(2024, 3, 31)
    assert task(draft, "II.2.b").deadline == date(2024, 5, 31)
    assert draft.sections[2].text.startswith("Văn phòng Đảng ủy Khối")
    assert "section III has no numbered or bulleted items" in draft.warnings
    signature = (draft.signing_authority, draft.signer_title, draft.signer_name)
    assert signature == ("K/T Bí thư", "Phó Bí thư", "Lê Văn Hùng")


def test_thong_bao_without_sections() -> None:
    draft = parse_plan(read(FIXTURES / "thong-bao-ket-luan-khong-muc.txt"))
    assert (draft.number, draft.kind, draft.issued_on) == ("125-TB/ĐUK", "thong_bao", date(2022, 2, 22))
    assert draft.title == "kết luận của Ban Thường vụ Đảng ủy Khối tại cuộc họp ngày 18/02/2022"
    assert draft.sections == []
    assert [(t.code, t.section_code) for t in draft.tasks] == [("1", ""), ("2", ""), ("3", "")]
    assert task(draft, "1").responsible[0].unit_codes == ["UBKT"]
    assert task(draft, "1").deadline == date(2022, 3, 10)
    assert task(draft, "2").responsible[0].text == "Văn phòng Đảng ủy Khối"  # "Giao Văn phòng ..."
    assert (draft.signing_authority, draft.signer_title) == ("T/L Ban Thường vụ", "Chánh Văn phòng")
    assert any(w.startswith("no section headings found") for w in draft.warnings)


def test_non_document_text_invents_nothing() -> None:
    draft = parse_plan(read(FIXTURES / "van-ban-khong-phai-ke-hoach.txt"))
    assert draft.model_dump(exclude={"warnings"}) == PlanDraft().model_dump(exclude={"warnings"})
    for message in (
        "document kind heading not found", "document number not found", "issue date not found",
        "recipients ('Nơi nhận') not found", "signature block not found", "no tasks found",
    ):
        assert message in draft.warnings


def test_flattened_header_slash_numbers_and_two_line_heading() -> None:
    text = (
        "TỈNH ỦY TRÀ VINH ĐẢNG CỘNG SẢN VIỆT NAM\nBAN TUYÊN GIÁO\n*\n"
        "Số: 125/KH-BTGTU Trà Vinh, ngày 03 tháng 6 năm 2024\n\n"
        "KẾ HOẠCH\nTUYÊN TRUYỀN KỶ NIỆM 95 NĂM NGÀY THÀNH LẬP ĐẢNG\n\n"
        "I/ MỤC ĐÍCH\n\nNâng cao nhận thức.\n\n"
        "II/ NHIỆM VỤ TRỌNG TÂM\nTRONG THỜI GIAN TỚI\n\n"
        "1/ Các chi bộ tuyên truyền.\n\n3\n\n2/ Ban Tuyên giáo theo dõi.\n\n"
        "TM. BAN THƯỜNG VỤ\nTRƯỞNG BAN\n\nNguyễn Văn A\n"
    )
    draft = parse_plan(text)
    assert (draft.issuer_parent, draft.issuer) == ("Tỉnh ủy Trà Vinh", "Ban Tuyên giáo")
    assert (draft.number, draft.place, draft.issued_on) == ("125/KH-BTGTU", "Trà Vinh", date(2024, 6, 3))
    assert draft.title == "tuyên truyền kỷ niệm 95 năm ngày thành lập Đảng"
    assert [(s.code, s.title) for s in draft.sections] == [
        ("I", "Mục đích"), ("II", "Nhiệm vụ trọng tâm trong thời gian tới"),
    ]
    assert [(t.code, t.text) for t in draft.tasks] == [
        ("II.1", "Các chi bộ tuyên truyền."), ("II.2", "Ban Tuyên giáo theo dõi."),
    ]
    assert (draft.signing_authority, draft.signer_title, draft.signer_name) == (
        "T/M Ban Thường vụ", "Trưởng ban", "Nguyễn Văn A",
    )


def test_interleaved_two_column_header() -> None:
    text = (
        "ĐẢNG BỘ TỈNH TRÀ VINH\nĐẢNG CỘNG SẢN VIỆT NAM\nĐẢNG ỦY KHỐI CÁC CƠ QUAN\n\nVÀ DOANH NGHIỆP\n"
        "Số 41-KH/ĐUK\nTrà Vinh, ngày 15 tháng 12 năm 2021\nKẾ HOẠCH\nthử nghiệm\n"
    )
    draft = parse_plan(text)
    assert draft.issuer_parent == "Đảng bộ tỉnh Trà Vinh"
    assert draft.issuer == "Đảng ủy Khối các cơ quan và doanh nghiệp"
    assert not any(w.startswith("unclassified") for w in draft.warnings)


def test_signature_without_title_line() -> None:
    draft = parse_plan("KẾ HOẠCH\nthử\n\nT/M BAN THƯỜNG VỤ\n\nNGUYỄN VĂN AN\n")
    assert (draft.signing_authority, draft.signer_title) == ("T/M Ban Thường vụ", None)
    assert draft.signer_name == "Nguyễn Văn An"
    assert "signer title not found" in draft.warnings


@pytest.mark.parametrize("text", ["", "   ", "\n\n\r\n", "\ufeff", "*\n**\n-----"])
def test_empty_input(text: str) -> None:
    draft = parse_plan(text)
    assert draft.warnings == ["document is empty"]
    assert draft.tasks == [] and draft.sections == [] and draft.number is None


def test_heading_only() -> None:
    draft = parse_plan("KẾ HOẠCH")
    assert draft.kind == "ke_hoach" and draft.title is None and draft.tasks == []
    assert "title not found" in draft.warnings and "no tasks found" in draft.warnings


def test_invalid_dates_are_not_invented() -> None:
    text = "Trà Vinh, ngày 31 tháng 02 năm 2022\n\nKẾ HOẠCH\nthực hiện Kế hoạch số 7-KH/TU, ngày 45/13/2021\n"
    draft = parse_plan(text)
    assert draft.issued_on is None and draft.implements == "7-KH/TU" and draft.implements_date is None
    assert any(w.startswith("issue date is not a valid date") for w in draft.warnings)


def test_unclassified_lines_are_reported() -> None:
    text = read(SEED).replace("Phạm Phước Trãi", "Phạm Phước Trãi\n\n123 ghi chú lạ 456")
    draft = parse_plan(text)
    assert draft.signer_name == "Phạm Phước Trãi"
    assert "unclassified line after the body: '123 ghi chú lạ 456'" in draft.warnings


def test_duplicate_numbers_get_unique_codes() -> None:
    text = "KẾ HOẠCH\nthử\n\nI- NHIỆM VỤ\n\n1. Chi bộ tuyên truyền.\n\n1. Chi bộ kiểm tra.\n"
    draft = parse_plan(text)
    assert [t.code for t in draft.tasks] == ["I.1", "I.1#2"]
    assert "duplicate code I.1 renamed I.1#2" in draft.warnings


# --- helpers --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("caps", "expected"),
    [
        ("ĐẢNG BỘ TỈNH TRÀ VINH", "Đảng bộ tỉnh Trà Vinh"),
        ("ĐẢNG ỦY KHỐI CÁC CƠ QUAN VÀ DOANH NGHIỆP", "Đảng ủy Khối các cơ quan và doanh nghiệp"),
        ("ĐẢNG UỶ KHỐI", "Đảng ủy Khối"),  # old tone placement
        ("PHÓ BÍ THƯ", "Phó Bí thư"),
        ("CHÁNH VĂN PHÒNG", "Chánh Văn phòng"),
        ("BAN THƯỜNG VỤ ĐẢNG ỦY KHỐI", "Ban Thường vụ Đảng ủy Khối"),
        ("NHIỆM VỤ, GIẢI PHÁP", "Nhiệm vụ, giải pháp"),
        ("CHI BỘ VĂN PHÒNG HĐND TỈNH", "Chi bộ Văn phòng HĐND tỉnh"),
        ("ĐẢNG BỘ TỈNH BÀ RỊA - VŨNG TÀU", "Đảng bộ tỉnh Bà Rịa - Vũng Tàu"),
        ("ĐẢNG BỘ THÀNH PHỐ HỒ CHÍ MINH", "Đảng bộ thành phố Hồ Chí Minh"),
        ("NÂNG CAO CHẤT LƯỢNG ĐẢNG VIÊN", "Nâng cao chất lượng đảng viên"),
        ("PHÁT TRIỂN TỈNH TRÀ VINH TRONG GIAI ĐOẠN MỚI", "Phát triển tỉnh Trà Vinh trong giai đoạn mới"),
    ],
)
def test_vn_case(caps: str, expected: str) -> None:
    assert vn_case(caps) == expected


def test_vn_case_with_known_place() -> None:
    assert vn_case("UBND HUYỆN CẦU KÈ", ["Cầu Kè"]) == "UBND huyện Cầu Kè"
    assert vn_case("KHU KINH TẾ ĐỊNH AN", ["Định An"]) == "Khu kinh tế Định An"


def test_fold_keeps_length() -> None:
    for text in (read(SEED), "Uỷ ban hoá Thuỷ", "İstanbul ǅ"):
        assert len(fold(text)) == len(text)
    assert fold("UỶ BAN HOÁ") == fold("Ủy ban hóa") == "ủy ban hóa"


def test_clean_lines_strips_markdown_and_separators() -> None:
    assert clean_lines("**A**\r\n*\r\n---\r\n*nghiêng* chữ\u00a0 đậm") == ["A", "", "", "nghiêng chữ đậm"]


def test_short_title() -> None:
    assert short_title("Một câu. Câu hai.") == "Một câu"
    assert short_title("Tổng hợp, báo cáo:") == "Tổng hợp, báo cáo"
    long = "từ " * 100
    assert len(short_title(long)) <= 160 and not short_title(long).endswith(" ")


# --- robustness -----------------------------------------------------------------------------


def check_invariants(draft: PlanDraft) -> None:
    """Codes are unique, parents and sections exist, and the draft serialises."""
    codes = [t.code for t in draft.tasks]
    assert len(codes) == len(set(codes))
    section_codes = {s.code for s in draft.sections}
    assert len(section_codes) == len(draft.sections)
    for item in draft.tasks:
        assert item.parent_code is None or item.parent_code in codes
        assert item.section_code in section_codes or (item.section_code == "" and not draft.sections)
        assert item.title and item.text
    draft.model_dump_json()


def mutations(rng: random.Random, lines: list[str]) -> list[str]:
    """A random slice, shuffle, drop or duplication of document lines."""
    choice = rng.randrange(5)
    if choice == 0:
        start = rng.randrange(len(lines))
        return lines[start:start + rng.randrange(1, len(lines) + 1)]
    if choice == 1:
        return rng.sample(lines, len(lines))
    if choice == 2:
        return [line for line in lines if rng.random() > 0.3]
    if choice == 3:
        return lines + lines[rng.randrange(len(lines)):]
    return [line[: rng.randrange(len(line) + 1)] for line in lines]


def sample_lines() -> list[list[str]]:
    """Lines of the seed and of every fixture."""
    paths = [SEED, *sorted(FIXTURES.glob("*.txt"))]
    return [read(p).splitlines() for p in paths]


def test_random_slices_and_shuffles_never_crash() -> None:
    rng = random.Random(20211215)
    documents = sample_lines()
    for _ in range(400):
        lines = mutations(rng, rng.choice(documents))
        check_invariants(parse_plan(rng.choice(["\n", "\r\n"]).join(lines)))


def test_random_characters_never_crash() -> None:
    rng = random.Random(41)
    alphabet = "ĐđƯưƠơÂâÊêÔôĂăàáạảãèéẹẻẽ IVX0123456789.-+*)/:;,\n\r\tabcKẾHOẠCH\ufeff“”\\(["
    for _ in range(300):
        check_invariants(parse_plan("".join(rng.choice(alphabet) for _ in range(rng.randrange(400)))))


def test_fixtures_satisfy_invariants() -> None:
    for path in [SEED, *FIXTURES.glob("*.txt")]:
        check_invariants(parse_plan(read(path)))


def test_seed_reads_exactly_as_before_the_importer_learned_other_layouts() -> None:
    """tests/fixtures/plans/seed-draft.json: the seed's draft and warnings before issue 11's parser."""
    before = json.loads((FIXTURES / "seed-draft.json").read_text(encoding="utf-8"))
    draft, notes = read_plan(SEED.read_text(encoding="utf-8"))
    now = json.loads(draft.model_dump_json())
    assert all(task.pop("targets") == [] for task in now["tasks"])  # the seed sets no figure
    assert now == before["draft"]
    assert [n.model_dump(mode="json") for n in notes] == before["notes"]
