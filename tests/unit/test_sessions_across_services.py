"""A browser session started in assignments works in reporting once its event is consumed, and stops
there when it ends or its official is deactivated (reporting's own projection, SQLite)."""

from datetime import timedelta
from pathlib import Path

from fastapi.testclient import TestClient

from services.reporting import app as reporting_app
from services.reporting import projections
from services.reporting.settings import ReportingSettings
from shared.db import make_engine, migrate
from shared.events import (
    OfficialCreatedV1,
    OfficialPayload,
    OfficialUpdatedV1,
    UnitCreatedV1,
    UnitPayload,
    WebSessionEndedV1,
    WebSessionPayload,
    WebSessionStartedV1,
)
from shared.events.base import utcnow
from shared.identity.auth import hash_token
from shared.identity.cookies import SESSION_COOKIE, SessionCookies

SECRET = "shared-secret"
TOKEN = "session-token-of-binh"


def test_a_session_is_honoured_by_reporting_from_its_events(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/reporting.db"
    migrate(url, reporting_app.MIGRATIONS)
    engine = make_engine(url)
    client = TestClient(reporting_app.create_app(ReportingSettings(database_url=url, session_secret=SECRET)))
    now = utcnow()
    cookies = SessionCookies(SECRET.encode(), timedelta(minutes=30))
    client.cookies.set(SESSION_COOKIE, cookies.seal(TOKEN, now))
    official = OfficialPayload(id=7, name="Trần Văn Bình", email="binh@example.vn", role="unit_officer", unit_id=3)
    session = WebSessionPayload(id=1, official_id=7, session_hash=hash_token(TOKEN),
                                expires_at=now + timedelta(hours=1))
    unit = UnitPayload(id=3, code="CB", name="Chi bộ", kind="party_cell")
    projections.apply_unit(engine, UnitCreatedV1(payload=unit))
    projections.apply_official(engine, OfficialCreatedV1(payload=official))

    assert client.get("/plans/99/progress").status_code == 401  # the session's event has not arrived
    projections.apply_session(engine, WebSessionStartedV1(payload=session))
    answer = client.get("/plans/99/progress")
    assert answer.status_code == 404  # signed in: the plan is unknown, not the caller
    assert SESSION_COOKIE in answer.headers["set-cookie"]  # the idle timeout slides here too

    idle = TestClient(client.app)
    idle.cookies.set(SESSION_COOKIE, cookies.seal(TOKEN, now - timedelta(minutes=31)))
    assert idle.get("/plans/99/progress").status_code == 401

    projections.apply_official(engine, OfficialUpdatedV1(payload=official.model_copy(update={"active": False})))
    assert client.get("/plans/99/progress").status_code == 401  # deactivated: refused everywhere
    projections.apply_official(engine, OfficialUpdatedV1(payload=official, occurred_at=utcnow() + timedelta(1)))
    assert client.get("/plans/99/progress").status_code == 404

    ended = session.model_copy(update={"ended_at": now})
    projections.apply_session(engine, WebSessionEndedV1(payload=ended))
    projections.apply_session(engine, WebSessionStartedV1(payload=session))  # late: the end is final
    assert client.get("/plans/99/progress").status_code == 401
    engine.dispose()
