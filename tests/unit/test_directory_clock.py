"""The directory clock: units and officials numbered gap-free, every other event stamped with it."""

import json

from tests.unit.conftest import Api


def stamped(api: Api) -> list[tuple[str, int | None]]:
    return [(row.event_type, json.loads(row.body)["directory_version"]) for row in api.outbox()]


def test_directory_events_count_up_and_the_rest_carry_the_count(api: Api) -> None:
    before = stamped(api)
    assert before == [("official.created.v1", 1), ("api_token.issued.v1", 1)]  # the bootstrap admin
    cell = api.unit("CB-A")
    official, _ = api.official("unit_officer", cell["id"])
    api.ok(api.call("PATCH", f"/officials/{official['id']}", json={"title": "Bí thư"}), 200)
    plan = api.plan("1-KH/A", [{"code": "I", "title": "Việc"}])
    api.assign(plan["id"], plan["tasks"][0]["id"], [cell["id"]])
    assert stamped(api)[len(before):] == [
        ("unit.created.v1", 2), ("official.created.v1", 3), ("api_token.issued.v1", 3),
        ("official.updated.v1", 4), ("plan.created.v1", 4), ("plan.published.v1", 4), ("assignment.created.v1", 4),
    ]


def test_a_failed_write_leaves_no_gap(api: Api) -> None:
    api.unit("CB-B")
    assert api.post("/units", {"code": "CB-B", "name": "Trùng mã", "kind": "party_cell"}).status_code == 409
    api.unit("CB-C")
    versions = [v for t, v in stamped(api) if t == "unit.created.v1"]
    assert versions == [2, 3]


def test_a_unit_change_is_a_directory_event(api: Api) -> None:
    before = stamped(api)
    cell = api.unit("CB-D")
    api.ok(api.call("PATCH", f"/units/{cell['id']}", json={"email": "cb.d@example.vn"}), 200)
    api.plan("2-KH/A", [{"code": "I", "title": "Việc"}])
    assert stamped(api)[len(before):] == [
        ("unit.created.v1", 2), ("unit.updated.v1", 3), ("plan.created.v1", 3), ("plan.published.v1", 3),
    ]
