"""The unit officer's pages (TestClient, SQLite): the unit's assignments, the report form with its
stale-form rule, attachments, the unit's own plan and its review-round report.

Officers sign in through the real emailed-link flow; events are read from the outbox."""

import copy
import io
import json
import re
import zipfile
from collections.abc import Callable
from dataclasses import fields
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func
from sqlmodel import select

from services.assignments.models import Attachment, AttachmentBlob
from shared.vietnamese import local_date
from tests.unit.conftest import Api, World
from tests.unit.test_signin import HTML, SECRET, browser, csrf, sign_in

PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n%%EOF\n"
MAX_BYTES = 2000
STALE = "nhiệm vụ này đã có báo cáo mới hoặc đã được xem xét"


@pytest.fixture
def unit_world(make_api: Callable[..., Api], world_template: tuple[Path, World]) -> World:
    """The standard world on an app that signs officials in, with a small attachment limit."""
    template, built = world_template
    api = make_api(template=template, session_secret=SECRET, attachment_max_bytes=MAX_BYTES)
    return World(api=api, **{f.name: copy.deepcopy(getattr(built, f.name)) for f in fields(World) if f.name != "api"})


def signed_in(w: World, token: str) -> TestClient:
    """A browser signed in as the official holding `token`."""
    email = w.api.ok(w.api.get("/me", token=token), 200)["email"]
    client = browser(w.api)
    sign_in(w.api, client, email)
    return client


def events(api: Api, event_type: str) -> list[dict]:
    return [json.loads(row.body)["payload"] for row in api.outbox() if row.event_type == event_type]


def form_of(client: TestClient, path: str) -> tuple[str, dict[str, str]]:
    """A page's HTML, and its CSRF token and assignment version."""
    page = client.get(path, headers=HTML)
    assert page.status_code == 200, page.text
    version = re.search(r'name="version" value="(\d+)"', page.text)
    return page.text, {"csrf_token": csrf(page.text), "version": version.group(1) if version else ""}


def test_the_list_shows_the_units_assignments_with_filters(unit_world: World) -> None:
    w = unit_world
    anonymous = browser(w.api).get("/unit?status=in_progress", headers=HTML)
    assert anonymous.status_code == 303
    assert anonymous.headers["location"] == "/signin?next=%2Funit%3Fstatus%3Din_progress"
    client = signed_in(w, w.officer_a)
    page = client.get("/unit", headers=HTML)
    assert page.status_code == 200 and "Quán triệt, cụ thể hóa" in page.text
    assert w.cell_a["name"] in page.text and w.cell_b["name"] not in page.text  # the officer's own unit only
    assert 'class="badge due-within_deadline">Trong hạn<' in page.text and 'data-label="Nhiệm vụ"' in page.text
    assert f'href="/unit/assignments/{w.a_assignment["id"]}"' in page.text
    assert "1 nhiệm vụ." in page.text
    assert "0 nhiệm vụ." in client.get("/unit?status=completed", headers=HTML).text
    assert "0 nhiệm vụ." in client.get("/unit?due_state=overdue", headers=HTML).text
    assert "1 nhiệm vụ." in client.get(f"/unit?due_state=within_deadline&plan_id={w.plan['id']}", headers=HTML).text
    assert "0 nhiệm vụ." in client.get(f"/unit?plan_id={w.plan['id'] + 99}", headers=HTML).text
    assert "1 nhiệm vụ." in client.get("/unit?status=nonsense", headers=HTML).text  # an unknown value filters nothing


