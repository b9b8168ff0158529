"""Request body size limit, enforced while the body streams in (pure ASGI, before any route or auth)."""

import re
from collections.abc import Sequence

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.problems import problem_response

DEFAULT_MAX_BODY_BYTES = 1_000_000


class BodyTooLarge(HTTPException):
    """Raised from `receive` once the body passes the limit (FastAPI re-raises HTTPExceptions as they are)."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(413, f"Request body is larger than the limit of {max_bytes} bytes.")


class BodySizeLimitMiddleware:
    """Answer 413 problem+json as soon as a request body passes `max_bytes`, and stop reading it.

    A Content-Length above the limit is refused before anything reads the body; a body without one
    (chunked) is counted message by message as the app reads it, so no more than about `max_bytes`
    plus one chunk is ever held in memory.
    """

    def __init__(self, app: ASGIApp, max_bytes: int = DEFAULT_MAX_BODY_BYTES,
                 uploads: Sequence[tuple[str, int]] = ()) -> None:
        self.app = app
        self.default_max_bytes = max_bytes
        self.uploads = [(re.compile(pattern), limit) for pattern, limit in uploads]

    def limit(self, path: str) -> int:
        """The limit of a request to `path`: an upload route's own (its regex matches), else the default."""
        return next((limit for pattern, limit in self.uploads if pattern.fullmatch(path)), self.default_max_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await _Limited(self.app, self.limit(scope["path"]))(scope, receive, send)


class _Limited:
    """One request under one limit (see BodySizeLimitMiddleware)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        length = Headers(scope=scope).get("content-length")
        if length is not None:
            digits = length.strip()
            if not (digits.isascii() and digits.isdigit()):  # "²" and "٣" are digits to str.isdigit
                await self._answer(scope, send, 400, "Content-Length must be a number of bytes.")
                return
            if len(digits) > 18 or int(digits) > self.max_bytes:
                await self._answer(scope, send, 413, BodyTooLarge(self.max_bytes).detail)
                return

        received = 0
        started = False
        refused = False

        async def limited_receive() -> Message:
            nonlocal received, refused
            if refused:
                raise BodyTooLarge(self.max_bytes)
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    refused = True
                    if not started:
                        await self._answer(scope, send, 413, BodyTooLarge(self.max_bytes).detail)
                    raise BodyTooLarge(self.max_bytes)
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if refused:  # the 413 is the answer: drop whatever the app makes of the error
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except Exception:
            # refused: the 413 went out, or the response had started and the server drops the connection
            if not refused:
                raise

    @staticmethod
    async def _answer(scope: Scope, send: Send, status: int, detail: str) -> None:
        response = problem_response(Request(scope), status, detail)
        await response(scope, _no_receive, send)


async def _no_receive() -> Message:
    """A plain response never reads the request; refuse if one tries."""
    raise RuntimeError("the body limit stopped reading this request")
