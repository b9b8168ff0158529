"""The assignments API over TestClient and SQLite: auth, visibility, rules, concurrency, outbox."""

import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from services.assignments import tracking
from services.assignments.models import Assignment, AuditEntry, StatusUpdate
from shared.due import DueState, ongoing_due_state
from shared.events import parse_event
from shared.problems import PROBLEM_JSON
from shared.vietnamese import local_date
from tests.support import due_grid
from tests.unit.conftest import Api, World

# -- authentication and errors ---------------------------------------------------------------


def assert_problem(response, status: int) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    body = response.json()
    assert body["status"] == status
    assert body["title"] and body["type"] == "about:blank"
    assert isinstance(body["detail"], str) and len(body["detail"]) > 10
    return body


@pytest.mark.parametrize("headers", [
    {},
    {"Authorization": "Bearer"},
    {"Authorization": "Basic dDp0"},
    {"Authorization": "Bearer wrong-token"},
])
def test_401_without_or_with_bad_token(api: Api, headers: dict) -> None:
    r = api.client.get("/me", headers=headers)
    body = assert_problem(r, 401)
    assert "token" in body["detail"].lower()
    assert body["instance"] == "/me"


def test_bootstrap_admin_token_works(api: Api) -> None:
    me = api.ok(api.get("/me"), 200)
    assert me["role"] == "admin"


def test_inactive_officials_token_is_refused(world: World) -> None:
    from services.assignments.auth import resolve_token
    from services.assignments.models import Official

    api = world.api
    assert api.get("/me", token=world.officer_a).status_code == 200
    with api.session() as s:
        official = resolve_token(s, world.officer_a)
        assert official is not None
        s.get(Official, official.id).active = False  # type: ignore[union-attr]
        s.commit()
    assert_problem(api.get("/me", token=world.officer_a), 401)


def test_request_id_is_echoed_and_put_in_problems(api: Api) -> None:
    r = api.get("/units/999", request_id="req-404")
    body = assert_problem(r, 404)
    assert r.headers["X-Request-ID"] == "req-404"
    assert body["correlation_id"] == "req-404"
    # an unsafe id is replaced, not echoed
    r = api.get("/me", request_id="bad id\twith spaces")
    assert r.headers["X-Request-ID"] != "bad id\twith spaces" and len(r.headers["X-Request-ID"]) == 32


def test_unexpected_exception_is_a_500_problem_without_traceback(api: Api) -> None:
    @api.app.get("/_boom")
    def boom() -> None:
        raise RuntimeError("secret internals: password=hunter2")

    client = TestClient(api.app, raise_server_exceptions=False)
    r = client.get("/_boom", headers={"X-Request-ID": "req-500"})
    body = assert_problem(r, 500)
    assert "Traceback" not in r.text and "hunter2" not in r.text and "RuntimeError" not in r.text
    assert body["detail"] == "An unexpected error occurred; it has been logged."
    # the id to quote to support, in the body and the header
    assert body["correlation_id"] == "req-500" and r.headers["X-Request-ID"] == "req-500"


def test_invalid_body_is_422_problem_with_errors(api: Api) -> None:
    r = api.post("/units", {"code": "has space", "name": "", "kind": "galaxy"})
    body = assert_problem(r, 422)
    assert body["detail"].startswith("Invalid ")
    locs = {tuple(e["loc"]) for e in body["errors"]}
    assert {("body", "code"), ("body", "name"), ("body", "kind")} <= locs
    assert all(e["msg"] for e in body["errors"])


def test_malformed_json_is_422_problem(api: Api) -> None:
    r = api.call("POST", "/units", content=b"{not json", headers={"Content-Type": "application/json"})
    body = assert_problem(r, 422)
    assert body["errors"]


def test_body_over_limit_is_413(make_api: Callable[..., Api]) -> None:
    api = make_api(max_body_bytes=1000)
    big = {"code": "BIG", "name": "x" * 2000, "kind": "party_cell"}
    body = assert_problem(api.post("/units", big), 413)
    assert "1000 bytes" in body["detail"]
    # also when the client does not announce the length (chunked upload)
    payload = json.dumps(big).encode()
    r = api.call("POST", "/units", content=iter([payload[:500], payload[500:]]),
                 headers={"Content-Type": "application/json"})
    assert_problem(r, 413)
    assert api.get("/units").json()["count"] == 0
    # a body under the limit goes through
    api.ok(api.post("/units", {"code": "OK", "name": "Chi bộ", "kind": "party_cell"}))


def test_chunked_body_under_the_limit_reaches_the_route(api: Api) -> None:
    payload = json.dumps({"code": "CHUNK", "name": "Chi bộ", "kind": "party_cell"}).encode()
    r = api.call("POST", "/units", content=iter([payload[:10], payload[10:]]),
                 headers={"Content-Type": "application/json"})
    assert r.status_code == 201, r.text


# -- directory -------------------------------------------------------------------------------