def test_a_report_through_the_form_raises_the_same_event(unit_world: World) -> None:
    w = unit_world
    client = signed_in(w, w.officer_a)
    path = f"/unit/assignments/{w.a_assignment['id']}"
    page, form = form_of(client, path)
    assert "Báo cáo tình hình thực hiện" in page and '<label for="f-summary">' in page
    bad = client.post(f"{path}/report", headers=HTML, data={
        **form, "status": "in_progress", "progress": "40", "evidence_links": "không phải đường dẫn"})
    assert bad.status_code == 422 and 'id="f-evidence_links-error"' in bad.text
    assert "bắt đầu bằng http:// hoặc https://" in bad.text and 'aria-invalid="true"' in bad.text

    done = client.post(f"{path}/report", headers=HTML, data={
        **form, "status": "in_progress", "progress": "40", "summary": "Đã quán triệt cho đảng viên.",
        "difficulties": "Thiếu kinh phí.", "evidence_links": "https://vanban.example.vn/a.pdf\r\n\r\nhttps://x.vn/b"})
    assert done.status_code == 303 and done.headers["location"] == f"{path}?done=reported"
    shown = client.get(done.headers["location"], headers=HTML).text
    assert "Đã ghi nhận báo cáo" in shown and "Đã quán triệt cho đảng viên." in shown and "Chờ xem xét" in shown
    (event,) = events(w.api, "assignment.status_changed.v1")
    assert event["progress"] == 40 and event["new_status"] == "in_progress"
    assert event["difficulties"] == "Thiếu kinh phí."
    assert event["evidence_links"] == ["https://vanban.example.vn/a.pdf", "https://x.vn/b"]

    illegal = client.post(f"{path}/report", headers=HTML, data={
        **form_of(client, path)[1], "status": "in_progress", "progress": "100"})
    assert illegal.status_code == 409 and "Không ghi nhận được" in illegal.text


def test_a_stale_form_is_refused_and_the_current_state_shown(unit_world: World) -> None:
    w = unit_world
    path = f"/unit/assignments/{w.a_assignment['id']}"
    client = signed_in(w, w.officer_a)
    _, old = form_of(client, path)
    w.api.ok(w.api.post(f"/assignments/{w.a_assignment['id']}/updates", {"status": "in_progress", "progress": 70},
                        token=w.officer_a))  # a colleague reported meanwhile
    stale = client.post(f"{path}/report", headers=HTML, data={**old, "status": "in_progress", "progress": "30",
                                                              "summary": "Nội dung của tôi"})
    assert stale.status_code == 409 and STALE in stale.text
    assert "Đang thực hiện, tiến độ 70%" in stale.text and "Nội dung của tôi" in stale.text  # nothing typed is lost
    assert len(events(w.api, "assignment.status_changed.v1")) == 1
    fresh = re.search(r'name="version" value="(\d+)"', stale.text)
    assert fresh and fresh.group(1) != old["version"]  # sending it again, knowingly, works
    again = client.post(f"{path}/report", headers=HTML, data={**old, "version": fresh.group(1),
                                                              "status": "in_progress", "progress": "75"})
    assert again.status_code == 303


def test_a_returned_reports_reason_is_shown_above_the_form(unit_world: World) -> None:
    w = unit_world
    update = w.api.ok(w.api.post(f"/assignments/{w.a_assignment['id']}/updates",
                                 {"status": "in_progress", "progress": 50}, token=w.officer_a))
    w.api.ok(w.api.post(f"/updates/{update['id']}/review", {"decision": "returned", "reason": "Thiếu số liệu cụ thể."},
                        token=w.supervisor), 200)
    page, _ = form_of(signed_in(w, w.officer_a), f"/unit/assignments/{w.a_assignment['id']}")
    assert page.index("Báo cáo gần nhất bị trả lại") < page.index("Báo cáo tình hình thực hiện")
    assert "Thiếu số liệu cụ thể." in page and "Bị trả lại" in page


def docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


