"""Hostile input to the assignments API is answered with a 4xx problem, never a 500: ids beyond the
database's integer range, control characters, NaN, nulls in PATCH bodies, odd If-Match headers,
look-alike codes; texts come in NFC and without bidi or zero-width characters."""

import json
import unicodedata
from typing import Any

import httpx
import pytest
from pydantic import BaseModel, ValidationError

from services.assignments.api.deps import parse_if_match
from shared.problems import PROBLEM_JSON, Problem
from shared.validation import DB_INT_MAX, Code, FiniteFloat, MultilineText, Name, Text
from tests.unit.conftest import Api, World

TOO_BIG = DB_INT_MAX + 1
HUGE = 10**30


def problem(response: httpx.Response, status: int, fragment: str = "") -> dict:
    """Assert a problem+json answer with `status` whose detail holds `fragment`."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    body = response.json()
    assert body["status"] == status and fragment in body["detail"], body
    return body


def raw_json(api: Api, method: str, path: str, text: str, **kw: Any) -> httpx.Response:
    """Send a body as is (for NaN and friends, which json= would refuse to encode)."""
    headers = {"Content-Type": "application/json", **kw.pop("headers", {})}
    return api.call(method, path, content=text.encode(), headers=headers, **kw)


# -- the reusable types ------------------------------------------------------------------------


class Sample(BaseModel):
    name: Name = ""
    text: Text = ""
    body: MultilineText = ""
    code: Code = "x"
    value: FiniteFloat = 0.0


@pytest.mark.parametrize("field", ["name", "text", "body"])
@pytest.mark.parametrize("char", ["\x00", "\x01", "\x1b", "\x7f", "\x85", "\ud800"])
def test_control_characters_are_refused_in_every_text(field: str, char: str) -> None:
    with pytest.raises(ValidationError, match="control character"):
        Sample(**{field: f"Chi bộ{char}Sở"})


@pytest.mark.parametrize("char", ["\t", "\n", "\r"])
def test_tab_and_newline_only_in_multiline_text(char: str) -> None:
    with pytest.raises(ValidationError, match="control character"):
        Sample(text=f"a{char}b")
    with pytest.raises(ValidationError, match="control character"):
        Sample(name=f"a{char}b")
    assert Sample(body=f"a{char}b").body == ("a\nb" if char == "\r" else f"a{char}b")


def test_windows_line_ends_become_newlines() -> None:
    assert Sample(body="dòng 1\r\ndòng 2").body == "dòng 1\ndòng 2"


def test_texts_come_in_nfc() -> None:
    nfd = unicodedata.normalize("NFD", "Nguyễn Thị Lan")
    assert nfd != "Nguyễn Thị Lan"
    sample = Sample(name=nfd, text=nfd, body=nfd)
    assert sample.name == sample.text == sample.body == "Nguyễn Thị Lan"


@pytest.mark.parametrize("char", [
    "\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069", "\u200e",
    "\u200f", "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff",
])
def test_bidi_and_zero_width_characters_are_stripped(char: str) -> None:
    sample = Sample(name=f"Chi{char} bộ", text=f"{char}Sở", body=f"a{char}\nb")
    assert (sample.name, sample.text, sample.body) == ("Chi bộ", "Sở", "a\nb")


@pytest.mark.parametrize("code", ["CB-SXD", "lop_tap_huan", "v1.2", "DUK"])
def test_ascii_codes_are_accepted(code: str) -> None:
    assert Sample(code=code).code == code


@pytest.mark.parametrize("code", ["CB-\u0405XD", "ĐUK", "CB SXD", "CB-\u200bSXD", "CB/SXD", "", "a\x00"])
def test_codes_are_ascii_letters_digits_and_dash_underscore_dot(code: str) -> None:
    with pytest.raises(ValidationError):
        Sample(code=code)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf"), "NaN", "Infinity"])
def test_finite_floats_refuse_nan_and_infinity(value: object) -> None:
    with pytest.raises(ValidationError):
        Sample(value=value)


# -- If-Match --------------------------------------------------------------------------------


@pytest.mark.parametrize("header, version", [('"3"', 3), ('W/"3"', 3), ("3", 3), (" \"12\" ", 12), ("*", None),
                                             (None, None)])
def test_if_match_reads_a_version(header: str | None, version: int | None) -> None:
    assert parse_if_match(header) == version


@pytest.mark.parametrize("header", ['"٣"', "²", '"³"', "", '""', "latest", '"1", "2"', '"-1"', '"+1"', '" 1"'])
def test_if_match_that_is_not_an_ascii_version_is_400(header: str) -> None:
    with pytest.raises(Problem) as caught:
        parse_if_match(header)
    assert caught.value.status == 400 and "If-Match" in caught.value.detail


@pytest.mark.parametrize("digits", [11, 4300, 5000])
def test_if_match_with_too_many_digits_matches_no_version(digits: int) -> None:
    with pytest.raises(Problem) as caught:
        parse_if_match(f'"{"7" * digits}"')
    assert caught.value.status == 412 and len(caught.value.detail) < 300


async def send_raw_header(api: Api, method: str, path: str, token: str, header: bytes, body: dict) -> httpx.Response:
    """Send If-Match as raw bytes (TestClient re-encodes headers as UTF-8; a server reads latin-1)."""
    transport = httpx.ASGITransport(app=api.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return await client.request(method, path, json=body, headers=[
            (b"Authorization", f"Bearer {token}".encode()), (b"If-Match", header)])


async def test_if_match_sent_as_latin1_superscript_is_400(world: World) -> None:
    path = f"/assignments/{world.a_assignment['id']}/updates"
    response = await send_raw_header(world.api, "POST", path, world.officer_a, b"\xb2",
                                     {"status": "in_progress", "progress": 10})
    problem(response, 400, "If-Match")


def test_if_match_with_5000_digits_is_412_on_plan_patch(api: Api) -> None:
    plan = api.plan("1-KH/X", [{"code": "I", "title": "a"}], publish=False)
    problem(api.call("PATCH", f"/plans/{plan['id']}", json={"title": "b"}, headers={"If-Match": "9" * 5000}), 412)


# -- ids, offsets and limits -------------------------------------------------------------------

PATH_IDS = [
    ("GET", "/plans/{}"), ("PATCH", "/plans/{}"), ("POST", "/plans/{}/publish"), ("GET", "/plans/{}/unit-plans"),
    ("GET", "/plans/{}/completeness"), ("GET", "/plans/{}/reviews"), ("GET", "/assignments/{}"),
    ("GET", "/assignments/{}/updates"), ("GET", "/units/{}"), ("GET", "/officials/{}"),
    ("PATCH", "/officials/{}"), ("GET", "/officials/{}/tokens"), ("DELETE", "/officials/1/tokens/{}"),
    ("DELETE", "/officials/{}/tokens/1"), ("GET", "/reviews/{}"), ("GET", "/reviews/{}/submissions"),
    ("POST", "/updates/{}/review"),
]
VALID_BODIES = {"/updates/{}/review": {"decision": "accepted"}}  # so that only the id can be wrong


@pytest.mark.parametrize("value", [TOO_BIG, HUGE, 0, -1])
@pytest.mark.parametrize("method, path", PATH_IDS)
def test_ids_in_paths_outside_the_database_range_are_422(api: Api, method: str, path: str, value: int) -> None:
    body = VALID_BODIES.get(path, {}) if method in {"PATCH", "POST"} else None
    problem(api.call(method, path.format(value), json=body), 422, "Invalid")


@pytest.mark.parametrize("query", [
    f"/assignments?plan_id={TOO_BIG}", f"/assignments?unit_id={HUGE}", f"/units?parent_id={TOO_BIG}",
    f"/officials?unit_id={TOO_BIG}", f"/inspections?plan_id={TOO_BIG}", f"/inspections?unit_id={HUGE}",
    f"/audit?actor_id={TOO_BIG}", f"/plans?offset={HUGE}", f"/units?offset={TOO_BIG}", "/units?offset=-1",
    "/plans?limit=0", f"/plans?limit={HUGE}",
])
def test_ids_offsets_and_limits_in_queries_are_bounded(api: Api, query: str) -> None:
    problem(api.get(query), 422, "Invalid")


def test_the_largest_database_id_is_a_plain_404(api: Api) -> None:
    problem(api.get(f"/plans/{DB_INT_MAX}"), 404)
    assert api.ok(api.get(f"/plans?offset={DB_INT_MAX}"), 200)["data"] == []


@pytest.mark.parametrize("field, value", [("parent_id", TOO_BIG), ("parent_id", 0)])
def test_ids_in_bodies_are_bounded(api: Api, field: str, value: int) -> None:
    body = {"code": "CB-A", "name": "Chi bộ A", "kind": "party_cell", field: value}
    problem(api.post("/units", body), 422, field)


def test_assignment_unit_ids_are_bounded(world: World) -> None:
    body = {"task_id": world.tasks["II.1"]["id"], "unit_ids": [TOO_BIG]}
    problem(world.api.post(f"/plans/{world.plan['id']}/assignments", body), 422, "unit_ids")


# -- texts -------------------------------------------------------------------------------------


@pytest.mark.parametrize("char", ["\x00", "\x07", "\t", "\n"])
def test_control_characters_in_a_unit_name_are_422(api: Api, char: str) -> None:
    problem(api.post("/units", {"code": "CB-A", "name": f"Chi bộ{char}A", "kind": "party_cell"}), 422, "name")


def test_nul_in_a_report_is_422_but_newlines_and_tabs_are_kept(world: World) -> None:
    path = f"/assignments/{world.a_assignment['id']}/updates"
    body = {"status": "in_progress", "progress": 10}
    problem(world.api.post(path, body | {"summary": "Đã\x00 làm"}, token=world.officer_a), 422, "summary")
    saved = world.api.ok(world.api.post(path, body | {"summary": "Dòng 1\n\tDòng 2"}, token=world.officer_a))
    assert saved["summary"] == "Dòng 1\n\tDòng 2"


@pytest.mark.parametrize("path, body", [
    ("/plans", {"number": "9-KH/X\x00", "title": "a"}),
    ("/plans", {"number": "9-KH/X", "title": "a", "tasks": [{"code": "I", "title": "a\x00"}]}),
    ("/plans", {"number": "9-KH/X", "title": "a", "recipients": ["Lưu\x00"]}),
    ("/officials", {"name": "Lan\x00", "email": "lan@example.vn", "role": "admin"}),
    ("/units", {"code": "CB-A", "name": "Chi bộ A", "kind": "party_cell\x00"}),
])
def test_nul_anywhere_in_a_body_is_422(api: Api, path: str, body: dict) -> None:
    problem(api.post(path, body), 422)


def test_nul_in_an_audit_filter_is_422(api: Api) -> None:
    problem(api.get("/audit", params={"entity_type": "plan\x00"}), 422, "entity_type")


def test_a_cyrillic_look_alike_unit_code_is_refused(api: Api) -> None:
    api.unit("CB-SXD")
    problem(api.post("/units", {"code": "CB-\u0405XD", "name": "Chi bộ giả", "kind": "party_cell"}), 422, "code")


def test_names_are_stored_in_nfc_without_bidi_or_zero_width_characters(api: Api) -> None:
    name = unicodedata.normalize("NFD", "Chi bộ \u202eSở Tài chính\u202c\u200b")
    unit = api.unit("CB-STC", name=name)
    assert unit["name"] == "Chi bộ Sở Tài chính"
    assert api.ok(api.get(f"/units/{unit['id']}"), 200)["name"] == "Chi bộ Sở Tài chính"


@pytest.mark.parametrize("spelling", [
    unicodedata.normalize("NFD", "05-KH/BCĐ Tỉnh ủy"), "05-KH/BCĐ Tỉnh\u200b ủy", "\u202a05-KH/BCĐ Tỉnh ủy\u202c",
])
def test_plan_numbers_in_nfc_and_nfd_are_the_same_plan(api: Api, spelling: str) -> None:
    assert spelling != "05-KH/BCĐ Tỉnh ủy"
    first = api.plan("05-KH/BCĐ Tỉnh ủy", [], publish=False, title="Kế hoạch")
    problem(api.post("/plans", {"number": spelling, "title": "Kế hoạch"}), 409, "already exists")
    assert api.ok(api.get("/plans"), 200)["count"] == 1 and first["number"] == "05-KH/BCĐ Tỉnh ủy"


def test_an_nfd_name_longer_than_the_limit_before_normalising_fits(api: Api) -> None:
    name = unicodedata.normalize("NFD", "ễ" * 300)  # 900 code points, 300 once composed
    assert api.unit("CB-X", name=name)["name"] == "ễ" * 300


# -- numbers -----------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_in_indicator_values_are_422(world: World, value: str) -> None:
    path = f"/assignments/{world.a_assignment['id']}/updates"
    text = f'{{"status": "in_progress", "progress": 10, "indicator_values": {{"x": {value}}}}}'
    problem(raw_json(world.api, "POST", path, text, token=world.officer_a), 422, "indicator_values")


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_nan_and_infinity_in_indicator_targets_are_422(api: Api, value: str) -> None:
    indicator = json.dumps({"code": "x", "name": "x", "target": 0}).replace("0}", value + "}")
    task = json.dumps({"code": "I", "title": "a", "indicators": ["@"]}).replace('"@"', indicator)
    problem(raw_json(api, "POST", "/plans", f'{{"number": "2-KH/X", "title": "a", "tasks": [{task}]}}'),
            422, "target")


def test_an_indicator_value_keyed_by_a_non_ascii_code_is_422(world: World) -> None:
    path = f"/assignments/{world.a_assignment['id']}/updates"
    body = {"status": "in_progress", "progress": 10, "indicator_values": {"x\x00": 1}}
    problem(world.api.post(path, body, token=world.officer_a), 422, "indicator_values")


# -- PATCH with null ---------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["number", "kind", "title", "place", "period", "signer", "signer_title",
                                   "recipients"])
def test_null_for_a_required_plan_field_is_422(api: Api, field: str) -> None:
    plan = api.plan("3-KH/X", [], publish=False)
    problem(api.call("PATCH", f"/plans/{plan['id']}", json={field: None}), 422, field)
    assert api.ok(api.get(f"/plans/{plan['id']}"), 200)["version"] == plan["version"]


@pytest.mark.parametrize("field", ["issuer_unit_id", "issued_on", "implements", "implements_date", "vision_year"])
def test_null_clears_an_optional_plan_field(api: Api, field: str) -> None:
    plan = api.plan("4-KH/X", [], publish=False)
    assert api.ok(api.call("PATCH", f"/plans/{plan['id']}", json={field: None}), 200)[field] is None


@pytest.mark.parametrize("field", ["name", "title", "role", "active"])
def test_null_for_a_required_official_field_is_422(api: Api, field: str) -> None:
    unit = api.unit("CB-A")
    official, _ = api.official("unit_officer", unit["id"])
    problem(api.call("PATCH", f"/officials/{official['id']}", json={field: None}), 422, field)


def test_null_unit_of_an_official_is_still_allowed_where_the_role_permits(api: Api) -> None:
    official, _ = api.official("admin", None)
    assert api.ok(api.call("PATCH", f"/officials/{official['id']}", json={"unit_id": None}), 200)["unit_id"] is None


def test_no_route_answers_500_to_these_bodies(world: World) -> None:
    """A small fuzz over every JSON write route with the payloads above."""
    hostile = ["\x00", "\ud800", "NaN", TOO_BIG, -TOO_BIG, None, "\u202e", "٣", "x" * 30_000]
    routes = [("POST", "/units"), ("POST", "/officials"), ("POST", "/plans"),
              ("PATCH", f"/plans/{world.plan['id']}"), ("POST", f"/plans/{world.plan['id']}/tasks"),
              ("POST", f"/plans/{world.plan['id']}/assignments"), ("POST", f"/plans/{world.plan['id']}/unit-plans"),
              ("POST", f"/plans/{world.plan['id']}/reviews"), ("POST", "/inspections"),
              ("POST", f"/assignments/{world.a_assignment['id']}/updates"),
              ("PATCH", f"/officials/{world.bloc['id']}")]
    fields = ["code", "name", "kind", "parent_id", "email", "title", "unit_id", "role", "number", "place",
              "recipients", "task_id", "unit_ids", "summary", "difficulties", "period", "plan_id", "findings",
              "follow_ups", "issued_on", "link", "submit_by", "status", "progress", "indicator_values"]
    for method, path in routes:
        for field in fields:
            for value in hostile:
                body = json.dumps({field: value}, allow_nan=True)
                response = raw_json(world.api, method, path, body)
                assert response.status_code < 500, (method, path, field, value, response.text)
