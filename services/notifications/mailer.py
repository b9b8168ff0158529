"""Sending email over SMTP with aiosmtplib: the MIME message of a row, and its delivery."""

import asyncio
import logging
import re
import time
import unicodedata
from datetime import UTC, datetime
from email.utils import format_datetime, parseaddr

import aiosmtplib
from email_validator import EmailNotValidError, validate_email

from services.notifications import wire
from services.notifications.models import OutgoingEmail
from services.notifications.settings import NotificationsSettings
from shared.messaging.relay import PermanentFailure
from shared.metrics.registry import EMAILS_FAILED, EMAILS_SENT
from shared.validation import strip_invisible

log = logging.getLogger("plantrack.notifications")

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_BREAKS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_URL = re.compile(r"^https?://[\x21-\x7e]+$")  # printable ASCII, no spaces
AUTH_CODES = frozenset({530, 534, 535, 538})  # authentication required / failed: the operator's to fix
# refusals of the session rather than of this message (e.g. a blocked client address): retried
SESSION_ERRORS = (aiosmtplib.SMTPConnectResponseError, aiosmtplib.SMTPHeloError)
IDLE_SECONDS = 30.0  # a connection idle longer is closed and opened anew, before servers time it out


def _one_line(text: str) -> str:
    """A header value: NFC, without invisible characters, each control or whitespace run one space."""
    # a line break would make the email library refuse the header, and the send retry forever
    text = strip_invisible(unicodedata.normalize("NFC", text))
    return " ".join(_BREAKS.sub(" ", text).split())


def _never_sendable(row: OutgoingEmail) -> str | None:
    """Why the row can never be sent as it is (retrying would loop forever), or None."""
    for name, value in (("recipient", row.recipient), ("correlation id", row.correlation_id),
                        ("Message-ID", row.message_id), ("unsubscribe URL", row.unsubscribe_url)):
        if _CONTROL.search(value):
            return f"{name} contains control characters: {value!r}"
    if row.unsubscribe_url and (not _URL.match(row.unsubscribe_url) or ">" in row.unsubscribe_url):
        return f"unsubscribe URL is not an http(s) URL of printable ASCII: {row.unsubscribe_url!r}"
    try:
        address = validate_email(row.recipient, check_deliverability=False)
    except EmailNotValidError as exc:
        return f"invalid recipient address {row.recipient!r}: {exc}"
    if address.ascii_email is None:
        return f"recipient address {row.recipient!r} needs SMTPUTF8, which is not supported"
    return None


def envelope_address(recipient: str) -> str:
    """The ASCII form of a valid address (an internationalised domain in punycode)."""
    ascii_email = validate_email(recipient, check_deliverability=False).ascii_email
    assert ascii_email is not None, "checked by build_message"
    return ascii_email


def build_message(row: OutgoingEmail, sender: str) -> bytes:
    """The message for an outgoing email row as sent (UTF-8, 7-bit, CRLF, with a stable
    Message-ID); raises PermanentFailure when the row holds a value no email can carry."""
    reason = _never_sendable(row)
    if reason is not None:
        raise PermanentFailure(reason)
    try:
        return _build(row, sender)
    except (ValueError, TypeError, UnicodeError) as exc:
        raise PermanentFailure(f"cannot build the email: {type(exc).__name__}: {exc}") from exc


def _build(row: OutgoingEmail, sender: str) -> bytes:
    from_name, from_address = parseaddr(_one_line(sender))
    headers = [
        f"From: {wire.address(from_name, from_address or _one_line(sender))}{wire.CRLF}",
        f"To: {wire.address(_one_line(row.recipient_name), envelope_address(row.recipient))}{wire.CRLF}",
        wire.header("Subject", _one_line(row.subject)),
        f"Date: {format_datetime(datetime.now(UTC))}{wire.CRLF}",
        f"Message-ID: {row.message_id}{wire.CRLF}",
    ]
    if row.correlation_id:
        headers.append(wire.header("X-Correlation-ID", _one_line(row.correlation_id)))
    headers += [
        f"X-Plantrack-Event-ID: {row.event_id}{wire.CRLF}",
        f"Auto-Submitted: auto-generated{wire.CRLF}",  # RFC 3834: no auto-replies, no vacation notices
        f"X-Auto-Response-Suppress: All{wire.CRLF}",  # the same, for Exchange
    ]
    if row.unsubscribe_url:
        headers += [f"List-Unsubscribe: <{row.unsubscribe_url}>{wire.CRLF}",
                    f"List-Unsubscribe-Post: List-Unsubscribe=One-Click{wire.CRLF}"]
    # quoted-printable: 7-bit safe for servers without 8BITMIME, and the markup stays legible
    return wire.message_bytes(headers, row.body, row.html or "")


