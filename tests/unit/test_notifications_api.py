"""The notifications service's HTTP surface, on the app users run (SQLite, no broker reachable):
preferences, the deliveries log and its retry, and the one-click unsubscribe link."""

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from services.notifications import handlers, unsubscribe
from services.notifications.app import create_app
from services.notifications.keys import rotate_unsubscribe_key
from services.notifications.mailroom import Mailroom
from services.notifications.models import OutgoingEmail, Preference
from services.notifications.settings import NotificationsSettings
from shared.db import make_engine
from shared.events import (
    ApiTokenIssuedV1,
    ApiTokenPayload,
    OfficialCreatedV1,
    OfficialPayload,
    UnitCreatedV1,
    UnitPayload,
)

ADMIN, LAN, BINH, OTHER = 1, 10, 11, 12
TOKENS = {ADMIN: "admin-token", LAN: "lan-token", BINH: "binh-token", OTHER: "other-token"}


class Api:
    def __init__(self, client: TestClient, room: Mailroom) -> None:
        self.client = client
        self.room = room

    def as_(self, official_id: int) -> dict[str, str]:
        return {"Authorization": f"Bearer {TOKENS[official_id]}"}

    def email(self, unit_id: int, *, recipient: str = "binh@example.vn", failed: bool = False,
              category: str = "deadline") -> int:
        with Session(self.room.engine) as s:
            row = OutgoingEmail(event_id=uuid4(), event_type="occasion.deadline_approaching", recipient=recipient,
                                recipient_unit_id=unit_id, kind="deadline_approaching", category=category,
                                subject="Nhắc hạn", body="…", message_id=f"<{uuid4()}@plantrack>",
                                failed_at=datetime.now(UTC) if failed else None,
                                last_error="SMTP 550: no such user" if failed else None, attempts=3)
            s.add(row)
            s.commit()
            assert row.id is not None
            return row.id


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    settings = NotificationsSettings(database_url=f"sqlite:///{tmp_path}/n.db", amqp_url="amqp://guest:guest@127.0.0.1:9/",
                                     data_dir=str(tmp_path), smtp_port=9)
    with TestClient(create_app(settings)) as client:
        room = Mailroom(make_engine(settings.db_url()), settings)
        for u in (UnitPayload(id=1, code="DUK", name="Đảng ủy Khối", kind="bloc_committee"),
                  UnitPayload(id=2, code="BTG", name="Ban Tuyên giáo", kind="advisory_board", parent_id=1),
                  UnitPayload(id=3, code="CB-A", name="Chi bộ A", kind="party_cell", parent_id=1),
                  UnitPayload(id=4, code="DUK2", name="Đảng ủy Khối khác", kind="bloc_committee")):
            handlers.record_unit(room, UnitCreatedV1(payload=u))
        for o in (OfficialPayload(id=ADMIN, name="Quản trị", email="admin@example.vn", role="admin"),
                  OfficialPayload(id=LAN, name="Nguyễn Thị Lan", email="lan@example.vn", unit_id=2, role="supervisor"),
                  OfficialPayload(id=BINH, name="Trần Văn Bình", email="binh@example.vn", unit_id=3,
                                  role="unit_officer"),
                  OfficialPayload(id=OTHER, name="Khác", email="other@example.vn", unit_id=4, role="supervisor")):
            handlers.record_official(room, OfficialCreatedV1(payload=o))
        for i, (official, token) in enumerate(TOKENS.items(), start=1):
            handlers.record_token(room, ApiTokenIssuedV1(payload=ApiTokenPayload(
                id=i, official_id=official, token_hash=hashlib.sha256(token.encode()).hexdigest())))
        yield Api(client, room)
        room.engine.dispose()


def test_preferences_default_by_role_then_as_chosen(api: Api) -> None:
    lan = api.client.get("/me/preferences", headers=api.as_(LAN)).json()
    assert (lan["mode"], lan["digest_hour"], lan["muted"], lan["defaults"]) == ("digest", 7, [], True)
    assert lan["categories"]["deadline"] == "Nhắc hạn nhiệm vụ"
    binh = api.client.get("/me/preferences", headers=api.as_(BINH)).json()
    assert binh["mode"] == "immediate"
    put = api.client.put("/me/preferences", headers=api.as_(LAN),
                         json={"mode": "immediate", "digest_hour": 18, "muted": ["review", "review", "deadline"]})
    assert put.status_code == 200, put.text
    assert put.json()["muted"] == ["deadline", "review"] and put.json()["defaults"] is False
    assert api.client.get("/me/preferences", headers=api.as_(LAN)).json()["digest_hour"] == 18


@pytest.mark.parametrize("body", [
    {"mode": "weekly", "digest_hour": 7, "muted": []},
    {"mode": "digest", "digest_hour": 24, "muted": []},
    {"mode": "digest", "digest_hour": "7", "muted": []},
    {"mode": "digest", "digest_hour": 7, "muted": ["spam"]},
    {"mode": "digest", "digest_hour": 7, "muted": [], "extra": 1},
    {"mode": "digest"},
])
def test_bad_preferences_are_a_clear_422_and_change_nothing(api: Api, body: dict) -> None:
    response = api.client.put("/me/preferences", headers=api.as_(BINH), json=body)
    assert response.status_code == 422 and response.headers["content-type"] == "application/problem+json"
    with Session(api.room.engine) as s:
        assert s.get(Preference, BINH) is None