def test_admin_builds_the_directory(api: Api) -> None:
    bloc = api.unit("DUK", "bloc_committee", name="Đảng ủy Khối")
    cell = api.unit("CB-STC", "party_cell", bloc["id"], name="Chi bộ Sở Tài chính")
    assert cell["parent_id"] == bloc["id"] and cell["name"] == "Chi bộ Sở Tài chính"
    official, token = api.official("unit_officer", cell["id"], email="An.NV@Example.VN", name="Nguyễn Văn An")
    assert official["email"] == "an.nv@example.vn"  # stored lower-case
    me = api.ok(api.get("/me", token=token), 200)
    assert me["id"] == official["id"] and me["unit_id"] == cell["id"] and me["role"] == "unit_officer"
    assert api.ok(api.get(f"/units/{cell['id']}"), 200)["code"] == "CB-STC"


def audit_of(api: Api, action: str) -> list[AuditEntry]:
    with api.session() as s:
        return list(s.exec(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)).all())  # type: ignore[arg-type]


def test_a_unit_has_an_optional_mailbox(api: Api) -> None:
    bloc = api.unit("DUK", "bloc_committee")
    assert bloc["email"] is None
    cell = api.ok(api.post("/units", {"code": "CB-A", "name": "Chi bộ A", "kind": "party_cell",
                                      "parent_id": bloc["id"], "email": "CB.A@TraVinh.gov.vn"}))
    assert cell["email"] == "cb.a@travinh.gov.vn"  # stored lower-case, as officials' addresses
    assert api.ok(api.get(f"/units/{cell['id']}"), 200)["email"] == "cb.a@travinh.gov.vn"
    event = parse_event(api.outbox()[-1].body)
    assert event.event_type == "unit.created.v1" and event.payload.email == "cb.a@travinh.gov.vn"  # type: ignore[attr-defined]
    for bad in ("not-an-address", "", "a@b@c"):
        r = api.post("/units", {"code": "CB-B", "name": "B", "kind": "party_cell", "email": bad})
        assert ("body", "email") in {tuple(e["loc"]) for e in assert_problem(r, 422)["errors"]}


def test_admin_renames_a_unit_and_changes_its_mailbox(api: Api) -> None:
    cell = api.unit("CB-A", name="Chi bộ A")
    n = len(api.outbox())
    url = f"/units/{cell['id']}"
    renamed = api.ok(api.call("PATCH", url, json={"name": "Chi bộ Sở Tài chính", "email": "STC@example.vn"},
                              request_id="req-rename"), 200)
    assert (renamed["name"], renamed["email"], renamed["code"], renamed["kind"]) == (
        "Chi bộ Sở Tài chính", "stc@example.vn", "CB-A", "party_cell")
    assert api.ok(api.get(url), 200) == renamed
    (row,) = api.outbox()[n:]
    event = parse_event(row.body)
    assert (event.event_type, event.correlation_id) == ("unit.updated.v1", "req-rename")
    assert event.payload.model_dump() == {  # type: ignore[attr-defined]
        "id": cell["id"], "code": "CB-A", "name": "Chi bộ Sở Tài chính", "kind": "party_cell", "parent_id": None,
        "email": "stc@example.vn"}
    (entry,) = audit_of(api, "unit.update")
    assert entry.event_id == str(event.event_id) and entry.correlation_id == "req-rename"
    assert entry.changes == {"before": {"name": "Chi bộ A", "email": None},
                             "after": {"name": "Chi bộ Sở Tài chính", "email": "stc@example.vn"}}
    # a field left out stays; "" removes the mailbox; null is refused
    assert api.ok(api.call("PATCH", url, json={"name": "Chi bộ STC"}), 200)["email"] == "stc@example.vn"
    cleared = api.ok(api.call("PATCH", url, json={"email": ""}), 200)
    assert (cleared["name"], cleared["email"]) == ("Chi bộ STC", None)
    assert parse_event(api.outbox()[-1].body).payload.email is None  # type: ignore[attr-defined]
    n = len(api.outbox())
    for body in ({"email": None}, {"name": None}, {"name": ""}, {"email": "sai"}, {"name": "a\x00b"}):
        assert_problem(api.call("PATCH", url, json=body), 422)
    assert_problem(api.call("PATCH", "/units/999", json={"name": "X"}), 404)
    assert len(api.outbox()) == n


def test_only_admins_change_a_unit(world: World) -> None:
    api, n = world.api, len(world.api.outbox())
    for token in (world.officer_a, world.supervisor, world.observer):
        assert_problem(api.call("PATCH", f"/units/{world.cell_a['id']}", json={"name": "Khác"}, token=token), 403)
    assert api.ok(api.get(f"/units/{world.cell_a['id']}"), 200)["name"] == "Chi bộ Sở Tài chính"
    assert len(api.outbox()) == n


