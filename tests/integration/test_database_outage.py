"""While its PostgreSQL database refuses connections the assignments API answers 503 with
Retry-After (problem+json), not 500; it answers again by itself when the database is back."""

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import make_url

from tests.support.procs import ServiceProcess
from tests.support.servers import Postgres

pytestmark = pytest.mark.integration

TOKEN = "db-outage-admin-token"


@pytest.fixture
def assignments(pg_url: str, tmp_path: Path) -> Iterator[ServiceProcess]:
    """The assignments API as a uvicorn process on its own database (no relay: no broker needed)."""
    env = {
        "PLANTRACK_ASSIGNMENTS_DATABASE_URL": pg_url,
        "PLANTRACK_ASSIGNMENTS_RELAY_ENABLED": "false",
        "PLANTRACK_ADMIN_TOKEN": TOKEN,
        "PLANTRACK_DATA_DIR": str(tmp_path / "data"),
    }
    proc = ServiceProcess("assignments", env, tmp_path).start()
    yield proc
    proc.stop()


def _get(proc: ServiceProcess, path: str) -> httpx.Response:
    return httpx.get(f"{proc.url}{path}", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=20)


def test_a_database_outage_answers_503_with_retry_after(
    assignments: ServiceProcess, postgres: Postgres, pg_url: str,
) -> None:
    database = make_url(pg_url).database
    assert _get(assignments, "/units").status_code == 200
    postgres._execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS false')
    try:
        postgres._execute(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{database}'")
        started = time.monotonic()
        response = _get(assignments, "/units")
        took = time.monotonic() - started
        assert response.status_code == 503, response.text
        assert response.headers["Retry-After"] == "5"
        assert response.headers["Content-Type"] == "application/problem+json"
        assert "database" in response.json()["detail"]
        assert took < 5
        ready = httpx.get(f"{assignments.url}/ready", timeout=20)
        assert ready.status_code == 503
        assert ready.json()["checks"]["database"].startswith("down")
    finally:
        postgres._execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS true')
    assert _get(assignments, "/units").status_code == 200
    assert httpx.get(f"{assignments.url}/ready", timeout=5).status_code == 200
    assert "Traceback" not in assignments.log_path.read_text()
