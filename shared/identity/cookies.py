"""The browser session cookie and CSRF tokens, the same in every service that serves pages.

The cookie holds the session token and the time of the caller's last request, signed (HMAC-SHA256)
with the secret the page-serving services share. Each service checks the idle timeout from the
cookie alone and slides it forward on every request, with no write to any database; the absolute
expiry and the end of a session come from the session's row (the assignments service's own, or the
`identity_sessions` every other service projects from events).

CSRF: a form carries HMAC(secret, anchor), where the anchor is the session token once signed in,
or before that the random `plantrack_csrf` cookie (signed double submit). Unsafe requests that
authenticate by the cookie must send it back (form field or `X-CSRF-Token`); bearer calls need not.
"""

import base64
import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.cookies import SimpleCookie
from typing import TypeVar

from fastapi import Request
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.web.forms import form_fields

SESSION_COOKIE = "plantrack_session"
CSRF_COOKIE = "plantrack_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_STATE_KEY = "plantrack_set_cookies"  # Set-Cookie values the middleware adds to the response

Found = TypeVar("Found")


def _mac(secret: bytes, message: str) -> str:
    digest = hmac.new(secret, message.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@dataclass(frozen=True)
class SessionCookies:
    """The shared secret and the idle timeout: what sealing and opening a session cookie needs."""

    secret: bytes
    idle: timedelta

    def seal(self, token: str, now: datetime) -> str:
        """The cookie value for `token`, active at `now`."""
        body = f"{token}.{int(now.timestamp())}"
        return f"{body}.{_mac(self.secret, 'session|' + body)}"

    def open(self, value: str, now: datetime) -> str | None:
        """The session token of a cookie signed by us and used within the idle timeout, else None."""
        token, _, rest = value.partition(".")
        stamp, _, mac = rest.partition(".")
        expected = _mac(self.secret, f"session|{token}.{stamp}")
        if not token or not stamp.isdigit() or not hmac.compare_digest(mac, expected):
            return None
        last = datetime.fromtimestamp(int(stamp), UTC)
        return token if last <= now + timedelta(minutes=1) and now - last <= self.idle else None

    def csrf_token(self, anchor: str) -> str:
        """The CSRF token forms carry for `anchor`."""
        return _mac(self.secret, "csrf|" + anchor)

    def csrf_ok(self, anchor: str, given: str) -> bool:
        """True when `given` is the CSRF token of `anchor`."""
        return bool(anchor) and hmac.compare_digest(given, self.csrf_token(anchor))


def session_token(request: Request, cookies: SessionCookies, now: datetime) -> str | None:
    """The session token of the request's cookie, if valid and not idle."""
    value = request.cookies.get(SESSION_COOKIE)
    return cookies.open(value, now) if value else None


def csrf_anchor(request: Request, cookies: SessionCookies, now: datetime) -> str:
    """What the request's CSRF token is bound to: its session, or else its `plantrack_csrf` cookie."""
    return session_token(request, cookies, now) or request.cookies.get(CSRF_COOKIE, "")


MULTIPART_TYPE = "multipart/form-data"
MULTIPART_MAX_FILES = 1  # the pages' upload forms carry one file each
MULTIPART_MAX_FIELDS = 50


async def submitted_csrf(request: Request) -> str:
    """The CSRF token an unsafe request sent: the header, or the field of a urlencoded or multipart form."""
    if request.method in SAFE_METHODS:
        return ""
    if header := request.headers.get(CSRF_HEADER, ""):
        return header
    if request.headers.get("content-type", "").startswith(MULTIPART_TYPE):
        # Starlette keeps the parsed form (files spooled to disk) for the route's own request.form()
        form = await request.form(max_files=MULTIPART_MAX_FILES, max_fields=MULTIPART_MAX_FIELDS)
        value = form.get(CSRF_FIELD)
        return value if isinstance(value, str) else ""
    return (await form_fields(request)).get(CSRF_FIELD, "")


def forbidden_csrf() -> HTTPException:
    """The answer to a cookie-authenticated unsafe request without its CSRF token."""
    return HTTPException(403, "The form's CSRF token is missing or wrong: reload the page and try again.")


def add_cookie(request: Request, name: str, value: str, *, max_age: int, http_only: bool = True) -> None:
    """Set a cookie on whatever response this request gets (HttpOnly, SameSite=Lax, Secure over HTTPS)."""
    jar: SimpleCookie = SimpleCookie()
    jar[name] = value
    morsel = jar[name]
    morsel["path"], morsel["max-age"], morsel["samesite"] = "/", str(max_age), "Lax"
    morsel["httponly"] = http_only
    morsel["secure"] = request.url.scheme == "https"
    request.scope.setdefault("state", {}).setdefault(_STATE_KEY, {})[name] = morsel.OutputString()


def keep_alive(request: Request, cookies: SessionCookies, token: str, now: datetime) -> None:
    """Slide the session's idle timeout forward from `now`."""
    add_cookie(request, SESSION_COOKIE, cookies.seal(token, now), max_age=int(cookies.idle.total_seconds()))


def drop_session_cookie(request: Request) -> None:
    """Remove the session cookie from the browser."""
    add_cookie(request, SESSION_COOKIE, "", max_age=0)


def ensure_csrf_cookie(request: Request) -> str:
    """The request's `plantrack_csrf` value, set in the browser first if it has none."""
    value = request.cookies.get(CSRF_COOKIE) or request.scope.get("state", {}).get("plantrack_csrf_new")
    if not value:
        value = secrets.token_urlsafe(24)
        request.scope.setdefault("state", {})["plantrack_csrf_new"] = value
        add_cookie(request, CSRF_COOKIE, value, max_age=12 * 3600)
    return str(value)


def by_cookie(
    request: Request, cookies: SessionCookies, csrf: str, now: datetime, lookup: Callable[[str], Found | None],
) -> Found | None:
    """Authenticate by the session cookie: `lookup(token)` finds the caller, an unsafe request must
    carry its CSRF token (403), and the idle timeout slides. None when there is no live session."""
    token = session_token(request, cookies, now)
    found = lookup(token) if token else None
    if token is None or found is None:
        return None
    if request.method not in SAFE_METHODS and not cookies.csrf_ok(token, csrf):
        raise forbidden_csrf()
    keep_alive(request, cookies, token, now)
    return found


class CookieMiddleware:
    """Adds the cookies a request's handlers asked for to its response, whatever response it is."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_cookies(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for value in scope.get("state", {}).get(_STATE_KEY, {}).values():
                    headers.append("Set-Cookie", value)
            await send(message)

        await self.app(scope, receive, send_with_cookies)