def test_duplicate_unit_code_is_409(api: Api) -> None:
    api.unit("CB-STC")
    before = len(api.outbox())
    body = assert_problem(api.post("/units", {"code": "CB-STC", "name": "Khác", "kind": "party_cell"}), 409)
    assert "CB-STC" in body["detail"]
    assert len(api.outbox()) == before


def test_duplicate_official_email_is_409(api: Api) -> None:
    unit = api.unit("CB-A")
    api.official("unit_officer", unit["id"], email="a@example.vn")
    r = api.post("/officials", {"name": "B", "email": "A@example.vn", "unit_id": unit["id"], "role": "observer"})
    assert_problem(r, 409)


def test_unknown_parent_unit_is_404(api: Api) -> None:
    assert_problem(api.post("/units", {"code": "X", "name": "X", "kind": "party_cell", "parent_id": 42}), 404)


def test_non_admin_official_needs_a_unit(api: Api) -> None:
    r = api.post("/officials", {"name": "B", "email": "b@example.vn", "role": "supervisor"})
    assert "unit_id" in assert_problem(r, 422)["detail"]


@pytest.mark.parametrize("role", ["supervisor", "unit_officer", "observer"])
def test_only_admins_write_the_directory(world: World, role: str) -> None:
    token = {"supervisor": world.supervisor, "unit_officer": world.officer_a, "observer": world.observer}[role]
    api = world.api
    before = len(api.outbox())
    assert_problem(api.post("/units", {"code": "NEW", "name": "N", "kind": "party_cell"}, token=token), 403)
    assert_problem(api.post("/plans", {"number": "1-KH", "title": "T"}, token=token), 403)
    assert_problem(api.post(f"/plans/{world.plan['id']}/assignments",
                            {"task_id": world.tasks["I"]["id"], "unit_ids": [world.cell_a["id"]]}, token=token), 403)
    assert_problem(api.post("/officials/1/tokens", {"name": "x"}, token=token), 403)
    assert len(api.outbox()) == before


# -- plans and assignment --------------------------------------------------------------------


def test_plan_with_tasks(api: Api) -> None:
    plan = api.plan("41-KH/ĐUK", [
        {"code": "I", "title": "Mục đích"}, {"code": "I.1", "title": "Con", "parent_code": "I"},
    ], implements="22-CTr/TU")
    tasks = {t["code"]: t for t in plan["tasks"]}
    assert tasks["I.1"]["parent_id"] == tasks["I"]["id"]
    assert api.ok(api.get(f"/plans/{plan['id']}"), 200)["tasks"] == plan["tasks"]
    assert_problem(api.post("/plans", {"number": "41-KH/ĐUK", "title": "Trùng"}), 409)
    r = api.post("/plans", {"number": "2-KH", "title": "T", "tasks": [{"code": "I", "title": "a"},
                                                                     {"code": "I", "title": "b"}]})
    assert_problem(r, 422)
    r = api.post("/plans", {"number": "3-KH", "title": "T", "tasks": [{"code": "I.1", "title": "a",
                                                                       "parent_code": "I"}]})
    assert "parent" in assert_problem(r, 422)["detail"]


def test_a_plan_has_a_reporting_period(api: Api) -> None:
    plan = api.plan("8-KH", [{"code": "I", "title": "Thường xuyên", "kind": "ongoing"}], publish=False)
    assert plan["reporting_period"] == "quarterly"  # the default
    assert parse_event(api.outbox()[-1].body).payload.reporting_period == "quarterly"  # type: ignore[attr-defined]
    url = f"/plans/{plan['id']}"
    edited = api.ok(api.call("PATCH", url, json={"reporting_period": "monthly"}), 200)
    assert edited["reporting_period"] == "monthly" and edited["version"] == 2
    event = parse_event(api.outbox()[-1].body)
    assert event.event_type == "plan.updated.v1" and event.payload.reporting_period == "monthly"  # type: ignore[attr-defined]
    assert api.ok(api.get(url), 200)["reporting_period"] == "monthly"
    assert_problem(api.call("PATCH", url, json={"reporting_period": None}), 422)
    assert_problem(api.call("PATCH", url, json={"reporting_period": "weekly"}), 422)
    assert_problem(api.post("/plans", {"number": "9-KH", "title": "T", "reporting_period": "daily"}), 422)
    half = api.plan("10-KH", [{"code": "I", "title": "a"}], reporting_period="half_yearly")
    assert half["reporting_period"] == "half_yearly"
    assert [p["reporting_period"] for p in api.ok(api.get("/plans"), 200)["data"]] == ["monthly", "half_yearly"]


def test_assignment_created_names_its_plan_and_task_kind(api: Api) -> None:
    unit = api.unit("CB-A")
    plan = api.plan("11-KH/ĐUK", [{"code": "I", "title": "Thường xuyên", "kind": "ongoing"},
                                  {"code": "II", "title": "Một lần", "due_on": "2030-01-01"}])
    for task, kind in zip(plan["tasks"], ("ongoing", "one_off"), strict=True):
        (a,) = api.assign(plan["id"], task["id"], [unit["id"]])
        event = parse_event(api.outbox()[-1].body)
        p = event.payload  # type: ignore[attr-defined]
        assert (p.plan_number, p.task_kind, a["task_kind"]) == ("11-KH/ĐUK", kind, kind)
        with api.session() as s:
            assert event.occurred_at == s.get(Assignment, a["id"]).created_at.replace(tzinfo=UTC)  # type: ignore[union-attr]


