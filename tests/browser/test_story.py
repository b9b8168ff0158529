"""The whole story in a real browser: a plan imported and published, reported on, returned, reported again,
accepted, seen on the dashboard and downloaded (issue 10)."""

import csv
import io
import re
from pathlib import Path

import httpx
import openpyxl
import pytest
from openpyxl.worksheet.worksheet import Worksheet
from playwright.sync_api import Browser, Page

from tests.browser.conftest import shot, sign_in
from tests.browser.test_dashboard import download, open_when_ready
from tests.support.procs import ROOT
from tests.support.stack import ADMIN_TOKEN, Stack

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

SEED = ROOT / "tests" / "fixtures" / "plans" / "formats" / "ke-hoach-41-KH-DUK.pdf"  # the admin uploads the PDF
ADMIN, SUPERVISOR, OFFICER = "quantri@example.vn", "lan.btg@example.vn", "binh.stc@example.vn"
CELL = "Chi bộ Sở Tài chính"
PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"
REASON = "Bổ sung số cán bộ, đảng viên đã được quán triệt và gửi kèm kế hoạch của chi bộ."


def _ok(response: httpx.Response) -> dict:
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def set_up_directory(base_url: str) -> int:
    """The seed plan's bloc with its board and a party cell; an admin, a supervisor, the cell's officer."""
    with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=10) as c:
        bloc = _ok(c.post("/units", json={"code": "DUK", "kind": "bloc_committee",
                                          "name": "Đảng ủy Khối các cơ quan và doanh nghiệp tỉnh"}))
        board = _ok(c.post("/units", json={"code": "BTG", "name": "Ban Tuyên giáo Đảng ủy Khối",
                                           "kind": "advisory_board", "parent_id": bloc["id"]}))
        cell = _ok(c.post("/units", json={"code": "CB-STC", "name": CELL, "kind": "party_cell",
                                          "parent_id": bloc["id"]}))
        for name, email, unit, role in (("Phạm Quốc Hùng", ADMIN, bloc, "admin"),
                                        ("Nguyễn Thị Lan", SUPERVISOR, board, "supervisor"),
                                        ("Trần Văn Bình", OFFICER, cell, "unit_officer")):
            _ok(c.post("/officials", json={"name": name, "email": email, "unit_id": unit["id"], "role": role}))
    return int(cell["id"])


