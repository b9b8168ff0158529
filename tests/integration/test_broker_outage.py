"""The consumer services against a broker that is down, half-open (accepts TCP, never answers) or
drops its connection: they start and stay up, not ready; SIGTERM ends them in time; they become
ready by themselves when RabbitMQ answers again; a refused queue declaration stops them."""

import asyncio
import json
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import aio_pika
import httpx
import pytest

from tests.support.procs import GRACE_SECONDS, ServiceProcess
from tests.support.servers import Rabbit
from tests.support.tcp_proxy import TcpProxy

pytestmark = pytest.mark.integration

CONSUMERS = ("notifications", "reporting")


def _status(proc: ServiceProcess, path: str) -> int | None:
    try:
        return httpx.get(f"{proc.url}{path}", timeout=1).status_code
    except httpx.HTTPError:
        return None


def _wait_for(check: Callable[[], bool], what: str, within: float) -> float:
    """Poll `check`; return the seconds it took."""
    started = time.monotonic()
    while time.monotonic() - started < within:
        if check():
            return time.monotonic() - started
        time.sleep(0.1)
    raise AssertionError(f"not {what} within {within}s")


def _sigterm(proc: ServiceProcess) -> tuple[int, float]:
    """SIGTERM; the exit code and how long the process took to end."""
    assert proc.proc is not None
    started = time.monotonic()
    proc.proc.send_signal(signal.SIGTERM)
    try:
        code = proc.proc.wait(GRACE_SECONDS + 5)
    except subprocess.TimeoutExpired:
        proc.proc.kill()
        raise AssertionError(f"{proc.name} still running {GRACE_SECONDS + 5}s after SIGTERM") from None
    return code, time.monotonic() - started


@pytest.fixture
def proxy(rabbit: Rabbit) -> Iterator[TcpProxy]:
    """A proxy in front of the test RabbitMQ, refusing connections until told otherwise."""
    netloc = urlsplit(rabbit.url)
    with TcpProxy(netloc.hostname or "127.0.0.1", netloc.port or 5672) as p:
        yield p


def _via(proxy: TcpProxy, amqp_url: str) -> str:
    parts = urlsplit(amqp_url)
    credentials = parts.netloc.rpartition("@")[0]
    return parts._replace(netloc=f"{credentials}@127.0.0.1:{proxy.port}").geturl()


@pytest.fixture
def consumers(proxy: TcpProxy, amqp_url: str, tmp_path: Path) -> Iterator[list[ServiceProcess]]:
    """Notifications and reporting (uvicorn processes, SQLite), connecting through the proxy;
    launched, not waited for."""
    env = {
        "PLANTRACK_AMQP_URL": _via(proxy, amqp_url),
        "PLANTRACK_DATA_DIR": str(tmp_path / "data"),
        "PLANTRACK_SMTP_PORT": "9",
        "PLANTRACK_AMQP_CONNECT_TIMEOUT": "2",
    }
    procs = [ServiceProcess(name, env, tmp_path) for name in CONSUMERS]
    try:
        yield procs
    finally:
        for p in procs:
            p.stop()


def _up_not_ready(procs: list[ServiceProcess], within: float) -> float:
    took = _wait_for(lambda: all(_status(p, "/health") == 200 for p in procs), "answering /health", within)
    for p in procs:
        assert _status(p, "/ready") == 503, p.name
        body = httpx.get(f"{p.url}/ready", timeout=2).json()
        assert body["checks"]["consumers"] == "down", body
    return took


@pytest.mark.parametrize("mode", ["blackhole", "refuse"])
def test_consumers_start_without_a_broker_and_get_ready_when_it_answers(
    proxy: TcpProxy, consumers: list[ServiceProcess], mode: str,
) -> None:
    proxy.set_mode(mode)  # type: ignore[arg-type]
    for p in consumers:
        p.launch()
    up = _up_not_ready(consumers, within=15)
    time.sleep(3)  # several attempts: still alive, still not ready
    for p in consumers:
        assert p.proc is not None and p.proc.poll() is None, p.log_path.read_text()[-3000:]
        assert _status(p, "/ready") == 503
    proxy.set_mode("forward")
    ready = _wait_for(lambda: all(_status(p, "/ready") == 200 for p in consumers), "ready", within=20)
    print(f"{mode}: /health after {up:.1f}s; ready {ready:.1f}s after the broker answered")