def test_bulk_assignment_with_a_missing_unit_writes_nothing(world: World) -> None:
    api = world.api
    assignments_before, outbox_before = api.assignment_count(), len(api.outbox())
    r = api.post(f"/plans/{world.plan['id']}/assignments",
                 {"task_id": world.tasks["II"]["id"], "unit_ids": [world.cell_a["id"], 9999, world.cell_b["id"]]})
    body = assert_problem(r, 404)
    assert "9999" in body["detail"]
    assert api.assignment_count() == assignments_before
    assert len(api.outbox()) == outbox_before
    with api.session() as s:
        assert s.exec(select(Assignment).where(Assignment.task_id == world.tasks["II"]["id"])).all() == []


def test_assigning_twice_is_409_and_atomic(world: World) -> None:
    api = world.api
    before = api.assignment_count()
    r = api.post(f"/plans/{world.plan['id']}/assignments",
                 {"task_id": world.tasks["II.1"]["id"], "unit_ids": [world.board["id"], world.cell_a["id"]]})
    assert "CB-STC" in assert_problem(r, 409)["detail"]
    assert api.assignment_count() == before


def test_task_of_another_plan_is_404(world: World) -> None:
    api = world.api
    other = api.plan("2-KH", [{"code": "I", "title": "Khác"}])
    r = api.post(f"/plans/{world.plan['id']}/assignments",
                 {"task_id": other["tasks"][0]["id"], "unit_ids": [world.cell_a["id"]]})
    assert_problem(r, 404)


def test_ongoing_task_has_no_deadline(api: Api) -> None:
    unit = api.unit("CB-A")
    dated = api.post("/plans", {"number": "5b-KH", "title": "KH", "tasks": [
        {"code": "I", "title": "Thường xuyên", "kind": "ongoing", "due_on": "2030-01-01"}]})
    assert dated.status_code == 422 and "ongoing" in dated.json()["detail"]
    plan = api.plan("5-KH", [{"code": "I", "title": "Thường xuyên", "kind": "ongoing"}])
    refused = api.post(f"/plans/{plan['id']}/assignments",
                       {"task_id": plan["tasks"][0]["id"], "unit_ids": [unit["id"]], "due_on": "2030-02-01"})
    assert refused.status_code == 422 and "no due date" in refused.json()["detail"]
    (a,) = api.assign(plan["id"], plan["tasks"][0]["id"], [unit["id"]])
    today = local_date()
    # reported each quarter (the default): due in the quarter's last week, else within its deadline
    expected = ongoing_due_state("not_started", "quarterly", today, assigned_on=today, last_reported_on=None)
    assert a["due_on"] is None and a["task_kind"] == "ongoing" and a["due_state"] == expected
    assert expected in (DueState.WITHIN_DEADLINE, DueState.REPORT_DUE)


def test_assignment_due_date_defaults_to_the_tasks_and_can_be_overridden(api: Api) -> None:
    a_unit, b_unit = api.unit("CB-A"), api.unit("CB-B")
    plan = api.plan("6-KH", [{"code": "I", "title": "Có hạn", "due_on": "2030-01-01"}])
    (a,) = api.assign(plan["id"], plan["tasks"][0]["id"], [a_unit["id"]])
    (b,) = api.assign(plan["id"], plan["tasks"][0]["id"], [b_unit["id"]], due_on="2030-06-30")
    assert a["due_on"] == "2030-01-01" and b["due_on"] == "2030-06-30"
    assert a["status"] == "not_started" and a["version"] == 1 and a["unit_code"] == "CB-A"


# -- visibility ------------------------------------------------------------------------------


def test_unit_officer_cannot_see_or_update_another_units_assignment(world: World) -> None:
    api, b_id = world.api, world.b_assignment["id"]
    body = assert_problem(api.get(f"/assignments/{b_id}", token=world.officer_a), 404)
    assert str(b_id) in body["detail"]
    assert_problem(api.get(f"/assignments/{b_id}/updates", token=world.officer_a), 404)
    outbox_before = len(api.outbox())
    r = api.post(f"/assignments/{b_id}/updates", {"status": "in_progress", "progress": 10}, token=world.officer_a)
    assert_problem(r, 404)
    assert len(api.outbox()) == outbox_before
    with api.session() as s:
        assert s.get(Assignment, b_id).status == "not_started"  # type: ignore[union-attr]
    # the same id that does not exist at all gives the same answer (no existence leak)
    missing = assert_problem(api.get("/assignments/99999", token=world.officer_a), 404)
    assert missing["title"] == body["title"]


