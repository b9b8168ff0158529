"""The importer on the layouts offices receive besides the seed's: State headers, decisions issuing a
plan, annex task tables, State units and their phrasings, deadlines and targets (issue 11)."""

import re
from datetime import date
from pathlib import Path

from services.assignments.models import Unit
from services.assignments.plan_import import PlanDraft, TaskDraft, parse_plan, read_plan
from services.assignments.plan_import_duties import find_deadline, find_targets, split_units
from services.assignments.planning import suggest_assignments, suggest_units
from shared.vietnamese import IMPORT_WARNINGS

ANNEX_PLAN = (Path(__file__).resolve().parents[1] / "fixtures" / "plans" / "ke-hoach-ubnd-phu-luc-bang.txt")


def task(draft: PlanDraft, starts: str) -> TaskDraft:
    """The task whose text starts so."""
    return next(t for t in draft.tasks if t.text.startswith(starts))


def units(item: TaskDraft) -> list[tuple[str, str]]:
    return [(r.text, r.role) for r in item.responsible]


# --- headers ---------------------------------------------------------------------------------


def test_a_peoples_committee_header_is_one_issuer_and_keeps_its_state_signature() -> None:
    draft = parse_plan(ANNEX_PLAN.read_text(encoding="utf-8"))
    assert (draft.issuer, draft.issuer_parent) == ("Ủy ban nhân dân tỉnh Trà Vinh", None)
    assert (draft.number, draft.place, draft.issued_on) == ("1234/KH-UBND", "Trà Vinh", date(2023, 3, 5))
    assert (draft.signing_authority, draft.signer_title, draft.signer_name) == ("KT. Chủ tịch", "Phó Chủ tịch",
                                                                               "Nguyễn Văn Tâm")
    assert not any("unclassified" in w for w in draft.warnings)  # "TM. ỦY BAN NHÂN DÂN" is part of the signature


def test_a_department_under_a_province_and_a_ministry_keep_their_names() -> None:
    department = parse_plan("UBND TỈNH BÌNH ĐỊNH\nSỞ KẾ HOẠCH VÀ ĐẦU TƯ\nSố: 12/KH-SKHĐT\n\n"
                            "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nBình Định, ngày 02 tháng 3 năm 2022\n\nKẾ HOẠCH\n"
                            "Cải cách hành chính năm 2022\n")
    assert (department.issuer_parent, department.issuer) == ("UBND tỉnh Bình Định", "Sở Kế hoạch và Đầu tư")
    ministry = parse_plan("BỘ Y TẾ\nSố: 288/QĐ-BYT\n\nHà Nội, ngày 24 tháng 01 năm 2025\n\nKẾ HOẠCH\nTruyền thông\n")
    assert (ministry.issuer, ministry.issuer_parent, ministry.place) == ("Bộ Y tế", None, "Hà Nội")


def test_a_header_laid_out_as_table_cells_with_rules_and_broken_lines() -> None:
    text = ("ỦY BAN NHÂN DÂN\nTỈNH BÌNH ĐỊNH\n-------\n|\nCỘNG HÒA XÃ HỘI\nCHỦ NGHĨA VIỆT NAM\n"
            "Độc lập - Tự do - Hạnh phúc\n---------------\n|\nSố: 1528/KH-UBND\n|\nBình Định, ngày\n"
            "29 tháng 04 năm 2021\n|\nKẾ HOẠCH\nPHÁT TRIỂN CÔNG TÁC XÃ HỘI TRÊN ĐỊA BÀN TỈNH BÌNH\nĐỊNH\n\n"
            "I. NHIỆM VỤ\n1. Sở Lao động - Thương binh và Xã hội chủ trì triển khai.\n")
    draft = parse_plan(text)
    assert (draft.issuer, draft.number, draft.place, draft.issued_on) == (
        "Ủy ban nhân dân tỉnh Bình Định", "1528/KH-UBND", "Bình Định", date(2021, 4, 29))
    assert draft.title == "phát triển công tác xã hội trên địa bàn tỉnh Bình Định"  # one name over two lines
    assert units(draft.tasks[0]) == [("Sở Lao động - Thương binh và Xã hội", "lead")]


