"""Every route of reporting and notifications, role by role, over PostgreSQL.

The assignments world (tests/integration/assignments/conftest.py) is built through its API; every
event in its outbox is then published on a real RabbitMQ vhost as the relay does, and the reporting
and notifications apps (started with their own lifespans and subscribers) consume them, so both
services learn the units, officials and tokens the assignments service holds from events only.
Then each route is called with each role's own assignments token: 401 without a valid one
(anonymous, a deactivated official, a revoked token), and reads hold no data of a unit outside
the caller's scope, and all of it inside.
"""

import csv
import html
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import openpyxl
import pytest
from docx import Document
from fastapi.testclient import TestClient
from pypdf import PdfReader

from shared.problems import PROBLEM_JSON
from tests.integration.assignments.conftest import METRICS_TOKEN, ROLES, Served, app_routes

pytestmark = pytest.mark.integration

REFUSED = {"anonymous": 401, "inactive": 401, "revoked": 401}
SIGNED_IN = {role: 200 for role in ROLES} | REFUSED
EVERYONE = {role: 200 for role in ROLES}
METRICS = {role: 401 for role in ROLES}  # only the metrics token, which is no official's
OVERSEERS = SIGNED_IN | {"officer_a": 403, "officer_b": 403, "observer": 403}
DELIVERY_UNITS = ("BTG", "A", "B", "X")  # emails to BTG's supervisors and A's and B's officers; X: reachable by nobody


def csv_units(column: int) -> Callable[[Served, Any], set[int | None]]:
    """Unit ids of the unit names in a CSV export's `column`."""
    def extract(s: Served, response: Any) -> set[int | None]:
        rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))[1:]
        return {s.unit_names[row[column]] for row in rows}
    return extract


def progress_units(s: Served, response: Any) -> set[int | None]:
    body = response.json()
    return ({u["unit_id"] for u in body["units"]}
            | {u["unit_id"] for r in body["review_rounds"] for u in r["units"]})


def email_units(s: Served, response: Any) -> set[int | None]:
    return {e["recipient_unit_id"] for e in response.json()}


def xlsx_units(s: Served, response: Any) -> set[int | None]:
    """Unit ids of the unit names in the workbook's per-unit sheet."""
    wb = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True)
    rows = list(wb["Theo đơn vị"].iter_rows(values_only=True))[1:]
    return {s.unit_names[str(row[2])] for row in rows}


def docx_units(s: Served, response: Any) -> set[int | None]:
    """Unit ids of the unit names in the draft report's annex table."""
    annex = Document(io.BytesIO(response.content)).tables[-1]
    return {s.unit_names[row.cells[1].text] for row in annex.rows[1:]}


def pdf_units(s: Served, response: Any) -> set[int | None]:
    """Unit ids whose names the PDF's annex (per unit) holds: every unit name the world knows, searched for."""
    assert response.content.startswith(b"%PDF")
    text = " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages).split())
    text = text.rsplit("PHỤ LỤC", 1)[1]  # the body names the issuing committee; the annex only the units
    return {unit_id for name, unit_id in s.unit_names.items() if name and name in text}


DOCUMENT_UNITS = {"xlsx": xlsx_units, "docx": docx_units, "pdf": pdf_units}


def dashboard_units(s: Served, response: Any) -> set[int | None]:
    """Unit ids of the units the dashboard's plan page lists (those of its progress and review rounds)."""
    return {s.unit_names[html.unescape(name)]
            for name in re.findall(r'<p class="unit-name">([^<]+?)(?: <span|</p>)', response.text)}


@dataclass(frozen=True)
class Access:
    """How one route of one service answers each role."""

    service: str  # "reporting" or "notifications"
    method: str
    route: str
    expected: dict[str, int]
    url: str = ""  # formatted with the world's ids; default: `route`
    units: Callable[[Served, Any], set[int | None]] | None = None
    world_units: tuple[str, ...] = ()  # units whose data the world holds for this read
    json: dict[str, Any] | None = None  # the request body


DOCS = [("GET", "/openapi.json"), ("GET", "/docs"), ("GET", "/docs/oauth2-redirect"), ("GET", "/redoc")]

