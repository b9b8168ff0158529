"""Sign-in by emailed link and browser sessions on the assignments service (TestClient, SQLite).

The emailed link is read from the outbox event, as the notifications service receives it; the
service's clock (`AppState.now`) is moved to pass the link's, the idle and the absolute timeouts.
"""

import json
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from shared.events.base import utcnow
from shared.identity.cookies import SESSION_COOKIE, SessionCookies
from shared.problems import PROBLEM_JSON
from tests.unit.conftest import Api

SECRET = "test-session-secret"
HTML = {"Accept": "text/html"}
SENT = "Nếu địa chỉ này thuộc một cán bộ, chúng tôi đã gửi đường dẫn đăng nhập"


class Clock:
    """The service's clock, moved by the test."""

    def __init__(self) -> None:
        self.at = utcnow()

    def __call__(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        self.at += timedelta(**delta)


@pytest.fixture
def portal(make_api: Callable[..., Api]) -> tuple[Api, Clock, dict]:
    """An assignments app with a session secret, its clock, and an active unit officer."""
    api = make_api(session_secret=SECRET, signin_per_email=3, signin_per_address=5)
    clock = Clock()
    api.app.state.plantrack.now = clock
    unit = api.unit("CB1")
    official, _ = api.official("unit_officer", unit["id"], name="Trần Văn Bình", email="binh@example.vn")
    return api, clock, official


def browser(api: Api) -> TestClient:
    """A fresh browser: its own cookie jar, no bearer token."""
    return TestClient(api.app, follow_redirects=False)


def csrf(page: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, page
    return match.group(1)


def ask_link(client: TestClient, email: str) -> object:
    form = client.get("/signin", headers=HTML)
    assert form.status_code == 200 and 'lang="vi"' in form.text and '<label for="email">' in form.text
    return client.post("/signin", data={"email": email, "csrf_token": csrf(form.text)}, headers=HTML)


def links(api: Api) -> list[dict]:
    return [json.loads(row.body)["payload"] for row in api.outbox() if row.event_type == "signin_link.requested.v1"]


def sign_in(api: Api, client: TestClient, email: str = "binh@example.vn") -> str:
    """Ask for a link, open it, confirm; return the link's path."""
    response = ask_link(client, email)
    assert response.status_code == 200 and SENT in response.text  # type: ignore[attr-defined]
    path = urlsplit(links(api)[-1]["link"]).path
    confirm = client.get(path, headers=HTML)
    assert confirm.status_code == 200 and "Đăng nhập" in confirm.text
    done = client.post(path, data={"csrf_token": csrf(confirm.text)}, headers=HTML)
    assert done.status_code == 303 and done.headers["location"] == "/", done.text
    cookie = done.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    return path


def test_a_link_opens_a_session_once_and_sign_out_ends_it(portal: tuple[Api, Clock, dict]) -> None:
    api, clock, official = portal
    client = browser(api)
    path = sign_in(api, client)
    (link,) = links(api)
    assert link["official_id"] == official["id"] and link["email"] == "binh@example.vn"
    me = client.get("/me")
    assert me.status_code == 200 and me.json()["id"] == official["id"]
    home = client.get("/", headers=HTML)
    assert home.status_code == 200 and "Trần Văn Bình" in home.text and "Đăng xuất" in home.text

    again = browser(api)
    confirm = again.get(path, headers=HTML)
    reused = again.post(path, data={"csrf_token": csrf(confirm.text)}, headers=HTML)
    assert reused.status_code == 400 and "không còn hiệu lực" in reused.text  # one use only

    started = [row for row in api.outbox() if row.event_type == "web_session.started.v1"]
    assert len(started) == 1 and "session_hash" in started[0].body
    cookie = client.cookies[SESSION_COOKIE]
    assert cookie.split(".")[0] not in started[0].body  # only the hash travels

    assert client.post("/signout", headers=HTML).status_code == 403  # no CSRF token
    out = client.post("/signout", data={"csrf_token": csrf(home.text)}, headers=HTML)
    assert out.status_code == 303 and out.headers["location"] == "/signin"
    assert [row.event_type for row in api.outbox()][-1] == "web_session.ended.v1"
    stale = browser(api)
    stale.cookies.set(SESSION_COOKIE, cookie)
    assert stale.get("/me").status_code == 401
    assert stale.get("/", headers=HTML).headers["location"] == "/signin"


def test_an_expired_link_fails(portal: tuple[Api, Clock, dict]) -> None:
    api, clock, _ = portal
    client = browser(api)
    ask_link(client, "binh@example.vn")
    path = urlsplit(links(api)[-1]["link"]).path
    confirm = client.get(path, headers=HTML)
    clock.advance(minutes=15, seconds=1)
    assert client.post(path, data={"csrf_token": csrf(confirm.text)}, headers=HTML).status_code == 400
    assert SESSION_COOKIE not in client.cookies


def test_unknown_and_inactive_emails_get_the_same_answer(portal: tuple[Api, Clock, dict]) -> None:
    api, _, _ = portal
    known = ask_link(browser(api), "binh@example.vn")
    unknown = ask_link(browser(api), "nobody@example.vn")
    assert known.status_code == unknown.status_code == 200  # type: ignore[attr-defined]
    assert SENT in unknown.text and unknown.text == known.text  # type: ignore[attr-defined]
    assert len(links(api)) == 1


def test_a_bad_email_is_told_next_to_its_field(portal: tuple[Api, Clock, dict]) -> None:
    api, _, _ = portal
    response = ask_link(browser(api), "not-an-email")
    page = response.text  # type: ignore[attr-defined]
    assert response.status_code == 422  # type: ignore[attr-defined]
    assert 'aria-describedby="email-hint email-error"' in page and 'id="email-error"' in page
    assert "Địa chỉ thư điện tử chưa đúng" in page


def test_requests_are_limited_per_email_and_per_address(portal: tuple[Api, Clock, dict]) -> None:
    api, clock, _ = portal
    client = browser(api)
    answers = [ask_link(client, "binh@example.vn").status_code for _ in range(4)]  # type: ignore[attr-defined]
    assert answers == [200, 200, 200, 429]
    api_answer = client.post("/signin", data={"email": "x@example.vn", "csrf_token": "whatever"})
    assert api_answer.status_code == 403 and api_answer.headers["content-type"].startswith(PROBLEM_JSON)
    # per address: 5 in the window, whatever the email
    assert ask_link(client, "other@example.vn").status_code == 200  # type: ignore[attr-defined]
    assert ask_link(client, "third@example.vn").status_code == 429  # type: ignore[attr-defined]
    clock.advance(minutes=16)
    assert ask_link(client, "binh@example.vn").status_code == 200  # type: ignore[attr-defined]


def test_csrf_is_required_on_unsafe_cookie_requests_only(portal: tuple[Api, Clock, dict]) -> None:
    api, _, _ = portal
    assert browser(api).post("/signin", data={"email": "binh@example.vn"}).status_code == 403
    client = browser(api)
    sign_in(api, client)
    home = client.get("/", headers=HTML)
    body = {"code": "CB9", "name": "Chi bộ 9", "kind": "party_cell"}
    assert client.post("/units", json=body).status_code == 403  # a unit officer, but first: no CSRF token
    assert client.post("/units", json=body, headers={"X-CSRF-Token": "wrong"}).status_code == 403
    forbidden = client.post("/units", json=body, headers={"X-CSRF-Token": csrf(home.text)})
    assert forbidden.status_code == 403 and "admin" in forbidden.json()["detail"].lower()  # the role, now
    assert api.post("/units", body).status_code == 201  # bearer calls need no CSRF token


def test_idle_and_absolute_timeouts(portal: tuple[Api, Clock, dict]) -> None:
    api, clock, _ = portal
    client = browser(api)
    sign_in(api, client)
    for _ in range(30):  # active every 25 minutes: the idle timeout slides
        clock.advance(minutes=25)
        if clock.at - utcnow() >= timedelta(hours=12):
            break
        assert client.get("/me").status_code == 200
    assert client.get("/me").status_code == 401  # 12 hours after sign-in, however active

    idle = browser(api)
    sign_in(api, idle)
    clock.advance(minutes=31)
    assert idle.get("/me").status_code == 401


def test_a_forged_or_idle_cookie_is_refused(portal: tuple[Api, Clock, dict]) -> None:
    api, clock, _ = portal
    client = browser(api)
    sign_in(api, client)
    token = client.cookies[SESSION_COOKIE].split(".")[0]
    forged = SessionCookies(b"another secret", timedelta(minutes=30)).seal(token, clock.at)
    idle = SessionCookies(SECRET.encode(), timedelta(minutes=30)).seal(token, clock.at - timedelta(minutes=31))
    for value in (forged, idle, token):
        other = browser(api)
        other.cookies.set(SESSION_COOKIE, value)
        assert other.get("/me").status_code == 401


def test_an_admin_ends_an_officials_sessions_and_deactivation_does_too(portal: tuple[Api, Clock, dict]) -> None:
    api, _, official = portal
    first, second = browser(api), browser(api)
    sign_in(api, first)
    sign_in(api, second)
    ended = api.call("DELETE", f"/officials/{official['id']}/sessions")
    assert ended.status_code == 200 and ended.json() == {"ended": 2}
    assert first.get("/me").status_code == 401 and second.get("/me").status_code == 401
    assert sum(row.event_type == "web_session.ended.v1" for row in api.outbox()) == 2

    third = browser(api)
    sign_in(api, third)
    api.ok(api.call("PATCH", f"/officials/{official['id']}", json={"active": False}), 200)
    assert third.get("/me").status_code == 401
    assert sum(row.event_type == "web_session.ended.v1" for row in api.outbox()) == 3


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "/\\evil.example"])
def test_next_stays_on_the_site(target: str) -> None:
    from services.assignments.api.pages import safe_next

    assert safe_next(target) == "/"
    assert safe_next(target, ("https://bao-cao.example",)) == "/"
    assert safe_next("/plans/3?x=1") == "/plans/3?x=1"


