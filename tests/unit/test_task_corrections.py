"""PATCH and DELETE /plans/{id}/tasks/{task_id}: an admin corrects the tasks of a draft plan."""

from tests.unit.conftest import Api, World


def _draft(api: Api, number: str = "7-KH/TEST") -> dict:
    return api.ok(api.post("/plans", {"number": number, "title": "Kế hoạch", "tasks": [
        {"code": "1", "title": "Việc một"}, {"code": "1.a", "title": "Việc con", "parent_code": "1"},
        {"code": "2", "title": "Việc hai", "due_on": "2026-12-31"}]}))


def test_admin_corrects_a_draft_task_with_if_match(world: World) -> None:
    api = world.api
    plan = _draft(api)
    ids = {t["code"]: t["id"] for t in plan["tasks"]}
    path = f"/plans/{plan['id']}/tasks/{ids['2']}"
    assert api.call("PATCH", path, json={"title": "x"}, token=world.officer_a).status_code == 403
    done = api.call("PATCH", path, json={"title": "Việc hai (sửa)", "kind": "ongoing", "parent_code": "1"},
                    headers={"If-Match": f'"{plan["version"]}"'})
    body = api.ok(done, 200)
    task = next(t for t in body["tasks"] if t["id"] == ids["2"])
    assert task["title"] == "Việc hai (sửa)" and task["due_on"] is None and task["parent_id"] == ids["1"]
    assert done.headers["ETag"] == f'"{body["version"]}"'
    stale = api.call("PATCH", path, json={"title": "y"}, headers={"If-Match": f'"{plan["version"]}"'})
    assert stale.status_code == 412
    assert api.call("PATCH", path, json={"code": "1"}).status_code == 409
    loop = api.call("PATCH", f"/plans/{plan['id']}/tasks/{ids['1']}", json={"parent_code": "1.a"})
    assert loop.status_code == 422
    other = _draft(api, "8-KH/TEST")
    assert api.call("PATCH", f"/plans/{other['id']}/tasks/{ids['2']}", json={"title": "z"}).status_code == 404
    assert api.call("DELETE", f"/plans/{plan['id']}/tasks/{ids['1']}").status_code == 409  # it has a sub-task
    removed = api.ok(api.call("DELETE", f"/plans/{plan['id']}/tasks/{ids['1.a']}"), 200)
    assert [t["code"] for t in removed["tasks"]] == ["1", "2"]


def test_a_published_plans_tasks_stay_as_published(world: World) -> None:
    task_id = world.tasks[next(iter(world.tasks))]["id"]
    refused = world.api.call("PATCH", f"/plans/{world.plan['id']}/tasks/{task_id}", json={"title": "x"})
    assert refused.status_code == 409
