"""A real SMTP server (aiosmtpd) that keeps what it receives, for tests.

Plain by default; optionally STARTTLS or implicit TLS with a certificate from a trustme CA (its
PEM in `SmtpServer.ca_file`), AUTH LOGIN/PLAIN against fixed credentials, and a chosen reply
(e.g. "550 5.1.1 No such user") to RCPT TO or to DATA.
"""

import email
import email.policy
import os
import ssl
import tempfile
import threading
import time
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session


@dataclass(frozen=True)
class Received:
    """One message as the server got it."""

    raw: bytes
    mail_from: str
    rcpt_tos: list[str]
    tls: bool
    login: str | None


class Mailbox:
    """aiosmtpd handler storing each received message; can refuse RCPT TO or DATA with a set reply."""

    def __init__(self, rcpt_reply: str | None = None, data_reply: str | None = None) -> None:
        self.messages: list[EmailMessage] = []
        self.received: list[Received] = []
        self.rcpt_reply = rcpt_reply
        self.data_reply = data_reply
        self._lock = threading.Lock()

    async def handle_RCPT(  # noqa: N802
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str],
    ) -> str:
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        if self.data_reply:
            return self.data_reply
        raw = envelope.original_content or b""
        message = email.message_from_bytes(raw, policy=email.policy.default)
        login = session.auth_data  # what Credentials put there: the login
        tls = server.transport is not None and server.transport.get_extra_info("ssl_object") is not None
        received = Received(raw=raw, mail_from=envelope.mail_from or "", rcpt_tos=list(envelope.rcpt_tos),
                            tls=tls, login=login.decode() if isinstance(login, bytes) else None)
        with self._lock:
            self.messages.append(message)  # type: ignore[arg-type]
            self.received.append(received)
        return "250 OK"

    def wait_for(self, count: int, timeout: float = 20.0) -> list[EmailMessage]:
        """Wait until at least `count` messages arrived; return them all."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.messages) >= count:
                    return list(self.messages)
            time.sleep(0.05)
        with self._lock:
            raise AssertionError(f"expected {count} emails within {timeout}s, got {len(self.messages)}")

    def snapshot(self) -> list[EmailMessage]:
        """The messages received so far."""
        with self._lock:
            return list(self.messages)


class Credentials:
    """aiosmtpd authenticator accepting one login and password."""

    def __init__(self, login: str, password: str) -> None:
        self.login, self.password = login.encode(), password.encode()

    def __call__(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any,
    ) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
            self.login, self.password)
        return AuthResult(success=ok, handled=False, auth_data=auth_data.login if ok else None)


class SmtpServer:
    """Start/stop an aiosmtpd server on a free local port.

    tls: "" (plain), "starttls" or "implicit"; ca: the CA signing the server's certificate (a new
    one by default; its PEM is written to `ca_file`); login/password: AUTH required for MAIL FROM;
    auth_require_tls: AUTH only offered after TLS; rcpt_reply/data_reply: refuse with that reply.
    """

    def __init__(
        self, port: int, *, tls: str = "", ca: trustme.CA | None = None,
        login: str = "", password: str = "", auth_require_tls: bool = True,
        rcpt_reply: str | None = None, data_reply: str | None = None,
    ) -> None:
        if tls not in ("", "starttls", "implicit"):
            raise ValueError(f"tls must be '', 'starttls' or 'implicit', not {tls!r}")
        self.mailbox = Mailbox(rcpt_reply=rcpt_reply, data_reply=data_reply)
        self.port = port
        self.ca_file = ""
        kwargs: dict[str, Any] = {}
        if tls:
            self.ca = ca or trustme.CA()
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            self.ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
            fd, self.ca_file = tempfile.mkstemp(prefix="smtp-ca-", suffix=".pem")
            os.close(fd)
            self.ca.cert_pem.write_to_path(self.ca_file)
            if tls == "implicit":
                kwargs["ssl_context"] = context
            else:
                kwargs.update(tls_context=context, require_starttls=True)
        if login:
            # aiosmtpd counts only STARTTLS as TLS: over implicit TLS it must be told AUTH is fine
            kwargs.update(authenticator=Credentials(login, password), auth_required=True,
                          auth_require_tls=auth_require_tls and tls != "implicit")
        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=port, **kwargs)

    def __enter__(self) -> "SmtpServer":
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()
        if self.ca_file:
            os.unlink(self.ca_file)
