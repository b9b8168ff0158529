"""RFC 9457 problem details for every error a plantrack API returns."""

import logging
import sqlite3
from http import HTTPStatus
from typing import Any

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("plantrack.http")

PROBLEM_JSON = "application/problem+json"
RETRY_AFTER_SECONDS = 5


def database_unavailable(exc: BaseException) -> bool:
    """True when `exc` says the database cannot be reached (down, refusing, pool exhausted), not
    that the request was wrong."""
    if isinstance(exc, PoolTimeout | psycopg.OperationalError):
        return True
    if not isinstance(exc, DBAPIError):
        return False
    orig = exc.orig
    # SQLite reports a missing table as an OperationalError too: only its lock is an outage
    locked = isinstance(orig, sqlite3.OperationalError) and "locked" in str(orig)
    return exc.connection_invalidated or isinstance(orig, psycopg.OperationalError) or locked


class Problem(Exception):
    """An error to report to the client as problem+json."""

    def __init__(self, status: int, detail: str, *, title: str | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.title = title or HTTPStatus(status).phrase
        self.extra = extra


def problem_response(
    request: Request, status: int, detail: str, title: str | None = None, **extra: Any
) -> JSONResponse:
    """Build an application/problem+json response."""
    body = {
        "type": "about:blank",
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        **extra,
    }
    request_id = getattr(request.state, "request_id", None)
    if request_id:
        body["correlation_id"] = request_id
    # also as a header: a 500 is answered outside RequestIdMiddleware, which would otherwise add it
    headers = {"X-Request-ID": request_id} if request_id else None
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _validation_detail(exc: RequestValidationError) -> tuple[str, list[dict[str, Any]]]:
    errors = [
        {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
        for e in exc.errors()
    ]
    first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
    where = ".".join(str(p) for p in first["loc"] if p != "body") or "request"
    return f"Invalid {where}: {first['msg']}", errors


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route answers at this path (Starlette names only the first route's)."""
    path = request.scope.get("path", "")
    methods: set[str] = set()
    for route in iter_route_contexts(request.app.router.routes):
        regex = getattr(route, "path_regex", None)
        if route.methods and regex is not None and regex.match(path):
            methods |= route.methods
    return sorted(methods)


def install_problem_handlers(app: FastAPI) -> None:
    """Route every error type to a problem+json response (never a bare 500 with a trace)."""

    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(request, exc.status, exc.detail, exc.title, **exc.extra)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
        response = problem_response(request, exc.status_code, detail)
        for key, value in (exc.headers or {}).items():
            response.headers[key] = value
        if exc.status_code == 405:
            response.headers["Allow"] = ", ".join(_allowed_methods(request))
        return response

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        detail, errors = _validation_detail(exc)
        return problem_response(request, 422, detail, "Invalid request", errors=errors)

    # database errors get their own handlers: the catch-all below runs in Starlette's outermost
    # middleware, which re-raises (a second traceback) after answering
    @app.exception_handler(DBAPIError)
    @app.exception_handler(PoolTimeout)
    @app.exception_handler(psycopg.OperationalError)
    async def _database(request: Request, exc: Exception) -> JSONResponse:
        if not database_unavailable(exc):
            return await _unexpected(request, exc)
        log.warning("database unavailable; answered 503", extra={"path": request.url.path, "error": repr(exc)[:300]})
        response = problem_response(
            request, 503, "The database is unavailable at the moment; retry in a few seconds.",
            "Service Unavailable")
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", extra={"path": request.url.path})
        return problem_response(request, 500, "An unexpected error occurred; it has been logged.")

