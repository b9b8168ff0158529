"""OpenAPI of the service apps: offline Swagger UI and ReDoc, and every error response documented as problem+json."""

import json
import re
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from starlette.requests import Request
from starlette.routing import BaseRoute, Route
from starlette.staticfiles import StaticFiles

from shared.problems import PROBLEM_JSON

STATIC_DOCS = Path(__file__).parent / "static" / "docs"
STATIC_DOCS_URL = "/static/docs"
WRITE_METHODS = frozenset({"post", "put", "patch", "delete"})
HTTP_METHODS = frozenset({"get", "head", "options", "trace"}) | WRITE_METHODS

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details: what went wrong, for people (`detail`) and programs (`status`).",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "description": "A URI naming the problem type; `about:blank` here."},
        "title": {"type": "string", "description": "Short summary of the problem type."},
        "status": {"type": "integer", "minimum": 400, "maximum": 599, "description": "The HTTP status code."},
        "detail": {"type": "string", "description": "What happened to this request."},
        "instance": {"type": "string", "description": "The path of the request."},
        "correlation_id": {"type": "string", "description": "The request id (X-Request-ID), also in the logs."},
        "errors": {
            "type": "array",
            "description": "Each invalid input (422 only).",
            "items": {
                "type": "object",
                "properties": {
                    "loc": {"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]}},
                    "msg": {"type": "string"},
                    "type": {"type": "string"},
                },
            },
        },
    },
}

DESCRIPTIONS = {
    400: "Bad request: an undecodable body, or a malformed If-Match",
    401: "No API token, or an unknown or revoked one",
    403: "The acting official may not do this",
    404: "Not found, or not visible to the acting official",
    409: "Conflicts with the current state or a domain rule",
    412: "If-Match names an older version",
    413: "Request body too large",
    415: "Unsupported content type",
    422: "Invalid request",
    503: "The database is unavailable at the moment; retry after the seconds in Retry-After",
}
_PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
IF_MATCH_SCHEMA = {
    "type": "string", "title": "If-Match", "pattern": r'^(\*|(W/)?"?[0-9]{1,10}"?)$',
    "description": 'The ETag of the version the change is based on, e.g. `"3"`; 412 if it is not the current one.',
}