def test_a_markdown_table_header_and_the_web_page_around_it() -> None:
    text = ("Trang chủ | Văn bản | Tìm kiếm\n# Kế hoạch 12/KH-UBND năm 2023 tỉnh Lào Cai\nNgày đăng 03/02/2023\n\n"
            "| ỦY BAN NHÂN DÂN TỈNH LÀO CAI ------- | CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM Độc lập - Tự do - "
            "Hạnh phúc --------------- |\n|---|---|\n| Số: 12/KH-UBND | Lào Cai, ngày 02 tháng 02 năm 2023 |\n\n"
            "KẾ HOẠCH\n\nThực hiện Chỉ thị số 19/CT-TTg ngày 16/7/2021 của Thủ tướng Chính phủ\n\n"
            "I. NHIỆM VỤ\n1. Công an tỉnh chủ trì, phối hợp với Bộ Chỉ huy Quân sự tỉnh tuần tra.\n")
    draft, notes = read_plan(text)
    assert (draft.issuer, draft.number, draft.issued_on) == ("Ủy ban nhân dân tỉnh Lào Cai", "12/KH-UBND",
                                                            date(2023, 2, 2))
    assert draft.implements == "19/CT-TTg"
    assert any(n.code == "text_before_header" for n in notes)
    assert units(draft.tasks[0]) == [("Công an tỉnh", "lead"), ("Bộ Chỉ huy Quân sự tỉnh", "support")]


def test_a_blank_line_after_the_heading_keeps_the_title_and_what_it_implements() -> None:
    draft = parse_plan("TỈNH ỦY TRÀ VINH\nSố 5-KH/TU\nTrà Vinh, ngày 01 tháng 6 năm 2022\n\nKẾ HOẠCH\n\n"
                       "thực hiện Nghị quyết số 06-NQ/TW ngày 24/01/2022 của Bộ Chính trị,\n"
                       "giai đoạn 2022 - 2025, tầm nhìn đến năm 2030\n\nI. NHIỆM VỤ\n1. Các chi bộ quán triệt.\n")
    assert draft.title and draft.title.startswith("thực hiện Nghị quyết số 06-NQ/TW")
    assert (draft.implements, draft.period, draft.vision_year) == ("06-NQ/TW", "2022 - 2025", 2030)


def test_symbols_in_a_caps_title_keep_their_case() -> None:
    draft = parse_plan("ỦY BAN NHÂN DÂN\nTỈNH NGHỆ AN\nSố: 594/KH-UBND\nNghệ An, ngày 21 tháng 10 năm 2021\n\n"
                       "KẾ HOẠCH\nTHỰC HIỆN CHỈ THỊ SỐ 19/CT-TTG NGÀY 16 THÁNG 7 NĂM 2021 CỦA THỦ TƯỚNG CHÍNH PHỦ\n\n"
                       "Thực hiện Chỉ thị số 19/CT-TTg ngày 16/7/2021, Ủy ban nhân dân tỉnh ban hành Kế hoạch:\n")
    assert draft.title == "thực hiện Chỉ thị số 19/CT-TTg ngày 16 tháng 7 năm 2021 của Thủ tướng Chính phủ"
    assert draft.implements == "19/CT-TTg"


def test_a_garbled_header_is_left_empty_with_a_warning_not_invented() -> None:
    draft, notes = read_plan("ỦY B AN NHÂN D Â N T HÀNH P HỐ\nSố: 3210/QĐ - UBND\n"
                             "T hành phố Hồ Chí M inh, ngày 28 tháng 6 năm 2014\n\nKẾ HOẠCH\nHỗ trợ nhà ở\n")
    assert (draft.issuer, draft.place, draft.number) == (None, None, "3210/QĐ-UBND")
    assert draft.issued_on == date(2014, 6, 28)
    assert {"issuer_not_found", "place_not_found"} <= {n.code for n in notes}


# --- a decision issuing a plan -----------------------------------------------------------------


