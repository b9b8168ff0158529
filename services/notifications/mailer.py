"""Sending email over SMTP."""

import asyncio
import re
import smtplib
from email.errors import HeaderParseError
from email.message import EmailMessage
from email.utils import formataddr, formatdate

from email_validator import EmailNotValidError, validate_email

from services.notifications.models import OutgoingEmail
from services.notifications.settings import NotificationsSettings
from services.notifications.wire import POLICY
from shared.messaging.relay import PermanentFailure


def _one_line(text: str) -> str:
    """Header values may not contain line breaks (the email library refuses them, and the send
    would be retried forever): fold any whitespace run into one space."""
    return " ".join(text.split())


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _never_sendable(row: OutgoingEmail) -> str | None:
    """Why the row can never be sent as it is (retrying would loop forever), or None."""
    for name, value in (("recipient", row.recipient), ("correlation id", row.correlation_id),
                        ("Message-ID", row.message_id)):
        if _CONTROL.search(value):
            return f"{name} contains control characters: {value!r}"
    try:
        validate_email(row.recipient, check_deliverability=False)
    except EmailNotValidError as exc:
        return f"invalid recipient address {row.recipient!r}: {exc}"
    return None


def build_message(row: OutgoingEmail, sender: str) -> EmailMessage:
    """The MIME message for an outgoing email row (UTF-8, with a stable Message-ID); raises
    PermanentFailure when the row holds a value no email can carry."""
    reason = _never_sendable(row)
    if reason is not None:
        raise PermanentFailure(reason)
    try:
        return _build(row, sender)
    except (ValueError, TypeError, HeaderParseError) as exc:
        raise PermanentFailure(f"cannot build the email: {type(exc).__name__}: {exc}") from exc


def _build(row: OutgoingEmail, sender: str) -> EmailMessage:
    msg = EmailMessage(policy=POLICY)
    msg["From"] = sender
    name = _one_line(row.recipient_name)
    msg["To"] = formataddr((name, row.recipient)) if name else row.recipient
    msg["Subject"] = _one_line(row.subject)
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = row.message_id
    msg["X-Correlation-ID"] = row.correlation_id
    msg["X-Plantrack-Event-ID"] = str(row.event_id)
    msg.set_content(row.body, charset="utf-8")
    return msg


class SmtpSender:
    """Delivers rows to an SMTP server; 5xx answers are permanent, anything else is retried."""

    def __init__(self, settings: NotificationsSettings) -> None:
        self.settings = settings

    def _send(self, message: EmailMessage) -> None:
        s = self.settings
        with smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout) as smtp:
            if s.smtp_starttls:
                smtp.starttls()
            if s.smtp_username:
                smtp.login(s.smtp_username, s.smtp_password)
            try:
                smtp.send_message(message)
            except smtplib.SMTPRecipientsRefused as exc:
                codes = [code for code, _ in exc.recipients.values()]
                if all(500 <= c < 600 for c in codes):
                    raise PermanentFailure(f"recipient refused: {exc.recipients}") from exc
                raise
            except smtplib.SMTPResponseException as exc:
                if 500 <= exc.smtp_code < 600:
                    raise PermanentFailure(f"SMTP {exc.smtp_code}: {exc.smtp_error!r}") from exc
                raise

    async def send(self, row: OutgoingEmail) -> None:
        """Send one row (blocking SMTP I/O runs in a thread)."""
        await asyncio.to_thread(self._send, build_message(row, self.settings.mail_from))
