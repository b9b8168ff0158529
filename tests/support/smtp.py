"""A real SMTP server (aiosmtpd) that keeps what it receives, for tests."""

import email
import email.policy
import threading
import time
from email.message import EmailMessage

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


class Mailbox:
    """aiosmtpd handler storing each received message."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)  # type: ignore[arg-type]
        with self._lock:
            self.messages.append(message)  # type: ignore[arg-type]
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


class SmtpServer:
    """Start/stop an aiosmtpd server on a free local port."""

    def __init__(self, port: int) -> None:
        self.mailbox = Mailbox()
        self.port = port
        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=port)

    def __enter__(self) -> "SmtpServer":
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()
