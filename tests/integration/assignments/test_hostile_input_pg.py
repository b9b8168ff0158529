"""Hostile input over PostgreSQL, where it used to reach the database and come back as a 500: ids
beyond int4, NUL in text, NaN in JSON, null in NOT NULL columns, over-long imported fields."""

import json
import unicodedata
from pathlib import Path

import httpx
import pytest

from shared.problems import PROBLEM_JSON
from shared.validation import DB_INT_MAX
from tests.integration.assignments.conftest import World

pytestmark = pytest.mark.integration

SEED = Path(__file__).resolve().parents[3] / "services" / "assignments" / "demo" / "ke-hoach-41-KH-DUK.txt"
TEXT_PLAIN = {"Content-Type": "text/plain; charset=utf-8"}


def problem(response: httpx.Response, status: int, fragment: str = "") -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    assert fragment in response.json()["detail"], response.json()
    return response.json()


@pytest.mark.parametrize("path", [
    f"/plans/{DB_INT_MAX + 1}", f"/assignments/{DB_INT_MAX + 1}", f"/units/{DB_INT_MAX + 1}",
    f"/reviews/{DB_INT_MAX + 1}", f"/assignments?plan_id={DB_INT_MAX + 1}", f"/officials?unit_id={DB_INT_MAX + 1}",
    f"/audit?actor_id={DB_INT_MAX + 1}", f"/plans?offset={2**63}",
])
def test_ids_beyond_int4_are_422_not_a_database_error(shared_world: World, path: str) -> None:
    problem(shared_world.as_("admin", "GET", path), 422)


def test_the_largest_int4_id_is_404(shared_world: World) -> None:
    problem(shared_world.as_("admin", "GET", f"/plans/{DB_INT_MAX}"), 404)


def test_nul_in_a_report_is_422(shared_world: World) -> None:
    w = shared_world
    body = {"status": "in_progress", "progress": 50, "summary": "Đã\x00 làm"}
    problem(w.as_("officer_a", "POST", f"/assignments/{w.assignment['A']['id']}/updates", json=body), 422, "summary")


def test_nan_in_an_indicator_value_is_422(shared_world: World) -> None:
    w = shared_world
    text = json.dumps({"status": "in_progress", "progress": 50, "indicator_values": {"x": float("nan")}})
    response = w.as_("officer_a", "POST", f"/assignments/{w.assignment['A']['id']}/updates", content=text,
                     headers={"Content-Type": "application/json"})
    problem(response, 422, "indicator_values")


def test_nul_in_an_audit_filter_is_422(shared_world: World) -> None:
    problem(shared_world.as_("admin", "GET", "/audit", params={"correlation_id": "a\x00"}), 422, "correlation_id")


async def test_if_match_of_a_latin1_superscript_is_400(shared_world: World) -> None:
    w = shared_world
    transport = httpx.ASGITransport(app=w.api.app)  # TestClient would re-encode the header as UTF-8
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.post(
            f"/assignments/{w.assignment['A']['id']}/updates", json={"status": "in_progress", "progress": 50},
            headers=[(b"Authorization", f"Bearer {w.token['officer_a']}".encode()), (b"If-Match", b"\xb2")])
    problem(response, 400, "If-Match")


def test_null_for_a_not_null_plan_column_is_422(world: World) -> None:
    draft = world.api.ok(world.api.post("/plans", {"number": "5-KH/X", "title": "Kế hoạch"}))
    for field in ("place", "signer", "period", "recipients"):
        problem(world.api.call("PATCH", f"/plans/{draft['id']}", json={field: None}), 422, field)


def test_plan_numbers_in_nfc_and_nfd_are_one_plan(world: World) -> None:
    world.api.ok(world.api.post("/plans", {"number": "05-KH/BCĐ Tỉnh ủy", "title": "Kế hoạch"}))
    nfd = unicodedata.normalize("NFD", "05-KH/BCĐ Tỉnh ủy")
    assert nfd != "05-KH/BCĐ Tỉnh ủy"
    problem(world.api.post("/plans", {"number": nfd, "title": "Kế hoạch"}), 409, "already exists")


def test_an_import_with_nul_bytes_and_over_long_fields_saves(world: World) -> None:
    text = SEED.read_text(encoding="utf-8").replace("Số 41 -KH/ĐUK", "Số 41 -KH/ĐUK" + "Đ" * 100)
    text = text.replace("Phạm Phước Trãi", " ".join(["Phạm" + "a" * 60] * 5)).replace("\n", "\x00\n")
    response = world.api.call("POST", "/plans/import", content=text.encode(), headers=TEXT_PLAIN)
    result = world.api.ok(response, 200)
    assert len(result["plan"]["number"]) == 60 and len(result["plan"]["signer"]) == 200
    assert any(w.startswith("number ") and "cut" in w for w in result["warnings"])
    saved = world.api.ok(world.api.post("/plans", result["plan"]))
    assert saved["number"] == result["plan"]["number"] and len(saved["tasks"]) == 10