def new_page(browser: Browser) -> Page:
    """Another person's browser: a profile of its own, as the `page` fixture makes."""
    context = browser.new_context(accept_downloads=True, locale="vi-VN", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    return context.new_page()


def import_and_publish(page: Page, stack: Stack) -> int:
    """The admin uploads the seed plan, applies the suggested assignments and publishes it; the plan's id."""
    sign_in(page, stack, ADMIN)
    page.goto(f"{stack.assignments.url}/admin/import")
    shot(page, "01-admin-import")
    page.get_by_label("Tệp văn bản kế hoạch").set_input_files(SEED)
    page.get_by_role("button", name="Nhập kế hoạch").click()
    page.get_by_role("heading", name="Đề xuất giao nhiệm vụ theo văn bản").wait_for()
    assert page.get_by_role("heading", name=re.compile(r"^Nhiệm vụ \(\d+\)$")).is_visible()
    assert page.get_by_text(CELL).first.is_visible()
    shot(page, "02-admin-draft")
    page.get_by_role("button", name="Giao theo đề xuất đã chọn").click()
    page.wait_for_url(re.compile(r"/admin/plans/\d+$"))
    plan_id = int(page.url.rsplit("/", 1)[1])
    assert page.get_by_role("heading", name=re.compile(r"^Đã giao \([1-9]\d*\)$")).is_visible()
    page.get_by_role("button", name="Ban hành kế hoạch").click()
    page.get_by_role("link", name="Xem tiến độ thực hiện").wait_for()
    shot(page, "03-admin-published")
    return plan_id


def report(page: Page, status: str, progress: int, summary: str, difficulties: str = "") -> None:
    """Fill the assignment's report form and send it."""
    page.get_by_label("Trạng thái", exact=True).select_option(label=status)
    page.get_by_label("Tiến độ (%)").fill(str(progress))
    page.get_by_label("Kết quả thực hiện").fill(summary)
    page.get_by_label("Khó khăn, vướng mắc").fill(difficulties)
    page.get_by_role("button", name="Gửi báo cáo").click()
    page.get_by_text("Đã ghi nhận báo cáo.").wait_for()


def first_report(page: Page, stack: Stack, tmp_path: Path) -> str:
    """The officer opens the cell's first assignment, reports on it and attaches a PDF; its path."""
    sign_in(page, stack, OFFICER)
    page.goto(f"{stack.assignments.url}/unit")
    shot(page, "04-unit-list")
    page.get_by_role("table").get_by_role("link").first.click()
    page.wait_for_url(re.compile(r"/unit/assignments/\d+$"))
    path = page.url.removeprefix(stack.assignments.url)
    report(page, "Đang thực hiện", 60, "Đã quán triệt Kế hoạch 41-KH/ĐUK đến toàn thể đảng viên chi bộ.",
           "Chưa bố trí được kinh phí tập huấn.")
    evidence = tmp_path / "bien-ban-quan-triet.pdf"
    evidence.write_bytes(PDF)
    page.get_by_label("Chọn tệp (PDF, Word, Excel, ảnh PNG hoặc JPEG)").set_input_files(evidence)
    page.get_by_label("Gắn với báo cáo").select_option(index=1)
    page.get_by_role("button", name="Tải tệp lên").click()
    page.get_by_text("Đã tải tệp đính kèm lên.").wait_for()
    assert page.get_by_role("link", name="bien-ban-quan-triet.pdf").is_visible()
    shot(page, "05-unit-reported")
    return path


def review(page: Page, stack: Stack, plan_id: int, decision: str) -> None:
    """The supervisor returns (with a reason, after trying none) or accepts the waiting report."""
    page.goto(f"{stack.assignments.url}/board/plans/{plan_id}")
    waiting = page.get_by_role("region", name="Báo cáo chờ xem xét").get_by_role("article")
    assert waiting.count() == 1 and CELL in waiting.inner_text()
    if decision == "accept":
        waiting.get_by_role("button", name="Chấp nhận").click()
        page.get_by_text("Không có báo cáo nào chờ xem xét.").wait_for()
        return
    shot(page, "06-board-pending")
    reason = waiting.get_by_label("Lý do trả lại")
    reason.fill("   ")  # blank: passes the browser's `required`, refused by the page
    waiting.get_by_role("button", name="Trả lại").click()
    error = page.get_by_role("alert").filter(has_text="Cần ghi lý do trả lại")
    error.wait_for()
    reason = page.get_by_label("Lý do trả lại")
    assert reason.get_attribute("aria-invalid") == "true"
    assert reason.get_attribute("aria-describedby") == error.get_attribute("id")
    shot(page, "07-board-reason-required")
    reason.fill(REASON)
    page.get_by_role("button", name="Trả lại").click()
    page.get_by_text("Không có báo cáo nào chờ xem xét.").wait_for()


def sheet_row(sheet: Worksheet, column: str, value: str) -> dict[str, object]:
    """The row of a workbook's table whose `column` holds `value`, by its header (the table starts lower down)."""
    rows = list(sheet.iter_rows(values_only=True))
    top = next(i for i, row in enumerate(rows) if column in row and "STT" in row)
    header = [str(cell) for cell in rows[top]]
    found = [dict(zip(header, row, strict=False)) for row in rows[top + 1:]]
    return next(row for row in found if row.get(column) == value)


def check_dashboard(page: Page, stack: Stack, plan_id: int, cell_id: int, tmp_path: Path) -> str:
    """The dashboard shows the completed assignment; both exports hold it. The task's code."""
    url = f"{stack.reporting.url}/dashboard/plans/{plan_id}"
    open_when_ready(page, url, "Hoàn thành 1/")  # the read model learns of the acceptance a moment later
    bar = page.locator(f"progress#don-vi-{cell_id}")
    assert bar.get_attribute("value") == "1"
    assert page.locator(f"#don-vi-{cell_id}-text").inner_text().startswith("Hoàn thành 1/")
    shot(page, "10-dashboard-plan")
    rows = list(csv.DictReader(io.StringIO(download(page, "CSV", tmp_path).read_text("utf-8-sig"))))
    done = [r for r in rows if r["Đơn vị"] == CELL and r["Tiến độ (%)"] == "100"]
    assert len(done) == 1 and done[0]["Trạng thái"] == "Đã hoàn thành", rows
    workbook = openpyxl.load_workbook(download(page, "XLSX", tmp_path))
    assert sheet_row(workbook["Theo đơn vị"], "Đơn vị", CELL)["Đã hoàn thành"] == 1
    assert sheet_row(workbook["Theo nhiệm vụ"], "Mã nhiệm vụ", done[0]["Mã nhiệm vụ"])["Đã hoàn thành"] == 1
    return done[0]["Mã nhiệm vụ"]


def test_the_whole_story(stack: Stack, page: Page, browser: Browser, tmp_path: Path) -> None:
    cell_id = set_up_directory(stack.assignments.url)
    plan_id = import_and_publish(page, stack)

    officer = new_page(browser)
    assignment = first_report(officer, stack, tmp_path)

    supervisor = new_page(browser)
    sign_in(supervisor, stack, SUPERVISOR)
    review(supervisor, stack, plan_id, "return")

    officer.goto(f"{stack.assignments.url}{assignment}")
    returned = officer.get_by_role("region", name="Báo cáo gần nhất bị trả lại")
    assert REASON in returned.inner_text()
    shot(officer, "08-unit-returned")
    report(officer, "Đã hoàn thành", 100, "Đã quán triệt đến 100% đảng viên (25/25); kế hoạch của chi bộ gửi kèm.")

    review(supervisor, stack, plan_id, "accept")
    officer.reload()
    assert officer.get_by_text("Đã được chấp nhận").is_visible()
    shot(officer, "09-unit-accepted")

    code = check_dashboard(supervisor, stack, plan_id, cell_id, tmp_path)
    assert code in officer.locator("h1").inner_text()
    officer.context.close()
    supervisor.context.close()
