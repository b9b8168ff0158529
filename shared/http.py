"""HTTP glue shared by the service apps: request ids and health endpoints."""

import re
import uuid
from collections.abc import Awaitable, Callable

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.responses import Response

from shared.logging import correlation_id_var

_SAFE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,100}$")


class RequestIdMiddleware(BaseHTTPMiddleware):
    """Take X-Request-ID (or make one), expose it to logs and events, echo it back."""

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        incoming = request.headers.get("x-request-id", "")
        request_id = incoming if _SAFE_ID.match(incoming) else uuid.uuid4().hex
        request.state.request_id = request_id
        token = correlation_id_var.set(request_id)
        try:
            response = await call_next(request)
        finally:
            correlation_id_var.reset(token)
        response.headers["X-Request-ID"] = request_id
        return response


def health_router(checks: dict[str, Callable[[], Awaitable[object]]]) -> APIRouter:
    """`/health` (the process lives) and `/ready` (each named dependency answers)."""
    router = APIRouter(tags=["health"])

    @router.get("/health", summary="Liveness")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/ready", summary="Readiness: database and broker reachable")
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


def install_common(app: FastAPI) -> None:
    """Request ids on every response."""
    app.add_middleware(RequestIdMiddleware)
