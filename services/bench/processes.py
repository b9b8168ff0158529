"""Running the services as real processes (uvicorn), for end-to-end tests and the benchmark."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]

GRACE_SECONDS = 20  # uvicorn --timeout-graceful-shutdown

APPS = {
    "assignments": "services.assignments.app:create_app",
    "notifications": "services.notifications.app:create_app",
    "reporting": "services.reporting.app:create_app",
    "bare": "services.bench.bare:create_app",  # the benchmark's yardstick
}
# worker processes: their module, and the setting that gives them a port for /ready and /metrics
WORKERS = {
    "relay": ("services.assignments.relay", "PLANTRACK_ASSIGNMENTS_RELAY_PORT"),
    "mail-sender": ("services.notifications.sender", "PLANTRACK_NOTIFICATIONS_SENDER_PORT"),
}


_handed_out: set[int] = set()


def free_port() -> int:
    """A TCP port nobody listens on right now, and never one this process handed out before: a
    service binds its port only when it starts, so two ports handed out before either started
    could be the same one (and a service's /ready then answered on another's port)."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        if port not in _handed_out:
            _handed_out.add(port)
            return port


class ServiceProcess:
    """One service under uvicorn, or one worker process (WORKERS), with its log captured to a file."""

    def __init__(self, name: str, env: dict[str, str], log_dir: Path, *, workers: int = 1) -> None:
        self.name = name
        self.workers = workers
        self.port = free_port()
        self.env = {**os.environ, **env, "PYTHONPATH": str(ROOT)}
        self.log_path = log_dir / f"{name}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Base URL of the service."""
        return f"http://127.0.0.1:{self.port}"

    def launch(self) -> "ServiceProcess":
        """Start the process; do not wait."""
        log = self.log_path.open("ab")
        env = self.env
        if self.name in WORKERS:
            module, port_setting = WORKERS[self.name]
            command = [sys.executable, "-m", module]
            env = {**env, port_setting: str(self.port)}
        else:
            command = [sys.executable, "-m", "uvicorn", "--factory", APPS[self.name], "--host", "127.0.0.1",
                       "--port", str(self.port), "--timeout-graceful-shutdown", str(GRACE_SECONDS),
                       *(["--workers", str(self.workers)] if self.workers > 1 else [])]
        self.proc = subprocess.Popen(command, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        return self

    def start(self, timeout: float = 30.0) -> "ServiceProcess":
        """Start the process and wait until /ready answers 200."""
        return self.launch().wait_ready(timeout)

    def wait_ready(self, timeout: float = 30.0) -> "ServiceProcess":
        """Wait until /ready answers 200."""
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited early:\n{self.log_path.read_text()[-4000:]}")
            try:
                if httpx.get(f"{self.url}/ready", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} not ready in {timeout}s:\n{self.log_path.read_text()[-4000:]}")

    def kill(self) -> None:
        """SIGKILL: the process gets no chance to finish anything."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def stop(self) -> int | None:
        """SIGTERM and wait: a graceful shutdown."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                return self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                return self.proc.wait(10)
        return self.proc.returncode if self.proc else None