ACCESS: list[Access] = [
    *[Access(service, "GET", "/health", EVERYONE) for service in ("reporting", "notifications")],
        *[Access(service, "GET", "/ready", EVERYONE) for service in ("reporting", "notifications")],
    *[Access(service, "GET", "/metrics", METRICS) for service in ("reporting", "notifications")],
    # the API's documentation holds no data and is served to anyone, so a browser can show it
    *[Access(service, method, path, EVERYONE) for service in ("reporting", "notifications") for method, path in DOCS],
    Access("reporting", "GET", "/plans/{plan_id}/export.csv", SIGNED_IN, url="/plans/{plan}/export.csv",
           units=csv_units(3), world_units=("A", "B")),
    Access("reporting", "GET", "/plans/{plan_id}/progress", SIGNED_IN, url="/plans/{plan}/progress",
           units=progress_units, world_units=("A", "B")),
    Access("reporting", "GET", "/plans/{plan_id}/reviews/{round_id}/export.csv", SIGNED_IN,
           url="/plans/{plan}/reviews/{round}/export.csv", units=csv_units(1), world_units=("A", "B")),
    # the workbook, the draft report (DOCX) and its PDF: same rule as the CSV exports
    *[Access("reporting", "GET", f"/plans/{{plan_id}}/export.{ext}", SIGNED_IN, url=f"/plans/{{plan}}/export.{ext}",
             units=units, world_units=("A", "B")) for ext, units in DOCUMENT_UNITS.items()],
    *[Access("reporting", "GET", f"/plans/{{plan_id}}/reviews/{{round_id}}/export.{ext}", SIGNED_IN,
             url=f"/plans/{{plan}}/reviews/{{round}}/export.{ext}", units=units, world_units=("A", "B"))
      for ext, units in DOCUMENT_UNITS.items()],
    Access("notifications", "GET", "/emails", SIGNED_IN, units=email_units, world_units=("BTG", "A", "B")),
    # the deliveries log: administrators and supervisors, each in scope; a unit officer or observer: 403
    Access("notifications", "GET", "/deliveries", OVERSEERS, units=email_units, world_units=DELIVERY_UNITS),
    Access("notifications", "POST", "/deliveries/{delivery_id}/retry", OVERSEERS | {
        "admin": 404, "sup_in": 404, "sup_out": 404}, url="/deliveries/999999/retry"),
    Access("notifications", "GET", "/me/preferences", SIGNED_IN),
    Access("notifications", "PUT", "/me/preferences", SIGNED_IN,
           json={"mode": "immediate", "digest_hour": 7, "muted": []}),
    # one-click unsubscribe needs no login: the signed link is the credential, a forged one is refused
    Access("notifications", "GET", "/unsubscribe", {role: 400 for role in ROLES}, url="/unsubscribe?t=forged"),
    Access("notifications", "POST", "/unsubscribe", {role: 400 for role in ROLES}, url="/unsubscribe?t=forged"),
    # the dashboard's pages: a browser without a session is sent to sign in; an API client gets 401
    Access("reporting", "GET", "/dashboard", SIGNED_IN),
    Access("reporting", "GET", "/dashboard/plans/{plan_id}", SIGNED_IN, url="/dashboard/plans/{plan}",
           units=dashboard_units, world_units=("A", "B")),
]

# an unknown record: 404 to anyone signed in, and nothing at all (401) to anyone else
UNKNOWN = [
    ("reporting", "/plans/999999/export.csv"),
    ("reporting", "/plans/999999/progress"),
    ("reporting", "/plans/{plan}/reviews/999999/export.csv"),
    *[("reporting", f"/plans/999999/export.{ext}") for ext in DOCUMENT_UNITS],
    *[("reporting", f"/plans/{{plan}}/reviews/999999/export.{ext}") for ext in DOCUMENT_UNITS],
    ("reporting", "/dashboard/plans/999999"),
]


def _client(s: Served, service: str) -> TestClient:
    return s.reporting if service == "reporting" else s.notifications


def _call(s: Served, service: str, method: str, url: str, role: str, json: dict[str, Any] | None = None) -> Any:
    token = s.world.token[role]
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return _client(s, service).request(method, url.format(plan=s.world.plan["id"], round=s.world.round["id"]),
                                       headers=headers, json=json)


@pytest.mark.parametrize("service", ["reporting", "notifications"])
def test_every_route_has_an_access_row(served: Served, service: str) -> None:
    client = _client(served, service)
    declared = {(a.method, a.route) for a in ACCESS if a.service == service}
    assert app_routes(client.app._application) == declared  # type: ignore[attr-defined]


@pytest.mark.parametrize("service", ["reporting", "notifications"])
def test_metrics_token_reads_the_metrics(served: Served, service: str) -> None:
    response = _client(served, service).get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert response.status_code == 200 and f'service="{service}"' in response.text


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("access", ACCESS, ids=lambda a: f"{a.service}:{a.method} {a.route}")
def test_route_answers_the_role(served: Served, access: Access, role: str) -> None:
    response = _call(served, access.service, access.method, access.url or access.route, role, access.json)
    assert response.status_code == access.expected[role], response.text
    if response.status_code == 401:
        assert response.headers["content-type"].startswith(PROBLEM_JSON)
        assert response.headers["www-authenticate"] == "Bearer"
        assert set(response.json()) <= {"type", "title", "status", "detail", "instance", "correlation_id"}
    if access.units is not None and response.status_code == 200:
        w = served.world
        seen = access.units(served, response)
        everything = w.ids(*access.world_units)
        scope = w.scope(role)
        assert seen == (everything if scope is None else everything & scope), (role, seen)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("service", "url"), UNKNOWN)
def test_unknown_records_are_404_only_to_those_signed_in(served: Served, service: str, url: str, role: str) -> None:
    response = _call(served, service, "GET", url, role)
    assert response.status_code == REFUSED.get(role, 404), response.text


def test_the_world_has_emails_and_reports_to_scope(served: Served) -> None:
    """The matrix above would pass vacuously on empty reads: the admin sees every unit's rows."""
    response = _call(served, "notifications", "GET", "/emails", "admin")
    assert email_units(served, response) == served.world.ids("BTG", "A", "B")
    response = _call(served, "notifications", "GET", "/deliveries", "admin")
    assert email_units(served, response) == served.world.ids(*DELIVERY_UNITS)
    response = _call(served, "reporting", "GET", "/plans/{plan}/export.csv", "admin")
    assert csv_units(3)(served, response) == served.world.ids("A", "B")
