"""Test servers: the running RabbitMQ/PostgreSQL named by environment variables, or (when none
are named and Docker is available) the ones pytest-docker starts from docker-compose.yml.

PLANTRACK_TEST_AMQP_URL  e.g. amqp://guest:guest@127.0.0.1:5672/
PLANTRACK_TEST_PG_URL    e.g. postgresql+psycopg://postgres@127.0.0.1:5432/postgres

Every test that needs them gets its own vhost and databases, named after the test process, so
parallel or later runs never collide and a killed run's leftovers are dropped by the next one.
"""

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.servers import Postgres, Rabbit, run_name

ROOT = Path(__file__).resolve().parents[1]


COMPOSE_FILES = (ROOT / "docker-compose.yml", ROOT / "docker-compose.test.yml")


@pytest.fixture(scope="session")
def docker_compose_file() -> list[str]:
    """pytest-docker: the project's own compose file, plus the override that publishes AMQP and
    PostgreSQL (on free local ports) with test credentials."""
    return [str(f) for f in COMPOSE_FILES]


@pytest.fixture(scope="session")
def docker_compose_command() -> str:
    """pytest-docker: compose with the example secrets (the real .env is not needed for tests)."""
    return f'docker compose --env-file "{ROOT / ".env.example"}"'


@pytest.fixture(scope="session")
def docker_setup() -> list[str]:
    """pytest-docker: start only the servers the tests need, not the services under test."""
    return ["up -d --wait rabbitmq postgres"]


def _wait(check: Callable[[], object], what: str, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            check()
            return
        except Exception as exc:  # noqa: BLE001
            last = exc
            time.sleep(1)
    raise RuntimeError(f"{what} did not come up: {last!r}")


@pytest.fixture(scope="session")
def rabbit(request: pytest.FixtureRequest) -> Rabbit:
    """The RabbitMQ server of this run."""
    url = os.environ.get("PLANTRACK_TEST_AMQP_URL")
    if url:
        server = Rabbit(url=url)
    else:
        services = request.getfixturevalue("docker_services")
        ip = request.getfixturevalue("docker_ip")
        project = request.getfixturevalue("docker_compose_project_name")
        port = services.port_for("rabbitmq", 5672)
        server = Rabbit(
            url=f"amqp://guest:guest@{ip}:{port}/",
            ctl=("docker", "compose", "--env-file", str(ROOT / ".env.example"),
                 *(arg for f in COMPOSE_FILES for arg in ("-f", str(f))), "-p", project,
                 "exec", "-T", "rabbitmq", "rabbitmqctl"),
        )
        _wait(lambda: server._ctl("status"), "RabbitMQ")
    server.drop_stale()
    return server


@pytest.fixture(scope="session")
def postgres(request: pytest.FixtureRequest) -> Postgres:
    """The PostgreSQL server of this run."""
    url = os.environ.get("PLANTRACK_TEST_PG_URL")
    if not url:
        services = request.getfixturevalue("docker_services")
        ip = request.getfixturevalue("docker_ip")
        url = f"postgresql+psycopg://postgres:postgres@{ip}:{services.port_for('postgres', 5432)}/postgres"
    server = Postgres(admin_url=url)
    _wait(lambda: server._execute("SELECT 1"), "PostgreSQL")
    server.drop_stale()
    return server


@pytest.fixture
def make_vhost(rabbit: Rabbit) -> Iterator[Callable[[], str]]:
    """Factory of fresh vhosts (AMQP URLs), dropped after the test."""
    made: list[str] = []

    def make() -> str:
        name = run_name()
        made.append(name)
        return rabbit.create_vhost(name)

    yield make
    for name in made:
        rabbit.delete_vhost(name)


@pytest.fixture
def amqp_url(make_vhost: Callable[[], str]) -> str:
    """A fresh vhost for this test."""
    return make_vhost()


@pytest.fixture
def make_database(postgres: Postgres) -> Iterator[Callable[[str], str]]:
    """Factory of fresh PostgreSQL databases (SQLAlchemy URLs), dropped after the test."""
    made: list[str] = []

    def make(label: str = "db") -> str:
        name = f"{run_name()}_{label}"
        made.append(name)
        return postgres.create_database(name)

    yield make
    for name in made:
        postgres.drop_database(name)


@pytest.fixture
def pg_url(make_database: Callable[[str], str]) -> str:
    """A fresh PostgreSQL database for this test."""
    return make_database("db")
