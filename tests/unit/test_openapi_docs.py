"""The OpenAPI documents and docs pages of the three services: offline, secured, errors as problem+json."""

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest.mock import ANY

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from services.assignments.app import create_app as create_assignments
from services.assignments.settings import AssignmentsSettings
from services.notifications.app import create_app as create_notifications
from services.notifications.settings import NotificationsSettings
from services.reporting.app import create_app as create_reporting
from services.reporting.settings import ReportingSettings
from shared.problems import PROBLEM_JSON

SERVICES = ("assignments", "notifications", "reporting")
METHODS = {"get", "put", "post", "patch", "delete"}
PROBLEM_REF = "#/components/schemas/Problem"


def make_app(service: str, tmp_path: Path) -> FastAPI:
    """A service's ASGI app, not started: the docs need neither its database nor the broker."""
    if service == "assignments":
        return create_assignments(AssignmentsSettings(database_url=f"sqlite:///{tmp_path}/a.db", relay_enabled=False))
    if service == "notifications":
        return create_notifications(NotificationsSettings(database_url=f"sqlite:///{tmp_path}/n.db"))  # type: ignore[return-value]
    return create_reporting(ReportingSettings(database_url=f"sqlite:///{tmp_path}/r.db"))  # type: ignore[return-value]


@pytest.fixture(params=SERVICES)
def client(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TestClient]:
    """A client of one service (no lifespan)."""
    yield TestClient(make_app(request.param, tmp_path))


def operations(schema: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield path, method, operation


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_pages_load_everything_from_the_app(client: TestClient, page: str) -> None:
    response = client.get(page)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    html = response.text
    outside = re.findall(r"(?:https?:)?//[^\s'\"<>)]+", html)
    assert outside == [], f"{page} loads from outside the app: {outside}"
    assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", html)
    assert any(a.endswith(".js") for a in assets), assets
    for asset in assets:
        answer = client.get(asset)
        assert answer.status_code == 200, asset
        assert len(answer.content) > 100, asset
    spec = re.search(r"""(?:url: |spec-url=)["']([^"']+)["']""", html)
    assert spec is not None and client.get(spec.group(1)).status_code == 200


def test_swagger_oauth2_redirect_page_is_served(client: TestClient) -> None:
    response = client.get("/docs/oauth2-redirect")
    assert response.status_code == 200 and "oauth2" in response.text.lower()


def test_every_error_response_is_a_documented_problem(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    problem = schema["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "detail", "instance", "correlation_id", "errors"} <= set(problem["properties"])
    assert "HTTPValidationError" not in str(schema)
    for path, method, operation in operations(schema):
        responses = operation["responses"]
        where = f"{method.upper()} {path}"
        assert "500" not in responses, where
        for status, response in responses.items():
            if (where, status) == ("GET /unsubscribe", "400"):  # a page: a person opened the link in a browser
                assert set(response["content"]) == {"text/html"}
            elif status.startswith("4"):
                assert response["content"][PROBLEM_JSON]["schema"] == {"$ref": PROBLEM_REF}, (where, status)
        if operation.get("parameters") or "requestBody" in operation:
            assert "422" in responses, where
        if "requestBody" in operation:
            assert "413" in responses, where
        if re.search(r"{\w+}", path):
            assert "404" in responses, where
    ready = schema["paths"]["/ready"]["get"]["responses"]
    assert "503" in ready and "application/json" in ready["503"]["content"]


@pytest.mark.parametrize("service", ["assignments", "reporting", "notifications"])
def test_every_operation_but_health_declares_the_one_bearer_scheme(tmp_path: Path, service: str) -> None:
    schema = TestClient(make_app(service, tmp_path)).get("/openapi.json").json()
    schemes = schema["components"]["securitySchemes"]
    assert schemes == {"bearerToken": {"type": "http", "scheme": "bearer", "description": ANY}}  # one token everywhere
    for path, method, operation in operations(schema):
        where = f"{method.upper()} {path}"
        if path in {"/health", "/ready", "/unsubscribe"}:  # an unsubscribe link's signed token is its credential
            assert "security" not in operation, where
            continue
        assert operation.get("security") == [{name: []} for name in schemes], where
        assert {"401", "403", "404"} <= set(operation["responses"]), where
        if method != "get" and service == "assignments":
            assert "409" in operation["responses"], where
        if any(p["name"].lower() == "if-match" for p in operation.get("parameters", [])):
            assert {"400", "412"} <= set(operation["responses"]), where


def test_authorize_in_swagger_ui_sends_the_bearer_token(tmp_path: Path) -> None:
    """What /docs sends once authorised: the scheme's header, which the API accepts."""
    with TestClient(make_app("assignments", tmp_path)) as client:
        anonymous = client.get("/me")
        assert anonymous.status_code == 401 and anonymous.headers["content-type"].startswith(PROBLEM_JSON)
        assert client.get("/me", headers={"Authorization": "Bearer nope"}).status_code == 401
        assert client.get("/me", headers={"Authorization": "Basic eDp5"}).status_code == 401


def test_error_statuses_are_derived_from_the_operation() -> None:
    from shared.openapi import error_statuses

    secured_write = {"security": [{"HTTPBearer": []}], "requestBody": {"content": {"application/json": {}}},
                     "parameters": [{"in": "header", "name": "if-match"}]}
    assert error_statuses("/plans/{plan_id}", "patch", secured_write) == {400, 401, 403, 404, 409, 412, 413, 422, 503}
    assert error_statuses("/health", "get", {}) == set()
    assert error_statuses("/plans/{plan_id}/export.csv", "get", {"parameters": [{"in": "path"}]}) == {404, 422}
    assert error_statuses("/units", "post", {"requestBody": {"content": {"application/json": {}}}}) == {400, 413, 422}
    text_body = {"security": [{"HTTPBearer": []}], "requestBody": {"content": {"text/plain": {}}}}
    assert 415 in error_statuses("/plans/import", "post", text_body)


def test_405_allows_every_method_of_the_path(tmp_path: Path) -> None:
    """Starlette's Allow names only the first route matching the path; the document lists them all."""
    client = TestClient(make_app("assignments", tmp_path))
    response = client.request("OPTIONS", "/units")
    assert response.status_code == 405 and response.headers["content-type"].startswith(PROBLEM_JSON)
    assert response.headers["allow"] == "GET, POST"
    assert client.request("DELETE", "/plans/3").headers["allow"] == "GET, PATCH"


def test_if_match_is_documented_as_an_etag(tmp_path: Path) -> None:
    schema = TestClient(make_app("assignments", tmp_path)).get("/openapi.json").json()
    (if_match,) = [p for p in schema["paths"]["/plans/{plan_id}"]["patch"]["parameters"] if p["name"] == "if-match"]
    assert re.match(if_match["schema"]["pattern"], 'W/"3"') and not re.match(if_match["schema"]["pattern"], "null")
