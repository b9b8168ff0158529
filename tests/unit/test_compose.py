"""docker-compose.yml ships no secrets, publishes only web ports on 127.0.0.1, and gives each
service only its own settings (no Compose v2 here to run `docker compose config`)."""

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
VAR = re.compile(r"\$\{(?P<name>[A-Z0-9_]+)(?:(?P<op>:-|:\?)(?P<arg>[^}]*))?\}")
SECRETS = {"PLANTRACK_ADMIN_TOKEN", "POSTGRES_PASSWORD", "RABBITMQ_ADMIN_PASSWORD"} | {
    f"PLANTRACK_{kind}_PASSWORD_{s}" for kind in ("DB", "AMQP") for s in ("ASSIGNMENTS", "NOTIFICATIONS", "REPORTING")
}


class Missing(Exception):
    """A required variable is not set."""


def env_example() -> dict[str, str]:
    lines = (ROOT / ".env.example").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if line.strip() and not line.startswith("#"))


def interpolate(value: Any, env: dict[str, str]) -> Any:
    """Compose's `${VAR}`, `${VAR:-default}`, `${VAR:?error}`, applied to every string."""
    if isinstance(value, dict):
        return {k: interpolate(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, env) for v in value]
    if not isinstance(value, str):
        return value

    def one(m: re.Match[str]) -> str:
        if env.get(m["name"]):
            return env[m["name"]]
        if m["op"] == ":?":
            raise Missing(f"{m['name']}: {m['arg']}")
        return m["arg"] or ""

    return VAR.sub(one, value)


def compose(env: dict[str, str]) -> dict[str, Any]:
    raw = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return {k: interpolate(v, env) for k, v in raw.items() if not k.startswith("x-")}


def test_every_variable_is_in_env_example_and_the_file_resolves_with_it() -> None:
    used = {m["name"] for m in VAR.finditer((ROOT / "docker-compose.yml").read_text())}
    assert used <= set(env_example()), used - set(env_example())
    assert compose(env_example())["services"]


@pytest.mark.parametrize("secret", sorted(SECRETS))
def test_no_secret_has_a_default(secret: str) -> None:
    env = env_example()
    del env[secret]
    with pytest.raises(Missing, match=f"{secret}: set {secret} in .env - see README"):
        compose(env)
    text = (ROOT / "docker-compose.yml").read_text()
    for weak in ("change-me", "postgres:postgres", "guest"):
        assert weak not in text


def _published(service: dict[str, Any]) -> list[str]:
    return [str(p) for p in service.get("ports", [])]


def test_only_web_ports_are_published_and_only_on_localhost() -> None:
    services = compose(env_example())["services"]
    for name, service in services.items():
        for port in _published(service):
            host_ip, host_port, container_port = port.split(":")
            assert host_ip == "127.0.0.1", f"{name} publishes {port} beyond this machine"
            assert host_port and container_port
    assert _published(services["postgres"]) == []
    assert _published(services["rabbitmq"]) == ["127.0.0.1:15672:15672"]  # management UI only, no AMQP


ALLOWED = {
    "assignments": {"PLANTRACK_AMQP_URL", "PLANTRACK_ASSIGNMENTS_DATABASE_URL", "PLANTRACK_ADMIN_TOKEN"},
    "notifications": {"PLANTRACK_AMQP_URL", "PLANTRACK_EVENTS_PRODUCER_USER", "PLANTRACK_NOTIFICATIONS_DATABASE_URL",
                      "PLANTRACK_SMTP_HOST", "PLANTRACK_SMTP_PORT"},
    "reporting": {"PLANTRACK_AMQP_URL", "PLANTRACK_EVENTS_PRODUCER_USER", "PLANTRACK_REPORTING_DATABASE_URL"},
    "demo": {"PLANTRACK_ADMIN_TOKEN"},
}


@pytest.mark.parametrize("name", sorted(ALLOWED))
def test_each_service_gets_only_its_own_settings(name: str) -> None:
    env = env_example()
    service = compose(env)["services"][name]
    environment = service.get("environment", {})
    assert set(environment) == ALLOWED[name]
    if name == "demo":
        return
    assert environment["PLANTRACK_AMQP_URL"].startswith(f"amqp://{name}:{env[f'PLANTRACK_AMQP_PASSWORD_{name.upper()}']}@")
    db_url = environment[f"PLANTRACK_{name.upper()}_DATABASE_URL"]
    assert db_url.startswith(f"postgresql+psycopg://{name}:{env[f'PLANTRACK_DB_PASSWORD_{name.upper()}']}@")
    assert db_url.endswith(f"/plantrack_{name}")
    if name != "assignments":
        assert environment["PLANTRACK_EVENTS_PRODUCER_USER"] == "assignments"


def test_the_brokers_and_databases_make_one_account_per_service() -> None:
    services = compose(env_example())["services"]
    assert "./deploy/postgres-init.sh:/docker-entrypoint-initdb.d/10-databases.sh:ro" in services["postgres"]["volumes"]
    assert services["rabbitmq"]["entrypoint"] == ["bash", "/plantrack/rabbitmq-entrypoint.sh"]
    for script in ("postgres-init.sh", "rabbitmq-entrypoint.sh", "broker-users.sh"):
        assert (ROOT / "deploy" / script).exists()
    assert services["rabbitmq"]["environment"]["RABBITMQ_DEFAULT_USER"] == "admin"  # no guest