def test_sigterm_ends_a_consumer_connecting_to_a_half_open_broker(
    proxy: TcpProxy, consumers: list[ServiceProcess],
) -> None:
    proxy.set_mode("blackhole")
    for p in consumers:
        p.launch()
    _up_not_ready(consumers, within=15)
    for p in consumers:
        _code, took = _sigterm(p)
        print(f"{p.name}: ended {took:.1f}s after SIGTERM")
        assert took < GRACE_SECONDS, p.log_path.read_text()[-3000:]


def test_ready_follows_the_broker_connection(proxy: TcpProxy, consumers: list[ServiceProcess]) -> None:
    proxy.set_mode("forward")
    for p in consumers:
        p.launch()
    _wait_for(lambda: all(_status(p, "/ready") == 200 for p in consumers), "ready", within=30)
    proxy.set_mode("refuse")
    proxy.cut()  # the broker drops every connection and does not take new ones for now
    lost = _wait_for(lambda: all(_status(p, "/ready") == 503 for p in consumers), "unready", within=10)
    proxy.set_mode("forward")
    back = _wait_for(lambda: all(_status(p, "/ready") == 200 for p in consumers), "ready again", within=30)
    print(f"/ready 503 {lost:.1f}s after the connection was lost, 200 {back:.1f}s after the broker returned")


QUEUE = "reporting.assignment.status_changed.v1"


async def _declare_classic(amqp_url: str, name: str) -> None:
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        await channel.declare_queue(name, durable=True, arguments={"x-queue-type": "classic"})


def test_a_refused_queue_declaration_stops_the_consumer(
    amqp_url: str, proxy: TcpProxy, consumers: list[ServiceProcess],
) -> None:
    asyncio.run(_declare_classic(amqp_url, QUEUE))  # the service declares it as a quorum queue
    proxy.set_mode("forward")
    reporting = consumers[1]
    reporting.launch()
    assert reporting.proc is not None
    try:
        code = reporting.proc.wait(30)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"still running:\n{reporting.log_path.read_text()[-3000:]}") from None
    assert code != 0
    lines = [json.loads(line) for line in reporting.log_path.read_text().splitlines() if line.startswith("{")]
    critical = [line for line in lines if line["level"] == "CRITICAL"]
    assert critical, reporting.log_path.read_text()[-3000:]
    assert "PRECONDITION_FAILED" in critical[0]["msg"] or "PRECONDITION_FAILED" in critical[0].get("error", "")
    assert QUEUE in critical[0]["msg"]


def test_uvicorn_logs_are_json(proxy: TcpProxy, consumers: list[ServiceProcess]) -> None:
    proxy.set_mode("refuse")
    p = consumers[1]
    p.launch()
    _up_not_ready([p], within=15)
    _sigterm(p)
    text = p.log_path.read_text()
    records = [json.loads(line) for line in text.splitlines()]  # every line is one JSON object
    loggers = {r["logger"] for r in records}
    assert {"uvicorn.error"} <= loggers, loggers
    assert any("Application startup complete" in r["msg"] for r in records)


def test_assignments_relay_waits_for_a_half_open_broker_and_stops_in_time(
    proxy: TcpProxy, amqp_url: str, tmp_path: Path,
) -> None:
    proxy.set_mode("blackhole")
    env = {
        "PLANTRACK_AMQP_URL": _via(proxy, amqp_url),
        "PLANTRACK_DATA_DIR": str(tmp_path / "data"),
        "PLANTRACK_ADMIN_TOKEN": "outage-admin-token",
        "PLANTRACK_AMQP_CONNECT_TIMEOUT": "2",
    }
    first = ServiceProcess("assignments", env, tmp_path).launch()
    try:
        _wait_for(lambda: _status(first, "/health") == 200, "answering /health", within=15)
        body = httpx.get(f"{first.url}/ready", timeout=2).json()
        assert body["checks"] == {"database": "ok", "broker": "down"}, body
        proxy.set_mode("forward")
        ready = _wait_for(lambda: _status(first, "/ready") == 200, "ready", within=20)
        print(f"assignments: ready {ready:.1f}s after the broker answered")
    finally:
        first.stop()
    proxy.set_mode("blackhole")
    second = ServiceProcess("assignments", env, tmp_path).launch()
    try:
        _wait_for(lambda: _status(second, "/health") == 200, "answering /health", within=15)
        _code, took = _sigterm(second)
        print(f"assignments: ended {took:.1f}s after SIGTERM while connecting to a half-open broker")
        assert took < GRACE_SECONDS
    finally:
        second.stop()
