"""Emails that can never be sent are parked as failed with the reason, not retried forever."""

import random
import re
import socket
import time
import unicodedata
import uuid
from email import message_from_bytes, policy
from email.header import decode_header, make_header
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select

from services.notifications.app import MIGRATIONS, mail_sender
from services.notifications.mailer import SmtpPool, SmtpSender, build_message
from services.notifications.models import OutgoingEmail
from services.notifications.rendering import render
from services.notifications.settings import NotificationsSettings
from shared.db import make_engine, migrate, session_scope
from shared.messaging.relay import DueRowWorker, PermanentFailure
from tests.support.smtp import SmtpServer
from tests.unit.test_rendering import context as rendering_context


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
        raw = build_message(_email("lan@travinh.gov.vn", subject=subject), "plantrack <a@b.vn>")
        assert message_from_bytes(raw, policy=policy.default)["Subject"] == subject
        assert max(len(line) for line in raw.split(b"\n")) <= 998


def test_what_a_mail_client_parses_is_what_the_row_holds() -> None:
    """The message is written by hand (services/notifications/wire.py): the standard library's parser,
    as a mail client, reads back every header and part exactly, whatever the text."""
    pieces = ["Thông báo", "tổng kết", "41-KH/ĐUK", "=?utf-8?b?eA==?=", "a = b", "(40%)", "Nguyễn Thị Lan", "🙂",
              "x" * 90, "O'Brien, \"Jr.\"", "<b>đậm</b>", "trailing ", "\ttab", ".", "From here", "—"]
    rng = random.Random(12)
    for _ in range(300):
        def text(most: int, sep: str = " ") -> str:
            return sep.join(rng.choice(pieces) for _ in range(rng.randint(1, most)))
        name, subject = " ".join(text(4).split()), " ".join(text(30).split())
        body = text(60, rng.choice([" ", "\n", "\n\n", " \n"]))
        html = rng.choice(["", f"<p>{text(40, rng.choice([' ', chr(10)]))}</p>"])
        row = _email("lan@travinh.gov.vn", subject=subject, correlation_id=rng.choice(["", "req-" + "9" * 100]))
        row.recipient_name, row.body, row.html = name, body, html
        raw = build_message(row, "Ban Tuyên giáo <no-reply@travinh.gov.vn>")
        assert raw.isascii() and max(len(line) for line in raw.split(b"\r\n")) <= 998
        assert b"\n" not in raw.replace(b"\r\n", b"")  # CRLF line ends only
        parsed = message_from_bytes(raw, policy=policy.default)
        assert parsed["Subject"] == subject
        assert parsed["From"].addresses[0].display_name == "Ban Tuyên giáo"
        [to] = parsed["To"].addresses
        assert to.addr_spec == "lan@travinh.gov.vn"
        if name.isascii() and "=?" not in name:  # quoted where it must be
            assert to.display_name == name
        else:  # as RFC 2047 reads encoded-words (the space between two of them is not text; Python's
            # address parser keeps it, mail clients do not)
            assert str(make_header(decode_header(message_from_bytes(raw)["To"]))) == f"{name} <lan@travinh.gov.vn>"
        assert parsed.get("X-Correlation-ID", "") == row.correlation_id
        plain = parsed.get_body(("plain",))
        assert plain is not None and _lf(plain.get_content()) == body.rstrip("\n") + "\n"
        if html:
            assert parsed.get_content_type() == "multipart/alternative"
            got_html = parsed.get_body(("html",))
            assert got_html is not None and _lf(got_html.get_content()) == html + "\n"
        else:
            assert parsed.get_content_type() == "text/plain"


def test_a_long_ascii_subject_is_folded_within_78_columns() -> None:
    subject = " ".join(["Report"] * 40)
    raw = build_message(_email("lan@travinh.gov.vn", subject=subject), "plantrack <a@b.vn>")
    lines = raw.split(b"\r\n\r\n")[0].split(b"\r\n")
    assert max(len(line) for line in lines) <= 78
    assert message_from_bytes(raw, policy=policy.default)["Subject"] == subject


# -- the message on the wire, over a real aiosmtpd server ----------------------------------------

HTML = "<!DOCTYPE html><html><body><p>Nội dung <strong>đậm</strong></p></body></html>\n"
UNSUBSCRIBE = "https://plantrack.travinh.gov.vn/unsubscribe?t=Nzpk.c2ln"


def _settings(tmp_path: Path, port: int, **kwargs: Any) -> NotificationsSettings:
    values: dict[str, Any] = {"smtp_port": port, "data_dir": str(tmp_path), "smtp_timeout": 5.0}
    return NotificationsSettings(**values | kwargs)


def _lf(text: str) -> str:
    """Text parts travel with CRLF line ends; compare them with LF."""
    return text.replace("\r\n", "\n")