def install_openapi(app: FastAPI) -> None:
    """Serve /docs and /redoc from packaged files and document problem+json errors in /openapi.json."""
    _install_offline_docs(app)
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = add_problem_responses(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _install_offline_docs(app: FastAPI) -> None:
    """Replace FastAPI's CDN-backed docs pages by pages whose scripts the app serves itself."""
    if not app.openapi_url:
        return
    openapi_url = app.openapi_url
    oauth2_url = app.swagger_ui_oauth2_redirect_url
    replaced = {url for url in (app.docs_url, oauth2_url, app.redoc_url) if url}
    app.router.routes[:] = [r for r in app.router.routes if not _is_route_at(r, replaced)]
    app.mount(STATIC_DOCS_URL, StaticFiles(directory=STATIC_DOCS), name="docs-static")

    def asset(request: Request, name: str) -> str:
        return f"{_root_path(request)}{STATIC_DOCS_URL}/{name}"

    if app.docs_url:
        async def swagger_ui(request: Request) -> HTMLResponse:
            root = _root_path(request)
            return get_swagger_ui_html(
                openapi_url=root + openapi_url, title=f"{app.title} — Swagger UI",
                swagger_js_url=asset(request, "swagger-ui-bundle.js"),
                swagger_css_url=asset(request, "swagger-ui.css"),
                swagger_favicon_url=asset(request, "favicon-32x32.png"),
                oauth2_redirect_url=root + oauth2_url if oauth2_url else None,
                init_oauth=app.swagger_ui_init_oauth,
                # no validator badge: it would call validator.swagger.io
                swagger_ui_parameters={"persistAuthorization": True, **(app.swagger_ui_parameters or {}),
                                       "validatorUrl": None},
            )

        app.add_route(app.docs_url, swagger_ui, include_in_schema=False)
        if oauth2_url:
            async def swagger_ui_redirect(request: Request) -> HTMLResponse:
                return get_swagger_ui_oauth2_redirect_html()

            app.add_route(oauth2_url, swagger_ui_redirect, include_in_schema=False)

    if app.redoc_url:
        async def redoc(request: Request) -> HTMLResponse:
            return get_redoc_html(
                openapi_url=_root_path(request) + openapi_url, title=f"{app.title} — ReDoc",
                redoc_js_url=asset(request, "redoc.standalone.js"),
                redoc_favicon_url=asset(request, "favicon-32x32.png"),
                with_google_fonts=False,
            )

        app.add_route(app.redoc_url, redoc, include_in_schema=False)


def _is_route_at(route: BaseRoute, paths: set[str]) -> bool:
    return isinstance(route, Route) and route.path in paths


def _root_path(request: Request) -> str:
    return str(request.scope.get("root_path", "")).rstrip("/")


# -- error responses ---------------------------------------------------------------------------


def add_problem_responses(schema: dict[str, Any]) -> dict[str, Any]:
    """Add the Problem schema, and to each operation the problem+json errors it can answer with."""
    components = schema.setdefault("components", {})
    components.setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    for path, item in schema.get("paths", {}).items():
        for method, operation in item.items():
            if method in HTTP_METHODS:
                _document_errors(path, method, operation, item.get("parameters", []))
    _drop_unused_schemas(schema, ("HTTPValidationError", "ValidationError"))
    return schema


def error_statuses(path: str, method: str, operation: dict[str, Any],
                   shared_parameters: list[dict[str, Any]] | None = None) -> set[int]:
    """The error statuses an operation can answer with, derived from what it declares."""
    parameters = [*(shared_parameters or []), *operation.get("parameters", [])]
    secured = bool(operation.get("security"))
    has_body = "requestBody" in operation
    reads_if_match = any(p.get("in") == "header" and p.get("name", "").lower() == "if-match" for p in parameters)
    statuses: set[int] = set()
    if secured:
        statuses |= {401, 403, 404}
    if re.search(r"{[^}]+}", path):
        statuses.add(404)
    if has_body:
        statuses |= {400, 413}  # 400: a body that cannot be decoded at all
        if _requires_content_type(operation["requestBody"]):
            statuses.add(415)
    if parameters or has_body:
        statuses.add(422)
    if secured and method in WRITE_METHODS:
        statuses.add(409)
    if reads_if_match:
        statuses |= {400, 412}
    if secured:
        statuses.add(503)  # every token is checked against the database
    return statuses


def _requires_content_type(body: dict[str, Any]) -> bool:
    """A body that is not JSON (e.g. a text/plain document) is read as that type only."""
    return any(not media.endswith("json") for media in body.get("content", {}))


def _document_errors(path: str, method: str, operation: dict[str, Any], shared: list[dict[str, Any]]) -> None:
    for parameter in operation.get("parameters", []):
        if parameter.get("in") == "header" and parameter.get("name", "").lower() == "if-match":
            parameter["schema"] = IF_MATCH_SCHEMA
    responses: dict[str, Any] = operation.setdefault("responses", {})
    for status in error_statuses(path, method, operation, shared):
        key = str(status)
        existing = responses.get(key)
        if existing is None or _is_default_validation_error(existing):
            responses[key] = {"description": DESCRIPTIONS[status]}
    # every 4xx (and the 503) without a schema of its own (added above, or by a route's `responses=`)
    # is a problem
    for key, response in responses.items():
        if (key.startswith("4") or key == "503") and not _has_own_schema(response):
            response["content"] = {PROBLEM_JSON: {"schema": _PROBLEM_REF}}


def _is_default_validation_error(response: dict[str, Any]) -> bool:
    return "HTTPValidationError" in json.dumps(response)


def _has_own_schema(response: dict[str, Any]) -> bool:
    return any(media.get("schema") for media in response.get("content", {}).values())


def _drop_unused_schemas(schema: dict[str, Any], names: tuple[str, ...]) -> None:
    schemas = schema.get("components", {}).get("schemas", {})
    for name in names:
        if name in schemas:
            others = {k: v for k, v in schemas.items() if k != name}
            rest = {k: v for k, v in schema.items() if k != "components"}
            if f"#/components/schemas/{name}" not in json.dumps([rest, others]):
                del schemas[name]