def test_attachments_are_checked_stored_once_and_served_to_readers_only(unit_world: World) -> None:
    w = unit_world
    path = f"/unit/assignments/{w.a_assignment['id']}"
    client = signed_in(w, w.officer_a)

    def upload(name: str, content: bytes, token: str | None = None) -> object:
        data = {"csrf_token": token if token is not None else form_of(client, path)[1]["csrf_token"]}
        return client.post(f"{path}/attachments", headers=HTML, data=data, files={"file": (name, content)})

    done = upload("Báo cáo quý 4.pdf", PDF)
    assert done.status_code == 303 and done.headers["location"] == f"{path}?done=attached"  # type: ignore[attr-defined]
    assert upload("ban-sao.pdf", PDF).status_code == 303  # type: ignore[attr-defined]
    assert upload("ke-hoach.docx", docx()).status_code == 303  # type: ignore[attr-defined]
    exe = upload("chuong-trinh.pdf", b"MZ\x90\x00" + b"\x00" * 200)
    assert exe.status_code == 422 and "Chỉ nhận tệp PDF" in exe.text  # type: ignore[attr-defined]
    big = upload("lon.pdf", PDF + b"0" * MAX_BYTES)
    assert big.status_code == 413 and "Tệp lớn hơn mức cho phép" in big.text  # type: ignore[attr-defined]
    huge = upload("rat-lon.pdf", PDF + b"0" * 200_000)  # cut off by the body limit while it streams in
    assert huge.status_code == 413  # type: ignore[attr-defined]
    assert huge.headers["content-type"] == "application/problem+json"  # type: ignore[attr-defined]
    assert upload("x.pdf", PDF, token="").status_code == 403  # type: ignore[attr-defined]

    with w.api.session() as s:
        rows = s.exec(select(Attachment).order_by(Attachment.id)).all()  # type: ignore[arg-type]
        assert [r.file_name for r in rows] == ["Báo cáo quý 4.pdf", "ban-sao.pdf", "ke-hoach.docx"]
        assert rows[2].media_type.endswith("wordprocessingml.document")
        assert s.scalar(select(func.count()).select_from(AttachmentBlob)) == 2  # the PDF is stored once
    page = client.get(path, headers=HTML).text
    assert f'href="/attachments/{rows[0].id}"' in page and "Báo cáo quý 4.pdf" in page

    got = client.get(f"/attachments/{rows[0].id}")
    assert got.status_code == 200 and got.content == PDF
    assert got.headers["content-type"] == "application/pdf" and got.headers["x-content-type-options"] == "nosniff"
    assert got.headers["content-disposition"].startswith("attachment; filename*=UTF-8''B%C3%A1o")
    assert w.api.get(f"/attachments/{rows[0].id}", token=w.supervisor).status_code == 200  # a reader of A

    other = signed_in(w, w.officer_b)
    assert other.get(f"/attachments/{rows[0].id}", headers=HTML).status_code == 404
    refused = other.get(path, headers=HTML)
    assert refused.status_code == 404 and "Không tìm thấy" in refused.text and "Pdf" not in refused.text
    assert w.api.get(path, token=w.officer_b).json()["status"] == 404  # problem+json for API clients
    assert other.post(f"{path}/attachments", headers=HTML, files={"file": ("a.pdf", PDF)},
                      data={"csrf_token": form_of(other, "/unit")[1]["csrf_token"]}).status_code == 404


def test_the_unit_registers_its_own_plan(unit_world: World) -> None:
    w = unit_world
    client = signed_in(w, w.officer_a)
    path = f"/unit/plans/{w.plan['id']}/unit-plan"
    page, form = form_of(client, path)
    assert "chưa đăng ký" in page and '<label for="f-number">' in page
    missing = client.post(path, headers=HTML, data={"csrf_token": form["csrf_token"], "number": "05-KH/CB"})
    assert missing.status_code == 422 and 'id="f-title-error"' in missing.text and "chưa nhập" in missing.text
    body = {"csrf_token": form["csrf_token"], "number": "05-KH/CB", "issued_on": "2022-01-10",
            "title": "Kế hoạch thực hiện của chi bộ", "link": "https://vanban.example.vn/05.pdf"}
    done = client.post(path, headers=HTML, data=body)
    assert done.status_code == 303, done.text
    assert "Kế hoạch thực hiện của chi bộ" in client.get(done.headers["location"], headers=HTML).text
    assert [e["number"] for e in events(w.api, "unit_plan.registered.v1")] == ["05-KH/CB"]
    twice = client.post(path, headers=HTML, data=body)
    assert twice.status_code == 409 and "Không đăng ký được" in twice.text


