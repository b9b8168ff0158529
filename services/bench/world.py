"""The plan the benchmark runs on, created through the assignments API as an admin would."""

import json
from dataclasses import dataclass

import httpx

from services.bench.load import Target

SUMMARY = "Đã tổ chức quán triệt Chương trình 22-CTr/TU cho toàn thể đảng viên chi bộ"


@dataclass(frozen=True)
class World:
    """A published plan: each assignment with the token of an officer of its unit."""

    plan_id: int
    assignments: list[tuple[int, str]]  # (assignment id, the unit officer's token)


def _created(response: httpx.Response) -> dict:  # type: ignore[type-arg]
    if response.status_code not in (200, 201):
        raise RuntimeError(f"{response.request.method} {response.request.url.path}: "
                           f"{response.status_code} {response.text[:500]}")
    return response.json()  # type: ignore[no-any-return]


def build_world(base_url: str, admin_token: str, *, units: int, tasks: int) -> World:
    """A bloc committee, its propaganda board with a supervisor, `units` party cells each with an
    officer and a token, a plan of `tasks` tasks assigned to every cell, published."""
    with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {admin_token}"}, timeout=60) as c:
        duk = _created(c.post("/units", json={"code": "DUK", "name": "Đảng ủy Khối các cơ quan và doanh nghiệp",
                                              "kind": "bloc_committee"}))
        btg = _created(c.post("/units", json={"code": "BTG", "name": "Ban Tuyên giáo Đảng ủy Khối",
                                              "kind": "advisory_board", "parent_id": duk["id"]}))
        _created(c.post("/officials", json={"name": "Nguyễn Thị Lan", "email": "lan.btg@example.vn",
                                            "title": "Trưởng ban", "unit_id": btg["id"], "role": "supervisor"}))
        tokens: dict[int, str] = {}
        for u in range(1, units + 1):
            cell = _created(c.post("/units", json={"code": f"CB-{u:03d}", "name": f"Chi bộ đơn vị số {u}",
                                                   "kind": "party_cell", "parent_id": duk["id"]}))
            officer = _created(c.post("/officials", json={
                "name": f"Bí thư {u}", "email": f"bithu{u}@example.vn", "title": "Bí thư Chi bộ",
                "unit_id": cell["id"], "role": "unit_officer"}))
            tokens[cell["id"]] = _created(c.post(f"/officials/{officer['id']}/tokens", json={"name": "bench"}))["token"]
        plan = _created(c.post("/plans", json={
            "number": "41-KH/ĐUK", "kind": "ke_hoach", "place": "Trà Vinh", "issued_on": "2021-12-15",
            "title": "Kế hoạch thực hiện Chương trình số 22-CTr/TU về phát triển kinh tế đô thị tỉnh Trà Vinh",
            "implements": "22-CTr/TU", "issuer_unit_id": duk["id"],
            "tasks": [{"code": f"II.{t}", "title": f"Nhiệm vụ trọng tâm số {t}", "due_on": "2030-12-31"}
                      for t in range(1, tasks + 1)]}))
        assignments: list[tuple[int, str]] = []
        for task in plan["tasks"]:
            for a in _created(c.post(f"/plans/{plan['id']}/assignments",
                                     json={"task_id": task["id"], "unit_ids": sorted(tokens)})):
                assignments.append((a["id"], tokens[a["unit_id"]]))
        _created(c.post(f"/plans/{plan['id']}/publish"))
    return World(plan["id"], assignments)


def update_targets(world: World, count: int, *, marker: str = "") -> list[Target]:
    """`count` status updates spread over the world's assignments; with `marker`, each summary
    ends with `<marker>-<i>` so its email can be found."""
    targets = []
    for i in range(count):
        assignment_id, token = world.assignments[i % len(world.assignments)]
        summary = f"{SUMMARY} {marker}-{i:07d}" if marker else SUMMARY
        body = json.dumps({"status": "in_progress", "progress": 1 + i % 99, "summary": summary}).encode()
        targets.append(Target(f"/assignments/{assignment_id}/updates", {"Authorization": f"Bearer {token}"}, body))
    return targets