def _full(**kwargs: Any) -> OutgoingEmail:
    row = _email("lan@travinh.gov.vn")
    row.html, row.unsubscribe_url, row.kind, row.category = HTML, UNSUBSCRIBE, "overdue", "deadlines"
    for name, value in kwargs.items():
        setattr(row, name, value)
    return row


async def test_headers_and_parts_as_received(tmp_path: Path) -> None:
    port = _free_port()
    row = _full()
    with SmtpServer(port) as smtp:
        await SmtpSender(_settings(tmp_path, port)).send(row)
        smtp.mailbox.wait_for(1)
    [got] = smtp.mailbox.received
    assert got.raw.isascii()  # 7-bit: no 8BITMIME or SMTPUTF8 needed
    assert got.mail_from == "no-reply@plantrack.example.org" and got.rcpt_tos == ["lan@travinh.gov.vn"]
    message = message_from_bytes(got.raw, policy=policy.default)
    assert message["From"] == "plantrack <no-reply@plantrack.example.org>"
    assert message["To"] == "Nguyễn Thị Lan <lan@travinh.gov.vn>"
    assert message["Subject"] == "[41-KH/ĐUK] Cập nhật"
    assert message["Message-ID"] == row.message_id
    assert message["X-Correlation-ID"] == "req-1" and message["X-Plantrack-Event-ID"] == str(row.event_id)
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Date"].datetime is not None
    assert message["List-Unsubscribe"] == f"<{UNSUBSCRIBE}>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message.get_content_type() == "multipart/alternative"
    plain, html = message.iter_parts()
    assert plain.get_content_type() == "text/plain" and plain.get_content_charset() == "utf-8"
    assert html.get_content_type() == "text/html" and html.get_content_charset() == "utf-8"
    assert _lf(plain.get_content()) == "Nội dung\n" and _lf(html.get_content()) == HTML


async def test_without_html_or_unsubscribe_url_the_message_is_plain_text(tmp_path: Path) -> None:
    port = _free_port()
    with SmtpServer(port) as smtp:
        await SmtpSender(_settings(tmp_path, port)).send(_email("lan@travinh.gov.vn", correlation_id=""))
        [message] = smtp.mailbox.wait_for(1)
    assert message.get_content_type() == "text/plain" and _lf(message.get_content()) == "Nội dung\n"
    assert "List-Unsubscribe" not in message and "List-Unsubscribe-Post" not in message
    assert "X-Correlation-ID" not in message


async def test_a_rendered_email_from_nfd_text_arrives_nfc(tmp_path: Path) -> None:
    ctx = {k: unicodedata.normalize("NFD", v) if isinstance(v, str) else v
           for k, v in rendering_context("update_returned").items()}
    mail = render("update_returned", ctx)
    name = unicodedata.normalize("NFD", "Huỳnh Ngọc Diệp")
    row = _full(recipient_name=name, subject=mail.subject, body=mail.text, html=mail.html)
    port = _free_port()
    with SmtpServer(port) as smtp:
        await SmtpSender(_settings(tmp_path, port)).send(row)
        [message] = smtp.mailbox.wait_for(1)
    assert message["To"] == "Huỳnh Ngọc Diệp <lan@travinh.gov.vn>"
    assert unicodedata.is_normalized("NFC", message["To"])
    assert message["Subject"] == mail.subject == "[41-KH/ĐUK] Báo cáo nhiệm vụ III.1 của Chi bộ Sở Xây dựng bị trả lại"
    plain = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert plain is not None and html is not None
    assert _lf(plain.get_content()) == mail.text and _lf(html.get_content()) == mail.html
    assert unicodedata.is_normalized("NFC", plain.get_content())


async def test_5xx_to_the_recipient_is_permanent(tmp_path: Path) -> None:
    port = _free_port()
    with SmtpServer(port, rcpt_reply="550 5.1.1 <lan@travinh.gov.vn>: Recipient address rejected") as smtp:
        with pytest.raises(PermanentFailure, match="550 5.1.1 <lan@travinh.gov.vn>: Recipient address rejected"):
            await SmtpSender(_settings(tmp_path, port)).send(_full())
    assert smtp.mailbox.snapshot() == []


async def test_5xx_to_the_data_is_permanent(tmp_path: Path) -> None:
    port = _free_port()
    with SmtpServer(port, data_reply="554 5.7.1 Message rejected as spam"):
        with pytest.raises(PermanentFailure, match="SMTP 554: 5.7.1 Message rejected as spam"):
            await SmtpSender(_settings(tmp_path, port)).send(_full())


@pytest.mark.parametrize("where", ["rcpt_reply", "data_reply"])
async def test_4xx_is_retried(tmp_path: Path, where: str) -> None:
    port = _free_port()
    replies: dict[str, Any] = {where: "451 4.3.0 Try again later"}
    with SmtpServer(port, **replies):
        with pytest.raises(Exception) as caught:
            await SmtpSender(_settings(tmp_path, port)).send(_full())
    assert not isinstance(caught.value, PermanentFailure)
    assert "451" in repr(caught.value)


