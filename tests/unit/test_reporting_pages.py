"""The dashboard pages over hand-built read-model rows (SQLite): the plan list and one plan's figures
in the caller's scope, the as-of form, the export links, and a browser without a session."""

from datetime import UTC, date, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session

from services.reporting import app as reporting_app
from services.reporting.pages import parse_day
from services.reporting.settings import ReportingSettings
from shared.identity.auth import hash_token
from shared.identity.models import IdentityOfficial, IdentityToken, IdentityUnit
from shared.vietnamese import local_date
from tests.unit.test_reporting_progress import TOKEN, engine  # noqa: F401 (the read model fixture)

BROWSER = {"Accept": "text/html,application/xhtml+xml"}
OFFICER = "pt_pages-officer-b"


def client_of(engine: Engine, token: str = TOKEN) -> TestClient:  # noqa: F811
    settings = ReportingSettings(database_url=str(engine.url), assignments_public_url="https://portal.example.vn/")
    return TestClient(reporting_app.create_app(settings), follow_redirects=False,
                      headers={"Authorization": f"Bearer {token}", **BROWSER} if token else BROWSER)


def add_officer(engine: Engine, unit_id: int) -> None:  # noqa: F811
    with Session(engine) as s:
        s.add(IdentityUnit(id=unit_id, parent_id=None, kind="party_cell"))
        s.add(IdentityOfficial(id=2, role="unit_officer", unit_id=unit_id, as_of=datetime(2024, 1, 1, tzinfo=UTC)))
        s.add(IdentityToken(id=2, official_id=2, token_hash=hash_token(OFFICER)))
        s.commit()


def test_the_plan_page_shows_progress_overdue_and_every_export(engine: Engine) -> None:  # noqa: F811
    client = client_of(engine)
    listing = client.get("/dashboard")
    assert listing.status_code == 200 and 'href="/dashboard/plans/1"' in listing.text
    assert "Kế hoạch số 41-KH/ĐUK" in listing.text and "Quản trị hệ thống" in listing.text

    page = client.get("/dashboard/plans/1")
    assert page.status_code == 200, page.text
    html = page.text
    assert '<html lang="vi">' in html and "<h1>Kế hoạch số 41-KH/ĐUK</h1>" in html
    assert '<progress id="don-vi-21" max="2" value="1"' in html  # Chi bộ A: 1 of 2 completed
    assert "Chi bộ C" in html and "Quá hạn" in html and "Số lớp: đạt 7 lớp / chỉ tiêu 10 (70 %)" in html
    for ext in ("csv", "xlsx", "docx", "pdf"):
        assert f'href="/plans/1/export.{ext}"' in html
    assert '<label for="as_of">' in html


def test_a_past_day_is_shown_and_passed_on_to_the_exports(engine: Engine) -> None:  # noqa: F811
    html = client_of(engine).get("/dashboard/plans/1", params={"as_of": "2024-06-19"}).text
    assert "Số liệu tính đến hết ngày 19/06/2024" in html
    assert 'href="/plans/1/export.xlsx?as_of=2024-06-19"' in html and 'value="2024-06-19"' in html


def test_a_wrong_or_future_day_is_explained_next_to_the_field(engine: Engine) -> None:  # noqa: F811
    client = client_of(engine)
    tomorrow = (local_date() + timedelta(days=1)).isoformat()
    for bad, message in ((tomorrow, "Không xem được ngày trong tương lai"), ("2024-02-30", "Ngày chưa đúng")):
        page = client.get("/dashboard/plans/1", params={"as_of": bad})
        assert page.status_code == 422 and message in page.text
        assert 'aria-describedby="as_of-hint as_of-error"' in page.text and 'aria-invalid="true"' in page.text
    assert parse_day("", date(2024, 7, 10)) == (None, "")
    assert parse_day("2024-07-10", date(2024, 7, 10)) == (None, "")  # today: the live read model


def test_a_unit_officer_sees_its_own_unit_only(engine: Engine) -> None:  # noqa: F811
    add_officer(engine, 22)
    html = client_of(engine, OFFICER).get("/dashboard/plans/1").text
    assert "Chi bộ B" in html and "Chi bộ A" not in html and "Chi bộ C" not in html
    assert "41-KH/ĐUK" in client_of(engine, OFFICER).get("/dashboard").text  # the plan assigns Chi bộ B


def test_plans_outside_the_scope_are_not_listed(engine: Engine) -> None:  # noqa: F811
    add_officer(engine, 99)
    listing = client_of(engine, OFFICER).get("/dashboard")
    assert listing.status_code == 200 and "41-KH/ĐUK" not in listing.text and "Chưa có kế hoạch nào" in listing.text


def test_an_unknown_plan_is_a_404_page(engine: Engine) -> None:  # noqa: F811
    page = client_of(engine).get("/dashboard/plans/999")
    assert page.status_code == 404 and "Hệ thống tổng hợp chưa có kế hoạch này" in page.text


def test_a_browser_without_a_session_is_sent_to_sign_in(engine: Engine) -> None:  # noqa: F811
    response = client_of(engine, token="").get("/dashboard/plans/1", params={"as_of": "2024-06-19"})
    assert response.status_code == 303
    location = urlsplit(response.headers["location"])
    assert (location.scheme, location.netloc, location.path) == ("https", "portal.example.vn", "/signin")
    assert parse_qs(location.query)["next"] == ["http://testserver/dashboard/plans/1?as_of=2024-06-19"]
    api = TestClient(client_of(engine).app).get("/dashboard")  # no Accept: text/html, no token
    assert api.status_code == 401 and api.headers["content-type"].startswith("application/problem+json")
    stylesheet = client_of(engine, token="").get("/static/web/plantrack.css")
    assert stylesheet.status_code == 200 and ".dashboard" in stylesheet.text
