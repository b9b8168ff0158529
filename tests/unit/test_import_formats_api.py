"""POST /plans/import and the admin's upload page with the formats offices send: text in Vietnamese
encodings, Word, PDF, or bytes of unknown type; 415 for other types, 422 for what has no text."""

from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from services.assignments.plan_documents import DOCX_TYPE
from shared.problems import PROBLEM_JSON
from tests.unit.conftest import Api
from tests.unit.test_admin_pages import admin_portal, upload  # noqa: F401 (a fixture)
from tests.unit.test_plan_documents import scanned_pdf

FORMATS = Path(__file__).resolve().parents[1] / "fixtures" / "plans" / "formats"
NAME = "ke-hoach-41-KH-DUK"

SENT = {
    "UTF-16 text": (f"{NAME}.utf16le.txt", "text/plain"),
    "Windows-1258 text, declared": (f"{NAME}.cp1258.txt", "text/plain; charset=windows-1258"),
    "VNI text": (f"{NAME}.vni.txt", "text/plain; charset=utf-8"),
    "Word": (f"{NAME}.docx", DOCX_TYPE),
    "PDF": (f"{NAME}.pdf", "application/pdf"),
    "Word of unknown type": (f"{NAME}.docx", "application/octet-stream"),
    "PDF of unknown type": (f"{NAME}.pdf", "application/octet-stream"),
}


def send(api: Api, content: bytes, content_type: str) -> httpx.Response:
    return api.call("POST", "/plans/import", content=content, headers={"Content-Type": content_type})


def problem(response: httpx.Response, status: int, fragment: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    assert fragment in response.json()["detail"], response.json()


@pytest.mark.parametrize("sent", SENT)
def test_the_seed_imports_from_each_format(api: Api, sent: str) -> None:
    name, content_type = SENT[sent]
    plan = api.ok(send(api, (FORMATS / name).read_bytes(), content_type), 200)["plan"]
    assert (plan["number"], plan["issued_on"], plan["place"]) == ("41-KH/ĐUK", "2021-12-15", "Trà Vinh")
    assert len(plan["tasks"]) == 10


def test_another_content_type_is_415(api: Api) -> None:
    problem(send(api, (FORMATS / f"{NAME}.pdf").read_bytes(), "image/png"), 415, "application/pdf")
    problem(send(api, b"{}", "application/json"), 415, "text/plain")


def test_a_scanned_pdf_is_422_with_a_clear_message(api: Api) -> None:
    problem(send(api, scanned_pdf(), "application/pdf"), 422, "no text layer: it looks like a scan")


def test_an_old_word_file_or_random_bytes_are_422(api: Api) -> None:
    problem(send(api, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), "application/octet-stream"), 422, ".docx")
    problem(send(api, bytes(range(256)) * 8, "application/octet-stream"), 422, "not text")
    problem(send(api, b"PK\x03\x04 broken", DOCX_TYPE), 422, "not a Word document")


def test_the_accepted_types_are_documented(api: Api) -> None:
    operation = api.client.get("/openapi.json").json()["paths"]["/plans/import"]["post"]
    assert set(operation["requestBody"]["content"]) == {
        "text/plain", DOCX_TYPE, "application/pdf", "application/octet-stream"}
    assert "415" in operation["responses"]


def test_the_upload_page_imports_a_word_file(admin_portal: tuple[Api, TestClient, dict]) -> None:  # noqa: F811
    _, client, _ = admin_portal
    page = upload(client, (FORMATS / f"{NAME}.docx").read_bytes(), f"{NAME}.docx")
    assert page.status_code == 201, page.text  # type: ignore[attr-defined]
    assert "41-KH/ĐUK" in page.text  # type: ignore[attr-defined]


def test_the_upload_page_refuses_a_scan_in_vietnamese(admin_portal: tuple[Api, TestClient, dict]) -> None:  # noqa: F811
    _, client, _ = admin_portal
    page = upload(client, scanned_pdf(), "ban-quet.pdf")
    assert page.status_code == 422 and "bản quét" in page.text  # type: ignore[attr-defined]