def test_unit_officer_lists_only_own_units_assignments(world: World) -> None:
    api = world.api
    mine = api.ok(api.get("/assignments", token=world.officer_a), 200)
    assert mine["count"] == 1 and [a["id"] for a in mine["data"]] == [world.a_assignment["id"]]
    # filtering by another unit does not widen the view
    other = api.ok(api.get(f"/assignments?unit_id={world.cell_b['id']}", token=world.officer_a), 200)
    assert other["count"] == 0 and other["data"] == []
    everyone = api.ok(api.get("/assignments", token=world.supervisor), 200)
    assert {a["id"] for a in everyone["data"]} == {world.a_assignment["id"], world.b_assignment["id"]}


@pytest.mark.parametrize("who", ["supervisor", "observer"])
def test_supervisor_and_observer_cannot_post_updates(world: World, who: str) -> None:
    api = world.api
    token = getattr(world, who)
    a_id = world.a_assignment["id"]
    assert api.get(f"/assignments/{a_id}", token=token).status_code == 200  # they may read it
    before = len(api.outbox())
    body = assert_problem(api.post(f"/assignments/{a_id}/updates", {"status": "in_progress", "progress": 10},
                                   token=token), 403)
    assert "officer" in body["detail"]
    assert len(api.outbox()) == before


# -- status updates --------------------------------------------------------------------------


def test_officer_reports_progress_then_completion(world: World) -> None:
    api, a_id = world.api, world.a_assignment["id"]
    r = api.post(f"/assignments/{a_id}/updates", {"status": "in_progress", "progress": 40,
                                                  "summary": "Đã quán triệt.", "difficulties": "Thiếu kinh phí."},
                 token=world.officer_a)
    first = api.ok(r)
    assert first["assignment_version"] == 2 and first["progress"] == 40
    assert r.headers["ETag"] == '"2"'
    r = api.post(f"/assignments/{a_id}/updates", {"status": "completed"}, token=world.officer_a,
                 headers={"If-Match": '"2"'})
    done = api.ok(r)
    assert done["progress"] == 100 and r.headers["ETag"] == '"3"'
    view = api.get(f"/assignments/{a_id}", token=world.officer_a)
    assert view.headers["ETag"] == '"3"'
    assert view.json()["status"] == "completed" and view.json()["due_state"] == "completed_on_time"
    history = api.ok(api.get(f"/assignments/{a_id}/updates", token=world.supervisor), 200)
    assert [u["status"] for u in history["data"]] == ["in_progress", "completed"]
    with api.session() as s:
        assignment = s.get(Assignment, a_id)
        assert assignment.completed_on == local_date()  # type: ignore[union-attr]


@pytest.mark.parametrize(("utc_time", "completed_on", "state"), [
    # 16:59 UTC is 23:59 on the due date in Trà Vinh: on time
    (datetime(2022, 3, 31, 16, 59, tzinfo=UTC), date(2022, 3, 31), "completed_on_time"),
    # 18:30 UTC on the due date is 01:30 the next day in Trà Vinh: late, though still 31/3 in UTC
    (datetime(2022, 3, 31, 18, 30, tzinfo=UTC), date(2022, 4, 1), "completed_late"),
])
def test_completion_is_dated_in_vietnam(api: Api, monkeypatch: pytest.MonkeyPatch, utc_time: datetime,
                                        completed_on: date, state: str) -> None:
    unit = api.unit("CB-A")
    officer = api.official("unit_officer", unit["id"])[1]
    plan = api.plan("31-KH", [{"code": "I", "title": "Có hạn", "due_on": "2022-03-31"}])
    (a,) = api.assign(plan["id"], plan["tasks"][0]["id"], [unit["id"]])
    monkeypatch.setattr(tracking, "utcnow", lambda: utc_time)
    api.ok(api.post(f"/assignments/{a['id']}/updates", {"status": "completed"}, token=officer))
    with api.session() as s:
        assert s.get(Assignment, a["id"]).completed_on == completed_on  # type: ignore[union-attr]
    assert api.get(f"/assignments/{a['id']}", token=officer).json()["due_state"] == state
    event = parse_event(api.outbox()[-1].body)
    assert event.payload.reported_at == utc_time  # type: ignore[attr-defined]


