"""HTTP metrics by route template (a pure ASGI middleware) and the `GET /metrics` route."""

import hmac
import logging
import time
from collections.abc import Iterable

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.routing import iter_route_contexts
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry
from prometheus_client.registry import Collector
from starlette.exceptions import HTTPException
from starlette.routing import Mount, Router, get_route_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.metrics.registry import HTTP_DURATION, HTTP_REQUESTS, exposition

log = logging.getLogger("plantrack.metrics")

UNMATCHED = "<unmatched>"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})  # any other: "OTHER"


def route_template(scope: Scope, router: Router, path: str) -> str:
    """The template of the route that answered (a mount: its path), or UNMATCHED. FastAPI sets
    scope["route"] for its own routes; the others (docs pages, static files) are looked up."""
    route = scope.get("route")
    if route is not None:
        if isinstance(route, Mount):
            return route.path
        return str(getattr(route, "path_format", None) or getattr(route, "path", None) or UNMATCHED)
    for context in iter_route_contexts(router.routes):
        regex = getattr(context, "path_regex", None)
        if regex is not None and regex.match(path):
            if isinstance(context.original_route, Mount):
                return context.path or UNMATCHED
            return context.path_format or context.path or UNMATCHED
    return UNMATCHED


class HttpMetricsMiddleware:
    """Counts and times every request by service, method, route template and status (pure ASGI)."""

    def __init__(self, app: ASGIApp, *, service: str, router: Router) -> None:
        self.app = app
        self.service = service
        self.router = router

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        path = get_route_path(scope)
        status = 500  # what the server answers when the app raises before responding

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_with_status)
        finally:
            try:
                method = scope["method"] if scope["method"] in METHODS else "OTHER"
                route = route_template(scope, self.router, path)
                HTTP_REQUESTS.labels(self.service, method, route, str(status)).inc()
                HTTP_DURATION.labels(self.service, method, route).observe(time.perf_counter() - started)
            except Exception:  # noqa: BLE001 - a metric never fails a request
                log.debug("metrics: request not counted", exc_info=True)


def authorised(header: str, token: str) -> bool:
    """True when `header` is `Bearer <token>` (compared in constant time)."""
    scheme, _, value = header.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(value.strip().encode(), token.encode())


def metrics_router(token: str, registry: CollectorRegistry) -> APIRouter:
    """`GET /metrics`: the text exposition; with `token` set, only for `Authorization: Bearer <token>`."""
    router = APIRouter()

    @router.get("/metrics", include_in_schema=False)
    def metrics(request: Request) -> Response:
        """Prometheus metrics of this process (sync: scrape-time gauges query the database in a thread)."""
        if token and not authorised(request.headers.get("authorization", ""), token):
            raise HTTPException(401, "A valid metrics token is required (Authorization: Bearer <token>).",
                                headers={"WWW-Authenticate": "Bearer"})
        return Response(exposition(registry), media_type=CONTENT_TYPE_LATEST)

    return router


def install_metrics(app: FastAPI, *, service: str, token: str = "", collectors: Iterable[Collector] = ()) -> None:
    """Count every request (call after install_common: this middleware is then the outermost) and
    serve `GET /metrics`, with `collectors` (scrape-time gauges) after the process's metrics."""
    registry = CollectorRegistry()
    for collector in collectors:
        registry.register(collector)
    app.add_middleware(HttpMetricsMiddleware, service=service, router=app.router)
    app.include_router(metrics_router(token, registry))
