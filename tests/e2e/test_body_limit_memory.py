"""An anonymous chunked upload far over the body limit costs a real server no memory."""

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.procs import ServiceProcess

pytestmark = pytest.mark.e2e

MB = 1024 * 1024


def memory_kib(pid: int) -> tuple[int, int]:
    """Resident set size of a process and its peak (VmRSS, VmHWM), from /proc."""
    values = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
    return int(values["VmRSS"].split()[0]), int(values["VmHWM"].split()[0])


def chunked(total: int, chunk: int = 256 * 1024) -> Iterator[bytes]:
    """A body with no Content-Length: httpx sends it with Transfer-Encoding: chunked."""
    block = b"x" * chunk
    for _ in range(total // chunk):
        yield block


@pytest.fixture
def assignments(tmp_path: Path) -> Iterator[ServiceProcess]:
    """The assignments service under uvicorn on a fresh SQLite file, without the relay (no broker needed)."""
    env = {"PLANTRACK_ASSIGNMENTS_DATABASE_URL": f"sqlite:///{tmp_path}/assignments.db",
           "PLANTRACK_ASSIGNMENTS_RELAY_ENABLED": "false", "PLANTRACK_ADMIN_TOKEN": "memory-test"}
    service = ServiceProcess("assignments", env, tmp_path)
    try:
        yield service.start()
    finally:
        service.stop()


def test_a_50_mb_chunked_upload_is_refused_without_growing_the_process(assignments: ServiceProcess) -> None:
    assert assignments.proc is not None
    pid = assignments.proc.pid
    with httpx.Client(base_url=assignments.url, timeout=60) as client:
        # warm up the route and the error path, so that what follows measures only the body
        warm = client.post("/units", content=chunked(2 * MB), headers={"Content-Type": "application/json"})
        assert warm.status_code == 413, warm.text
        rss_before, peak_before = memory_kib(pid)
        response = client.post("/units", content=chunked(50 * MB), headers={"Content-Type": "application/json"})
        rss_after, peak_after = memory_kib(pid)
    assert response.status_code == 413, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    print(f"assignments VmRSS {rss_before} -> {rss_after} KiB, VmHWM {peak_before} -> {peak_after} KiB "
          "around a 50 MB chunked upload")
    # the peak too: a body read whole and then freed leaves RSS where it was but not the peak
    assert rss_after - rss_before < 5 * 1024, f"RSS grew from {rss_before} to {rss_after} KiB"
    assert peak_after - peak_before < 5 * 1024, f"peak RSS grew from {peak_before} to {peak_after} KiB"