def test_a_status_update_records_the_vietnamese_day_it_was_reported_on(
    api: Api, monkeypatch: pytest.MonkeyPatch,
) -> None:
    unit = api.unit("CB-A")
    officer = api.official("unit_officer", unit["id"])[1]
    plan = api.plan("32-KH", [{"code": "I", "title": "Thường xuyên", "kind": "ongoing"}])
    (a,) = api.assign(plan["id"], plan["tasks"][0]["id"], [unit["id"]])
    assert a["last_reported_on"] is None
    monkeypatch.setattr(tracking, "utcnow", lambda: datetime(2026, 12, 31, 17, 30, tzinfo=UTC))  # 1/1 in Vietnam
    api.ok(api.post(f"/assignments/{a['id']}/updates", {"status": "in_progress", "progress": 10}, token=officer))
    view = api.ok(api.get(f"/assignments/{a['id']}", token=officer), 200)
    assert view["last_reported_on"] == "2027-01-01"
    update = api.ok(api.get(f"/assignments/{a['id']}/updates", token=officer), 200)["data"][0]
    # returned for another report: the unit did report that day, and the assignment says it needs a new one
    supervisor = api.official("supervisor", unit["id"])[1]
    api.ok(api.post(f"/updates/{update['id']}/review", {"decision": "returned", "reason": "Bổ sung số liệu."},
                    token=supervisor), 200)
    view = api.ok(api.get(f"/assignments/{a['id']}", token=officer), 200)
    assert view["last_reported_on"] == "2027-01-01" and view["needs_resubmission"]


def test_get_gives_an_etag_matching_the_version(world: World) -> None:
    r = world.api.get(f"/assignments/{world.a_assignment['id']}", token=world.officer_a)
    assert r.headers["ETag"] == f'"{r.json()["version"]}"' == '"1"'


def test_illegal_transition_is_409_with_a_clear_message(world: World) -> None:
    api, a_id = world.api, world.a_assignment["id"]
    api.ok(api.post(f"/assignments/{a_id}/updates", {"status": "completed"}, token=world.officer_a))
    before = len(api.outbox())
    r = api.post(f"/assignments/{a_id}/updates", {"status": "in_progress", "progress": 50}, token=world.officer_a)
    body = assert_problem(r, 409)
    assert "'completed'" in body["detail"] and "'in_progress'" in body["detail"]
    assert "final" in body["detail"]
    assert len(api.outbox()) == before


@pytest.mark.parametrize(("body", "fragment"), [
    ({"status": "not_started", "progress": 0}, "cannot change"),
    ({"status": "in_progress"}, "required"),
    ({"status": "in_progress", "progress": 100}, "between 0 and 99"),
    ({"status": "completed", "progress": 60}, "progress 100"),
])
def test_rule_violations_are_409(world: World, body: dict, fragment: str) -> None:
    api, a_id = world.api, world.a_assignment["id"]
    r = api.post(f"/assignments/{a_id}/updates", body, token=world.officer_a)
    assert fragment in assert_problem(r, 409)["detail"]
    with api.session() as s:
        assert s.get(Assignment, a_id).version == 1  # type: ignore[union-attr]
        assert s.exec(select(StatusUpdate)).all() == []


@pytest.mark.parametrize("body", [
    {"status": "done", "progress": 10},
    {"status": "in_progress", "progress": 150},
    {"status": "in_progress", "progress": "many"},
    {"progress": 10},
])
def test_invalid_update_body_is_422(world: World, body: dict) -> None:
    r = world.api.post(f"/assignments/{world.a_assignment['id']}/updates", body, token=world.officer_a)
    problem = assert_problem(r, 422)
    assert problem["errors"] and all(e["loc"][0] == "body" for e in problem["errors"])


def test_stale_if_match_is_412(world: World) -> None:
    api, a_id = world.api, world.a_assignment["id"]
    api.ok(api.post(f"/assignments/{a_id}/updates", {"status": "in_progress", "progress": 10},
                    token=world.officer_a, headers={"If-Match": '"1"'}))
    before = len(api.outbox())
    r = api.post(f"/assignments/{a_id}/updates", {"status": "in_progress", "progress": 20},
                 token=world.officer_a, headers={"If-Match": '"1"'})
    body = assert_problem(r, 412)
    assert "version 2" in body["detail"] and "reload" in body["detail"]
    assert len(api.outbox()) == before
    # weak ETags and * are understood; garbage is a 400
    api.ok(api.post(f"/assignments/{a_id}/updates", {"status": "in_progress", "progress": 20},
                    token=world.officer_a, headers={"If-Match": 'W/"2"'}))
    api.ok(api.post(f"/assignments/{a_id}/updates", {"status": "in_progress", "progress": 30},
                    token=world.officer_a, headers={"If-Match": "*"}))
    assert_problem(api.post(f"/assignments/{a_id}/updates", {"status": "in_progress", "progress": 40},
                            token=world.officer_a, headers={"If-Match": "latest"}), 400)


def test_admin_may_not_report_for_a_unit(world: World) -> None:
    api = world.api
    response = api.post(f"/assignments/{world.b_assignment['id']}/updates", {"status": "in_progress", "progress": 5})
    assert_problem(response, 403)
    assert "officer of the unit" in response.json()["detail"]


# -- listing ---------------------------------------------------------------------------------


