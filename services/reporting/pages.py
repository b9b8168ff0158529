"""The dashboard: where each plan stands, for people (the figures of GET /plans/{id}/progress, in Vietnamese)."""

import re
from datetime import date
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.security import HTTPAuthorizationCredentials
from sqlalchemy import Engine
from sqlmodel import Session, col, select
from starlette.exceptions import HTTPException

from services.reporting import progress
from services.reporting.models import ReportAssignment, ReportPlan
from services.reporting.settings import ReportingSettings
from shared.events.base import utcnow
from shared.identity.auth import Principal, bearer_scheme, caller_auth
from shared.identity.cookies import csrf_anchor, ensure_csrf_cookie, submitted_csrf
from shared.validation import DbId
from shared.vietnamese import (
    DUE_STATE_LABELS,
    REPORTING_PERIOD_LABELS,
    STATUS_LABELS,
    SUBMISSION_STATE_LABELS,
    local_date,
    review_kind_label,
    short_date,
)
from shared.web.pages import environment, render, wants_html

EXPORT_FORMATS = ("csv", "xlsx", "docx", "pdf")
OVERDUE_SHOWN = 100
ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
OFFICIAL_ROLES = {"admin": "Quản trị hệ thống", "supervisor": "Cán bộ theo dõi", "observer": "Người theo dõi",
                  "unit_officer": "Cán bộ đơn vị"}
PLAN_STATUSES = {"draft": "Dự thảo", "published": "Đang triển khai", "closed": "Đã kết thúc"}

templates = environment(Path(__file__).parent / "templates")
templates.filters.update(day=short_date, percent=lambda rate: f"{round(100 * rate)} %",
                         number=lambda value: f"{value:g}".replace(".", ","),
                         web_link=lambda url: url if url.startswith(("https://", "http://")) else "")
templates.globals.update(status_labels=STATUS_LABELS, due_labels=DUE_STATE_LABELS,
                         period_labels=REPORTING_PERIOD_LABELS, submission_labels=SUBMISSION_STATE_LABELS,
                         plan_statuses=PLAN_STATUSES,
                         review_kind_label=review_kind_label, export_formats=EXPORT_FORMATS)


def parse_day(text: str, today: date) -> tuple[date | None, str]:
    """The past day a form asked for (None: today), or a Vietnamese error."""
    text = text.strip()
    if not text:
        return None, ""
    try:
        day = date.fromisoformat(text) if ISO_DAY.fullmatch(text) else None
    except ValueError:
        day = None
    if day is None:
        return None, "Ngày chưa đúng; chọn một ngày theo dạng năm-tháng-ngày, ví dụ 2025-06-30."
    if day > today:
        return None, f"Không xem được ngày trong tương lai (hôm nay là {short_date(today)})."
    return (None if day == today else day), ""


def plans_in_scope(session: Session, scope: frozenset[int] | None) -> list[ReportPlan]:
    """The plans the read model knows, newest first; a scoped caller's only those assigned to its units."""
    query = select(ReportPlan)
    if scope is not None:
        assigned = select(ReportAssignment.plan_id).where(col(ReportAssignment.unit_id).in_(scope))
        query = query.where(col(ReportPlan.id).in_(assigned))
    return list(session.exec(query.order_by(col(ReportPlan.issued_on).desc(), col(ReportPlan.id).desc())).all())


def build_router(engine: Engine, settings: ReportingSettings) -> APIRouter:
    """The dashboard's pages over the reporting read model."""
    router = APIRouter(include_in_schema=False)  # pages for people; the API is documented apart
    cookies = settings.session_cookies()
    authenticate = caller_auth(engine, cookies)
    portal = settings.assignments_public_url.rstrip("/")

    def viewer(request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
               csrf: Annotated[str, Depends(submitted_csrf)]) -> Principal | None:
        """The caller, or None for a browser without a live session (it is sent to sign in)."""
        try:
            return authenticate(request, credentials, csrf)
        except HTTPException as exc:
            if exc.status_code == 401 and wants_html(request):
                return None
            raise

    Viewer = Annotated[Principal | None, Depends(viewer)]

    def sign_in_first(request: Request) -> Response:
        target = str(request.url)
        return RedirectResponse(f"{portal}/signin?next={quote(target, safe='')}", status_code=303)

    def show(request: Request, principal: Principal, template: str, title: str, *, status_code: int = 200,
             **context: Any) -> Response:
        anchor = csrf_anchor(request, cookies, utcnow()) or ensure_csrf_cookie(request)
        return render(templates, template, {
            "title": title, "user": OFFICIAL_ROLES.get(principal.role, principal.role), "role": principal.role,
            "dashboard_url": str(request.base_url).rstrip("/"), "csrf_token": cookies.csrf_token(anchor),
            "portal_url": portal, **context}, status_code=status_code)

    @router.get("/dashboard")
    def dashboard(request: Request, principal: Viewer) -> Response:
        """The plans the caller can follow."""
        if principal is None:
            return sign_in_first(request)
        with Session(engine) as session:
            plans = plans_in_scope(session, principal.scope)
        return show(request, principal, "dashboard.html", "Tổng hợp tình hình thực hiện", plans=plans)

    @router.get("/dashboard/plans/{plan_id}")
    def plan_dashboard(request: Request, principal: Viewer, plan_id: DbId, as_of: str = "") -> Response:
        """Where one plan stands in the caller's scope (on a past day, if asked), with every export."""
        if principal is None:
            return sign_in_first(request)
        today = local_date()
        past, error = parse_day(as_of[:40], today)
        with Session(engine) as session:
            found = progress.plan_progress(session, plan_id, today, settings.due_soon_days, scope=principal.scope,
                                           as_of=past, overdue_limit=OVERDUE_SHOWN)
        if found is None:
            return show(request, principal, "missing.html", "Không tìm thấy kế hoạch", status_code=404)
        query = "?" + urlencode({"as_of": past.isoformat()}) if past is not None else ""
        return show(request, principal, "plan.html", f"Kế hoạch số {found.number}",
                    status_code=422 if error else 200, p=found, query=query, as_of_text=as_of[:40] if error else
                    (past.isoformat() if past else ""), as_of_error=error, today=today)

    return router
