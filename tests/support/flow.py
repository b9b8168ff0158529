"""Driving the walking-skeleton flow over HTTP, as an admin and a unit officer would."""

from dataclasses import dataclass

import httpx


@dataclass
class Flow:
    """Ids created by `set_up_flow`."""

    plan_id: int
    task_id: int
    unit_id: int
    assignment_id: int
    supervisor_email: str
    officer_token: str


def _ok(response: httpx.Response, status: int = 201) -> dict:
    assert response.status_code == status, response.text
    return response.json()  # type: ignore[no-any-return]


def set_up_flow(base_url: str, admin_token: str) -> Flow:
    """Admin creates units, officials, a plan with one task, and assigns it to a party cell."""
    with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {admin_token}"}, timeout=10) as c:
        duk = _ok(c.post("/units", json={"code": "DUK", "name": "Đảng ủy Khối các cơ quan và doanh nghiệp",
                                         "kind": "bloc_committee"}))
        btg = _ok(c.post("/units", json={"code": "BTG", "name": "Ban Tuyên giáo Đảng ủy Khối",
                                         "kind": "advisory_board", "parent_id": duk["id"]}))
        cell = _ok(c.post("/units", json={"code": "CB-STC", "name": "Chi bộ Sở Tài chính",
                                          "kind": "party_cell", "parent_id": duk["id"]}))
        supervisor = _ok(c.post("/officials", json={
            "name": "Nguyễn Thị Lan", "email": "lan.btg@example.vn", "title": "Trưởng ban",
            "unit_id": btg["id"], "role": "supervisor"}))
        officer = _ok(c.post("/officials", json={
            "name": "Trần Văn Bình", "email": "binh.stc@example.vn", "title": "Bí thư Chi bộ",
            "unit_id": cell["id"], "role": "unit_officer"}))
        token = _ok(c.post(f"/officials/{officer['id']}/tokens", json={"name": "e2e"}))["token"]
        plan = _ok(c.post("/plans", json={
            "number": "41-KH/ĐUK", "kind": "ke_hoach", "place": "Trà Vinh", "issued_on": "2021-12-15",
            "title": "Kế hoạch thực hiện Chương trình số 22-CTr/TU về phát triển kinh tế đô thị tỉnh Trà Vinh",
            "implements": "22-CTr/TU", "issuer_unit_id": duk["id"],
            "tasks": [{"code": "III.1", "title": "Quán triệt, cụ thể hóa thành chương trình, kế hoạch",
                       "due_on": "2030-03-31"}],
        }))
        task_id = plan["tasks"][0]["id"]
        assignment = _ok(c.post(f"/plans/{plan['id']}/assignments",
                                json={"task_id": task_id, "unit_ids": [cell["id"]]}))[0]
        _ok(c.post(f"/plans/{plan['id']}/publish"), 200)
        return Flow(plan["id"], task_id, cell["id"], assignment["id"], supervisor["email"], token)


def post_update(base_url: str, flow: Flow, *, request_id: str, progress: int = 40) -> dict:
    """The unit officer reports progress on the assignment."""
    response = httpx.post(
        f"{base_url}/assignments/{flow.assignment_id}/updates",
        headers={"Authorization": f"Bearer {flow.officer_token}", "X-Request-ID": request_id},
        json={"status": "in_progress", "progress": progress,
              "summary": "Đã tổ chức quán triệt Chương trình 22-CTr/TU đến 100% đảng viên.",
              "difficulties": "Chưa bố trí được kinh phí tập huấn."},
        timeout=10,
    )
    return _ok(response)