def test_pagination_limit_is_capped(make_api: Callable[..., Api]) -> None:
    api = make_api(page_size_max=2)
    for code in ("A", "B", "C"):
        api.unit(code)
    page = api.ok(api.get("/units?limit=100"), 200)
    assert page["limit"] == 2 and len(page["data"]) == 2 and page["count"] == 3
    page = api.ok(api.get("/units?limit=2&offset=2"), 200)
    assert [u["code"] for u in page["data"]] == ["C"]
    assert_problem(api.get("/units?limit=0"), 422)
    assert_problem(api.get("/units?offset=-1"), 422)


def test_assignment_list_pagination_is_capped(world: World) -> None:
    api = world.api
    unit_ids = [api.unit(f"CB-{n}", parent_id=world.bloc["id"])["id"] for n in range(3)]
    api.assign(world.plan["id"], world.tasks["I"]["id"], unit_ids)
    page = api.ok(api.get("/assignments?limit=1000", token=world.supervisor), 200)
    assert page["limit"] == 200 and page["count"] == 5  # page_size_max default
    page = api.ok(api.get("/assignments?limit=2&offset=4", token=world.supervisor), 200)
    assert len(page["data"]) == 1 and page["count"] == 5


def test_filter_by_status(world: World) -> None:
    api = world.api
    api.ok(api.post(f"/assignments/{world.a_assignment['id']}/updates", {"status": "in_progress", "progress": 10},
                    token=world.officer_a))
    for status, expected in [("in_progress", world.a_assignment), ("not_started", world.b_assignment)]:
        page = api.ok(api.get(f"/assignments?status={status}", token=world.supervisor), 200)
        assert [a["id"] for a in page["data"]] == [expected["id"]] and page["count"] == 1
    assert api.ok(api.get("/assignments?status=completed", token=world.supervisor), 200)["count"] == 0
    assert_problem(api.get("/assignments?status=finished", token=world.supervisor), 422)


def test_filter_by_due_state_matches_the_derived_state(api: Api) -> None:
    unit = api.unit("CB-A")
    officer = api.official("unit_officer", unit["id"])[1]
    today = local_date()  # deadlines are Vietnamese calendar days

    def day(n: int) -> str:
        return (today + timedelta(days=n)).isoformat()

    plan = api.plan("9-KH", [
        {"code": "1", "title": "quá hạn", "due_on": day(-1)},
        {"code": "2", "title": "đến hạn hôm nay", "due_on": day(0)},
        {"code": "3", "title": "còn 7 ngày", "due_on": day(7)},
        {"code": "4", "title": "còn 8 ngày", "due_on": day(8)},
        {"code": "5", "title": "không thời hạn"},
        {"code": "6", "title": "xong đúng hạn", "due_on": day(0)},
        {"code": "7", "title": "xong trễ hạn", "due_on": day(-2)},
    ])
    ids = {}
    for task in plan["tasks"]:
        (a,) = api.assign(plan["id"], task["id"], [unit["id"]])
        ids[task["code"]] = a["id"]
    for code in ("6", "7"):
        api.ok(api.post(f"/assignments/{ids[code]}/updates", {"status": "completed"}, token=officer))
    expected = {
        "overdue": {"1"}, "due_soon": {"2", "3"}, "within_deadline": {"4"}, "no_deadline": {"5"},
        "completed_on_time": {"6"}, "completed_late": {"7"},
    }
    by_id = {v: k for k, v in ids.items()}
    for state, codes in expected.items():
        page = api.ok(api.get(f"/assignments?due_state={state}&plan_id={plan['id']}", token=officer), 200)
        assert {by_id[a["id"]] for a in page["data"]} == codes, state
        assert page["count"] == len(codes)
        assert all(a["due_state"] == state for a in page["data"])  # SQL filter == derived state


def test_due_state_filter_agrees_with_the_rule_for_ongoing_and_one_off_tasks(api: Api) -> None:
    """SQLite; tests/integration/assignments/test_rules_pg.py runs the same grid on PostgreSQL."""
    ids = due_grid.build(api, "G")
    seen = due_grid.check_filter_agrees(api, ids)
    assert set(seen) == set(DueState)  # every state occurs on some day: the check is not vacuous


def test_ongoing_assignments_missing_a_period_report_count_as_overdue_in_completeness(api: Api) -> None:
    unit = api.unit("CB-A")
    plan = api.plan("33-KH", [{"code": "I", "title": "Thường xuyên", "kind": "ongoing"}],
                    reporting_period="monthly")
    (a,) = api.assign(plan["id"], plan["tasks"][0]["id"], [unit["id"]])
    (row,) = api.ok(api.get(f"/plans/{plan['id']}/completeness"), 200)
    assert row["overdue"] == 0
    with api.session() as s:  # assigned two months ago, never reported
        assignment = s.get(Assignment, a["id"])
        assert assignment is not None
        assignment.created_at = datetime.now(UTC) - timedelta(days=62)
        s.add(assignment)
        s.commit()
    assert api.ok(api.get(f"/assignments/{a['id']}"), 200)["due_state"] == "report_missing"
    (row,) = api.ok(api.get(f"/plans/{plan['id']}/completeness"), 200)
    assert (row["assignments"], row["overdue"]) == (1, 1)
    page = api.ok(api.get(f"/assignments?due_state=report_missing&plan_id={plan['id']}"), 200)
    assert [x["id"] for x in page["data"]] == [a["id"]]


