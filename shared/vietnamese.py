"""Vietnamese wording shared by emails and exports: date lines, status, due state, reporting period
and review labels."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

STATUS_LABELS: dict[str, str] = {
    "not_started": "Chưa triển khai",
    "in_progress": "Đang thực hiện",
    "completed": "Đã hoàn thành",
}

DUE_STATE_LABELS: dict[str, str] = {
    "within_deadline": "Trong hạn",
    "due_soon": "Sắp đến hạn",
    "overdue": "Quá hạn",
    "completed_on_time": "Hoàn thành đúng hạn",
    "completed_late": "Hoàn thành trễ hạn",
    "no_deadline": "Không có thời hạn",
    "reported": "Đã báo cáo kỳ này",
    "report_due": "Đến kỳ báo cáo",
    "report_missing": "Chưa báo cáo kỳ trước",
}

REPORTING_PERIOD_LABELS: dict[str, str] = {
    "monthly": "hằng tháng",
    "quarterly": "hằng quý",
    "half_yearly": "6 tháng một lần",
    "yearly": "hằng năm",
}

ROLE_LABELS: dict[str, str] = {"lead": "Chủ trì", "support": "Phối hợp"}

REVIEW_KIND_LABELS: dict[str, str] = {"preliminary": "sơ kết", "final": "tổng kết"}

SUBMISSION_STATE_LABELS: dict[str, str] = {
    "on_time": "Đã nộp đúng hạn",
    "late": "Nộp trễ hạn",
    "missing": "Chưa nộp",
}


def date_line(place: str, day: date) -> str:
    """The date line of a Vietnamese document: "Trà Vinh, ngày 15 tháng 12 năm 2021".

    By convention (Nghị định 30/2020/NĐ-CP) days below 10 and months 1-2 take a leading zero.
    """
    day_part = f"{day.day:02d}"
    month_part = f"{day.month:02d}" if day.month < 3 else str(day.month)
    text = f"ngày {day_part} tháng {month_part} năm {day.year}"
    return f"{place}, {text}" if place else text[0].upper() + text[1:]


def short_date(day: date | None) -> str:
    """dd/mm/yyyy, or an empty string."""
    return day.strftime("%d/%m/%Y") if day else ""


def status_label(status: str) -> str:
    """The Vietnamese label of a status code (the code itself if unknown)."""
    return STATUS_LABELS.get(status, status)


def review_kind_label(kind: str) -> str:
    """The label of a review round kind, "sơ kết" or "tổng kết" (the code itself if unknown)."""
    return REVIEW_KIND_LABELS.get(kind, kind)


VIETNAM_TZ = "Asia/Ho_Chi_Minh"


def local_time(moment: datetime, tz: str = VIETNAM_TZ) -> datetime:
    """A UTC (or naive-as-UTC) moment in Vietnam's time zone, for dates and times users read."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(ZoneInfo(tz))


def local_date(moment: datetime | None = None, tz: str = VIETNAM_TZ) -> date:
    """The calendar day in Vietnam at `moment` (default: now). Deadlines are Vietnamese dates, so
    "today" and completion dates must be too: 01:30 on 1 April in Trà Vinh is still 31 March in UTC."""
    return local_time(moment or datetime.now(UTC), tz).date()


IMPORT_WARNINGS = {
    "unclassified_line": "Có dòng chưa xếp được vào mục nào: «{line}».",
    "text_cut": "Một đoạn dài quá {limit} ký tự đã được cắt bớt: «{value}».",
    "duplicate_code": "Mục {original} bị trùng số hiệu, đã đổi thành {renamed}.",
    "title_not_found": "Không tìm thấy tên văn bản.",
    "implements_not_found": "Không tìm thấy số văn bản được thực hiện trong tên kế hoạch.",
    "issue_date_invalid": "Ngày ban hành không phải là ngày hợp lệ: «{line}».",
    "number_not_found": "Không tìm thấy số văn bản.",
    "issuer_not_found": "Không tìm thấy cơ quan ban hành ở phần đầu văn bản.",
    "issue_date_not_found": "Không tìm thấy ngày ban hành.",
    "place_not_found": "Không tìm thấy địa danh ban hành.",
    "generic_committee": "Nhiệm vụ {task}: «{text}» được hiểu là cấp ủy các chi bộ và đảng bộ cơ sở.",
    "no_responsible_unit": "Nhiệm vụ {task}: không nhận ra đơn vị chịu trách nhiệm.",
    "no_section_headings": "Không thấy tiêu đề phần nào; các mục đánh số được đọc là nhiệm vụ của cả văn bản.",
    "empty_section": "Phần {section} không có mục đánh số hay gạch đầu dòng nào.",
    "no_sections": "Không tìm thấy phần nào trong văn bản.",
    "no_tasks": "Không tìm thấy nhiệm vụ nào.",
    "recipients_not_found": "Không tìm thấy phần «Nơi nhận».",
    "signature_not_found": "Không tìm thấy phần chữ ký.",
    "signer_name_not_found": "Không tìm thấy tên người ký.",
    "signer_title_not_found": "Không tìm thấy chức vụ người ký.",
    "recipients_cut": "Nơi nhận có {found} mục, chỉ giữ {limit} mục đầu.",
    "document_empty": "Văn bản trống.",
    "kind_heading_not_found": "Không tìm thấy tên loại văn bản (ví dụ «KẾ HOẠCH»).",
    "more_unclassified_lines": "Còn {count} dòng khác chưa xếp được, không liệt kê.",
    "number_missing": "Hãy điền số văn bản trước khi ban hành: không tìm thấy trong văn bản.",
    "assign_by_hand": "Nhiệm vụ {task}: không nhận ra đơn vị chịu trách nhiệm, hãy giao bằng tay.",
    "text_before_header": "Bỏ qua {count} dòng đứng trước phần đầu văn bản (ví dụ chữ của trang web).",
    "attached_plan_not_found": "Quyết định ban hành một kế hoạch không có trong tệp: các điều của quyết định "
                               "không phải là nhiệm vụ; hãy nhập tệp có cả kế hoạch kèm theo.",
    "task_swallows": "Nhiệm vụ {task} gồm {count} đoạn: hãy kiểm tra xem có danh sách hay bảng nào bị gộp vào không.",
    "table_not_read": "Phần {section} có một bảng không có cột nhiệm vụ nên không được đọc.",
    "table_garbled": "Phần {section} có một bảng bị vỡ (ô nằm rải rác trên {count} dòng) nên không được đọc: "
                     "hãy nhập các nhiệm vụ của bảng bằng tay.",
    "deadline_unread": "Nhiệm vụ {task}: chưa đọc được thời hạn «{line}».",
}
"""The importer's warnings by code, in Vietnamese; {names} are the warning's values."""


def import_warning(code: str, params: dict[str, str]) -> str:
    """The Vietnamese sentence of an importer's warning (a general one for an unknown code)."""
    try:
        return IMPORT_WARNINGS[code].format(**params)
    except (KeyError, IndexError):
        return "Có một chỗ trong văn bản chưa đọc được chắc chắn: đồng chí hãy kiểm tra lại."
