"""The admin's pages: a plan document imported through the upload form, corrected, assigned as
suggested and published; units, officials and tokens (a new token shown once)."""

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from docx import Document
from fastapi.testclient import TestClient

from tests.unit.conftest import Api
from tests.unit.test_board_pages import events, signed_in
from tests.unit.test_signin import HTML, SECRET, csrf

SEED = Path(__file__).resolve().parents[2] / "services" / "assignments" / "demo" / "ke-hoach-41-KH-DUK.txt"


@pytest.fixture
def admin_portal(make_api: Callable[..., Api]) -> tuple[Api, TestClient, dict]:
    """The bloc of the seed plan with two party cells and a board, and an admin signed in by link."""
    api = make_api(session_secret=SECRET, signin_per_address=50)
    bloc = api.unit("DUK", "bloc_committee", name="Đảng ủy Khối các cơ quan và doanh nghiệp tỉnh")
    units = {"bloc": bloc, "board": api.unit("BTG", "advisory_board", bloc["id"], name="Ban Tuyên giáo"),
             "cell": api.unit("CB-STC", "party_cell", bloc["id"], name="Chi bộ Sở Tài chính")}
    _, token = api.official("admin", None, name="Quản trị viên")
    return api, signed_in(api, token), units


def upload(client: TestClient, content: bytes, name: str = "ke-hoach.txt") -> object:
    token = csrf(client.get("/admin/import", headers=HTML).text)
    return client.post("/admin/import", headers=HTML, data={"csrf_token": token},
                       files={"document": (name, content, "text/plain")})


def test_import_correct_assign_as_suggested_and_publish(admin_portal: tuple[Api, TestClient, dict]) -> None:
    api, client, units = admin_portal
    assert 'enctype="multipart/form-data"' in client.get("/admin/import", headers=HTML).text
    empty = upload(client, b"   ")
    assert empty.status_code == 422 and "Hãy chọn tệp văn bản kế hoạch" in empty.text  # type: ignore[attr-defined]

    imported = upload(client, SEED.read_bytes())
    page = imported.text  # type: ignore[attr-defined]
    assert imported.status_code == 201, page  # type: ignore[attr-defined]
    (created,) = events(api, "plan.created.v1")
    assert created["number"] == "41-KH/ĐUK" and created["status"] == "draft"
    assert "Lưu ý khi đọc văn bản" in page and "Đề xuất giao nhiệm vụ theo văn bản" in page
    assert "Chi bộ Sở Tài chính" in page and "II.1" in page
    suggestions = re.findall(r'name="suggestion" value="([^"]+)"', page)
    assert suggestions
    assert upload(client, SEED.read_bytes()).status_code == 409  # type: ignore[attr-defined]

    plan_path = f"/admin/plans/{created['id']}"
    token = csrf(page)
    bad_task = client.post(f"{plan_path}/tasks", headers=HTML, data={"csrf_token": token, "code": "", "title": "x"})
    assert bad_task.status_code == 422 and 'aria-describedby="task_code-loi"' in bad_task.text
    added = client.post(f"{plan_path}/tasks", headers=HTML,
                        data={"csrf_token": token, "code": "V.1", "title": "Việc thêm", "kind": "ongoing"})
    renamed = client.post(plan_path, headers=HTML, data={"csrf_token": token, "number": "41-KH/ĐUK",
                                                         "title": "Kế hoạch thực hiện Nghị quyết (bản sửa)"})
    applied = client.post(f"{plan_path}/assignments", headers=HTML,
                          data={"csrf_token": token, "suggestion": suggestions})
    assert added.status_code == renamed.status_code == applied.status_code == 303, applied.text
    assert len(events(api, "plan.updated.v1")) == 2
    assigned = events(api, "assignment.created.v1")
    assert {a["unit_id"] for a in assigned} <= {u["id"] for u in units.values()} and assigned

    published = client.post(f"{plan_path}/publish", headers=HTML, data={"csrf_token": token})
    assert published.status_code == 303
    assert [e["plan_id"] for e in events(api, "plan.published.v1")] == [created["id"]]
    after = client.get(plan_path, headers=HTML).text
    assert "(bản sửa)" in after and "Ban hành kế hoạch" not in after and "Xem tiến độ thực hiện" in after
    again = client.post(f"{plan_path}/publish", headers=HTML, data={"csrf_token": token})
    assert again.status_code == 409 and "trạng thái hiện tại" in again.text


