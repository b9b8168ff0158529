"""POST /plans/import over PostgreSQL: the seed document becomes a draft plan body, with the
world's units suggested for its tasks; it saves nothing, and POST /plans accepts the body."""

import random
from pathlib import Path

import httpx
import pytest

from services.assignments.plan_documents import document_text
from shared.problems import PROBLEM_JSON
from tests.integration.assignments.conftest import World

pytestmark = pytest.mark.integration

SEED = Path(__file__).resolve().parents[3] / "services" / "assignments" / "demo" / "ke-hoach-41-KH-DUK.txt"
FORMATS = Path(__file__).resolve().parents[2] / "fixtures" / "plans" / "formats"
TASK_CODES = ["II.1", "II.2", "II.2.a", "II.2.b", "II.2.c", "II.2.d", "II.2.e", "II.3", "III.1", "III.2"]


def send(w: World, content: bytes, role: str = "admin") -> httpx.Response:
    return w.as_(role, "POST", "/plans/import", content=content, headers={"Content-Type": "text/plain; charset=utf-8"})


def problem(response: httpx.Response, status: int, fragment: str = "") -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    body = response.json()
    assert fragment in body["detail"], body["detail"]
    return body


@pytest.fixture(scope="module")
def imported(shared_world: World) -> dict:
    """The import of the seed document (read once)."""
    response = send(shared_world, SEED.read_bytes())
    assert response.status_code == 200, response.text
    return response.json()


def counts(w: World) -> tuple[int, ...]:
    """Plans, audit entries and outbox rows: an import adds none."""
    return tuple(w.api.ok(w.api.get(path), 200)["count"] for path in ("/plans", "/audit")) + (len(w.api.outbox()),)


def test_the_seed_document_becomes_a_draft_plan(shared_world: World, imported: dict) -> None:
    plan = imported["plan"]
    assert plan["number"] == "41-KH/ĐUK" and plan["kind"] == "ke_hoach"
    assert plan["issuer_unit_id"] == shared_world.unit["DUK"]  # matched by name in the world's directory
    assert (plan["place"], plan["issued_on"], plan["implements"]) == ("Trà Vinh", "2021-12-15", "22-CTr/TU")
    assert (plan["period"], plan["vision_year"], plan["signer"]) == ("2021 - 2025", 2030, "Phạm Phước Trãi")
    assert plan["title"].startswith("thực hiện Chương trình số 22-CTr/TU")
    assert [t["code"] for t in plan["tasks"]] == TASK_CODES
    tasks = {t["code"]: t for t in plan["tasks"]}
    assert tasks["II.2.a"]["parent_code"] == "II.2" and tasks["II.1"]["parent_code"] is None
    assert tasks["II.1"]["kind"] == "ongoing" and tasks["III.1"]["kind"] == "one_off"
    assert len(plan["recipients"]) == 7
    assert imported["draft"]["number"] == "41-KH/ĐUK"
    assert isinstance(imported["warnings"], list)


def test_suggestions_name_the_worlds_units(shared_world: World, imported: dict) -> None:
    w = shared_world
    suggested = {(s["task_code"], s["role"]): s for s in imported["suggested_assignments"]}
    cells = sorted(w.ids("A", "B", "DBCS"))  # "Cấp ủy các chi bộ, đảng bộ cơ sở" of the issuing committee
    for code in ("II.1", "II.2.a", "II.2.e", "II.3", "III.1"):
        assert suggested[(code, "lead")]["unit_ids"] == cells, code
    assert "II.2" not in {code for code, _ in suggested}  # a task with sub-tasks is assigned through them
    assert suggested[("II.1", "lead")]["responsible_text"] == "Cấp ủy các chi bộ, đảng bộ cơ sở"
    boards = {unit_id for (code, _), s in suggested.items() if code == "III.2" for unit_id in s["unit_ids"]}
    assert boards == w.ids("BTG", "UBKT")  # "Các Ban tham mưu giúp việc Đảng ủy Khối" and BTG by name
    other_tree = w.ids("KDN", "BTG2", "X")
    assert not [s for s in imported["suggested_assignments"] if set(s["unit_ids"]) & other_tree]


def test_the_import_saves_nothing_and_its_plan_body_can_be_saved(shared_world: World, imported: dict) -> None:
    w, api = shared_world, shared_world.api
    before = counts(w)
    send(w, SEED.read_bytes())
    assert counts(w) == before
    saved = api.ok(api.post("/plans", imported["plan"]))
    assert saved["number"] == "41-KH/ĐUK" and saved["status"] == "draft" and len(saved["tasks"]) == 10
    by_code = {t["code"]: t for t in saved["tasks"]}
    assert by_code["II.2.a"]["parent_id"] == by_code["II.2"]["id"]
    for suggestion in imported["suggested_assignments"]:  # and its suggestions can be applied as they are
        api.ok(api.post(f"/plans/{saved['id']}/assignments", {
            "task_id": by_code[suggestion["task_code"]]["id"], "unit_ids": suggestion["unit_ids"],
            "role": suggestion["role"]}))
    assert api.ok(api.post(f"/plans/{saved['id']}/publish"), 200)["status"] == "published"


