"""The supervisor's board pages: progress, review of updates (a return needs its reason), review
rounds and inspections, through the browser session, with the same events as the API."""

import json
from collections.abc import Callable
from dataclasses import fields
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from shared.vietnamese import local_date
from tests.unit.conftest import Api, World, bearer
from tests.unit.test_signin import HTML, SECRET, browser, csrf, sign_in

REASON_REQUIRED = "Cần ghi lý do trả lại để đơn vị biết phải sửa gì."


@pytest.fixture
def portal_world(make_api: Callable[..., Api], world_template: tuple[Path, World]) -> World:
    """The standard world served by an app that signs officials in by link."""
    template, built = world_template
    data = {f.name: getattr(built, f.name) for f in fields(World) if f.name != "api"}
    api = make_api(template=template, session_secret=SECRET, signin_per_address=50, signin_per_email=10)
    return World(api=api, **data)


def signed_in(api: Api, token: str) -> TestClient:
    """A browser signed in as the official holding `token`."""
    email = api.ok(api.get("/me", token=token), 200)["email"]
    client = browser(api)
    sign_in(api, client, email)
    return client


def events(api: Api, event_type: str) -> list[dict]:
    return [json.loads(row.body)["payload"] for row in api.outbox() if row.event_type == event_type]


def report(w: World, token: str, assignment: dict) -> int:
    update = w.api.ok(w.api.post(f"/assignments/{assignment['id']}/updates",
                                 {"status": "in_progress", "progress": 40, "summary": "Đã quán triệt."}, token=token))
    return int(update["id"])


def test_supervisor_reviews_updates_and_a_return_needs_its_reason(portal_world: World) -> None:
    w = portal_world
    a_update, b_update = report(w, w.officer_a, w.a_assignment), report(w, w.officer_b, w.b_assignment)
    client = signed_in(w.api, w.supervisor)
    assert w.plan["number"] in client.get("/board", headers=HTML).text
    board = client.get(f"/board/plans/{w.plan['id']}", headers=HTML)
    assert board.status_code == 200 and "Chi bộ Sở Tài chính" in board.text and "Đã quán triệt." in board.text
    token = csrf(board.text)

    empty = client.post(f"/board/updates/{a_update}/review", headers=HTML,
                        data={"csrf_token": token, "plan_id": w.plan["id"], "decision": "returned", "reason": " "})
    assert empty.status_code == 422 and REASON_REQUIRED in empty.text
    assert f'aria-describedby="reason-{a_update}-loi"' in empty.text
    assert events(w.api, "status_update.reviewed.v1") == []

    returned = client.post(f"/board/updates/{a_update}/review", headers=HTML,
                           data={"csrf_token": token, "plan_id": w.plan["id"], "decision": "returned",
                                 "reason": "Thiếu số liệu."})
    accepted = client.post(f"/board/updates/{b_update}/review", headers=HTML,
                           data={"csrf_token": token, "plan_id": w.plan["id"], "decision": "accepted"})
    assert returned.status_code == accepted.status_code == 303
    decisions = {(e["update_id"], e["decision"], e["reason"]) for e in events(w.api, "status_update.reviewed.v1")}
    assert decisions == {(a_update, "returned", "Thiếu số liệu."), (b_update, "accepted", "")}

    again = client.post(f"/board/updates/{b_update}/review", headers=HTML,
                        data={"csrf_token": token, "plan_id": w.plan["id"], "decision": "accepted"})
    assert again.status_code == 409 and "trạng thái hiện tại" in again.text


def test_supervisor_opens_a_round_and_records_an_inspection(portal_world: World) -> None:
    w = portal_world
    client = signed_in(w.api, w.supervisor)
    token = csrf(client.get(f"/board/plans/{w.plan['id']}", headers=HTML).text)
    today = local_date()

    bad = client.post(f"/board/plans/{w.plan['id']}/reviews", headers=HTML,
                      data={"csrf_token": token, "kind": "preliminary", "period_end": "31/12", "submit_by": ""})
    assert bad.status_code == 422 and "Ngày chưa đúng" in bad.text and "Cần điền mục này." in bad.text
    opened = client.post(f"/board/plans/{w.plan['id']}/reviews", headers=HTML,
                         data={"csrf_token": token, "kind": "preliminary", "title": "",
                               "period_end": today.isoformat(), "submit_by": (today + timedelta(days=7)).isoformat()})
    assert opened.status_code == 303
    (round_,) = events(w.api, "review_round.opened.v1")
    page = client.get(f"/board/reviews/{round_['id']}", headers=HTML)
    assert page.status_code == 200 and page.text.count("Chưa nộp") == 2 and "Sơ kết thực hiện" in page.text

    recorded = client.post(f"/board/plans/{w.plan['id']}/inspections", headers=HTML,
                           data={"csrf_token": token, "unit_id": w.cell_a["id"], "kind": "inspection",
                                 "inspected_on": (today - timedelta(days=1)).isoformat(),
                                 "conclusion": "Thực hiện tốt."})
    assert recorded.status_code == 303, recorded.text[recorded.text.find("error"):][:300]
    (inspection,) = events(w.api, "inspection.recorded.v1")
    assert inspection["unit_id"] == w.cell_a["id"] and inspection["inspecting_unit_id"] == w.board["id"]
    assert "Thực hiện tốt." in client.get(f"/board/plans/{w.plan['id']}", headers=HTML).text


def test_observers_read_only_officers_refused_and_forms_need_csrf(portal_world: World) -> None:
    w = portal_world
    report(w, w.officer_a, w.a_assignment)
    observer = signed_in(w.api, w.observer)
    page = observer.get(f"/board/plans/{w.plan['id']}", headers=HTML)
    assert page.status_code == 200 and "Báo cáo chờ xem xét" in page.text and "/review" not in page.text
    assert "/reviews\"" not in page.text and "/inspections" not in page.text

    officer = signed_in(w.api, w.officer_a)
    for path in ("/board", f"/board/plans/{w.plan['id']}", "/admin", "/admin/officials"):
        refused = officer.get(path, headers=HTML)
        assert refused.status_code == 403 and "Không có quyền truy cập" in refused.text, path

    supervisor = signed_in(w.api, w.supervisor)
    no_csrf = supervisor.post(f"/board/plans/{w.plan['id']}/inspections", headers=HTML,
                              data={"unit_id": w.cell_a["id"], "kind": "inspection", "inspected_on": "2026-01-01"})
    assert no_csrf.status_code == 403 and events(w.api, "inspection.recorded.v1") == []
    assert supervisor.get("/admin", headers=HTML).status_code == 403

    anonymous = browser(w.api).get("/board", headers=HTML)
    assert anonymous.status_code == 303 and anonymous.headers["location"] == "/signin?next=/board"
    assert w.api.client.get("/board", headers=bearer(w.officer_a)).status_code == 403  # problem+json for the API
