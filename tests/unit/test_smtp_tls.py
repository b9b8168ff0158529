"""The mail sender over STARTTLS and implicit TLS (a trustme CA) with AUTH, against aiosmtpd."""

import logging
import ssl
import uuid
from pathlib import Path
from typing import Any

import pytest
import trustme
from aiosmtplib import SMTPAuthenticationError, SMTPException

from services.notifications.mailer import SmtpSender
from services.notifications.models import OutgoingEmail
from services.notifications.settings import NotificationsSettings
from shared.messaging.relay import PermanentFailure
from tests.support.procs import free_port
from tests.support.smtp import SmtpServer

pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")

LOGIN, PASSWORD = "plantrack", "mật-khẩu-bí-mật"


def _row() -> OutgoingEmail:
    event_id = uuid.uuid4()
    return OutgoingEmail(event_id=event_id, event_type="assignment.overdue.v1", recipient="diep.hn@sxd.travinh.gov.vn",
                         recipient_name="Huỳnh Ngọc Diệp", subject="[41-KH/ĐUK] Nhiệm vụ III.1 đã quá hạn 5 ngày",
                         body="Nội dung", html="<p>Nội dung</p>", message_id=f"<{event_id}@plantrack.example.org>",
                         correlation_id="req-9")


def _sender(tmp_path: Path, port: int, **kwargs: Any) -> SmtpSender:
    values: dict[str, Any] = {"smtp_port": port, "data_dir": str(tmp_path), "smtp_timeout": 5.0,
                              "smtp_username": LOGIN, "smtp_password": PASSWORD}
    return SmtpSender(NotificationsSettings(**values | kwargs))


@pytest.mark.parametrize("tls, options", [
    ("starttls", {"smtp_starttls": True}),
    ("implicit", {"smtp_tls": True}),
])
async def test_tls_and_auth(tmp_path: Path, tls: str, options: dict[str, Any]) -> None:
    port = free_port()
    with SmtpServer(port, tls=tls, login=LOGIN, password=PASSWORD) as smtp:
        await _sender(tmp_path, port, smtp_ca_file=smtp.ca_file, **options).send(_row())
        [message] = smtp.mailbox.wait_for(1)
    [got] = smtp.mailbox.received
    assert got.tls and got.login == LOGIN and got.rcpt_tos == ["diep.hn@sxd.travinh.gov.vn"]
    assert message["Subject"] == "[41-KH/ĐUK] Nhiệm vụ III.1 đã quá hạn 5 ngày"


async def test_plain_without_auth(tmp_path: Path) -> None:
    port = free_port()
    with SmtpServer(port) as smtp:
        await _sender(tmp_path, port, smtp_username="", smtp_password="").send(_row())
        smtp.mailbox.wait_for(1)
    [got] = smtp.mailbox.received
    assert not got.tls and got.login is None


@pytest.mark.parametrize("tls, options", [
    ("starttls", {"smtp_starttls": True}),
    ("implicit", {"smtp_tls": True}),
])
async def test_a_certificate_from_another_ca_is_refused(tmp_path: Path, tls: str, options: dict[str, Any]) -> None:
    other = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other))
    port = free_port()
    with SmtpServer(port, tls=tls, login=LOGIN, password=PASSWORD) as smtp:
        with pytest.raises(Exception) as caught:
            await _sender(tmp_path, port, smtp_ca_file=str(other), **options).send(_row())
        assert smtp.mailbox.snapshot() == []
    assert not isinstance(caught.value, PermanentFailure)  # a configuration to fix, then retried
    cause: BaseException | None = caught.value
    while cause is not None and not isinstance(cause, ssl.SSLCertVerificationError):
        cause = cause.__cause__ or cause.__context__
    assert cause is not None, repr(caught.value)


async def test_the_system_cas_do_not_trust_a_private_ca(tmp_path: Path) -> None:
    port = free_port()
    with SmtpServer(port, tls="implicit") as smtp:
        with pytest.raises(Exception) as caught:
            await _sender(tmp_path, port, smtp_tls=True, smtp_username="").send(_row())
        assert smtp.mailbox.snapshot() == []
    assert not isinstance(caught.value, PermanentFailure)


async def test_validation_can_be_turned_off(tmp_path: Path) -> None:
    port = free_port()
    with SmtpServer(port, tls="starttls", login=LOGIN, password=PASSWORD) as smtp:
        await _sender(tmp_path, port, smtp_starttls=True, smtp_validate_certs=False).send(_row())
        smtp.mailbox.wait_for(1)
    assert smtp.mailbox.received[0].tls


async def test_a_wrong_password_is_retried_and_logged(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    port = free_port()
    with SmtpServer(port, tls="implicit", login=LOGIN, password=PASSWORD) as smtp:
        with caplog.at_level(logging.ERROR, logger="plantrack.notifications"):
            with pytest.raises(SMTPAuthenticationError) as caught:
                await _sender(tmp_path, port, smtp_tls=True, smtp_ca_file=smtp.ca_file,
                              smtp_password="sai").send(_row())
        assert smtp.mailbox.snapshot() == []
    assert caught.value.code == 535 and not isinstance(caught.value, PermanentFailure)
    assert "SMTP authentication failed" in caplog.text


async def test_a_missing_login_is_retried_and_logged(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    port = free_port()
    with SmtpServer(port, tls="starttls", login=LOGIN, password=PASSWORD) as smtp:
        with caplog.at_level(logging.ERROR, logger="plantrack.notifications"):
            with pytest.raises(SMTPException) as caught:  # 530 Authentication required
                await _sender(tmp_path, port, smtp_starttls=True, smtp_ca_file=smtp.ca_file,
                              smtp_username="").send(_row())
    assert not isinstance(caught.value, PermanentFailure) and "530" in repr(caught.value)
    assert "SMTP authentication failed" in caplog.text


async def test_no_auth_offered_without_tls(tmp_path: Path) -> None:
    # the server offers AUTH only after STARTTLS; a sender configured without it cannot log in
    port = free_port()
    with SmtpServer(port, tls="starttls", login=LOGIN, password=PASSWORD) as smtp:
        with pytest.raises(SMTPException, match="AUTH") as caught:
            await _sender(tmp_path, port, smtp_ca_file=smtp.ca_file).send(_row())
    assert not isinstance(caught.value, PermanentFailure)


async def test_starttls_is_required_when_configured(tmp_path: Path) -> None:
    # a server (or a man in the middle) not offering STARTTLS gets nothing, not a plain-text login
    port = free_port()
    with SmtpServer(port, login=LOGIN, password=PASSWORD, auth_require_tls=False) as smtp:
        with pytest.raises(SMTPException, match="STARTTLS"):
            await _sender(tmp_path, port, smtp_starttls=True).send(_row())
        assert smtp.mailbox.snapshot() == []


async def test_auth_over_plain_text_when_the_server_allows_it(tmp_path: Path) -> None:
    port = free_port()
    with SmtpServer(port, login=LOGIN, password=PASSWORD, auth_require_tls=False) as smtp:
        await _sender(tmp_path, port).send(_row())
        smtp.mailbox.wait_for(1)
    assert smtp.mailbox.received[0].login == LOGIN and not smtp.mailbox.received[0].tls
