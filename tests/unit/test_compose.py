"""docker-compose.yml ships no secrets, publishes only web ports on 127.0.0.1, gives each
service only its own settings, and only settings its code reads; one image, built once; every
image pinned (no Compose v2 here to run `docker compose config`)."""

import importlib
import inspect
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import AliasChoices
from pydantic_settings import BaseSettings

from services import cli

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
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
    "broker-setup": {"PLANTRACK_AMQP_URL", "PLANTRACK_RABBITMQ_MANAGEMENT_URL"},
    "assignments": {"PLANTRACK_AMQP_URL", "PLANTRACK_ASSIGNMENTS_DATABASE_URL", "PLANTRACK_ADMIN_TOKEN",
                    "PLANTRACK_PUBLIC_URL", "PLANTRACK_ASSIGNMENTS_REPORTING_PUBLIC_URL", "PLANTRACK_SESSION_SECRET",
                    "PLANTRACK_METRICS_TOKEN", "PLANTRACK_ASSIGNMENTS_RELAY_ENABLED"},
    "relay": {"PLANTRACK_AMQP_URL", "PLANTRACK_ASSIGNMENTS_DATABASE_URL", "PLANTRACK_ASSIGNMENTS_RELAY_PORT",
              "PLANTRACK_METRICS_TOKEN"},
    "notifications": {"PLANTRACK_AMQP_URL", "PLANTRACK_EVENTS_PRODUCER_USER", "PLANTRACK_NOTIFICATIONS_DATABASE_URL",
                      "PLANTRACK_SMTP_HOST", "PLANTRACK_SMTP_PORT", "PLANTRACK_PUBLIC_URL",
                      "PLANTRACK_NOTIFICATIONS_UNSUBSCRIBE_URL", "PLANTRACK_SESSION_SECRET", "PLANTRACK_METRICS_TOKEN",
                      "PLANTRACK_NOTIFICATIONS_SEND_ENABLED"},
    "mail-sender": {"PLANTRACK_NOTIFICATIONS_DATABASE_URL", "PLANTRACK_SMTP_HOST", "PLANTRACK_SMTP_PORT",
                    "PLANTRACK_NOTIFICATIONS_SENDER_PORT", "PLANTRACK_METRICS_TOKEN"},
    "reporting": {"PLANTRACK_AMQP_URL", "PLANTRACK_EVENTS_PRODUCER_USER", "PLANTRACK_REPORTING_DATABASE_URL",
                  "PLANTRACK_ASSIGNMENTS_PUBLIC_URL", "PLANTRACK_SESSION_SECRET", "PLANTRACK_METRICS_TOKEN"},
    "demo": {"PLANTRACK_ADMIN_TOKEN"},
}


@pytest.mark.parametrize("name", sorted(ALLOWED))
def test_each_service_gets_only_its_own_settings(name: str) -> None:
    env = env_example()
    service = compose(env)["services"][name]
    environment = service.get("environment", {})
    assert set(environment) == ALLOWED[name]
    if name == "broker-setup":  # the administrator: it declares what the service users may not
        admin = f"{env['RABBITMQ_ADMIN_USER']}:{env['RABBITMQ_ADMIN_PASSWORD']}@rabbitmq"
        assert environment["PLANTRACK_AMQP_URL"] == f"amqp://{admin}:5672/"
        assert environment["PLANTRACK_RABBITMQ_MANAGEMENT_URL"] == f"http://{admin}:15672"
        return
    if name == "demo":
        return
    if name == "mail-sender":  # the notifications service's own sender: its database role, its SMTP server
        notifications = compose(env)["services"]["notifications"]["environment"]
        for variable in ("PLANTRACK_NOTIFICATIONS_DATABASE_URL", "PLANTRACK_SMTP_HOST", "PLANTRACK_SMTP_PORT"):
            assert environment[variable] == notifications[variable]
        return
    if name == "relay":  # the assignments service's own publisher: its broker user and database role
        assert environment["PLANTRACK_AMQP_URL"] == compose(env)["services"]["assignments"]["environment"][
            "PLANTRACK_AMQP_URL"]
        assert environment["PLANTRACK_ASSIGNMENTS_DATABASE_URL"] == compose(env)["services"]["assignments"][
            "environment"]["PLANTRACK_ASSIGNMENTS_DATABASE_URL"]
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


# --- what each container runs reads what compose gives it ---------------------------------------

APP_SERVICES = ("assignments", "notifications", "reporting")
PLANTRACK_VAR = re.compile(r"PLANTRACK_[A-Z0-9_]+")
# what a CLI command cannot do without (it has no default for it)
COMMAND_NEEDS = {"demo": {"PLANTRACK_ADMIN_TOKEN"},
                 "broker-setup": {"PLANTRACK_AMQP_URL", "PLANTRACK_RABBITMQ_MANAGEMENT_URL"}}


