"""Object-level access, route by route and role by role, over PostgreSQL.

ACCESS has one row per route of the app; `test_every_route_has_an_access_row` fails when a route
is added without one. Each (route, role) pair is its own test: the status the role gets, and for
reads, that the body holds data of no unit outside the caller's scope (and all the world's data
inside it). Refusals are problem+json bodies that carry nothing else.

Writes that succeed act on throwaway records (fresh codes, fresh plans, fresh updates, fresh
rounds) made by the row's `setup`, so that one shared copy of the world serves every test here.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session

from services.assignments import attachments
from services.assignments.auth import Actor
from services.assignments.models import Official
from shared.problems import PROBLEM_JSON
from tests.integration.assignments.conftest import METRICS_TOKEN, ROLES, World, app_routes, day, unique

pytestmark = pytest.mark.integration

SEED = Path(__file__).resolve().parents[3] / "services" / "assignments" / "demo" / "ke-hoach-41-KH-DUK.txt"
PROBLEM_KEYS = {"type", "title", "status", "detail", "instance", "correlation_id", "errors"}


def expect(default: int, **overrides: int) -> dict[str, int]:
    """Status per role: `default` for the authenticated ones, 401 without a valid token."""
    statuses = {role: default for role in ROLES}
    statuses.update(anonymous=401, inactive=401, revoked=401)
    statuses.update(overrides)
    return statuses


def admin_only(ok: int) -> dict[str, int]:
    return expect(403, admin=ok)


PUBLIC = {role: 200 for role in ROLES}
METRICS = {role: 401 for role in ROLES}  # only the metrics token, which is no official's (see test_metrics_token)
# reads of one record of unit A: its scope sees it, the others are told it does not exist
A_RECORD = expect(200, sup_out=404, officer_b=404)
# a unit's own act on A's record: only A's officer; other readers 403, outsiders 404
A_OWN_ACT = expect(403, officer_a=201, sup_out=404, officer_b=404)
# a supervisor's act over A: admin and the supervisor in scope; outsiders 404
OVER_A = expect(403, admin=200, sup_in=200, sup_out=404, officer_b=404)


BOARD_PAGE = expect(200, anonymous=200, officer_a=403, officer_b=403)  # supervisors, observers, admins
ADMIN_PAGE = expect(403, anonymous=200, admin=200)
PAGE_FORM = expect(403, anonymous=403)


@dataclass(frozen=True)
class Access:
    """How one route answers each role."""

    method: str
    route: str  # the route's path template, as the app declares it
    expected: dict[str, int]
    url: str = ""  # formatted with World ids and setup's values; default: `route`
    body: Callable[[World, dict[str, Any]], Any] | None = None  # (world, setup's values)
    setup: Callable[[World], dict[str, Any]] | None = None  # fresh targets, so a write that succeeds harms none
    units: Callable[[Any], set[int | None]] | None = None  # unit ids in a read's body
    world_units: tuple[str, ...] = ()  # units whose data the world holds for this read
    kw: dict[str, Any] = field(default_factory=dict)


def ids(key: str, nested: str | None = None) -> Callable[[Any], set[int | None]]:
    """Extract unit ids from a body: a page (`data`), a list, or one object."""
    def extract(body: Any) -> set[int | None]:
        items = body["data"] if isinstance(body, dict) and "data" in body else body
        items = items if isinstance(items, list) else [items]
        if nested:
            items = [inner for item in items for inner in item[nested]]
        return {item[key] for item in items}
    return extract


def draft_plan(w: World) -> dict[str, Any]:
    plan = w.api.ok(w.api.post("/plans", {"number": unique("KH"), "title": "Kế hoạch tạm",
                                          "tasks": [{"code": "1", "title": "Việc"}]}))
    return {"plan_id": plan["id"], "task_id": plan["tasks"][0]["id"]}


def published_plan(w: World) -> dict[str, Any]:
    made = draft_plan(w)
    w.api.ok(w.api.post(f"/plans/{made['plan_id']}/publish"), 200)
    return made


def fresh_update(w: World) -> dict[str, Any]:
    update = w.api.ok(w.as_("officer_a", "POST", f"/assignments/{w.assignment['A']['id']}/updates",
                            json={"status": "in_progress", "progress": 50}))
    return {"update_id": update["id"]}


def fresh_round(w: World) -> dict[str, Any]:
    round_ = w.api.ok(w.api.post(f"/plans/{w.plan['id']}/reviews",
                                 {"kind": "final", "period_end": day(0), "submit_by": day(7)}))
    return {"round_id": round_["id"]}


def fresh_unit(w: World) -> dict[str, Any]:
    unit = w.api.unit(unique("U"), parent_id=w.unit["DUK"], name="Chi bộ tạm")
    return {"unit_id": unit["id"]}


def fresh_token_of_b(w: World) -> dict[str, Any]:
    official_id = w.official["officer_b"]["id"]
    token = w.api.ok(w.api.post(f"/officials/{official_id}/tokens", {"name": "tạm"}))
    return {"official_id": official_id, "token_id": token["id"]}


def fresh_attachment(w: World) -> dict[str, Any]:
    """A file attached to A's assignment by its officer (the domain call: the page's form needs CSRF)."""
    with Session(w.api.engine) as session:
        officer = session.get(Official, w.official["officer_a"]["id"])
        assert officer is not None
        row = attachments.attach(session, actor=Actor.of(officer), assignment_id=w.assignment["A"]["id"],
                                 file_name="bao-cao.pdf", content=b"%PDF-1.7 test", max_bytes=1000)
        session.commit()
        return {"attachment_id": row.id}


ACCESS: list[Access] = [
    # -- public ---------------------------------------------------------------------------------
    Access("GET", "/health", PUBLIC),
    Access("GET", "/ready", PUBLIC),
    Access("GET", "/metrics", METRICS),
    Access("GET", "/openapi.json", PUBLIC),
    Access("GET", "/docs", PUBLIC),
    Access("GET", "/docs/oauth2-redirect", PUBLIC),
    Access("GET", "/redoc", PUBLIC),
    # -- directory ------------------------------------------------------------------------------
    Access("POST", "/units", admin_only(201),
           body=lambda w, x: {"code": unique("U"), "name": "Chi bộ mới", "kind": "party_cell",
                           "parent_id": w.unit["DUK"]}),
    Access("GET", "/units", expect(200)),  # the organisation tree is visible to every official
    Access("GET", "/units/{unit_id}", expect(200), url="/units/{B}"),
    Access("PATCH", "/units/{unit_id}", admin_only(200), url="/units/{unit_id}", setup=fresh_unit,
           body=lambda w, x: {"name": "Chi bộ đổi tên", "email": "cb.moi@example.vn"}),
    Access("POST", "/officials", admin_only(201),
           body=lambda w, x: {"name": "Cán bộ mới", "email": f"{unique('cb')}@example.vn",
                           "unit_id": w.unit["A"], "role": "observer"}),
    Access("GET", "/officials", expect(200), units=ids("unit_id"),
           world_units=("BTG", "BTG2", "A", "B", "DUK")),
    Access("GET", "/officials/{official_id}", A_RECORD, url="/officials/{officer_a_official}",
           units=ids("unit_id"), world_units=("A",)),
    Access("PATCH", "/officials/{official_id}", admin_only(200), url="/officials/{observer_official}",
           body=lambda w, x: {"title": "Chuyên viên chính"}),
    Access("GET", "/me", expect(200)),
    Access("POST", "/officials/{official_id}/tokens", admin_only(201), url="/officials/{officer_b_official}/tokens",
           body=lambda w, x: {"name": "thêm"}),
    Access("GET", "/officials/{official_id}/tokens", admin_only(200), url="/officials/{officer_a_official}/tokens"),
    Access("DELETE", "/officials/{official_id}/tokens/{token_id}", admin_only(200),
           url="/officials/{official_id}/tokens/{token_id}", setup=fresh_token_of_b),
    # -- plans ----------------------------------------------------------------------------------
    Access("POST", "/plans", admin_only(201),
           body=lambda w, x: {"number": unique("KH"), "title": "Kế hoạch", "tasks": [{"code": "1", "title": "Việc"}]}),
    Access("POST", "/plans/import", admin_only(200),
           kw={"content": SEED.read_bytes(), "headers": {"Content-Type": "text/plain; charset=utf-8"}}),
    Access("GET", "/plans", expect(200)),
    Access("GET", "/plans/{plan_id}", expect(200), url="/plans/{plan}"),
    Access("PATCH", "/plans/{plan_id}", admin_only(200), url="/plans/{plan_id}", setup=draft_plan,
           body=lambda w, x: {"title": "Kế hoạch (bản sửa)"}),
    Access("POST", "/plans/{plan_id}/tasks", admin_only(201), url="/plans/{plan_id}/tasks", setup=draft_plan,
           body=lambda w, x: {"code": "2", "title": "Việc thêm"}),
    Access("PATCH", "/plans/{plan_id}/tasks/{task_id}", admin_only(200), url="/plans/{plan_id}/tasks/{task_id}",
           setup=draft_plan, body=lambda w, x: {"title": "Việc (bản sửa)"}),
    Access("DELETE", "/plans/{plan_id}/tasks/{task_id}", admin_only(200), url="/plans/{plan_id}/tasks/{task_id}",
           setup=draft_plan),
    Access("POST", "/plans/{plan_id}/publish", admin_only(200), url="/plans/{plan_id}/publish", setup=draft_plan),
    Access("POST", "/plans/{plan_id}/close", admin_only(200), url="/plans/{plan_id}/close", setup=published_plan),
    Access("POST", "/plans/{plan_id}/assignments", admin_only(201), url="/plans/{plan_id}/assignments",
           setup=draft_plan, body=lambda w, x: {"task_id": x["task_id"], "unit_ids": [w.unit["A"]]}),
    Access("POST", "/plans/{plan_id}/unit-plans", A_OWN_ACT, url="/plans/{plan}/unit-plans",
           body=lambda w, x: {"unit_id": w.unit["A"], "number": unique("KH/CB"), "issued_on": day(-1),
                           "title": "Kế hoạch của chi bộ"}),
    Access("GET", "/plans/{plan_id}/unit-plans", expect(200), url="/plans/{plan}/unit-plans",
           units=ids("unit_id"), world_units=("A",)),
    Access("GET", "/plans/{plan_id}/completeness", expect(200), url="/plans/{plan}/completeness",
           units=ids("unit_id"), world_units=("A", "B")),
    Access("POST", "/plans/{plan_id}/reviews", expect(403, admin=201, sup_in=201), url="/plans/{plan}/reviews",
           body=lambda w, x: {"kind": "preliminary", "period_end": day(0), "submit_by": day(10)}),
    Access("GET", "/plans/{plan_id}/reviews", expect(200), url="/plans/{plan}/reviews",
           units=ids("unit_id", nested="units"), world_units=("A", "B")),
    # -- assignments ----------------------------------------------------------------------------
    Access("GET", "/assignments", expect(200), units=ids("unit_id"), world_units=("A", "B", "X")),
    Access("GET", "/assignments/{assignment_id}", A_RECORD, url="/assignments/{a_assignment}",
           units=ids("unit_id"), world_units=("A",)),
    Access("POST", "/assignments/{assignment_id}/updates", A_OWN_ACT, url="/assignments/{a_assignment}/updates",
           body=lambda w, x: {"status": "in_progress", "progress": 45}),
    Access("GET", "/assignments/{assignment_id}/updates", A_RECORD, url="/assignments/{a_assignment}/updates"),
    # -- oversight ------------------------------------------------------------------------------
    Access("POST", "/updates/{update_id}/review", OVER_A, url="/updates/{update_id}/review", setup=fresh_update,
           body=lambda w, x: {"decision": "accepted"}),
    Access("POST", "/inspections", expect(403, admin=201, sup_in=201, sup_out=404, officer_b=404),
           body=lambda w, x: {"plan_id": w.plan["id"], "unit_id": w.unit["A"], "kind": "inspection",
                           "inspected_on": day(-1), "inspecting_unit_id": w.unit["BTG"]}),
    Access("GET", "/inspections", expect(200), units=ids("unit_id"), world_units=("A", "X")),
    Access("GET", "/reviews/{round_id}", expect(200), url="/reviews/{round}",
           units=ids("unit_id", nested="units"), world_units=("A", "B")),
    Access("POST", "/reviews/{round_id}/submissions", A_OWN_ACT, url="/reviews/{round_id}/submissions",
           setup=fresh_round, body=lambda w, x: {"unit_id": w.unit["A"], "summary": "Báo cáo sơ kết."}),
    Access("GET", "/reviews/{round_id}/submissions", expect(200), url="/reviews/{round}/submissions",
           units=ids("unit_id"), world_units=("A",)),
    Access("GET", "/audit", admin_only(200)),
    # -- pages (browser sign-in); the client follows redirects --------------------------------
    Access("GET", "/", expect(200, anonymous=200)),  # anonymous: sent to /signin; a bad token: 401
    Access("GET", "/signin", PUBLIC),
    Access("POST", "/signin", {role: 403 for role in ROLES}, kw={"data": {"email": "a@example.vn"}}),  # no CSRF
    Access("GET", "/signin/{token}", PUBLIC, url="/signin/unknown-link"),
    Access("POST", "/signin/{token}", {role: 403 for role in ROLES}, url="/signin/unknown-link"),
    Access("POST", "/signout", PUBLIC),  # without a session cookie: nothing to end, back to /signin
    Access("DELETE", "/officials/{official_id}/sessions", admin_only(200),
           url="/officials/{officer_b_official}/sessions"),
    # -- the board and admin pages: by bearer token without a browser's CSRF token every form is
    # refused (403); anonymous page reads are sent to /signin (followed: 200) -------------------
    Access("GET", "/board", BOARD_PAGE),
    Access("GET", "/board/plans/{plan_id}", BOARD_PAGE, url="/board/plans/{plan}"),
    Access("GET", "/board/reviews/{round_id}", BOARD_PAGE, url="/board/reviews/{round}"),
    Access("POST", "/board/updates/{update_id}/review", PAGE_FORM, url="/board/updates/1/review"),
    Access("POST", "/board/plans/{plan_id}/reviews", PAGE_FORM, url="/board/plans/{plan}/reviews"),
    Access("POST", "/board/plans/{plan_id}/inspections", PAGE_FORM, url="/board/plans/{plan}/inspections"),
    Access("GET", "/admin", ADMIN_PAGE),
    Access("GET", "/admin/import", ADMIN_PAGE),
    Access("POST", "/admin/import", PAGE_FORM),
    Access("GET", "/admin/plans/{plan_id}", ADMIN_PAGE, url="/admin/plans/{plan}"),
    Access("POST", "/admin/plans/{plan_id}", PAGE_FORM, url="/admin/plans/{plan}"),
    Access("POST", "/admin/plans/{plan_id}/tasks", PAGE_FORM, url="/admin/plans/{plan}/tasks"),
    Access("POST", "/admin/plans/{plan_id}/assignments", PAGE_FORM, url="/admin/plans/{plan}/assignments"),
    Access("POST", "/admin/plans/{plan_id}/publish", PAGE_FORM, url="/admin/plans/{plan}/publish"),
    Access("POST", "/admin/plans/{plan_id}/tasks/{task_id}", PAGE_FORM, url="/admin/plans/{plan}/tasks/1"),
    Access("GET", "/admin/units", ADMIN_PAGE),
    Access("POST", "/admin/units", PAGE_FORM),
    Access("POST", "/admin/units/{unit_id}", PAGE_FORM, url="/admin/units/{B}"),
    Access("GET", "/admin/officials", ADMIN_PAGE),
    Access("POST", "/admin/officials", PAGE_FORM),
    Access("POST", "/admin/officials/{official_id}/deactivate", PAGE_FORM,
           url="/admin/officials/{officer_b_official}/deactivate"),
    Access("POST", "/admin/officials/{official_id}/sessions", PAGE_FORM,
           url="/admin/officials/{officer_b_official}/sessions"),
    Access("POST", "/admin/officials/{official_id}/tokens", PAGE_FORM,
           url="/admin/officials/{officer_b_official}/tokens"),
    Access("POST", "/admin/officials/{official_id}/tokens/{token_id}/revoke", PAGE_FORM,
           url="/admin/officials/{officer_b_official}/tokens/1/revoke"),
    # -- the unit officer's pages: anonymous is sent to /signin; a form without its CSRF token is refused
    # (a dead bearer token is refused before: 401)
    Access("GET", "/unit", expect(200, anonymous=200)),
    Access("GET", "/unit/assignments/{assignment_id}", expect(200, anonymous=200, sup_out=404, officer_b=404),
           url="/unit/assignments/{a_assignment}"),
    Access("POST", "/unit/assignments/{assignment_id}/report", PAGE_FORM,
           url="/unit/assignments/{a_assignment}/report"),
    Access("POST", "/unit/assignments/{assignment_id}/attachments", PAGE_FORM,
           url="/unit/assignments/{a_assignment}/attachments"),
    Access("GET", "/attachments/{attachment_id}", expect(200, anonymous=200, sup_out=404, officer_b=404),
           url="/attachments/{attachment_id}", setup=fresh_attachment),
    Access("GET", "/unit/plans/{plan_id}/unit-plan", expect(200, anonymous=200), url="/unit/plans/{plan}/unit-plan"),
    Access("POST", "/unit/plans/{plan_id}/unit-plan", PAGE_FORM,
           url="/unit/plans/{plan}/unit-plan"),
    Access("GET", "/unit/reviews/{round_id}", expect(200, anonymous=200), url="/unit/reviews/{round}"),
    Access("POST", "/unit/reviews/{round_id}", PAGE_FORM, url="/unit/reviews/{round}"),
]

CASES = [pytest.param(row, role, id=f"{row.method} {row.route} [{role}]") for row in ACCESS for role in ROLES]


def test_every_route_has_an_access_row(shared_world: World) -> None:
    table = [(row.method, row.route) for row in ACCESS]
    assert len(table) == len(set(table)), "a route has two rows"
    routes = app_routes(shared_world.api.app)
    assert routes - set(table) == set(), "routes without an access row: add them to ACCESS"
    assert set(table) - routes == set(), "rows for routes the app does not have"


def test_metrics_token_reads_the_metrics(shared_world: World) -> None:
    response = shared_world.api.call("GET", "/metrics", token=METRICS_TOKEN)
    assert response.status_code == 200 and "plantrack_outbox_backlog" in response.text


def url_values(w: World, extra: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {key: unit_id for key, unit_id in w.unit.items()}
    values |= {f"{role}_official": official["id"] for role, official in w.official.items()}
    values |= {"plan": w.plan["id"], "a_assignment": w.assignment["A"]["id"], "round": w.round["id"]}
    return values | extra


@pytest.mark.parametrize(("row", "role"), CASES)
def test_access(shared_world: World, row: Access, role: str) -> None:
    w = shared_world
    extra = row.setup(w) if row.setup else {}  # refusals are tried on a real target too
    kw = dict(row.kw)
    if row.body is not None:
        kw["json"] = row.body(w, extra)
    response = w.as_(role, row.method, (row.url or row.route).format(**url_values(w, extra)), **kw)

    assert response.status_code == row.expected[role], response.text
    secrets = [token for token in w.token.values() if token and token.startswith("pt_")]
    assert not [token for token in secrets if token in response.text], "a token secret in a response"
    if response.status_code >= 400:
        assert response.headers["content-type"].startswith(PROBLEM_JSON)
        assert set(response.json()) <= PROBLEM_KEYS  # a refusal carries no data
        return
    if row.units is not None:
        seen = row.units(response.json())
        scope = w.scope(role)
        in_scope = w.ids(*row.world_units) if scope is None else w.ids(*row.world_units) & scope
        if scope is not None:
            assert seen <= scope, f"{role} sees data of units outside its scope: {seen - scope}"
        assert in_scope <= seen, f"{role} misses data of its own scope: {in_scope - seen}"