DECISION = """ỦY BAN NHÂN DÂN TỈNH KON TUM -------
CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM Độc lập - Tự do - Hạnh phúc ---------------
Số: 435/QĐ-UBND Kon Tum, ngày 04 tháng 5 năm 2020 QUYẾT ĐỊNH V/V BAN HÀNH CHƯƠNG TRÌNH HÀNH ĐỘNG THỰC HIỆN \
KẾ HOẠCH SỐ 119-KH/TU ỦY BAN NHÂN DÂN TỈNH KON TUM
Căn cứ Luật Tổ chức chính quyền địa phương ngày 19 tháng 6 năm 2015;
Xét đề nghị của Giám đốc Sở Lao động - Thương binh và Xã hội, QUYẾT ĐỊNH:
Điều 1.
Ban hành kèm theo Quyết định này Chương trình hành động thực hiện Kế hoạch số 119-KH/TU.
Điều 2.
Giám đốc các sở chịu trách nhiệm thi hành Quyết định này./.
Nơi nhận:
- Như điều 2;
- Lưu VT.
TM. ỦY BAN NHÂN DÂN KT. CHỦ TỊCH PHÓ CHỦ TỊCH Nguyễn Hữu Tháp CHƯƠNG TRÌNH HÀNH ĐỘNG THỰC HIỆN KẾ HOẠCH SỐ \
119-KH/TU NGÀY 18 THÁNG 12 NĂM 2019 CỦA BAN THƯỜNG VỤ TỈNH ỦY (Ban hành kèm theo Quyết định số 435/QĐ-UBND)
I. MỤC ĐÍCH, YÊU CẦU
1. Nâng cao nhận thức.
II. NỘI DUNG HOẠT ĐỘNG
1. Tăng cường sự lãnh đạo của cấp ủy 1.1.
Tổ chức tuyên truyền Chỉ thị số 37-CT/TW.
- Cơ quan thực hiện: Sở Lao động - Thương binh và Xã hội chủ trì, phối hợp với Liên đoàn Lao động tỉnh; các sở, \
ngành liên quan; Ủy ban nhân dân các huyện, thành phố.
- Thời gian thực hiện: Thực hiện thường xuyên, riêng việc quán triệt hoàn thành trong quý II/2020.
1.2.
Rà soát các cơ chế giải quyết tranh chấp lao động.
- Cơ quan thực hiện: Sở Tư pháp.
- Thời gian thực hiện: Trước ngày 15/11.
"""


def test_a_decision_issuing_a_programme_gives_its_header_and_signature_and_the_programme_its_body() -> None:
    draft = parse_plan(DECISION)
    assert (draft.kind, draft.number, draft.issuer, draft.issued_on) == (
        "chuong_trinh", "435/QĐ-UBND", "Ủy ban nhân dân tỉnh Kon Tum", date(2020, 5, 4))
    assert draft.title and draft.title.startswith("hành động thực hiện Kế hoạch số 119-KH/TU")
    assert draft.implements == "119-KH/TU"
    assert (draft.signing_authority, draft.signer_title, draft.signer_name) == ("KT. Chủ tịch", "Phó Chủ tịch",
                                                                               "Nguyễn Hữu Tháp")
    assert draft.recipients == ["Như điều 2", "Lưu VT"]
    assert [t.code for t in draft.tasks] == ["II.1", "II.1.1.1", "II.1.1.2"]  # the articles are no tasks
    first, second = draft.tasks[1:]
    assert units(first) == [("Sở Lao động - Thương binh và Xã hội", "lead"), ("Liên đoàn Lao động tỉnh", "support"),
                            ("các sở, ngành liên quan", "support"),
                            ("Ủy ban nhân dân các huyện, thành phố", "support")]
    assert (first.deadline, first.ongoing) == (date(2020, 6, 30), True)
    assert units(second) == [("Sở Tư pháp", "lead")]
    assert second.deadline == date(2020, 11, 15)  # "Trước ngày 15/11": in the decision's year