def test_preferences_need_a_token(api: Api) -> None:
    assert api.client.get("/me/preferences").status_code == 401
    assert api.client.put("/me/preferences", json={"mode": "digest", "digest_hour": 7}).status_code == 401


def test_deliveries_for_admins_and_supervisors_in_scope_only(api: Api) -> None:
    mine = api.email(3)
    theirs = api.email(4, recipient="x@example.vn")
    failed = api.email(3, failed=True, category="overdue")
    assert {d["id"] for d in api.client.get("/deliveries", headers=api.as_(ADMIN)).json()} == {mine, theirs, failed}
    assert {d["id"] for d in api.client.get("/deliveries", headers=api.as_(LAN)).json()} == {mine, failed}
    assert api.client.get("/deliveries", headers=api.as_(BINH)).status_code == 403
    by_status = api.client.get("/deliveries", params={"status": "failed"}, headers=api.as_(LAN)).json()
    assert [(d["id"], d["status"], d["last_error"]) for d in by_status] == [
        (failed, "failed", "SMTP 550: no such user")]
    assert [d["id"] for d in api.client.get("/deliveries", params={"category": "overdue"},
                                            headers=api.as_(ADMIN)).json()] == [failed]
    assert [d["id"] for d in api.client.get("/deliveries", params={"recipient": "X@example.vn"},
                                            headers=api.as_(ADMIN)).json()] == [theirs]
    assert api.client.get("/deliveries", params={"status": "lost"}, headers=api.as_(ADMIN)).status_code == 422


def test_retry_puts_a_failed_email_back_in_line_and_nothing_else(api: Api) -> None:
    failed = api.email(3, failed=True)
    pending = api.email(3)
    assert api.client.post(f"/deliveries/{pending}/retry", headers=api.as_(ADMIN)).status_code == 409
    assert api.client.post(f"/deliveries/{failed}/retry", headers=api.as_(OTHER)).status_code == 404  # not in scope
    assert api.client.post(f"/deliveries/{failed}/retry", headers=api.as_(BINH)).status_code == 403
    assert api.client.post("/deliveries/999999/retry", headers=api.as_(ADMIN)).status_code == 404
    retried = api.client.post(f"/deliveries/{failed}/retry", headers=api.as_(LAN))
    assert retried.status_code == 200 and retried.json()["status"] == "pending" and retried.json()["attempts"] == 0


def test_one_click_unsubscribe_mutes_exactly_its_category_and_a_rotated_key_revokes_links(api: Api) -> None:
    key = api.room.paper().key
    token = unsubscribe.sign(BINH, "deadline", key)
    page = api.client.get("/unsubscribe", params={"t": token})
    assert page.status_code == 200 and "Nhắc hạn nhiệm vụ" in page.text and "<form method=\"post\"" in page.text
    assert api.client.get("/me/preferences", headers=api.as_(BINH)).json()["muted"] == []  # a GET changes nothing
    done = api.client.post("/unsubscribe", params={"t": token}, data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200 and "Đã hủy nhận" in done.text
    prefs = api.client.get("/me/preferences", headers=api.as_(BINH)).json()
    assert prefs["muted"] == ["deadline"] and prefs["mode"] == "immediate"
    # a supervisor's digest default survives muting one category
    api.client.post("/unsubscribe", params={"t": unsubscribe.sign(LAN, "escalation", key)})
    lan = api.client.get("/me/preferences", headers=api.as_(LAN)).json()
    assert (lan["mode"], lan["muted"]) == ("digest", ["escalation"])

    assert api.client.post("/unsubscribe", params={"t": token + "x"}).status_code == 400
    assert api.client.get("/unsubscribe", params={"t": "garbage"}).status_code == 400
    rotate_unsubscribe_key(api.room.engine)  # running services read the new key within a minute
    api.room._paper = None
    assert api.room.paper().key != key
    with pytest.raises(ValueError):
        unsubscribe.verify(token, api.room.paper().key)


def test_warnings_are_in_the_deliveries_log_not_in_emails(api: Api) -> None:
    with Session(api.room.engine) as s:
        s.add(OutgoingEmail(event_id=uuid4(), event_type="occasion.overdue", recipient="", recipient_unit_id=3,
                            kind="overdue", category="overdue", subject="(unreachable)", body="",
                            message_id="<w@plantrack>", failed_at=datetime.now(UTC),
                            last_error="unreachable: unit 3 has no active officer and no unit mailbox"))
        s.commit()
    [warning] = api.client.get("/deliveries", params={"status": "unreachable"}, headers=api.as_(LAN)).json()
    assert warning["recipient_unit_id"] == 3 and "unreachable" in warning["last_error"]
    assert api.client.get("/emails", headers=api.as_(ADMIN)).json() == []
    with Session(api.room.engine) as s:
        assert len(s.exec(select(OutgoingEmail)).all()) == 1
