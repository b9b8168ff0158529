"""Email wording, in Vietnamese."""

import re
from dataclasses import dataclass

from shared.events import AssignmentStatusChangedV1, Event, ReviewRoundOpenedV1, StatusUpdateReviewedV1
from shared.validation import strip_invisible
from shared.vietnamese import date_line, local_time, review_kind_label, short_date, status_label

SIGNATURE = ["Trân trọng,", "Hệ thống theo dõi thực hiện kế hoạch plantrack"]


_SUBJECT_BREAKS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")  # controls and line breaks
_BODY_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # controls but tab and newline


@dataclass(frozen=True)
class Rendered:
    """Subject and plain-text body of an email."""

    subject: str
    body: str

    @classmethod
    def of(cls, subject: str, body: str) -> "Rendered":
        """An email without bidi or zero-width characters (which can disguise what it says) or
        control characters, and with a one-line subject, whatever the event carried."""
        subject = _SUBJECT_BREAKS.sub(" ", strip_invisible(subject))
        body = _BODY_CONTROLS.sub("", strip_invisible(body.replace("\r\n", "\n").replace("\r", "\n")))
        return cls(subject=subject, body=body)


def status_changed_email(event: AssignmentStatusChangedV1, recipient_name: str, place: str) -> Rendered:
    """The email telling a supervisor that a unit reported on its assignment."""
    p = event.payload
    reported = local_time(p.reported_at)
    subject = (
        f"[{p.plan_number}] {p.unit_name} cập nhật nhiệm vụ {p.task_code}: "
        f"{status_label(p.new_status)} ({p.progress}%)"
    )
    lines = [
        date_line(place, reported.date()),
        "",
        f"Kính gửi đồng chí {recipient_name},",
        "",
        f"{p.unit_name} vừa báo cáo tình hình thực hiện nhiệm vụ {p.task_code} thuộc Kế hoạch số {p.plan_number}:",
        "",
        f"  Nhiệm vụ:   {p.task_code}. {p.task_title}",
        f"  Trạng thái: {status_label(p.old_status)} → {status_label(p.new_status)}",
        f"  Tiến độ:    {p.progress}%",
    ]
    if p.due_on:
        lines.append(f"  Thời hạn:   {short_date(p.due_on)}")
    if p.summary:
        lines += ["", "Kết quả thực hiện:", p.summary]
    if p.difficulties:
        lines += ["", "Khó khăn, vướng mắc:", p.difficulties]
    reporter = f" ({p.reported_by_name})" if p.reported_by_name else ""
    lines += [
        "",
        f"Người báo cáo{reporter}, lúc {reported.strftime('%H giờ %M, ngày %d/%m/%Y')}.",
        "",
        "Trân trọng,",
        "Hệ thống theo dõi thực hiện kế hoạch plantrack",
        "",
        f"Mã tham chiếu: {event.correlation_id or event.event_id}",
    ]
    return Rendered.of(subject, "\n".join(lines))


def _footer(event: Event) -> list[str]:
    return ["", *SIGNATURE, "", f"Mã tham chiếu: {event.correlation_id or event.event_id}"]


def update_returned_email(event: StatusUpdateReviewedV1, recipient_name: str, place: str) -> Rendered:
    """The email telling a unit officer that the unit's report was returned and must be resubmitted."""
    p = event.payload
    reviewed = local_time(p.reviewed_at)
    subject = f"[{p.plan_number}] Báo cáo nhiệm vụ {p.task_code} bị trả lại"
    lines = [
        date_line(place, reviewed.date()),
        "",
        f"Kính gửi đồng chí {recipient_name},",
        "",
        f"Báo cáo của {p.unit_name} về tình hình thực hiện nhiệm vụ {p.task_code} thuộc Kế hoạch số "
        f"{p.plan_number} đã bị trả lại.",
        "",
        f"  Nhiệm vụ:      {p.task_code}. {p.task_title}",
        f"  Người trả lại: {p.reviewer_name}",
        f"  Thời gian:     {reviewed.strftime('%H giờ %M, ngày %d/%m/%Y')}",
        "",
        "Lý do trả lại:",
        p.reason or "(không ghi lý do)",
        "",
        "Đề nghị đồng chí bổ sung, hoàn thiện và gửi lại báo cáo về nhiệm vụ này.",
    ]
    return Rendered.of(subject, "\n".join(lines + _footer(event)))


def review_round_email(event: ReviewRoundOpenedV1, recipient_name: str, unit_name: str, place: str) -> Rendered:
    """The email asking a unit officer for the unit's review report (sơ kết / tổng kết) by its deadline."""
    p = event.payload
    kind = review_kind_label(p.kind)
    subject = f"[{p.plan_number}] Đề nghị báo cáo {kind} thực hiện kế hoạch, hạn nộp {short_date(p.submit_by)}"
    lines = [
        date_line(place, local_time(event.occurred_at).date()),
        "",
        f"Kính gửi đồng chí {recipient_name},",
        "",
        f"Thực hiện Kế hoạch số {p.plan_number}, đề nghị {unit_name} báo cáo {kind} tình hình thực hiện "
        "kế hoạch.",
        "",
        f"  Đợt báo cáo:      {p.title}",
        f"  Số liệu tính đến: ngày {short_date(p.period_end)}",
        f"  Hạn nộp báo cáo:  chậm nhất ngày {short_date(p.submit_by)}",
        "",
        f"Báo cáo nộp sau ngày {short_date(p.submit_by)} được ghi nhận là nộp trễ hạn.",
    ]
    return Rendered.of(subject, "\n".join(lines + _footer(event)))