def test_a_decision_whose_plan_is_not_in_the_text_gives_no_tasks_from_its_articles() -> None:
    draft, notes = read_plan("BỘ Y TẾ\nSố: 288/QĐ-BYT\nHà Nội, ngày 24 tháng 01 năm 2025\n\nQUYẾT ĐỊNH\n"
                             "Ban hành Kế hoạch thông tin, truyền thông y tế năm 2025\n\nQUYẾT ĐỊNH:\n\n"
                             "Điều 1. Ban hành kèm theo Quyết định này Kế hoạch thông tin, truyền thông.\n\n"
                             "Điều 2. Quyết định này có hiệu lực kể từ ngày ký.\n")
    assert (draft.kind, draft.title) == ("ke_hoach", "thông tin, truyền thông y tế năm 2025")
    assert draft.tasks == [] and "attached_plan_not_found" in {n.code for n in notes}


# --- annex tables ------------------------------------------------------------------------------


def test_an_annex_task_table_is_read_as_tasks_not_swallowed_by_the_last_one() -> None:
    draft = parse_plan(ANNEX_PLAN.read_text(encoding="utf-8"))
    last_outline_task = task(draft, "Đề nghị Ủy ban Mặt trận")
    assert "|" not in last_outline_task.text and "PHỤ LỤC" not in last_outline_task.text
    annex = [t for t in draft.tasks if t.section_code == "PL"]
    assert [(t.code, t.parent_code) for t in annex] == [
        ("PL.I", None), ("PL.I.1", "PL.I"), ("PL.I.2", "PL.I"), ("PL.II", None), ("PL.II.1", "PL.II"),
        ("PL.II.2", "PL.II")]
    meeting = task(draft, "Tổ chức hội nghị quán triệt")
    assert units(meeting) == [("Sở Thông tin và Truyền thông", "lead"), ("Báo Trà Vinh", "support"),
                              ("Đài Phát thanh và Truyền hình tỉnh", "support")]
    assert meeting.deadline == date(2023, 6, 30)  # "Quý II/2023"
    assert task(draft, "Xây dựng chuyên mục").deadline == date(2023, 12, 31)  # "Năm 2023"
    assert task(draft, "Rà soát quy hoạch").deadline == date(2025, 12, 31)  # "2023 - 2025"
    urbanisation = task(draft, "Đạt tỷ lệ đô thị hóa")
    assert (urbanisation.ongoing, urbanisation.deadline) == (True, None)
    assert [(t.value, t.unit, t.comparison) for t in urbanisation.targets] == [(30.0, "%", "at_least")]


def test_a_task_that_swallows_many_paragraphs_is_flagged() -> None:
    body = "\n".join(f"Đoạn thứ {n} của nhiệm vụ." for n in range(20))
    draft, notes = read_plan(f"KẾ HOẠCH\nThử\n\nI. NHIỆM VỤ\n1. Các chi bộ tuyên truyền.\n\n{body}\n")
    assert "task_swallows" in {n.code for n in notes}
    assert len(draft.tasks) == 1


# --- units ---------------------------------------------------------------------------------------


def test_state_units_and_the_phrasings_that_assign_work() -> None:
    text = ("KẾ HOẠCH\nThử\n\nII. NHIỆM VỤ\n"
            "1. Giao Sở Nội vụ chủ trì, phối hợp với Sở Tài chính, Sở Xây dựng triển khai.\n"
            "2. Đề nghị Ủy ban Mặt trận Tổ quốc Việt Nam tỉnh và các tổ chức chính trị - xã hội tuyên truyền.\n"
            "3. Đối với Ủy ban nhân dân các huyện, thị xã, thành phố\n"
            "a) Xây dựng kế hoạch của địa phương.\n"
            "4. Bộ Ngoại giao chủ trì, phối hợp với Bộ Quốc phòng trong việc tìm kiếm.\n"
            "5. Các Sở: Nội vụ, Tài chính; Công an tỉnh rà soát.\n")
    draft = parse_plan(text)
    assert units(task(draft, "Giao Sở Nội vụ")) == [("Sở Nội vụ", "lead"), ("Sở Tài chính", "support"),
                                                     ("Sở Xây dựng", "support")]
    assert units(task(draft, "Đề nghị")) == [("Ủy ban Mặt trận Tổ quốc Việt Nam tỉnh", "lead"),
                                             ("các tổ chức chính trị - xã hội", "lead")]
    assert units(task(draft, "Đối với")) == [("Ủy ban nhân dân các huyện, thị xã, thành phố", "lead")]
    assert units(task(draft, "Bộ Ngoại giao")) == [("Bộ Ngoại giao", "lead"), ("Bộ Quốc phòng", "support")]
    assert units(task(draft, "Các Sở:")) == [("Sở Nội vụ", "lead"), ("Sở Tài chính", "lead"),
                                             ("Công an tỉnh", "lead")]


