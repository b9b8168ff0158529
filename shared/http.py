"""HTTP glue shared by the service apps: request ids, body limit, docs and health endpoints."""

import asyncio
import re
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Literal

from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import Engine
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.body_limit import DEFAULT_MAX_BODY_BYTES, BodySizeLimitMiddleware
from shared.db import ping
from shared.identity.cookies import CookieMiddleware
from shared.logging import correlation_id_var
from shared.openapi import install_openapi

_SAFE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,100}$")


class RequestIdMiddleware:
    """Take X-Request-ID (or make one), expose it to logs and events, echo it back (pure ASGI)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = Headers(scope=scope).get("x-request-id", "")
        request_id = incoming if _SAFE_ID.match(incoming) else uuid.uuid4().hex
        # request.state reads scope["state"]; the server may have put the lifespan state there
        scope.setdefault("state", {})["request_id"] = request_id

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)["X-Request-ID"] = request_id
            await send(message)

        token = correlation_id_var.set(request_id)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            correlation_id_var.reset(token)


class Readiness(BaseModel):
    """What `/ready` answers: ok, or which dependency is down."""

    status: Literal["ok", "unavailable"]
    checks: dict[str, str]


def database_check(engine: Engine) -> Callable[[], Awaitable[bool]]:
    """A readiness check: the database answers a trivial query (in a thread)."""
    async def database_ok() -> bool:
        await asyncio.to_thread(ping, engine)
        return True

    return database_ok


def health_router(checks: dict[str, Callable[[], Awaitable[object]]]) -> APIRouter:
    """`/health` (the process lives) and `/ready` (each named dependency answers)."""
    router = APIRouter(tags=["health"])

    @router.get("/health", summary="Liveness")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/ready", summary="Readiness: database and broker reachable", response_model=Readiness,
                responses={503: {"model": Readiness, "description": "A dependency does not answer"}})
    async def ready() -> JSONResponse:
        results: dict[str, str] = {}
        for name, check in checks.items():
            try:
                outcome = await check()
                results[name] = "ok" if outcome is not False else "down"
            except Exception as exc:  # noqa: BLE001 - readiness reports, it does not raise
                results[name] = f"down: {type(exc).__name__}"
        ok = all(v == "ok" for v in results.values())
        return JSONResponse({"status": "ok" if ok else "unavailable", "checks": results},
                            status_code=200 if ok else 503)

    return router


def install_common(app: FastAPI, *, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
                   uploads: Sequence[tuple[str, int]] = ()) -> None:
    """Request ids on every response, the body size limit (`uploads`: (path regex, limit) of the
    routes taking files), the cookies handlers set (browser sessions), offline docs and error
    responses in OpenAPI."""
    # the last added middleware is the outermost: request ids first, then the limit, before any route
    app.add_middleware(CookieMiddleware)
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=max_body_bytes, uploads=uploads)
    app.add_middleware(RequestIdMiddleware)
    install_openapi(app)
