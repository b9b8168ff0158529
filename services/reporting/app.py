"""The reporting service: read-model consumers and the review exports."""

import asyncio
import logging
import re
import subprocess
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import date
from pathlib import Path
from typing import Annotated

from fastapi import Depends, FastAPI, Query
from fastapi.responses import Response, StreamingResponse
from pydantic import BeforeValidator
from sqlmodel import Session

from services.reporting import consumers, exports, pages, progress
from services.reporting.documents import content, data, docx, pdf, xlsx
from services.reporting.models import ReportPlan
from services.reporting.settings import ReportingSettings
from shared.db import make_engine, migrate
from shared.http import database_check, health_router, install_common
from shared.identity.auth import Principal, caller_auth
from shared.logging import setup_logging
from shared.messaging.broker import declare_dead_letter_queues, make_broker
from shared.messaging.consumer_api import ConsumerAPI, consumer_api
from shared.messaging.readiness import consumers_ready
from shared.metrics.http import install_metrics
from shared.problems import Problem, install_problem_handlers
from shared.validation import DbId
from shared.vietnamese import local_date
from shared.web.pages import install_static

MIGRATIONS = Path(__file__).parent / "migrations"
ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_day(value: object) -> object:
    """Only a YYYY-MM-DD text is a day (pydantic would also take a number of seconds since 1970)."""
    if isinstance(value, str) and not ISO_DAY.fullmatch(value):
        raise ValueError("a day is written YYYY-MM-DD")
    if not isinstance(value, str | date):
        raise ValueError("a day is written YYYY-MM-DD")
    return value


AsOf = Annotated[date | None, BeforeValidator(_iso_day), Query(
    description="A past Vietnamese day (YYYY-MM-DD; default today): each assignment as it stood at the end "
                "of that day, from its status update history; due states on that day; assignments created "
                "later left out. A future day is refused (422).")]


def _as_of(as_of: date | None) -> tuple[date, date | None]:
    """The day the figures are for, and the past day to rebuild from history (None: today, the live
    read model). A future day is a 422 problem."""
    today = local_date()
    if as_of is None or as_of == today:
        return today, None
    if as_of > today:
        raise Problem(422, f"as_of {as_of.isoformat()} is in the future (today is {today.isoformat()}).")
    return as_of, as_of
log = logging.getLogger("plantrack.reporting")


CSV = "text/csv; charset=utf-8"


