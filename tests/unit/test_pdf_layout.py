"""A PDF page's layout text put back in reading order (services/assignments/pdf_layout.py)."""

from services.assignments.pdf_layout import reading_order

HEADER = """\
    ĐẢNG BỘ TỈNH TRÀ VINH                         ĐẢNG CỘNG SẢN VIỆT NAM

 ĐẢNG ỦY KHỐI CÁC CƠ QUAN                       Trà Vinh, ngày 15 tháng 12 năm 2021

        VÀ DOANH NGHIỆP

             Số 41-KH/ĐUK

                                       KẾ HOẠCH
"""

SIGNATURE = """\
Nơi nhận:
- Thường trực Tỉnh ủy,                         T/M BAN THƯỜNG VỤ

                                                  PHÓ BÍ THƯ
     - Ban Tuyên giáo Tỉnh ủy,

- Đ/c Nguyễn Văn Triết, UVTV.TU,                         Phạm Phước Trãi
    Chủ tịch Ủy ban MTTQ tỉnh,

 - Các Ban Đảng và Đoàn thể trực
                 thuộc,
"""


def text(lines: list[str]) -> list[str]:
    return [line for line in lines if line]


def test_a_header_table_reads_its_left_cell_then_its_right_one_and_stops_at_the_centred_heading() -> None:
    assert text(reading_order(HEADER)) == [
        "ĐẢNG BỘ TỈNH TRÀ VINH", "ĐẢNG ỦY KHỐI CÁC CƠ QUAN", "VÀ DOANH NGHIỆP", "Số 41-KH/ĐUK",
        "ĐẢNG CỘNG SẢN VIỆT NAM", "Trà Vinh, ngày 15 tháng 12 năm 2021", "KẾ HOẠCH"]


def test_a_signature_table_keeps_the_recipients_together_and_joins_what_its_narrow_cell_wrapped() -> None:
    assert text(reading_order(SIGNATURE)) == [
        "Nơi nhận:", "- Thường trực Tỉnh ủy,", "- Ban Tuyên giáo Tỉnh ủy,",
        "- Đ/c Nguyễn Văn Triết, UVTV.TU, Chủ tịch Ủy ban MTTQ tỉnh,", "- Các Ban Đảng và Đoàn thể trực thuộc,",
        "T/M BAN THƯỜNG VỤ", "PHÓ BÍ THƯ", "Phạm Phước Trãi"]


def test_lines_the_page_wrapped_are_joined_and_list_items_are_not() -> None:
    body = ("1. Cấp ủy các chi bộ tăng cường công tác tuyên truyền quán triệt, nâng cao nhận thức\n"
            "trong cán bộ, đảng viên. Đồng thời chủ động tham mưu với Tỉnh ủy và Ủy ban nhân dân tỉnh.\n"
            "Nâng cao chất lượng công tác kiểm tra, giám sát việc tổ chức thực hiện các nội dung.\n"
            "2. Ban Tuyên giáo theo dõi.\n")
    assert text(reading_order(body)) == [
        "1. Cấp ủy các chi bộ tăng cường công tác tuyên truyền quán triệt, nâng cao nhận thức trong cán bộ, "
        "đảng viên. Đồng thời chủ động tham mưu với Tỉnh ủy và Ủy ban nhân dân tỉnh. Nâng cao chất lượng "
        "công tác kiểm tra, giám sát việc tổ chức thực hiện các nội dung.", "2. Ban Tuyên giáo theo dõi."]