class SmtpSender:
    """Delivers rows to an SMTP server; 5xx answers to the message are permanent, the rest retried."""

    def __init__(self, settings: NotificationsSettings) -> None:
        self.settings = settings
        self._smtp: aiosmtplib.SMTP | None = None  # kept open between emails: connecting costs more than sending
        self._used_at = 0.0
        self._lock = asyncio.Lock()

    def _client(self) -> aiosmtplib.SMTP:
        s = self.settings
        return aiosmtplib.SMTP(
            hostname=s.smtp_host, port=s.smtp_port, timeout=s.smtp_timeout,
            use_tls=s.smtp_tls,
            start_tls=s.smtp_starttls and not s.smtp_tls,  # False, not None: no opportunistic upgrade
            validate_certs=s.smtp_validate_certs, cert_bundle=s.smtp_ca_file or None,
            username=s.smtp_username or None, password=s.smtp_password if s.smtp_username else None,
        )

    async def close(self) -> None:
        """Close the kept connection, if any (politely, QUIT, when the server still listens)."""
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            async with asyncio.timeout(self.settings.smtp_timeout):
                await smtp.quit()
        except Exception:  # noqa: BLE001 - a connection that is gone is closed enough
            smtp.close()

    async def _connection(self) -> tuple[aiosmtplib.SMTP, bool]:
        """The kept connection (True: reused), or a new one: after an idle spell servers drop it."""
        if self._smtp is not None and self._smtp.is_connected and time.monotonic() - self._used_at < IDLE_SECONDS:
            return self._smtp, True
        await self.close()
        smtp = self._client()
        await smtp.connect()
        self._smtp = smtp
        return smtp, False

    async def _deliver(self, envelope_from: str, recipient: str, message: bytes) -> None:
        """Send over the kept connection; one that turns out dead is replaced once at once."""
        smtp, reused = await self._connection()
        try:
            await smtp.sendmail(envelope_from, [recipient], message)
        except (aiosmtplib.SMTPServerDisconnected, ConnectionError):
            if not reused:
                raise
            await self.close()
            smtp, _ = await self._connection()
            await smtp.sendmail(envelope_from, [recipient], message)
        self._used_at = time.monotonic()

    async def send(self, row: OutgoingEmail) -> None:
        """Send one row; raises PermanentFailure if it can never be sent, anything else to retry."""
        try:
            await self._send(row)
        except PermanentFailure:
            EMAILS_FAILED.labels("true").inc()
            raise
        except Exception:
            EMAILS_FAILED.labels("false").inc()
            raise
        EMAILS_SENT.inc()

    async def _send(self, row: OutgoingEmail) -> None:
        message = build_message(row, self.settings.mail_from)
        envelope_from = parseaddr(self.settings.mail_from)[1]
        try:
            # the whole exchange within smtp_timeout: the row's lease is only a little longer
            async with self._lock, asyncio.timeout(self.settings.smtp_timeout):
                try:
                    await self._deliver(envelope_from, envelope_address(row.recipient), message)
                except BaseException:
                    await asyncio.shield(self.close())  # whatever state the session is in, start afresh
                    raise
        except aiosmtplib.SMTPRecipientsRefused as exc:
            refused = "; ".join(f"{r.code} {r.message}" for r in exc.recipients)
            if exc.recipients and all(500 <= r.code < 600 for r in exc.recipients):
                raise PermanentFailure(f"recipient refused: {refused}") from exc
            raise
        except aiosmtplib.SMTPResponseException as exc:
            if exc.code in AUTH_CODES or isinstance(exc, aiosmtplib.SMTPAuthenticationError):
                log.error("SMTP authentication failed; check PLANTRACK_SMTP_USERNAME and PLANTRACK_SMTP_PASSWORD "
                          "(emails wait and are retried)",
                          extra={"smtp_code": exc.code, "smtp_reply": exc.message,
                                 "smtp_host": self.settings.smtp_host})
                raise
            if 500 <= exc.code < 600 and not isinstance(exc, SESSION_ERRORS):
                raise PermanentFailure(f"SMTP {exc.code}: {exc.message}") from exc
            raise


class SmtpPool:
    """`size` SmtpSenders, each with its own kept connection: the emails of a batch go out side by side."""

    def __init__(self, settings: NotificationsSettings, size: int) -> None:
        self.senders = [SmtpSender(settings) for _ in range(max(1, size))]
        self._idle: asyncio.Queue[SmtpSender] = asyncio.Queue()
        for sender in self.senders:
            self._idle.put_nowait(sender)

    async def send(self, row: OutgoingEmail) -> None:
        """Send one row over an idle connection (waiting for one); as SmtpSender.send."""
        sender = await self._idle.get()
        try:
            await sender.send(row)
        finally:
            self._idle.put_nowait(sender)

    async def close(self) -> None:
        """Close every kept connection."""
        for sender in self.senders:
            await sender.close()
