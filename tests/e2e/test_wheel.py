"""The wheel alone runs plantrack as docker-compose.yml does: built from the image's build context,
installed with requirements.lock into a venv outside the repository, each service started with
exactly compose's `command:` and `environment:` from a directory without any source."""

import csv
import io
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import make_url

from services.bench.processes import WORKERS as PROCESS_WORKERS
from tests.support.flow import post_update, set_up_flow
from tests.support.procs import free_port
from tests.support.smtp import SmtpServer
from tests.unit.test_compose import compose, env_example

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
# the image's build context (.dockerignore): nothing else goes into the wheel
CONTEXT = ("pyproject.toml", "README.md", "requirements.lock", "shared", "services")
SERVICES = ("notifications", "reporting", "assignments")  # compose's start order
WORKERS = ("relay", "mail-sender")  # started after them, with their own small HTTP port
WORKER_PORTS = {setting for _, setting in PROCESS_WORKERS.values()}


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv with only the plantrack wheel (and its locked dependencies) installed."""
    base = tmp_path_factory.mktemp("wheel")
    assert ROOT not in base.parents
    context = base / "context"
    context.mkdir()
    for name in CONTEXT:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, context / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, context / name)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "wheel", "--no-deps", ".", "-w", str(base / "dist")], cwd=context, check=True,
                   capture_output=True, timeout=300)
    (wheel,) = (base / "dist").glob("plantrack-*.whl")
    subprocess.run([sys.executable, "-m", "venv", str(base / "venv")], check=True, timeout=120)
    # pip's cache (and the local index) make this offline and fast
    subprocess.run([str(base / "venv" / "bin" / "python"), "-m", "pip", "--disable-pip-version-check", "-q",
                    "install", "-c", str(context / "requirements.lock"), str(wheel)],
                   cwd=base, check=True, capture_output=True, timeout=300)
    return base / "venv"


def local_environment(service: dict[str, Any], amqp_url: str, databases: dict[str, str], smtp_port: int,
                      admin_token: str, port: int) -> dict[str, str]:
    """Compose's environment of a service, its hostnames and accounts swapped for the test servers'."""
    env = {k: str(v) for k, v in service.get("environment", {}).items()}
    for name, value in env.items():
        if name == "PLANTRACK_AMQP_URL":
            assert "@rabbitmq:5672/" in value
            env[name] = amqp_url
        elif name.endswith("_DATABASE_URL"):
            assert "@postgres:5432/plantrack_" in value
            env[name] = databases[value.rsplit("/plantrack_", 1)[1]]
        elif name == "PLANTRACK_SMTP_HOST":
            assert value == "mailpit"
            env[name] = "127.0.0.1"
        elif name == "PLANTRACK_SMTP_PORT":
            env[name] = str(smtp_port)
        elif name == "PLANTRACK_EVENTS_PRODUCER_USER":
            # the test server has one user (guest), the producer among them
            env[name] = make_url(amqp_url.replace("amqp://", "postgresql://", 1)).username or "guest"
        elif name == "PLANTRACK_ADMIN_TOKEN":
            env[name] = admin_token  # the service refuses .env.example's placeholder, as it should
        elif name in WORKER_PORTS:
            assert value == "8000"
            env[name] = str(port)
    return env


def local_command(command: list[str], venv: Path, port: int) -> list[str]:
    """Compose's command, run from the venv, on a free local port instead of the container's 8000."""
    args = list(command)
    args[0] = str(venv / "bin" / args[0])
    if "--port" in args:  # a uvicorn service; a worker's port is in its environment
        args[args.index("--host") + 1] = "127.0.0.1"
        args[args.index("--port") + 1] = str(port)
    return args


class Running:
    """The started services: name -> (process, base URL, log file)."""

    def __init__(self, smtp: SmtpServer) -> None:
        self.procs: dict[str, tuple[subprocess.Popen[bytes], str, Path]] = {}
        self.smtp = smtp

    def url(self, name: str) -> str:
        return self.procs[name][1]

    def log(self, name: str) -> str:
        return self.procs[name][2].read_text(errors="replace")[-4000:]

    def stop(self) -> None:
        for proc, _, _ in reversed(list(self.procs.values())):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc, _, _ in self.procs.values():
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)


@pytest.fixture
def running(venv: Path, make_vhost: Callable[[], str], make_database: Callable[[str], str],
            tmp_path: Path) -> Iterator[tuple[Running, str]]:
    services = compose(env_example())["services"]
    amqp_url = make_vhost()
    databases = {name: make_database(name) for name in SERVICES}
    admin_token = secrets.token_hex(24)
    cwd = tmp_path / "run"  # outside the repository, no source here
    cwd.mkdir()
    with SmtpServer(free_port()) as smtp:
        started = Running(smtp)
        try:
            for name in (*SERVICES, *WORKERS):
                port = free_port()
                env = {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "HOME": str(tmp_path), "LANG": "C.UTF-8",
                       "PLANTRACK_DATA_DIR": str(tmp_path / "data"),  # the image's ENV, here
                       **local_environment(services[name], amqp_url, databases, smtp.port, admin_token, port)}
                log_path = tmp_path / f"{name}.log"
                proc = subprocess.Popen(local_command(services[name]["command"], venv, port), env=env, cwd=cwd,
                                        stdout=log_path.open("wb"), stderr=subprocess.STDOUT)
                started.procs[name] = (proc, f"http://127.0.0.1:{port}", log_path)
                wait_ready(started, name)
            yield started, admin_token
        finally:
            started.stop()


def wait_ready(running: Running, name: str, timeout: float = 30.0) -> None:
    proc, url, _ = running.procs[name]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"{name} exited with {proc.returncode}:\n{running.log(name)}")
        try:
            if httpx.get(f"{url}/ready", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{name} not ready in {timeout}s:\n{running.log(name)}")


def test_the_installed_wheel_imports_from_site_packages(venv: Path, tmp_path: Path) -> None:
    where = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import services, shared; print(services.__file__, shared.__file__)"],
        cwd=tmp_path, capture_output=True, text=True, check=True, env={"PATH": "/usr/bin:/bin"},
    ).stdout.split()
    assert all(str(venv) in path and "site-packages" in path for path in where), where
    assert (venv / "bin" / "plantrack").exists()


def test_compose_commands_serve_and_an_update_reaches_the_export(running: tuple[Running, str]) -> None:
    services, admin_token = running
    for name in (*SERVICES, *WORKERS):
        assert httpx.get(f"{services.url(name)}/ready", timeout=5).status_code == 200
    flow = set_up_flow(services.url("assignments"), admin_token)
    post_update(services.url("assignments"), flow, request_id="req-wheel-1", progress=60)
    deadline = time.monotonic() + 20
    rows: list[dict[str, str]] = []
    while time.monotonic() < deadline:
        r = httpx.get(f"{services.url('reporting')}/plans/{flow.plan_id}/export.csv", timeout=5,
                      headers={"Authorization": f"Bearer {admin_token}"})
        if r.status_code == 200:
            rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
            if rows and rows[0]["Tiến độ (%)"] == "60":
                break
        time.sleep(0.2)
    assert rows and rows[0]["Tiến độ (%)"] == "60" and rows[0]["Trạng thái"] == "Đang thực hiện", rows
    # the published plan told the unit officer its task: sent by the mail-sender process
    deadline = time.monotonic() + 30
    while "binh.stc@example.vn" not in (to := {m["To"].addresses[0].addr_spec
                                               for m in services.smtp.mailbox.snapshot()}):
        assert time.monotonic() < deadline, to
        time.sleep(0.2)
    for name in (*SERVICES, *WORKERS):
        assert "Traceback" not in services.log(name), services.log(name)
