"""The request body limit and request ids: pure ASGI middlewares, applied before any route or auth."""

import json
from collections.abc import AsyncIterator, Iterator
from typing import Annotated

import httpx
import pytest
from fastapi import Depends, FastAPI, Request
from pydantic import BaseModel
from starlette.middleware.base import BaseHTTPMiddleware

from services.assignments.app import create_app as create_assignments
from services.assignments.settings import AssignmentsSettings
from services.notifications.app import create_app as create_notifications
from services.notifications.settings import NotificationsSettings
from services.reporting.app import create_app as create_reporting
from services.reporting.settings import ReportingSettings
from shared.http import install_common
from shared.logging import correlation_id_var
from shared.problems import PROBLEM_JSON, Problem, install_problem_handlers

LIMIT = 1000
CHUNK = 100


class Note(BaseModel):
    text: str


def refuse_everyone() -> None:
    raise Problem(401, "no token")


def small_app() -> tuple[FastAPI, list[str]]:
    """An app with the common middlewares, a route behind auth and one that reads the raw body."""
    app = FastAPI()
    ran: list[str] = []
    install_problem_handlers(app)
    install_common(app, max_body_bytes=LIMIT)

    @app.post("/notes", status_code=201)
    def add_note(note: Note, _: Annotated[None, Depends(refuse_everyone)]) -> Note:
        ran.append("notes")
        return note

    @app.post("/raw")
    async def raw(request: Request) -> dict[str, object]:
        ran.append("raw")
        body = await request.body()
        return {"size": len(body), "request_id": request.state.request_id, "correlation_id": correlation_id_var.get()}

    return app, ran


class Chunks:
    """A chunked request body that counts how much of it the server pulled."""

    def __init__(self, count: int, size: int = CHUNK) -> None:
        self.count, self.size, self.pulled = count, size, 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for _ in range(self.count):
            self.pulled += 1
            yield b"x" * self.size


async def post(app: FastAPI, path: str, content: object, headers: dict[str, str] | None = None) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return await client.post(path, content=content, headers=headers)  # type: ignore[arg-type]


def assert_413(response: httpx.Response) -> dict:
    assert response.status_code == 413, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    body = response.json()
    assert body["status"] == 413 and f"{LIMIT} bytes" in body["detail"]
    assert body["correlation_id"] == response.headers["x-request-id"]
    return body


async def test_chunked_body_over_the_limit_is_refused_before_auth_and_not_read_to_the_end() -> None:
    app, ran = small_app()
    body = Chunks(count=1000)  # 100 kB, no Content-Length
    response = await post(app, "/notes", body, {"Content-Type": "application/json"})
    assert_413(response)  # not the 401 of the auth dependency: the limit comes first
    assert body.pulled <= LIMIT // CHUNK + 1, f"read {body.pulled} chunks after the limit"
    assert ran == []


async def test_a_route_reading_the_raw_body_is_stopped_at_the_limit() -> None:
    app, ran = small_app()
    body = Chunks(count=1000)
    assert_413(await post(app, "/raw", body))
    assert body.pulled <= LIMIT // CHUNK + 1
    assert ran == ["raw"]  # it started reading, and got no further than the limit


async def test_content_length_over_the_limit_is_refused_before_reading() -> None:
    app, ran = small_app()
    body = Chunks(count=20)
    response = await post(app, "/notes", body, {"Content-Length": str(20 * CHUNK)})
    assert_413(response)
    assert body.pulled == 0 and ran == []


async def test_bodies_up_to_the_limit_reach_the_route() -> None:
    app, _ = small_app()
    assert (await post(app, "/raw", Chunks(count=LIMIT // CHUNK))).json()["size"] == LIMIT
    assert (await post(app, "/raw", b"y" * LIMIT)).json()["size"] == LIMIT
    response = await post(app, "/notes", json.dumps({"text": "ok"}).encode(), {"Content-Type": "application/json"})
    assert response.status_code == 401  # under the limit: the auth dependency answers


@pytest.mark.parametrize(("length", "status"), [
    (b"3x", 400), ("\u00b2".encode("latin-1"), 400), ("\u0663".encode(), 400), (b"9" * 5000, 413),
])
async def test_a_malformed_or_absurd_content_length_is_4xx(length: bytes, status: int) -> None:
    app, _ = small_app()

    async def receive() -> dict:
        return {"type": "http.request", "body": b"abc", "more_body": False}

    sent: list[dict] = []

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/raw", "raw_path": b"/raw", "query_string": b"",
             "headers": [(b"content-length", length)], "http_version": "1.1", "scheme": "http",
             "server": ("test", 80), "client": ("test", 1), "root_path": "", "asgi": {"version": "3.0"}}
    await app(scope, receive, send)  # raw ASGI: httpx would refuse to send such a header
    assert sent[0]["status"] == status
    assert dict(sent[0]["headers"])[b"content-type"].startswith(PROBLEM_JSON.encode())


async def test_request_id_is_taken_if_safe_echoed_and_visible_to_the_route_and_logs() -> None:
    app, _ = small_app()
    response = await post(app, "/raw", b"", {"X-Request-ID": "req-42.a:b"})
    assert response.headers["x-request-id"] == "req-42.a:b"
    assert response.json() == {"size": 0, "request_id": "req-42.a:b", "correlation_id": "req-42.a:b"}
    response = await post(app, "/raw", b"", {"X-Request-ID": "bad id\twith spaces"})
    generated = response.headers["x-request-id"]
    assert generated != "bad id\twith spaces" and len(generated) == 32
    assert response.json()["request_id"] == generated == response.json()["correlation_id"]
    assert correlation_id_var.get() == ""  # reset after the request


@pytest.fixture
def service_apps(tmp_path) -> Iterator[list[FastAPI]]:  # type: ignore[no-untyped-def]
    """The three services' HTTP apps (not started)."""
    yield [
        create_assignments(AssignmentsSettings(database_url=f"sqlite:///{tmp_path}/a.db", relay_enabled=False)),
        create_notifications(NotificationsSettings(database_url=f"sqlite:///{tmp_path}/n.db"))._application,
        create_reporting(ReportingSettings(database_url=f"sqlite:///{tmp_path}/r.db"))._application,
    ]


def test_every_service_limits_bodies_with_pure_asgi_middlewares(service_apps: list[FastAPI]) -> None:
    from shared.body_limit import BodySizeLimitMiddleware
    from shared.http import RequestIdMiddleware
    from shared.metrics.http import HttpMetricsMiddleware

    for app in service_apps:
        classes = [m.cls for m in app.user_middleware]  # outermost first
        # request metrics outermost (they time and count every answer, a refused body's too), then ids and the limit
        assert classes[:3] == [HttpMetricsMiddleware, RequestIdMiddleware, BodySizeLimitMiddleware], app.title
        assert not [c for c in classes if isinstance(c, type) and issubclass(c, BaseHTTPMiddleware)], app.title