def env_names(settings: type[BaseSettings]) -> tuple[set[str], set[str]]:
    """The environment variables a settings class reads, and those of its fields without a default."""
    prefix = str(settings.model_config.get("env_prefix", ""))
    read: set[str] = set()
    required: set[str] = set()
    for name, field in settings.model_fields.items():
        alias = field.validation_alias
        if isinstance(alias, AliasChoices):
            names = {str(choice).upper() for choice in alias.choices}
        elif isinstance(alias, str):
            names = {alias.upper()}
        else:
            names = {(prefix + name).upper()}
        read |= names
        if field.is_required():
            required |= names
    return read, required


def settings_classes(source: str) -> list[type[BaseSettings]]:
    """The plantrack settings classes a piece of source code constructs."""
    found = []
    for service in APP_SERVICES:
        module = importlib.import_module(f"services.{service}.settings")
        for obj in vars(module).values():
            if (inspect.isclass(obj) and issubclass(obj, BaseSettings) and obj is not BaseSettings
                    and re.search(rf"\b{obj.__name__}\b", source)):
                found.append(obj)
    return found


def what_it_reads(command: list[str]) -> tuple[set[str], set[str]]:
    """The PLANTRACK_* variables a compose `command:` reads, and those it needs."""
    if command[:2] == ["uvicorn", "--factory"]:
        module = command[2].split(":")[0]
        source = inspect.getsource(importlib.import_module(module))
        needs: set[str] = set()
    else:
        assert command[0] == "plantrack", command
        commands = {name: sub for action in cli.build_parser()._actions
                    for name, sub in (getattr(action, "choices", None) or {}).items()}
        assert command[1] in commands, f"compose runs `plantrack {command[1]}`, which the CLI does not have"
        func = commands[command[1]].get_default("func")
        source = inspect.getsource(func)
        # and the plantrack modules the command's function imports
        for module in re.findall(r"from ((?:services|shared)[\w.]*) import", source):
            source += inspect.getsource(importlib.import_module(module))
        needs = COMMAND_NEEDS.get(command[1], set())
    read = set(PLANTRACK_VAR.findall(source))
    for settings in settings_classes(source):
        names, required = env_names(settings)
        read |= names
        needs |= required
    return read, needs


def plantrack_services() -> dict[str, dict[str, Any]]:
    services = compose(env_example())["services"]
    return {n: s for n, s in services.items() if str(s.get("image", "")).startswith("plantrack:")}


def test_every_plantrack_container_says_what_it_runs() -> None:
    services = plantrack_services()
    assert set(services) == {*APP_SERVICES, "relay", "mail-sender", "demo", "broker-setup"}
    for name, service in services.items():
        assert service.get("command"), f"{name} relies on the image's CMD"
    for name in APP_SERVICES:
        assert services[name]["command"][2] == f"services.{name}.app:create_app"


@pytest.mark.parametrize("name", sorted(ALLOWED))
def test_each_variable_compose_sets_is_read_and_each_one_needed_is_set(name: str) -> None:
    service = plantrack_services()[name]
    environment = set(service.get("environment", {}))
    read, needs = what_it_reads(service["command"])
    assert {v for v in environment if v.startswith("PLANTRACK_")} <= read, "set, but nothing reads it"
    assert needs <= environment, "needed, but not set"


def test_the_settings_reader_sees_aliases_prefixes_and_required_fields() -> None:
    from pydantic import Field
    from pydantic_settings import SettingsConfigDict

    class Probe(BaseSettings):
        model_config = SettingsConfigDict(env_prefix="PLANTRACK_PROBE_")
        url: str
        level: str = Field(default="", validation_alias=AliasChoices("PLANTRACK_PROBE_LEVEL", "PLANTRACK_LEVEL"))

    assert env_names(Probe) == ({"PLANTRACK_PROBE_URL", "PLANTRACK_PROBE_LEVEL", "PLANTRACK_LEVEL"},
                                {"PLANTRACK_PROBE_URL"})
    read, _ = what_it_reads(["uvicorn", "--factory", "services.notifications.app:create_app"])
    assert {"PLANTRACK_SMTP_HOST", "PLANTRACK_NOTIFICATIONS_DATABASE_URL", "PLANTRACK_DATA_DIR"} <= read
    assert "PLANTRACK_ASSIGNMENTS_DATABASE_URL" not in read
    read, needs = what_it_reads(["plantrack", "demo"])
    assert "PLANTRACK_ADMIN_TOKEN" in read and needs == {"PLANTRACK_ADMIN_TOKEN"}


