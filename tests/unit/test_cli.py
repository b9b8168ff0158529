"""The `plantrack` command's offline subcommands."""

import json
from pathlib import Path

import pytest
from sqlmodel import Session, select

from services.assignments.app import MIGRATIONS
from services.assignments.auth import hash_token, resolve_token
from services.assignments.directory import ensure_bootstrap_admin
from services.assignments.models import ApiToken, AuditEntry
from services.cli import main
from shared.db import make_engine, migrate, session_scope

SEED = Path(__file__).resolve().parents[2] / "services" / "assignments" / "demo" / "ke-hoach-41-KH-DUK.txt"


def test_import_plan_prints_the_draft_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["import-plan", str(SEED), "--json"]) == 0
    draft = json.loads(capsys.readouterr().out)
    assert draft["number"] == "41-KH/ĐUK" and draft["issued_on"] == "2021-12-15"
    assert [t["code"] for t in draft["tasks"]][:2] == ["II.1", "II.2"]


def test_import_plan_summary_and_unreadable_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["import-plan", str(SEED)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("41-KH/ĐUK  ke_hoach  Trà Vinh, 2021-12-15") and "III.2" in out
    bad = tmp_path / "old.doc"
    bad.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512))  # an old binary Word file
    with pytest.raises(SystemExit, match="cannot read"):
        main(["import-plan", str(bad)])


def test_create_token_issues_a_working_token_once(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = f"sqlite:///{tmp_path}/a.db"
    migrate(url, MIGRATIONS)
    engine = make_engine(url)
    with session_scope(engine) as session:
        ensure_bootstrap_admin(session, "bootstrap")
    monkeypatch.setenv("PLANTRACK_ASSIGNMENTS_DATABASE_URL", url)

    assert main(["create-token", "--email", "ADMIN@plantrack.example.org", "--name", "ops"]) == 0
    token = capsys.readouterr().out.strip()
    with Session(engine) as session:
        official = resolve_token(session, token)
        assert official is not None and official.role == "admin"
        row = session.exec(select(ApiToken).where(ApiToken.token_hash == hash_token(token))).one()
        assert row.name == "ops" and token not in row.token_hash
        assert [e.actor_name for e in session.exec(select(AuditEntry).where(AuditEntry.action == "token.create"))
                if e.changes.get("name") == "ops"] == ["system"]
    with pytest.raises(SystemExit, match="no official with email"):
        main(["create-token", "--email", "nobody@example.vn"])
    engine.dispose()
