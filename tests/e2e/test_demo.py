"""The demo data: the seed plan loaded through the public API, idempotently, reaching the export."""

import csv
import io
import time

import httpx
import pytest

from services.assignments.demo.loader import OFFICIALS, UNITS, load_demo
from tests.e2e.conftest import ADMIN_TOKEN, Stack

pytestmark = pytest.mark.e2e

LEAF_TASKS_FOR_CELLS = ["II.1", "II.2.a", "II.2.b", "II.2.c", "II.2.d", "II.2.e", "II.3", "III.1"]


def test_demo_loads_seed_plan_once_and_reaches_the_export(stack: Stack) -> None:
    first = load_demo(stack.assignments.url, ADMIN_TOKEN)
    again = load_demo(stack.assignments.url, ADMIN_TOKEN)
    assert again.plan_id == first.plan_id and again.assignments == 0

    auth = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    with httpx.Client(base_url=stack.assignments.url, headers=auth, timeout=10) as c:
        plan = c.get(f"/plans/{first.plan_id}").json()
        units = c.get("/units", params={"limit": 200}).json()
        officials = c.get("/officials", params={"limit": 200}).json()
        assignments = c.get("/assignments", params={"plan_id": first.plan_id, "limit": 200}).json()
    assert plan["number"] == "41-KH/ĐUK" and plan["issued_on"] == "2021-12-15"
    assert plan["implements"] == "22-CTr/TU" and plan["place"] == "Trà Vinh"
    assert [t["code"] for t in plan["tasks"]] == [
        "II.1", "II.2", "II.2.a", "II.2.b", "II.2.c", "II.2.d", "II.2.e", "II.3", "III.1", "III.2"]
    assert units["count"] == len(UNITS)
    assert officials["count"] == len(OFFICIALS) + 1  # + the bootstrap admin

    cells = {code for code, _, kind, _ in UNITS if kind in ("party_cell", "grassroots_committee")}
    boards = {code for code, _, kind, _ in UNITS if kind == "advisory_board"}
    by_task: dict[str, set[str]] = {}
    for a in assignments["data"]:
        by_task.setdefault(a["task_code"], set()).add(a["unit_code"])
    for code in LEAF_TASKS_FOR_CELLS:
        assert by_task[code] == cells, code
    assert by_task["III.2"] == boards  # "Các Ban tham mưu" (Ban Tuyên giáo among them)
    assert "II.2" not in by_task  # a heading over its bullets, not a task of its own
    assert assignments["count"] == first.assignments == len(cells) * len(LEAF_TASKS_FOR_CELLS) + len(boards)

    deadline = time.monotonic() + 20
    rows: list[dict[str, str]] = []
    while time.monotonic() < deadline:
        r = httpx.get(f"{stack.reporting.url}/plans/{first.plan_id}/export.csv", timeout=5,
                      headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
        if r.status_code == 200:
            rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
            if len(rows) == assignments["count"]:
                break
        time.sleep(0.3)
    assert len(rows) == assignments["count"]
    assert {r["Trạng thái"] for r in rows} == {"Chưa triển khai"}
    assert rows[0]["Mã nhiệm vụ"] == "II.1" and rows[-1]["Mã nhiệm vụ"] == "III.2"
