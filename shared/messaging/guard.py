"""What a consumer checks before an event reaches a handler: who published it, and safe header text."""

import json
import re
from collections.abc import Mapping
from urllib.parse import unquote, urlsplit

from shared.events import EVENT_TYPES

ERROR_HEADER = "x-plantrack-error"
DELIVERIES_HEADER = "x-plantrack-deliveries"
SOURCE_QUEUE_HEADER = "x-plantrack-dead-lettered-from"
ORIGINAL_USER_HEADER = "x-plantrack-original-user-id"
# failed handler attempts so far: counted by the consumer, not by RabbitMQ (4.3 no longer counts nacks)
ATTEMPTS_HEADER = "x-plantrack-attempts"

# the same alphabet the HTTP layer accepts for X-Request-ID (shared/http.py)
_UNSAFE_ID_CHARS = re.compile(r"[^A-Za-z0-9._:-]")
_MAX_ID = 100
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


def amqp_user(url: str) -> str:
    """The user name in an AMQP URL (`guest` when the URL names none, as RabbitMQ clients assume)."""
    return unquote(urlsplit(url).username or "") or "guest"


def safe_correlation_id(value: object) -> str:
    """A correlation id fit for logs and email headers: anything outside `[A-Za-z0-9._:-]` becomes `_`."""
    if not isinstance(value, str):
        return ""
    return _UNSAFE_ID_CHARS.sub("_", value)[:_MAX_ID]


def header_text(text: str, limit: int = 1000) -> str:
    """Printable ASCII on one line, at most `limit` characters: safe as an AMQP or email header."""
    ascii_text = text.encode("ascii", "backslashreplace").decode("ascii")
    return _CONTROL.sub(" ", ascii_text)[:limit]


def error_reason(exc: BaseException) -> str:
    """`ExceptionType: message`, header-safe."""
    return header_text(f"{type(exc).__name__}: {exc}")


def header_int(headers: Mapping[str, object] | None, name: str) -> int:
    """A non-negative integer header; 0 when it is missing or not a number (headers can be forged)."""
    value = (headers or {}).get(name)
    try:
        return max(0, int(value))  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return 0


def sanitised_body(body: bytes) -> bytes:
    """The body with its envelope's `correlation_id` made safe; unchanged when it already is, or
    when the body is not a JSON object (decoding will reject it later)."""
    try:
        data = json.loads(body)
    except ValueError:
        return body
    if not isinstance(data, dict) or "correlation_id" not in data:
        return body
    value = data["correlation_id"]
    safe = safe_correlation_id(value)
    if safe == value:
        return body
    data["correlation_id"] = safe
    return json.dumps(data, ensure_ascii=False).encode()


class ProducerCheck:
    """Accepts an event only when RabbitMQ vouches (AMQP `user_id`) that its producer published it."""

    def __init__(self, producers: Mapping[str, str]) -> None:
        self.producers = dict(producers)

    @classmethod
    def single(cls, user: str) -> "ProducerCheck":
        """Every known event type is published by `user` (today: the assignments service)."""
        return cls({event_type: user for event_type in EVENT_TYPES})

    def refusal(self, event_type: str, user_id: str | None) -> str | None:
        """Why an event of `event_type` published as `user_id` must not be handled; None when it may."""
        expected = self.producers.get(event_type)
        if expected is None:
            return header_text(f"UnknownEventType: {event_type!r} is not an event type this service knows")
        if not user_id:
            return header_text(f"ForgedEvent: no user_id; {event_type} is published only by {expected!r}")
        if user_id != expected:
            return header_text(
                f"ForgedEvent: user_id {user_id!r} is not the producer of {event_type} ({expected!r})"
            )
        return None
