"""`plantrack run` without PLANTRACK_ADMIN_TOKEN: one admin token, made once, kept with the data."""

import signal
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from services import cli


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict[str, str]]]:
    """`plantrack run` whose first service start is recorded, then interrupted (as by Ctrl-C)."""
    envs: list[dict[str, str]] = []

    def popen(*args: Any, env: dict[str, str], **kwargs: Any) -> None:
        envs.append(env)
        raise KeyboardInterrupt

    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    monkeypatch.setattr(cli.subprocess, "Popen", popen)
    monkeypatch.delenv("PLANTRACK_ADMIN_TOKEN", raising=False)
    monkeypatch.delenv("PLANTRACK_ASSIGNMENTS_DATA_DIR", raising=False)
    yield envs
    for sig, handler in handlers.items():
        signal.signal(sig, handler)


def test_run_makes_the_admin_token_once_and_reuses_it(
    started: list[dict[str, str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("PLANTRACK_DATA_DIR", str(tmp_path / "data"))
    assert cli.main(["run"]) == 0
    assert cli.main(["run"]) == 0
    first, second = (env["PLANTRACK_ADMIN_TOKEN"] for env in started)
    path = tmp_path / "data" / "admin-token"
    assert first == second == path.read_text().strip() and first.startswith("pt_admin_") and len(first) > 30
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    out = capsys.readouterr().out
    assert f"the admin token is in {path} (made now)" in out
    assert f"the admin token is in {path} (kept from an earlier run)" in out
    assert f"export PLANTRACK_ADMIN_TOKEN=$(cat {path})" in out
    assert first not in out  # the secret stays in its file


def test_run_uses_the_given_token_and_writes_none(
    started: list[dict[str, str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PLANTRACK_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("PLANTRACK_ADMIN_TOKEN", "my-own-token")
    assert cli.main(["run"]) == 0
    assert started[0]["PLANTRACK_ADMIN_TOKEN"] == "my-own-token"
    assert not (tmp_path / "admin-token").exists()