def test_lists_of_kinds_of_bodies_stay_one_unit() -> None:
    assert split_units("Các sở, ban, ngành") == ["Các sở, ban, ngành"]
    assert split_units("Cấp ủy các chi bộ, đảng bộ cơ sở") == ["Cấp ủy các chi bộ, đảng bộ cơ sở"]
    assert split_units("Sở Văn hóa, Thể thao và Du lịch") == ["Sở Văn hóa, Thể thao và Du lịch"]
    assert split_units("UBND các xã: Hải Tiến, Hải Xuân") == ["UBND xã Hải Tiến", "UBND xã Hải Xuân"]


# --- deadlines and targets -----------------------------------------------------------------------


def test_deadlines_written_every_common_way() -> None:
    cases = {
        "hoàn thành trước ngày 30/6/2022": date(2022, 6, 30),
        "trước ngày 15 tháng 4 năm 2022": date(2022, 4, 15),
        "chậm nhất ngày 15/7": date(2023, 7, 15),  # the document's year
        "trong Quý II/2023": date(2023, 6, 30),
        "(Quý IV/2023)": date(2023, 12, 31),
        "trước tháng 6/2022": date(2022, 5, 31),
        "trong tháng 6/2022": date(2022, 6, 30),
        "hoàn thành trong năm 2025": date(2025, 12, 31),
        "trước năm 2027": date(2026, 12, 31),
        "đến hết năm 2019": date(2019, 12, 31),
    }
    for text, day in cases.items():
        assert find_deadline(text, year=2023) == day, text


def test_dates_that_are_no_deadlines_are_not_read_as_one() -> None:
    for text in ("theo Kết luận số 63-KL/TW ngày 27 tháng 5 năm 2013", "tầm nhìn đến năm 2030",
                 "từ năm 2013 đến năm 2015", "giai đoạn 2021 - 2025", "chậm nhất ngày 15/7"):
        assert find_deadline(text, year=None) is None, text


def test_numeric_targets_become_indicators_with_their_comparison() -> None:
    found = find_targets("Tỷ lệ hộ nghèo giảm xuống dưới 2%; 100% cán bộ được tập huấn; tỷ lệ đô thị hóa đạt trên 30%.")
    assert [(t["value"], t["unit"], t["comparison"]) for t in found] == [
        (2.0, "%", "at_most"), (100.0, "%", "exactly"), (30.0, "%", "at_least")]


def test_a_named_state_body_matches_the_unit_of_that_name_and_only_it() -> None:
    draft = parse_plan("KẾ HOẠCH\nThử\n\nII. NHIỆM VỤ\n1. Giao Sở Nội vụ chủ trì, phối hợp với Sở Tài chính rà soát.\n")
    units = [Unit(id=1, code="SNV", name="Sở Nội vụ tỉnh Trà Vinh", kind="state_agency"),
             Unit(id=2, code="SXD", name="Sở Xây dựng tỉnh Trà Vinh", kind="state_agency")]
    [suggested] = suggest_assignments(draft, units)
    assert (suggested.role, suggested.unit_ids) == ("lead", [1])
    assert [(u.name, u.kind, u.task_codes) for u in suggest_units(draft, units)] == [
        ("Sở Tài chính", "state_agency", ["II.1"])]


def test_every_warning_the_importer_gives_has_its_vietnamese_sentence() -> None:
    root = Path(__file__).resolve().parents[2] / "services" / "assignments"
    codes = set(re.findall(r'warn\("([a-z_]+)"', (root / "plan_import.py").read_text(encoding="utf-8")))
    codes |= set(re.findall(r'code="([a-z_]+)"', (root / "planning.py").read_text(encoding="utf-8")))
    assert len(codes) > 20 and codes <= set(IMPORT_WARNINGS)
