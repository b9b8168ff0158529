"""Emails that can never be sent are parked as failed with the reason, not retried forever."""

import random
import socket
import uuid
from email import message_from_bytes, policy
from pathlib import Path

from sqlmodel import Session, select

from services.notifications.app import MIGRATIONS
from services.notifications.mailer import SmtpSender, build_message
from services.notifications.models import OutgoingEmail
from services.notifications.settings import NotificationsSettings
from shared.db import make_engine, migrate, session_scope
from shared.messaging.relay import DueRowWorker
from tests.support.smtp import SmtpServer


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _email(recipient: str, correlation_id: str = "req-1", subject: str = "[41-KH/ĐUK] Cập nhật") -> OutgoingEmail:
    event_id = uuid.uuid4()
    return OutgoingEmail(event_id=event_id, event_type="assignment.status_changed.v1", recipient=recipient,
                         recipient_name="Nguyễn Thị Lan", subject=subject, body="Nội dung",
                         message_id=f"<{event_id}@plantrack.example.org>", correlation_id=correlation_id)


async def test_unsendable_emails_are_parked_and_good_ones_sent(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/n.db"
    migrate(url, MIGRATIONS)
    engine = make_engine(url)
    rows = {
        "crlf-correlation": _email("lan@travinh.gov.vn", correlation_id="req-1\r\nBcc: x@example.com"),
        "bad-address": _email("not an address"),
        "crlf-address": _email("lan@travinh.gov.vn\r\nBcc: x@example.com"),
        "good": _email("binh@travinh.gov.vn", subject="Dòng một\r\nDòng hai"),
    }
    with session_scope(engine) as session:
        session.add_all(rows.values())
    port = _free_port()
    sender = SmtpSender(NotificationsSettings(smtp_port=port, data_dir=str(tmp_path)))
    worker: DueRowWorker[OutgoingEmail] = DueRowWorker(
        engine, OutgoingEmail, sender.send, name="mail sender",
        where=(OutgoingEmail.failed_at.is_(None),),  # type: ignore[union-attr]
        park_column="failed_at",
    )
    with SmtpServer(port) as smtp:
        assert await worker.run_once() == 1
        assert await worker.run_once() == 0  # nothing comes back: parked rows are not claimed again
        [message] = smtp.mailbox.wait_for(1)
    assert message["To"] == "Nguyễn Thị Lan <binh@travinh.gov.vn>" and message["Subject"] == "Dòng một Dòng hai"
    with Session(engine) as session:
        by_recipient = {(r.recipient, r.correlation_id): r for r in session.exec(select(OutgoingEmail))}
    for name, row in rows.items():
        stored = by_recipient[(row.recipient, row.correlation_id)]
        if name == "good":
            assert stored.sent_at is not None and stored.failed_at is None
        else:
            assert stored.sent_at is None and stored.failed_at is not None, name
            assert stored.attempts == 1 and stored.last_error, name
    assert "correlation id contains control characters" in (by_recipient[
        ("lan@travinh.gov.vn", "req-1\r\nBcc: x@example.com")].last_error or "")
    assert "invalid recipient address" in (by_recipient[("not an address", "req-1")].last_error or "")
    engine.dispose()


LONG_SUBJECTS = [
    "Thông báo mở đợt tổng kết: Kế hoạch số 41-KH/ĐUK về phát triển kinh tế đô thị giai đoạn 2021–2025, "
    "tầm nhìn đến năm 2030 của Đảng ủy Khối",
    "[41-KH/ĐUK] Chi bộ Sở Tài chính cập nhật nhiệm vụ III.1: Đang thực hiện (40%) — sơ kết, tổng kết",
]


async def test_long_vietnamese_subjects_arrive_word_for_word(tmp_path: Path) -> None:
    """What the SMTP server received, parsed as a mail client would: no space lost where it folds."""
    port = _free_port()
    sender = SmtpSender(NotificationsSettings(smtp_port=port, data_dir=str(tmp_path)))
    with SmtpServer(port) as smtp:
        for subject in LONG_SUBJECTS:
            await sender.send(_email("lan@travinh.gov.vn", subject=subject))
        received = smtp.mailbox.wait_for(len(LONG_SUBJECTS))
    assert [m["Subject"] for m in received] == LONG_SUBJECTS
    assert all(m.get_content().strip() == "Nội dung" for m in received)


def test_any_subject_survives_folding() -> None:
    words = ("Thông báo mở đợt tổng kết Kế hoạch số 41-KH/ĐUK về phát triển kinh tế đô thị giai đoạn "
             "2021–2025 tầm nhìn đến năm 2030 của Đảng ủy Khối Chi bộ cập nhật nhiệm vụ (40%)").split()
    rng = random.Random(7)
    for _ in range(500):
        subject = " ".join(rng.choice(words) for _ in range(rng.randint(1, 45)))
        raw = build_message(_email("lan@travinh.gov.vn", subject=subject), "plantrack <a@b.vn>").as_bytes()
        assert message_from_bytes(raw, policy=policy.default)["Subject"] == subject
        assert max(len(line) for line in raw.split(b"\n")) <= 998