def test_the_unit_submits_its_review_round_report(unit_world: World) -> None:
    w = unit_world
    submit_by = local_date() + timedelta(days=7)
    round_ = w.api.ok(w.api.post(f"/plans/{w.plan['id']}/reviews", {
        "kind": "preliminary", "period_end": local_date().isoformat(), "submit_by": submit_by.isoformat()}))
    client = signed_in(w, w.officer_a)
    path = f"/unit/reviews/{round_['id']}"
    page, form = form_of(client, path)
    assert submit_by.strftime("%d/%m/%Y") in page and "Chưa nộp" in page
    done = client.post(path, headers=HTML, data={"csrf_token": form["csrf_token"], "summary": "Đã quán triệt.",
                                                 "proposals": "Mở thêm lớp."})
    assert done.status_code == 303
    after = client.get(done.headers["location"], headers=HTML).text
    assert "Đã nộp báo cáo của đơn vị." in after and "Đã nộp đúng hạn" in after and 'name="summary"' not in after
    (event,) = events(w.api, "review_submission.submitted.v1")
    assert event["proposals"] == "Mở thêm lớp." and event["on_time"] is True
    again = client.post(path, headers=HTML, data={"csrf_token": form["csrf_token"], "summary": "Lần hai."})
    assert again.status_code == 409 and "Không nộp được" in again.text


def test_every_form_needs_its_csrf_token(unit_world: World) -> None:
    w = unit_world
    client = signed_in(w, w.officer_a)
    for path in (f"/unit/assignments/{w.a_assignment['id']}/report", f"/unit/plans/{w.plan['id']}/unit-plan",
                 "/unit/reviews/1"):
        refused = client.post(path, headers=HTML, data={"summary": "x", "status": "in_progress", "progress": "1"})
        assert refused.status_code == 403 and "Biểu mẫu đã hết hiệu lực" in refused.text
    assert w.api.post(f"/unit/assignments/{w.a_assignment['id']}/report", token=w.officer_a,
                      data={"status": "in_progress"}).status_code == 403  # a bearer token needs it too
    assert events(w.api, "assignment.status_changed.v1") == []


def test_an_attachment_may_be_larger_than_a_json_body(make_api: Callable[..., Api],
                                                      world_template: tuple[Path, World]) -> None:
    template, built = world_template
    api = make_api(template=template, session_secret=SECRET, attachment_max_bytes=3_000_000)
    w = World(api=api, **{f.name: copy.deepcopy(getattr(built, f.name)) for f in fields(World) if f.name != "api"})
    client = signed_in(w, w.officer_a)
    path = f"/unit/assignments/{w.a_assignment['id']}"
    scan = PDF + b"0" * 2_000_000  # twice the 1 MB limit of JSON bodies
    done = client.post(f"{path}/attachments", headers=HTML, data={"csrf_token": form_of(client, path)[1]["csrf_token"]},
                       files={"file": ("ban-chup.pdf", scan)})
    assert done.status_code == 303, done.text
    with w.api.session() as s:
        assert s.exec(select(AttachmentBlob)).one().size == len(scan)  # type: ignore[attr-defined]


def test_the_form_offers_the_next_statuses_in_workflow_order(unit_world: World) -> None:
    w = unit_world
    client = signed_in(w, w.officer_a)
    page, _ = form_of(client, f"/unit/assignments/{w.a_assignment['id']}")
    options = re.findall(r'<option value="(\w+)"', page.split('id="f-status"')[1].split("</select>")[0])
    assert options[0] == "in_progress" and options[-1] == "completed"  # a new task is not preselected as done