def test_the_same_document_with_a_bom_and_crlf_reads_the_same(shared_world: World, imported: dict) -> None:
    raw = b"\xef\xbb\xbf" + SEED.read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    again = shared_world.api.ok(send(shared_world, raw), 200)
    assert again["plan"] == imported["plan"]
    assert again["suggested_assignments"] == imported["suggested_assignments"]


@pytest.mark.parametrize("role", ["sup_in", "officer_a", "observer"])
def test_only_admins_import(shared_world: World, role: str) -> None:
    problem(send(shared_world, SEED.read_bytes(), role=role), 403, "admin")


def test_without_a_token_the_import_is_401(shared_world: World) -> None:
    problem(send(shared_world, SEED.read_bytes(), role="anonymous"), 401, "token")


@pytest.mark.parametrize("content", [b"", b"  \n\t\r\n "], ids=["empty", "blank"])
def test_an_empty_document_is_422(shared_world: World, content: bytes) -> None:
    problem(send(shared_world, content), 422, "empty")


@pytest.mark.parametrize("copy", ["utf16le", "utf16be-nobom", "cp1258", "vni"])
def test_the_seed_in_another_vietnamese_encoding_is_read_whatever_charset_it_claims(shared_world: World,
                                                                                   copy: str) -> None:
    content = (FORMATS / f"ke-hoach-41-KH-DUK.{copy}.txt").read_bytes()
    result = shared_world.api.ok(send(shared_world, content), 200)  # sent as "charset=utf-8"
    assert (result["plan"]["number"], result["plan"]["place"]) == ("41-KH/ĐUK", "Trà Vinh")
    assert len(result["plan"]["tasks"]) == 10


def test_utf8_with_a_broken_byte_is_read_as_utf8() -> None:
    text = "KẾ HOẠCH\nSố 41-KH/ĐUK\nTrà Vinh, ngày 15 tháng 12 năm 2021\n" * 20
    assert "Trà Vinh" in document_text(text.encode()[:-3] + b"\xc3\x28")


@pytest.mark.parametrize("content", [b"\x00\x01\x02\x03" * 100, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600],
                         ids=["binary", "old-word"])
def test_a_file_that_is_no_readable_document_is_422(shared_world: World, content: bytes) -> None:
    problem(send(shared_world, content), 422, ".docx")


def test_random_text_gives_warnings_and_no_invented_number(shared_world: World) -> None:
    words = ("tuyên truyền", "nhiệm vụ", "cán bộ", "đảng viên", "phát triển", "kinh tế", "đô thị", "công tác",
             "thực hiện", "nâng cao", "nhận thức", "trong", "của", "và", "các", "những", "về", "xây dựng")
    rng = random.Random(41)
    text = "\n\n".join(" ".join(rng.choice(words) for _ in range(rng.randint(8, 30))) for _ in range(12))
    result = shared_world.api.ok(send(shared_world, text.encode()), 200)
    assert result["plan"]["number"] == "?"
    assert result["plan"]["issuer_unit_id"] is None and result["draft"]["number"] is None
    assert any("document number" in warning for warning in result["warnings"])
    assert any("Set the document number" in warning for warning in result["warnings"])
    assert result["plan"]["tasks"] == [] and result["suggested_assignments"] == []


def test_a_state_plan_suggests_its_named_bodies_as_new_units_and_reads_its_targets(shared_world: World) -> None:
    text = (Path(__file__).resolve().parents[2] / "fixtures" / "plans" / "ke-hoach-ubnd-phu-luc-bang.txt").read_text()
    result = shared_world.api.ok(send(shared_world, text.encode()), 200)
    units = {u["name"]: u for u in result["suggested_units"]}
    assert units["Sở Thông tin và Truyền thông"]["kind"] == "state_agency"
    assert units["Sở Xây dựng"]["task_codes"] == ["PL.I.2", "PL.II.1", "PL.II.2"]
    assert "các tổ chức chính trị - xã hội tỉnh" not in units  # kinds of bodies, not one to add
    urbanisation = next(t for t in result["plan"]["tasks"] if t["code"] == "PL.II.2")
    assert urbanisation["kind"] == "ongoing" and urbanisation["due_on"] is None
    assert [(i["target"], i["unit_of_measure"], i["comparison"]) for i in urbanisation["indicators"]] == [
        (30.0, "%", "at_least")]
