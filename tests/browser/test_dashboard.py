"""The dashboard in a real browser: a supervisor signs in by the emailed link, follows a plan, downloads it."""

import csv
import io
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import openpyxl
import pytest
from playwright.sync_api import Page

from tests.browser.conftest import shot, sign_in
from tests.support.flow import Flow, set_up_flow
from tests.support.stack import ADMIN_TOKEN, Stack

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


def _ok(response: httpx.Response, status: int = 201) -> dict:
    assert response.status_code == status, response.text
    return response.json()  # type: ignore[no-any-return]


def overdue_plan(base_url: str, flow: Flow) -> int:
    """A second plan for the cell: one task long overdue, one under way (reported at 40 %), a review round."""
    with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=10) as c:
        plan = _ok(c.post("/plans", json={
            "number": "52-KH/ĐUK", "kind": "ke_hoach", "place": "Trà Vinh", "issued_on": "2023-03-01",
            "title": "Kế hoạch học tập, làm theo tư tưởng, đạo đức, phong cách Hồ Chí Minh năm 2023",
            "tasks": [{"code": "1", "title": "Tổ chức hội nghị quán triệt chuyên đề", "due_on": "2023-06-30"},
                      {"code": "2", "title": "Xây dựng mô hình điểm", "due_on": "2030-12-31"}]}))
        assignments = [_ok(c.post(f"/plans/{plan['id']}/assignments",
                                  json={"task_id": task["id"], "unit_ids": [flow.unit_id]}))[0]
                       for task in plan["tasks"]]
        _ok(c.post(f"/plans/{plan['id']}/publish"), 200)
        _ok(c.post(f"/plans/{plan['id']}/reviews", json={
            "kind": "preliminary", "title": "Sơ kết 6 tháng đầu năm 2023",
            "period_end": "2023-06-30", "submit_by": "2023-07-15"}))
    _ok(httpx.post(f"{base_url}/assignments/{assignments[1]['id']}/updates",
                   headers={"Authorization": f"Bearer {flow.officer_token}"}, timeout=10,
                   json={"status": "in_progress", "progress": 40, "summary": "Đã chọn hai chi bộ làm điểm."}))
    return int(plan["id"])


def open_when_ready(page: Page, url: str, text: str, timeout: float = 30) -> None:
    """Open `url` until the page shows `text` (the read model learns from events, a moment later)."""
    deadline = time.monotonic() + timeout
    while True:
        page.goto(url)
        if page.get_by_text(text).count():
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{url} never showed {text!r}:\n{page.content()[:3000]}")
        time.sleep(0.5)


def download(page: Page, link_name: str, into: Path) -> Path:
    """Click the export link `link_name` and keep the file."""
    with page.expect_download() as info:
        page.get_by_role("link", name=link_name, exact=True).first.click()
    target = into / info.value.suggested_filename
    info.value.save_as(target)
    return target


def test_supervisor_follows_a_plan_and_downloads_it(stack: Stack, page: Page, tmp_path: Path) -> None:
    flow = set_up_flow(stack.assignments.url, ADMIN_TOKEN)
    plan_id = overdue_plan(stack.assignments.url, flow)

    sign_in(page, stack, flow.supervisor_email, shots=True)
    assert page.url.rstrip("/") == stack.assignments.url  # the portal's home page

    open_when_ready(page, f"{stack.reporting.url}/dashboard", "52-KH/ĐUK")
    shot(page, "dashboard-plans")
    page.get_by_role("link", name="Kế hoạch số 52-KH/ĐUK").click()
    assert page.url.endswith(f"/dashboard/plans/{plan_id}")
    open_when_ready(page, page.url, "Chưa nộp")  # the review round arrived too
    assert page.get_by_role("heading", name="Kế hoạch số 52-KH/ĐUK", level=1).is_visible()

    bar = page.locator(f"progress#don-vi-{flow.unit_id}")
    assert bar.get_attribute("max") == "2" and bar.get_attribute("value") == "0"
    assert "Hoàn thành 0/2" in page.locator(f"#don-vi-{flow.unit_id}-text").inner_text()
    overdue = page.get_by_role("region", name="Nhiệm vụ chậm, quá hạn (1)")
    assert "Tổ chức hội nghị quán triệt chuyên đề" in overdue.inner_text()
    assert "Chi bộ Sở Tài chính" in overdue.inner_text()
    rounds = page.get_by_role("heading", name="Đợt sơ kết: Sơ kết 6 tháng đầu năm 2023")
    assert rounds.is_visible()
    shot(page, "dashboard-plan")
    page.set_viewport_size({"width": 390, "height": 844})  # a phone: nothing wider than the screen
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    shot(page, "dashboard-plan-phone")
    page.set_viewport_size({"width": 1280, "height": 900})

    rows = list(csv.DictReader(io.StringIO(download(page, "CSV", tmp_path).read_text("utf-8-sig"))))
    assert {r["Mã nhiệm vụ"] for r in rows} == {"1", "2"}
    assert {r["Đơn vị"] for r in rows} == {"Chi bộ Sở Tài chính"}
    workbook = openpyxl.load_workbook(download(page, "XLSX", tmp_path), read_only=True)
    assert "Theo đơn vị" in workbook.sheetnames

    # a past day: the page and its export links are for the end of that day
    page.get_by_label("Xem số liệu đến ngày").fill("2023-05-31")
    page.get_by_role("button", name="Xem").click()
    page.wait_for_url("**as_of=2023-05-31")
    href = page.get_by_role("link", name="CSV", exact=True).first.get_attribute("href") or ""
    assert parse_qs(urlsplit(href).query) == {"as_of": ["2023-05-31"]}

    # sign out from the portal: the dashboard then sends the browser to sign in again
    page.goto(stack.assignments.url)
    page.get_by_role("button", name="Đăng xuất").click()
    page.wait_for_url("**/signin**")
    page.goto(f"{stack.reporting.url}/dashboard")
    assert page.url.startswith(f"{stack.assignments.url}/signin")


def test_dashboard_without_a_session_goes_to_sign_in(stack: Stack, page: Page) -> None:
    response = httpx.get(f"{stack.reporting.url}/dashboard", headers={"Accept": "text/html"}, timeout=10)
    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith(f"{stack.assignments.url}/signin?next=")
    assert parse_qs(urlsplit(location).query)["next"] == [f"{stack.reporting.url}/dashboard"]
    # an API client gets the usual problem instead
    assert httpx.get(f"{stack.reporting.url}/dashboard", timeout=10).status_code == 401

    page.goto(f"{stack.reporting.url}/dashboard/plans/1")
    assert page.url.startswith(f"{stack.assignments.url}/signin")
    assert page.get_by_label("Địa chỉ thư điện tử").is_visible()