# --- one image, built once; every image pinned ------------------------------------------------


def test_one_image_built_once() -> None:
    services = plantrack_services()
    assert len({s["image"] for s in services.values()}) == 1
    builders = [n for n, s in services.items() if "build" in s]
    assert builders == ["broker-setup"]  # every app service depends on it, so any `up` builds it
    assert services["broker-setup"]["pull_policy"] == "build"
    for name, service in services.items():
        if name != "broker-setup":
            assert service["pull_policy"] == "never", name  # the image broker-setup built, not a registry's


def test_every_image_is_pinned_to_a_version() -> None:
    services = compose(env_example())["services"]
    for name, service in services.items():
        if name in plantrack_services():
            continue
        image = service["image"]
        tag = image.rpartition(":")[2]
        assert ":" in image and tag != "latest" and re.match(r"v?\d+\.\d+", tag), f"{name}: {image}"
    assert re.fullmatch(r"rabbitmq:4\.\d+\.\d+-management", services["rabbitmq"]["image"])
    assert re.fullmatch(r"postgres:16\.\d+", services["postgres"]["image"])
    dockerfile = (ROOT / "Dockerfile").read_text()
    bases = [line.split()[1] for line in dockerfile.splitlines() if line.startswith("FROM ")]
    assert bases and all(re.fullmatch(r"python:3\.11\.\d+-slim-bookworm", base) for base in bases), bases


def test_the_image_installs_the_wheel_and_has_a_writable_data_dir() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "pip wheel --no-deps" in dockerfile and "COPY --from=build" in dockerfile
    final = dockerfile.rsplit("\nFROM ", 1)[1]
    assert "COPY shared" not in final and "COPY services" not in final  # no source tree beside the package
    assert "PLANTRACK_DATA_DIR=/var/lib/plantrack" in final
    assert "--home-dir /var/lib/plantrack --create-home" in final  # owned by the service user
    assert "WORKDIR /var/lib/plantrack" in final and "WORKDIR /app" not in final


# --- the servers keep their state and are ready when they say so -------------------------------


def test_rabbitmq_has_a_fixed_node_name() -> None:
    assert compose(env_example())["services"]["rabbitmq"]["hostname"] == "rabbitmq"


def test_postgres_is_healthy_only_when_every_service_database_answers_over_tcp() -> None:
    check = " ".join(compose(env_example())["services"]["postgres"]["healthcheck"]["test"])
    for service in APP_SERVICES:
        assert (f'PGPASSWORD="$$PLANTRACK_DB_PASSWORD_{service.upper()}" psql -h 127.0.0.1 -U {service} '
                f"-d plantrack_{service}") in check


def test_the_services_start_after_the_broker_setup() -> None:
    services = compose(env_example())["services"]
    assert services["broker-setup"]["depends_on"] == {"rabbitmq": {"condition": "service_healthy"}}
    assert services["broker-setup"]["restart"] == "no"
    for name in APP_SERVICES:
        assert services[name]["depends_on"]["broker-setup"] == {"condition": "service_completed_successfully"}


COMPOSE_V1 = shutil.which("docker-compose")


def _compose_config(tmp_path: Path, env_file: Path) -> subprocess.CompletedProcess[str]:
    """`docker-compose config` of the file (Compose v1 refuses only the v2 top-level `name:`)."""
    copy = tmp_path / "docker-compose.yml"
    copy.write_text("".join(line for line in COMPOSE.read_text().splitlines(keepends=True)
                            if not line.startswith("name:")))
    if not (tmp_path / "deploy").exists():
        (tmp_path / "deploy").symlink_to(ROOT / "deploy")
    return subprocess.run([COMPOSE_V1 or "docker-compose", "-f", str(copy), "--env-file", str(env_file),
                           "config", "-q"], capture_output=True, text=True, timeout=60, cwd=tmp_path)


@pytest.mark.skipif(COMPOSE_V1 is None, reason="docker-compose is not installed (.ci/run installs Debian's)")
def test_docker_compose_config_passes_with_env_example_and_names_a_missing_secret(tmp_path: Path) -> None:
    """The real Compose parser (schema, interpolation, depends_on conditions) on this file."""
    ok = _compose_config(tmp_path, ROOT / ".env.example")
    assert ok.returncode == 0, ok.stderr
    missing = tmp_path / "missing.env"
    missing.write_text("".join(line + "\n" for line in (ROOT / ".env.example").read_text().splitlines()
                               if not line.startswith("PLANTRACK_ADMIN_TOKEN=")))
    refused = _compose_config(tmp_path, missing)
    assert refused.returncode != 0 and "set PLANTRACK_ADMIN_TOKEN in .env" in refused.stderr