# -- outbox ----------------------------------------------------------------------------------


def new_rows(api: Api, before: int) -> list[tuple[str, str]]:
    return [(r.event_type, r.correlation_id) for r in api.outbox()[before:]]


def test_every_write_adds_exactly_its_events_with_the_request_id(api: Api) -> None:
    n = len(api.outbox())  # the bootstrap admin's official.created
    bloc = api.ok(api.post("/units", {"code": "DUK", "name": "Đảng ủy Khối", "kind": "bloc_committee"},
                           request_id="req-unit"))
    assert new_rows(api, n) == [("unit.created.v1", "req-unit")]
    n = len(api.outbox())

    cells = [api.ok(api.post("/units", {"code": c, "name": c, "kind": "party_cell", "parent_id": bloc["id"]}))
             for c in ("CB-A", "CB-B")]
    n = len(api.outbox())

    official = api.ok(api.post("/officials", {"name": "Lan", "email": "lan@example.vn", "unit_id": cells[0]["id"],
                                              "role": "unit_officer"}, request_id="req-official"))
    assert new_rows(api, n) == [("official.created.v1", "req-official")]
    n = len(api.outbox())

    token = api.ok(api.post(f"/officials/{official['id']}/tokens", {"name": "x"}, request_id="req-token"))["token"]
    assert new_rows(api, n) == [("api_token.issued.v1", "req-token")]  # its hash, for the other services
    n = len(api.outbox())

    plan = api.ok(api.post("/plans", {"number": "41-KH/ĐUK", "title": "KH", "tasks": [{"code": "I", "title": "a"}]},
                           request_id="req-plan"))
    assert new_rows(api, n) == [("plan.created.v1", "req-plan")]
    n = len(api.outbox())

    created = api.ok(api.post(f"/plans/{plan['id']}/assignments",
                              {"task_id": plan["tasks"][0]["id"], "unit_ids": [c["id"] for c in cells]},
                              request_id="req-assign"))
    assert new_rows(api, n) == [("assignment.created.v1", "req-assign")] * 2
    bodies = [parse_event(r.body) for r in api.outbox()[n:]]
    assert [b.payload.id for b in bodies] == [a["id"] for a in created]  # type: ignore[attr-defined]
    n = len(api.outbox())

    api.ok(api.post(f"/plans/{plan['id']}/publish", request_id="req-publish"), 200)
    assert new_rows(api, n) == [("plan.published.v1", "req-publish")]
    n = len(api.outbox())

    update = api.ok(api.post(f"/assignments/{created[0]['id']}/updates",
                             {"status": "in_progress", "progress": 30, "difficulties": "Thiếu người"},
                             token=token, request_id="req-update"))
    assert new_rows(api, n) == [("assignment.status_changed.v1", "req-update")]
    row = api.outbox()[-1]
    event = parse_event(row.body)
    assert event.event_id == row.event_id and event.correlation_id == "req-update"
    p = event.payload  # type: ignore[attr-defined]
    assert (p.old_status, p.new_status, p.progress, p.version) == ("not_started", "in_progress", 30, 2)
    assert p.update_id == update["id"] and p.reported_by_id == official["id"] and p.reported_by_name == "Lan"
    assert p.unit_code == "CB-A" and p.plan_number == "41-KH/ĐUK" and p.difficulties == "Thiếu người"
    with api.session() as s:
        assert s.get(StatusUpdate, update["id"]).correlation_id == "req-update"  # type: ignore[union-attr]
    assert all(r.sent_at is None and r.attempts == 0 for r in api.outbox())  # relay disabled


def test_reads_and_failed_writes_add_no_events(world: World) -> None:
    api = world.api
    n = len(api.outbox())
    api.get("/assignments", token=world.supervisor)
    api.get(f"/plans/{world.plan['id']}")
    api.post("/units", {"code": "DUK", "name": "dup", "kind": "bloc_committee"})  # 409
    api.post(f"/assignments/{world.a_assignment['id']}/updates", {"status": "in_progress"},
             token=world.officer_a)  # 409
    assert len(api.outbox()) == n


def test_relay_is_woken_after_the_commit_and_not_on_failure(api: Api) -> None:
    seen: list[int] = []

    class FakeRelay:
        def notify(self) -> None:
            seen.append(len(api.outbox()))  # what a relay would find at that moment

    state = api.app.state.plantrack
    state.relay = FakeRelay()
    try:
        before = len(api.outbox())
        api.unit("CB-A")
        assert seen == [before + 1]  # committed before the wake-up
        assert_problem(api.post("/units", {"code": "CB-A", "name": "dup", "kind": "party_cell"}), 409)
        assert seen == [before + 1]
    finally:
        state.relay = None