def test_units_officials_and_a_token_shown_once(admin_portal: tuple[Api, TestClient, dict]) -> None:
    api, client, units = admin_portal
    token = csrf(client.get("/admin/units", headers=HTML).text)
    made = client.post("/admin/units", headers=HTML,
                       data={"csrf_token": token, "code": "CB-SYT", "name": "Chi bộ Sở Y tế", "kind": "party_cell",
                             "parent_id": units["bloc"]["id"]})
    mailbox = client.post(f"/admin/units/{units['cell']['id']}", headers=HTML,
                          data={"csrf_token": token, "email": "cb.stc@example.vn"})
    bad_mail = client.post(f"/admin/units/{units['cell']['id']}", headers=HTML,
                           data={"csrf_token": token, "email": "không-phải-thư"})
    assert made.status_code == mailbox.status_code == 303 and bad_mail.status_code == 422
    assert "Chi bộ Sở Y tế" in client.get("/admin/units", headers=HTML).text
    assert [e["email"] for e in events(api, "unit.updated.v1")] == ["cb.stc@example.vn"]

    created = client.post("/admin/officials", headers=HTML,
                          data={"csrf_token": token, "name": "Lê Thị Lan", "email": "lan@example.vn",
                                "unit_id": units["cell"]["id"], "role": "unit_officer"})
    assert created.status_code == 303
    lan = next(e for e in events(api, "official.created.v1") if e["email"] == "lan@example.vn")
    issued = client.post(f"/admin/officials/{lan['id']}/tokens", headers=HTML,
                         data={"csrf_token": token, "name": "máy văn phòng"})
    assert issued.status_code == 201 and "chỉ hiển thị <strong>một lần</strong>" in issued.text
    secret = re.search(r'id="ma-truy-cap" readonly value="([^"]+)"', issued.text)
    assert secret and api.get("/me", token=secret.group(1)).status_code == 200
    listing = client.get("/admin/officials", headers=HTML).text
    assert secret.group(1) not in listing and "Mã truy cập mới" not in listing

    (issued_event,) = [e for e in events(api, "api_token.issued.v1") if e["official_id"] == lan["id"]]
    revoked = client.post(f"/admin/officials/{lan['id']}/tokens/{issued_event['id']}/revoke", headers=HTML,
                          data={"csrf_token": token})
    assert revoked.status_code == 303 and api.get("/me", token=secret.group(1)).status_code == 401
    ended = client.post(f"/admin/officials/{lan['id']}/sessions", headers=HTML, data={"csrf_token": token})
    deactivated = client.post(f"/admin/officials/{lan['id']}/deactivate", headers=HTML, data={"csrf_token": token})
    assert ended.status_code == deactivated.status_code == 303
    assert [e["active"] for e in events(api, "official.updated.v1")] == [False]
    assert client.post("/admin/units", headers=HTML, data={"code": "X", "name": "X", "kind": "party_cell"}
                       ).status_code == 403  # no CSRF token


def _task_form(page: str, code: str) -> tuple[str, dict[str, str]]:
    """The action and fields of the correction form of task `code` on a plan page."""
    action = re.search(r'action="(/admin/plans/\d+/tasks/\d+)"[^>]*>(?:(?!</form>).)*?name="code" value="'
                       + re.escape(code) + '"', page, re.S)
    assert action, code
    version = re.search(r'name="version" value="(\d+)"', page)
    assert version
    return action.group(1), {"csrf_token": csrf(page), "version": version.group(1)}


def test_warnings_kept_in_vietnamese_and_tasks_corrected(admin_portal: tuple[Api, TestClient, dict]) -> None:
    api, client, _ = admin_portal
    imported = upload(client, SEED.read_bytes())
    assert imported.status_code == 201  # type: ignore[attr-defined]
    (created,) = events(api, "plan.created.v1")
    plan_path = f"/admin/plans/{created['id']}"
    page = client.get(plan_path, headers=HTML).text
    assert "Lưu ý khi đọc văn bản" in page and "Đề xuất giao nhiệm vụ theo văn bản" in page  # after a reload
    assert "not found" not in page and "recognised" not in page  # the warnings are in Vietnamese

    action, form = _task_form(page, "II.1")
    fixed = client.post(action, headers=HTML, data=form | {"code": "II.1", "title": "Quán triệt (bản sửa)",
                                                            "kind": "one_off", "due_on": "2026-06-30"})
    assert fixed.status_code == 303, fixed.text
    (updated,) = events(api, "plan.updated.v1")
    task = next(t for t in updated["tasks"] if t["code"] == "II.1")
    assert task["title"] == "Quán triệt (bản sửa)" and task["due_on"] == "2026-06-30"
    stale = client.post(action, headers=HTML, data=form | {"code": "II.1", "title": "Bản cũ", "kind": "ongoing"})
    assert stale.status_code == 412 and "người khác thay đổi" in stale.text
    assert len(events(api, "plan.updated.v1")) == 1

    token = csrf(client.get(plan_path, headers=HTML).text)
    assert client.post(f"{plan_path}/publish", headers=HTML, data={"csrf_token": token}).status_code == 303
    after = client.get(plan_path, headers=HTML).text
    assert "Lưu ý khi đọc văn bản" not in after and "Đề xuất giao nhiệm vụ" not in after


def test_a_state_plan_in_word_lists_the_bodies_the_organisation_lacks(admin_portal: tuple[Api, TestClient, dict],
                                                                      tmp_path: Path) -> None:
    annex = Path(__file__).resolve().parents[1] / "fixtures" / "plans" / "ke-hoach-ubnd-phu-luc-bang.txt"
    document = Document()
    for line in annex.read_text(encoding="utf-8").splitlines():
        document.add_paragraph(line)
    document.save(tmp_path / "ke-hoach.docx")
    _, client, _ = admin_portal
    imported = upload(client, (tmp_path / "ke-hoach.docx").read_bytes(), "ke-hoach.docx")
    page = imported.text  # type: ignore[attr-defined]
    assert imported.status_code == 201, page  # type: ignore[attr-defined]
    assert "chưa có trong hệ thống" in page
    assert "Sở Thông tin và Truyền thông" in page and "Cơ quan nhà nước" in page and "PL.II.1" in page