def test_next_may_be_the_dashboard() -> None:
    from services.assignments.api.pages import safe_next

    dashboard = "http://127.0.0.1:8003/dashboard/plans/1?as_of=2026-06-30"
    assert safe_next(dashboard, ("http://127.0.0.1:8003",)) == dashboard
    assert safe_next("http://127.0.0.1:8003.evil.example/x", ("http://127.0.0.1:8003",)) == "/"
    assert safe_next(dashboard) == "/"


def test_the_stylesheet_is_served_from_the_package(portal: tuple[Api, Clock, dict]) -> None:
    api, _, _ = portal
    page = browser(api).get("/signin", headers=HTML).text
    href = re.search(r'<link rel="stylesheet" href="([^"]+)"', page)
    assert href and href.group(1).startswith("/static/")
    css = browser(api).get(href.group(1))
    assert css.status_code == 200 and ":focus-visible" in css.text
    assert 'name="viewport"' in page and "http" not in href.group(1)


def test_the_emailed_link_leads_on_to_the_page_that_asked_for_sign_in(portal: tuple[Api, Clock, dict]) -> None:
    api, _, _ = portal
    client = browser(api)
    asked = client.get("/unit?plan_id=3", headers=HTML)
    assert asked.status_code == 303 and asked.headers["location"] == "/signin?next=%2Funit%3Fplan_id%3D3"
    form = client.get(asked.headers["location"], headers=HTML)
    assert client.post("/signin", headers=HTML, data={"email": "binh@example.vn", "next": "/unit?plan_id=3",
                                                      "csrf_token": csrf(form.text)}).status_code == 200
    link = urlsplit(links(api)[-1]["link"])
    assert link.query == "next=%2Funit%3Fplan_id%3D3"
    confirm = client.get(f"{link.path}?{link.query}", headers=HTML)
    assert 'name="next" value="/unit?plan_id=3"' in confirm.text
    used = client.post(link.path, headers=HTML, data={"csrf_token": csrf(confirm.text), "next": "/unit?plan_id=3"})
    assert used.status_code == 303 and used.headers["location"] == "/unit?plan_id=3"
