"""The portal's pages: sign-in by emailed link, sign-out, the landing page (Vietnamese, server-rendered)."""

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from services.assignments import signin
from services.assignments.api.deps import MaybeActorDep, StateDep
from services.assignments.errors import TooManyRequests
from shared.identity.cookies import (
    CSRF_FIELD,
    csrf_anchor,
    drop_session_cookie,
    ensure_csrf_cookie,
    keep_alive,
    session_token,
)
from shared.problems import Problem
from shared.web.forms import form_fields
from shared.web.pages import environment, render, wants_html

router = APIRouter(include_in_schema=False)  # pages for people; the API is documented apart
templates = environment(Path(__file__).resolve().parents[1] / "templates")

SENT = ("Nếu địa chỉ này thuộc một cán bộ, chúng tôi đã gửi đường dẫn đăng nhập tới hộp thư đó. "
        "Đồng chí hãy mở thư và bấm vào đường dẫn trong vòng {minutes} phút.")
BAD_EMAIL = "Địa chỉ thư điện tử chưa đúng, ví dụ: lan.nt@travinh.gov.vn."
EMAIL_MAX = 320


def safe_next(value: str, sites: tuple[str, ...] = ()) -> str:
    """A same-site path to go to after signing in, or a page under one of `sites` (the portal's other
    services: the dashboard); "/" for anything else."""
    if len(value) > 500 or "\\" in value:
        return "/"
    if value.startswith("/") and not value.startswith("//"):
        return value
    if any(site and value.startswith(site.rstrip("/") + "/") for site in sites):
        return value
    return "/"


def _next(state: Any, value: str) -> str:
    return safe_next(value, (state.settings.reporting_public_url,))


def page(request: Request, state: Any, template: str, title: str, *, status_code: int = 200,
          user: str = "", role: str = "", **context: Any) -> Response:
    """A page with the shell's context: who is signed in (name and role: the navigation), the
    dashboard's address and the CSRF token of its forms."""
    anchor = csrf_anchor(request, state.settings.session_cookies(), state.now()) or ensure_csrf_cookie(request)
    return render(templates, template, {"title": title, "user": user, "role": role, "portal_url": "",
                                        "dashboard_url": state.settings.reporting_public_url.rstrip("/"),
                                        "csrf_token": state.settings.session_cookies().csrf_token(anchor),
                                        **context}, status_code=status_code)


def refuse(request: Request, state: Any, status: int, detail: str, title: str, message: str) -> Response:
    """A refusal: a Vietnamese page for a browser, problem+json for anything else."""
    if not wants_html(request):
        raise Problem(status, detail)
    return page(request, state, "message.html", title, status_code=status, message=message,
                 link="/signin", link_label="Quay lại trang đăng nhập")


def csrf_ok(request: Request, state: Any, fields: dict[str, str]) -> bool:
    cookies = state.settings.session_cookies()
    return cookies.csrf_ok(csrf_anchor(request, cookies, state.now()), fields.get(CSRF_FIELD, ""))


def bad_csrf(request: Request, state: Any) -> Response:
    return refuse(request, state, 403, "The form's CSRF token is missing or wrong: reload the page and try again.",
                   "Biểu mẫu đã hết hiệu lực", "Biểu mẫu đã hết hiệu lực hoặc không hợp lệ. "
                   "Đồng chí hãy tải lại trang và thử lại.")


@router.get("/")
def home(request: Request, state: StateDep, actor: MaybeActorDep) -> Response:
    """The landing page of a signed-in official (the way to their role's pages); anyone else signs in."""
    if actor is None:
        return RedirectResponse("/signin", status_code=303)
    return page(request, state, "home.html", "Trang chủ", user=actor.name, role=actor.role.value,
                idle_minutes=state.settings.session_idle_minutes)


@router.get("/signin")
def signin_form(request: Request, state: StateDep, next: str = "/") -> Response:
    """The sign-in form: an email address."""
    return page(request, state, "signin.html", "Đăng nhập", next=_next(state, next), email="", error="",
                 link_minutes=state.settings.signin_link_minutes)


@router.post("/signin")
async def signin_request(request: Request, state: StateDep) -> Response:
    """Email a sign-in link; the same answer whether the address is known or not."""
    fields = await form_fields(request)
    if not csrf_ok(request, state, fields):
        return bad_csrf(request, state)
    email = fields.get("email", "").strip()
    if not (0 < len(email) <= EMAIL_MAX and "@" in email.strip("@") and " " not in email):
        if not wants_html(request):
            raise Problem(422, "Send the email address of an official.")
        return page(request, state, "signin.html", "Đăng nhập", status_code=422,
                     next=_next(state, fields.get("next", "/")), email=email[:EMAIL_MAX], error=BAD_EMAIL,
                     link_minutes=state.settings.signin_link_minutes)
    address = request.client.host if request.client else "unknown"
    try:
        with state.uow() as session:
            signin.request_link(session, email=email, address=address, now=state.now(), settings=state.settings,
                                next_page=_next(state, fields.get("next", "/")),
                                correlation_id=getattr(request.state, "request_id", ""))
    except TooManyRequests as exc:
        response = refuse(request, state, 429, exc.detail, "Quá nhiều yêu cầu",
                           "Đồng chí đã yêu cầu đăng nhập quá nhiều lần. Xin thử lại sau ít phút.")
        response.headers["Retry-After"] = str(state.settings.signin_window_minutes * 60)
        return response
    return page(request, state, "message.html", "Kiểm tra hộp thư", link="", link_label="",
                 message=SENT.format(minutes=state.settings.signin_link_minutes))


@router.get("/signin/{token}")
def signin_confirm(request: Request, state: StateDep, token: str, next: str = "/") -> Response:
    """Ask to confirm: a mail scanner that opens the link does not spend it."""
    return page(request, state, "signin_confirm.html", "Xác nhận đăng nhập", token=token[:100],
                 next=_next(state, next))


@router.post("/signin/{token}")
async def signin_use(request: Request, state: StateDep, token: str) -> Response:
    """Spend the link on a browser session: the session cookie, then the page asked for."""
    fields = await form_fields(request)
    if not csrf_ok(request, state, fields):
        return bad_csrf(request, state)
    now = state.now()
    with state.uow() as session:
        started = signin.use_link(session, token=token, now=now, settings=state.settings,
                                  correlation_id=getattr(request.state, "request_id", ""))
    if started is None:
        return refuse(request, state, 400, "This sign-in link is unknown, used or expired.",
                       "Đường dẫn không còn hiệu lực", "Đường dẫn đăng nhập này không đúng, đã được dùng "
                       "hoặc đã hết hạn. Đồng chí hãy yêu cầu một đường dẫn mới.")
    keep_alive(request, state.settings.session_cookies(), started.token, now)
    return RedirectResponse(_next(state, fields.get("next", "/")), status_code=303)


@router.post("/signout")
async def signout(request: Request, state: StateDep) -> Response:
    """End the browser's session and forget its cookie."""
    fields = await form_fields(request)
    cookies = state.settings.session_cookies()
    now = state.now()
    token = session_token(request, cookies, now)
    if token is not None:
        if not cookies.csrf_ok(token, fields.get(CSRF_FIELD) or request.headers.get("x-csrf-token", "")):
            return bad_csrf(request, state)
        with state.uow() as session:
            signin.end_session(session, token=token, now=now, actor=None)
    drop_session_cookie(request)
    return RedirectResponse("/signin", status_code=303)
