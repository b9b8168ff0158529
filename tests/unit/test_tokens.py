"""API tokens: expiry, the bootstrap token replaced (never added), and the events that carry
them to the other services."""

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import text, update
from sqlmodel import Session, select

from services.assignments.app import MIGRATIONS as ASSIGNMENTS_MIGRATIONS
from services.assignments.app import create_app
from services.assignments.models import ApiToken
from services.assignments.settings import AssignmentsSettings
from shared.db import make_engine, migrate
from shared.events import parse_event
from shared.events.base import utcnow
from shared.identity.auth import hash_token
from shared.messaging.outbox import OutboxMessage
from tests.unit.conftest import ADMIN_TOKEN, Api


@contextmanager
def restarted(db_file: Path, admin_token: str) -> Iterator[Api]:
    """The assignments app started again on `db_file` with another PLANTRACK_ADMIN_TOKEN."""
    url = f"sqlite:///{db_file}"
    engine = make_engine(url)
    with TestClient(create_app(AssignmentsSettings(database_url=url, admin_token=admin_token,
                                                   relay_enabled=False))) as client:
        yield Api(app=client.app, client=client, db_url=url, engine=engine)  # type: ignore[arg-type]
    engine.dispose()


def events_of(api: Api, event_type: str) -> list[dict]:
    return [json.loads(row.body)["payload"] for row in api.outbox() if row.event_type == event_type]


def test_a_changed_bootstrap_token_replaces_the_old_one(make_api: Callable[..., Api], tmp_path: Path) -> None:
    first = make_api()
    assert first.get("/me").status_code == 200
    db = tmp_path / "assignments-0.db"
    with restarted(db, "pt_new-admin-token") as second:
        assert second.get("/me", token=ADMIN_TOKEN).status_code == 401  # the old one no longer works
        assert second.get("/me", token="pt_new-admin-token").status_code == 200
        revoked = events_of(second, "api_token.revoked.v1")
        assert [r["token_hash"] for r in revoked] == [hash_token(ADMIN_TOKEN)]
        issued = events_of(second, "api_token.issued.v1")
        assert hash_token("pt_new-admin-token") in [i["token_hash"] for i in issued]
    with restarted(db, "") as third:  # without the variable, the bootstrap token is revoked too
        assert third.get("/me", token="pt_new-admin-token").status_code == 401


def test_restarting_with_the_same_token_changes_nothing(make_api: Callable[..., Api], tmp_path: Path) -> None:
    api = make_api()
    before = len(api.outbox())
    with restarted(tmp_path / "assignments-0.db", ADMIN_TOKEN) as again:
        assert again.get("/me").status_code == 200
        assert len(again.outbox()) == before


def test_tokens_can_expire(api: Api) -> None:
    official, _ = api.official("unit_officer", api.unit("CB-A")["id"])
    soon = (utcnow() + timedelta(hours=1)).isoformat()
    issued = api.ok(api.post(f"/officials/{official['id']}/tokens", {"name": "tạm", "expires_at": soon}))
    assert issued["expires_at"] is not None
    assert api.get("/me", token=issued["token"]).status_code == 200
    (event,) = [e for e in events_of(api, "api_token.issued.v1") if e["id"] == issued["id"]]
    assert event["expires_at"] is not None and event["token_hash"] == hash_token(issued["token"])
    assert "token" not in event
    with api.session() as s:  # time passes
        expired = utcnow() - timedelta(seconds=1)
        s.execute(update(ApiToken).where(ApiToken.id == issued["id"]).values(expires_at=expired))  # type: ignore[arg-type]
        s.commit()
    response = api.get("/me", token=issued["token"])
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")


def test_a_token_cannot_be_issued_already_expired(api: Api) -> None:
    official, _ = api.official("unit_officer", api.unit("CB-B")["id"])
    past = (utcnow() - timedelta(minutes=1)).isoformat()
    response = api.post(f"/officials/{official['id']}/tokens", {"expires_at": past})
    assert response.status_code == 422, response.text
    naive = api.post(f"/officials/{official['id']}/tokens", {"expires_at": "2030-01-01T00:00:00"})
    assert naive.status_code == 422, naive.text  # a moment without its time zone is ambiguous


def test_revoking_publishes_the_revocation(api: Api) -> None:
    official, token = api.official("unit_officer", api.unit("CB-C")["id"])
    (row,) = api.ok(api.get(f"/officials/{official['id']}/tokens"), 200)
    api.ok(api.call("DELETE", f"/officials/{official['id']}/tokens/{row['id']}"), 200)
    (event,) = [e for e in events_of(api, "api_token.revoked.v1") if e["id"] == row["id"]]
    assert event["revoked_at"] is not None and event["token_hash"] == hash_token(token)
    assert api.get("/me", token=token).status_code == 401


def test_upgrading_publishes_the_identity_that_existed_before(tmp_path: Path) -> None:
    """A system installed before tokens travelled as events: migration 0003 puts a snapshot of every
    unit, official and token in the outbox, and the bootstrap token keeps its role."""
    url = f"sqlite:///{tmp_path}/old.db"
    cfg = Config()
    cfg.set_main_option("script_location", str(ASSIGNMENTS_MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url)
    command.upgrade(cfg, "0002")
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO units (id, code, name, kind, created_at) "
                              "VALUES (1, 'DUK', 'Đảng ủy Khối', 'bloc_committee', '2024-01-01')"))
            conn.execute(text("INSERT INTO officials (id, name, email, title, unit_id, role, active, created_at) "
                              "VALUES (2, 'Lan', 'lan@example.vn', '', 1, 'supervisor', 1, '2024-01-01')"))
            conn.execute(text("INSERT INTO api_tokens (id, official_id, name, token_hash, prefix, created_at) "
                              f"VALUES (3, 2, 'bootstrap', '{hash_token('pt_old')}', 'pt_old', '2024-01-01')"))
        migrate(url, ASSIGNMENTS_MIGRATIONS)
        with Session(engine) as s:
            rows = s.exec(select(OutboxMessage).order_by(OutboxMessage.id)).all()  # type: ignore[arg-type]
            token = s.get(ApiToken, 3)
        events = [parse_event(r.body) for r in rows]
        assert [e.event_type for e in events] == ["unit.created.v1", "official.updated.v1", "api_token.issued.v1"]
        assert events[2].payload.token_hash == hash_token("pt_old")  # type: ignore[attr-defined]
        assert token is not None and token.bootstrap and token.expires_at is None
    finally:
        engine.dispose()


def test_the_placeholder_admin_token_of_env_example_is_refused() -> None:
    example = (Path(__file__).resolve().parents[2] / ".env.example").read_text()
    placeholder = next(line.split("=", 1)[1] for line in example.splitlines()
                       if line.startswith("PLANTRACK_ADMIN_TOKEN="))
    with pytest.raises(ValidationError, match="placeholder"):
        AssignmentsSettings(admin_token=placeholder)