def _attachment(filename: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{filename}"'}


def _csv_response(body: str, filename: str) -> Response:
    return Response(body.encode("utf-8"), media_type=CSV, headers=_attachment(filename))


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PDF = "application/pdf"


def _file_response(body: bytes, media_type: str, filename: str) -> Response:
    return Response(body, media_type=media_type, headers=_attachment(filename))


def create_app(settings: ReportingSettings | None = None) -> ConsumerAPI:
    """Build the reporting service (ASGI); nothing connects until it starts."""
    settings = settings or ReportingSettings()
    setup_logging("reporting", settings.log_level)
    url = settings.db_url()
    engine = make_engine(url)
    broker = make_broker(settings.amqp_url, prefetch=settings.prefetch, graceful_timeout=settings.graceful_timeout,
                         producer_user=settings.events_producer_user,
                         connect_timeout=settings.amqp_connect_timeout, heartbeat=settings.amqp_heartbeat)
    queues = consumers.register(broker, engine, settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await asyncio.to_thread(migrate, url, MIGRATIONS)
        log.info("reporting service started")
        try:
            yield
        finally:
            engine.dispose()
            log.info("reporting service stopped")

    http = FastAPI(title="plantrack — reporting", version="1.0.0", lifespan=lifespan,
                   description="Read model of plan implementation, built from events; review exports.")
    install_problem_handlers(http)
    install_common(http)
    install_metrics(http, service="reporting", token=settings.metrics_token)

    async def consumers_ok() -> bool:
        return consumers_ready(broker)

    http.include_router(health_router({"database": database_check(engine), "consumers": consumers_ok}))
    http.include_router(pages.build_router(engine, settings))
    install_static(http)

    caller = Annotated[Principal, Depends(caller_auth(engine, settings.session_cookies()))]

    @http.get("/plans/{plan_id}/export.csv", tags=["exports"], response_class=Response,
              responses={200: {"content": {"text/csv": {}}}})
    def export_plan_csv(plan_id: DbId, principal: caller, as_of: AsOf = None) -> Response:
        """The plan's assignments in the caller's scope and their latest reported status (or, with
        `as_of`, their status at the end of that day), as CSV."""
        today, past = _as_of(as_of)
        with Session(engine) as session:
            plan = exports.get_plan(session, plan_id)
            if plan is None:
                raise Problem(404, f"Plan {plan_id} is not known to the reporting service (yet).")
        return StreamingResponse(plan_csv_stream(plan, today, past, principal), media_type=CSV,
                                 headers=_attachment(exports.export_filename(plan, today, "csv")))

    def plan_csv_stream(plan: ReportPlan, today: date, past: date | None, principal: Principal) -> Iterator[bytes]:
        """The plan CSV, encoded as it is written (the rows are read in batches, in a session of its own)."""
        with Session(engine) as session:
            for chunk in exports.plan_csv(session, plan, today, settings.due_soon_days, as_of=past,
                                          can_read=principal.can_read):
                yield chunk.encode("utf-8")

    @http.get("/plans/{plan_id}/progress", tags=["progress"])
    def plan_progress(
        plan_id: DbId, principal: caller, as_of: AsOf = None,
        overdue_limit: Annotated[int, Query(ge=0, le=100_000, description="How many overdue assignments to list, "
                                            "most days late first (overdue_total counts them all).")] = 100,
    ) -> progress.PlanProgress:
        """Where the plan stands in the caller's scope: assignments by status and due state, completion
        and on-time rates, overdue assignments, each task with its indicators, each unit (its own plan,
        inspections), each review round. With `as_of`, as it stood at the end of that day."""
        today, past = _as_of(as_of)
        with Session(engine) as session:
            result = progress.plan_progress(session, plan_id, today, settings.due_soon_days,
                                            scope=principal.scope, as_of=past, overdue_limit=overdue_limit)
        if result is None:
            raise Problem(404, f"Plan {plan_id} is not known to the reporting service (yet).")
        return result

    @http.get("/plans/{plan_id}/reviews/{round_id}/export.csv", tags=["exports"], response_class=Response,
              responses={200: {"content": {"text/csv": {}}}})
    def export_review_csv(plan_id: DbId, round_id: DbId, principal: caller, as_of: AsOf = None) -> Response:
        """Each expected unit's review report in the round (those in the caller's scope): submitted on
        time, late, or not yet (with `as_of`: by the end of that day), as CSV."""
        today, past = _as_of(as_of)
        until = progress.end_of_day(past) if past is not None else None
        with Session(engine) as session:
            round_ = progress.get_round(session, plan_id, round_id)
            if round_ is None:
                raise Problem(404, f"Review round {round_id} of plan {plan_id} is not known to the reporting service.")
            units = [u for u in progress.round_units(session, round_, until=until)
                     if principal.can_read(u.unit_id)]
            body = exports.review_csv(units, progress.latest_submissions(session, round_id, until))
        return _csv_response(body, exports.review_filename(round_, today))

    def load_report(plan_id: int, round_id: int | None, principal: Principal,
                    as_of: date | None = None) -> tuple[data.PlanReport, str]:
        """The document figures in the caller's scope (at the end of `as_of`), and the file name's stem."""
        today, past = _as_of(as_of)
        with Session(engine) as session:
            plan = exports.get_plan(session, plan_id)
            if plan is None:
                raise Problem(404, f"Plan {plan_id} is not known to the reporting service (yet).")
            round_ = None
            if round_id is not None:
                round_ = progress.get_round(session, plan_id, round_id)
                if round_ is None:
                    raise Problem(404, f"Review round {round_id} of plan {plan_id} is not known to the "
                                       "reporting service.")
            report = data.build_report(session, plan, today, settings.due_soon_days, can_read=principal.can_read,
                                       round_=round_, as_of=past)
        stem = (exports.round_document_stem(round_, today) if round_ is not None
                else exports.export_filename(plan, today, "").rstrip("."))
        return report, stem

    def pdf_of(report: data.PlanReport) -> bytes:
        document = content.build_document(report)
        try:
            return pdf.write_pdf(document)
        except pdf.PdfUnavailable as exc:
            raise Problem(503, "PDF export is not available on this server: " + str(exc)) from exc
        except (OSError, subprocess.SubprocessError) as exc:
            log.warning("LibreOffice could not convert the report (%s); drawing it instead", exc)
            if not pdf.fallback_available():
                raise Problem(503, "PDF export failed on this server; the DOCX export still works.") from exc
            return pdf.draw_pdf(document)

    def xlsx_response(report: data.PlanReport, stem: str) -> Response:
        return _file_response(xlsx.write_workbook(report), XLSX, f"{stem}.xlsx")

    def docx_response(report: data.PlanReport, stem: str) -> Response:
        return _file_response(docx.write_docx(content.build_document(report)), DOCX, f"{stem}.docx")

    def pdf_response(report: data.PlanReport, stem: str) -> Response:
        return _file_response(pdf_of(report), PDF, f"{stem}.pdf")

    @http.get("/plans/{plan_id}/export.xlsx", tags=["exports"], response_class=Response,
              responses={200: {"content": {XLSX: {}}}})
    def export_plan_xlsx(plan_id: DbId, principal: caller, as_of: AsOf = None) -> Response:
        """The plan's workbook in the caller's scope: summary, per unit, per task, overdue, indicators."""
        return xlsx_response(*load_report(plan_id, None, principal, as_of))

    @http.get("/plans/{plan_id}/reviews/{round_id}/export.xlsx", tags=["exports"], response_class=Response,
              responses={200: {"content": {XLSX: {}}}})
    def export_review_xlsx(plan_id: DbId, round_id: DbId, principal: caller, as_of: AsOf = None) -> Response:
        """The plan's workbook with the round's sheet: each expected unit's report and its content."""
        return xlsx_response(*load_report(plan_id, round_id, principal, as_of))

    @http.get("/plans/{plan_id}/export.docx", tags=["exports"], response_class=Response,
              responses={200: {"content": {DOCX: {}}}})
    def export_plan_docx(plan_id: DbId, principal: caller, as_of: AsOf = None) -> Response:
        """A draft report (Party document layout) of the plan to date, in the caller's scope."""
        return docx_response(*load_report(plan_id, None, principal, as_of))

    @http.get("/plans/{plan_id}/reviews/{round_id}/export.docx", tags=["exports"], response_class=Response,
              responses={200: {"content": {DOCX: {}}}})
    def export_review_docx(plan_id: DbId, round_id: DbId, principal: caller, as_of: AsOf = None) -> Response:
        """A draft sơ kết / tổng kết report of the round, in the caller's scope."""
        return docx_response(*load_report(plan_id, round_id, principal, as_of))

    @http.get("/plans/{plan_id}/export.pdf", tags=["exports"], response_class=Response,
              responses={200: {"content": {PDF: {}}}, 503: {"description": "No PDF renderer on this server."}})
    def export_plan_pdf(plan_id: DbId, principal: caller, as_of: AsOf = None) -> Response:
        """The plan's draft report as PDF."""
        return pdf_response(*load_report(plan_id, None, principal, as_of))

    @http.get("/plans/{plan_id}/reviews/{round_id}/export.pdf", tags=["exports"], response_class=Response,
              responses={200: {"content": {PDF: {}}}, 503: {"description": "No PDF renderer on this server."}})
    def export_review_pdf(plan_id: DbId, round_id: DbId, principal: caller, as_of: AsOf = None) -> Response:
        """The round's draft report as PDF."""
        return pdf_response(*load_report(plan_id, round_id, principal, as_of))

    # no asyncapi_path: its page loads scripts from a CDN and its "try it out" route would let anyone
    # publish through this service's broker connection; the document is docs/asyncapi.json
    return consumer_api(broker, http, lambda: declare_dead_letter_queues(broker, queues),
                        attempt_timeout=settings.amqp_connect_timeout)
