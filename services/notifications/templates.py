"""Email wording, in Vietnamese."""

from dataclasses import dataclass

from shared.events import AssignmentStatusChangedV1
from shared.vietnamese import date_line, local_time, short_date, status_label


@dataclass(frozen=True)
class Rendered:
    """Subject and plain-text body of an email."""

    subject: str
    body: str


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
    return Rendered(subject=subject, body="\n".join(lines))
