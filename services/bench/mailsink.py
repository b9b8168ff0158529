"""An SMTP server that keeps when each message arrived and its text, for the benchmark."""

import email
import email.policy
import threading
import time
from dataclasses import dataclass
from typing import Any

from aiosmtpd.controller import Controller


@dataclass(frozen=True)
class Arrival:
    """One message: when it arrived (time.time()) and its raw bytes."""

    at: float
    raw: bytes

    def text(self) -> str:
        """The plain-text body (what the marker search reads)."""
        message: Any = email.message_from_bytes(self.raw, policy=email.policy.default)
        body = message.get_body(preferencelist=("plain", "html"))
        return str(body.get_content()) if body is not None else ""


class _Handler:
    def __init__(self) -> None:
        self.arrivals: list[Arrival] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        with self.lock:
            self.arrivals.append(Arrival(time.time(), envelope.original_content or b""))
        return "250 OK"


class MailSink:
    """Accept every message on 127.0.0.1:`port` until stopped."""

    def __init__(self, port: int) -> None:
        self.port = port
        self._handler = _Handler()
        self._controller = Controller(self._handler, hostname="127.0.0.1", port=port)

    def __enter__(self) -> "MailSink":
        self._controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._controller.stop()

    def arrivals(self) -> list[Arrival]:
        """The messages so far, in arrival order."""
        with self._handler.lock:
            return list(self._handler.arrivals)

    def count(self) -> int:
        """How many messages arrived."""
        with self._handler.lock:
            return len(self._handler.arrivals)
