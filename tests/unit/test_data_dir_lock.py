"""One process per SQLite data directory: a second service or relay on it refuses to start."""

import gc
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.db import acquire_data_dir_lock, make_engine, sqlite_default_url
from tests.support.procs import ROOT, free_port


def _env(data_dir: Path) -> dict[str, str]:
    return {
        **os.environ, "PYTHONPATH": str(ROOT), "PLANTRACK_DATA_DIR": str(data_dir),
        # nobody listens there: the relay keeps retrying, which is all the holder has to do
        "PLANTRACK_AMQP_URL": f"amqp://guest:guest@127.0.0.1:{free_port()}/",
        "PLANTRACK_ADMIN_TOKEN": "", "PLANTRACK_ASSIGNMENTS_DATABASE_URL": "",
    }


@pytest.fixture
def holder(tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A `plantrack relay` holding the assignments database of `tmp_path/data`."""
    data = tmp_path / "data"
    proc = subprocess.Popen([sys.executable, "-m", "services.cli", "relay"], env=_env(data), cwd=tmp_path,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    lock = data / "assignments.lock"
    deadline = time.monotonic() + 30
    while not (lock.exists() and lock.read_text().strip() == str(proc.pid)):
        assert proc.poll() is None and time.monotonic() < deadline, "the first relay did not take the lock"
        time.sleep(0.1)
    yield proc
    proc.terminate()
    proc.wait(30)


@pytest.mark.parametrize("command", [
    ["-m", "services.cli", "relay"],
    ["-m", "uvicorn", "--factory", "services.assignments.app:create_app", "--port", "0"],
], ids=["relay", "uvicorn"])
def test_a_second_process_on_the_data_dir_refuses_to_start(
    holder: subprocess.Popen[bytes], tmp_path: Path, command: list[str],
) -> None:
    data = tmp_path / "data"
    second = subprocess.run([sys.executable, *command], env=_env(data), cwd=tmp_path,
                            capture_output=True, text=True, timeout=60)
    assert second.returncode != 0
    assert f"another plantrack process (pid {holder.pid}) already uses assignments.db" in second.stderr
    assert f"data directory {data.resolve()}" in second.stderr
    assert "Traceback" not in second.stderr
    assert holder.poll() is None  # the first one goes on


def test_the_lock_goes_with_the_process(holder: subprocess.Popen[bytes], tmp_path: Path) -> None:
    holder.terminate()
    holder.wait(30)
    engine = make_engine(sqlite_default_url("assignments", str(tmp_path / "data")))
    assert (tmp_path / "data" / "assignments.lock").read_text().strip() == str(os.getpid())
    engine.dispose()


def test_engines_of_one_process_share_the_lock_and_release_it_with_the_last(tmp_path: Path) -> None:
    url = sqlite_default_url("reporting", str(tmp_path))
    first, second = make_engine(url), make_engine(url)
    script = "import sys; from shared.db import make_engine; make_engine(sys.argv[1])"
    other = subprocess.run([sys.executable, "-c", script, url], env={**os.environ, "PYTHONPATH": str(ROOT)},
                           capture_output=True, text=True, timeout=60)
    assert other.returncode == 1 and f"(pid {os.getpid()})" in other.stderr
    del first, second
    gc.collect()
    other = subprocess.run([sys.executable, "-c", script, url], env={**os.environ, "PYTHONPATH": str(ROOT)},
                           capture_output=True, text=True, timeout=60)
    assert other.returncode == 0, other.stderr


def test_postgres_and_memory_databases_take_no_lock(tmp_path: Path) -> None:
    assert acquire_data_dir_lock("postgresql+psycopg://u:p@127.0.0.1/db") is None
    assert acquire_data_dir_lock("sqlite://") is None