async def test_no_server_is_retried(tmp_path: Path) -> None:
    with pytest.raises(OSError) as caught:
        await SmtpSender(_settings(tmp_path, _free_port())).send(_full())
    assert not isinstance(caught.value, PermanentFailure)


async def test_a_silent_server_times_out_within_smtp_timeout(tmp_path: Path) -> None:
    with socket.socket() as silent:  # accepts connections (backlog) but never greets
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        settings = _settings(tmp_path, silent.getsockname()[1], smtp_timeout=0.5)
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            await SmtpSender(settings).send(_full())
    assert time.monotonic() - started < 3


@pytest.mark.parametrize("field, value, reason", [
    ("recipient", "lan@trà-vinh.vn\r\nBcc: x@y.vn", "recipient contains control characters"),
    ("recipient", "lân@travinh.gov.vn", "needs SMTPUTF8"),
    ("message_id", "<a@b>\nBcc: x@y.vn", "Message-ID contains control characters"),
    ("unsubscribe_url", "https://x.vn/u?t=a\r\nBcc: x@y.vn", "unsubscribe URL contains control characters"),
    ("unsubscribe_url", "https://x.vn/u?t=a b", "not an http(s) URL"),
    ("unsubscribe_url", "https://x.vn/u?t=a>, <mailto:x@y.vn", "not an http(s) URL"),
    ("unsubscribe_url", "javascript:alert(1)", "not an http(s) URL"),
])
def test_values_no_email_can_carry_are_permanent(field: str, value: str, reason: str) -> None:
    with pytest.raises(PermanentFailure, match=re.escape(reason)):
        build_message(_full(**{field: value}), "plantrack <a@b.vn>")


def test_user_text_cannot_add_headers() -> None:
    row = _full(recipient_name="Lan\r\nBcc: x@y.vn", subject="Họp\r\nBcc: x@y.vn\u202e")
    raw = build_message(row, "plantrack <a@b.vn>\r\nBcc: z@y.vn")
    message = message_from_bytes(raw, policy=policy.default)
    assert "Bcc" not in message
    assert message["Subject"] == "Họp Bcc: x@y.vn" and message["To"].addresses[0].display_name == "Lan Bcc: x@y.vn"


def test_an_internationalised_domain_goes_out_as_punycode() -> None:
    message = message_from_bytes(build_message(_full(recipient="lan@trà-vinh.vn"), "plantrack <a@b.vn>"),
                                 policy=policy.default)
    address = message["To"].addresses[0].addr_spec
    assert address.startswith("lan@xn--tr-vinh-") and address.isascii()


async def test_one_connection_carries_many_emails_and_a_dropped_one_is_replaced(tmp_path: Path) -> None:
    port = _free_port()
    sender = SmtpSender(_settings(tmp_path, port))
    with SmtpServer(port) as smtp:
        for n in range(3):
            await sender.send(_email(f"can-bo-{n}@travinh.gov.vn"))
        first = sender._smtp
        assert first is not None and first.is_connected  # the three went over one connection
        assert len(smtp.mailbox.wait_for(3)) == 3
        first.close()  # the server side hangs up, say, between two emails
        await sender.send(_email("lan@travinh.gov.vn"))
        assert sender._smtp is not first and len(smtp.mailbox.wait_for(4)) == 4  # sent at once, not retried later
        await sender.close()
        assert sender._smtp is None


# -- the service's mail sender: batches, over several kept connections --------------------------

async def test_the_mail_sender_sends_a_batch_side_by_side_over_its_connections(tmp_path: Path) -> None:
    port = _free_port()
    settings = _settings(tmp_path, port, smtp_connections=3, send_batch_size=10)
    url = f"sqlite:///{tmp_path}/notifications.db"
    migrate(url, MIGRATIONS)
    engine = make_engine(url)
    with session_scope(engine) as session:
        session.add_all(_email(f"can-bo-{i}@travinh.gov.vn") for i in range(25))
    pool = SmtpPool(settings, settings.smtp_connections)
    worker = mail_sender(engine, pool, settings)
    assert (worker.batch_size, worker.in_flight) == (10, 3)
    lease = worker.lease.total_seconds()
    assert 0.8 * lease + settings.smtp_timeout <= lease, "a send started before 80 % of the lease ends inside it"
    try:
        with SmtpServer(port) as server:
            while await worker.run_once():
                pass
            received = server.mailbox.snapshot()
        assert sorted(str(m["To"]).split("<")[-1].rstrip(">") for m in received) == sorted(
            f"can-bo-{i}@travinh.gov.vn" for i in range(25))
        with Session(engine) as session:
            assert all(r.sent_at is not None for r in session.exec(select(OutgoingEmail)))
        assert sum(s._smtp is not None for s in pool.senders) == 3, "each connection carried emails, kept open"
    finally:
        await pool.close()
        engine.dispose()
