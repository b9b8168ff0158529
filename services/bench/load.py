"""HTTP load: a closed loop at full speed (wrk when installed, else a small asyncio client) and an
open loop at a steady rate."""

import asyncio
import json
import re
import shutil
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Target:
    """One request the load cycles through."""

    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class LoadResult:
    """What a closed-loop run measured."""

    requests: int
    seconds: float
    statuses: Counter[int] = field(default_factory=Counter)
    p50_ms: float | None = None
    p99_ms: float | None = None
    tool: str = ""

    @property
    def per_s(self) -> float:
        """Successful (2xx) requests a second."""
        ok = sum(n for status, n in self.statuses.items() if 200 <= status < 300)
        return ok / self.seconds if self.seconds else 0.0


def closed_loop(base_url: str, targets: Sequence[Target], *, seconds: float, connections: int = 16) -> LoadResult:
    """POST the targets round-robin over `connections` keep-alive connections for `seconds`."""
    if shutil.which("wrk"):
        return _wrk(base_url, targets, seconds=seconds, connections=connections)
    return asyncio.run(_python_loop(base_url, targets, seconds=seconds, connections=connections))


_LUA = """
local targets = %s
local threads = 0
local i = 0
setup = function(thread)
  thread:set("first", threads)
  threads = threads + 1
end
init = function(args)
  -- each thread starts half-way through the targets from the other: no two update one assignment at once
  i = first * math.floor(#targets / 2)
end
request = function()
  i = i + 1
  local t = targets[(i %% #targets) + 1]
  return wrk.format("POST", t.path, t.headers, t.body)
end
done = function(summary, latency, requests)
  io.write(string.format("PLANTRACK %%d %%d %%d %%d %%d %%d\\n", summary.requests, summary.duration,
    summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""


def _lua_string(text: str) -> str:
    return json.dumps(text)  # a JSON string literal is a valid Lua string literal for ASCII text


def _lua_target(target: Target) -> str:
    headers = ",".join(f"[{_lua_string(k)}]={_lua_string(v)}"
                       for k, v in {"Content-Type": "application/json", **target.headers}.items())
    body = _lua_string(target.body.decode("ascii"))
    return f"{{path={_lua_string(target.path)}, body={body}, headers={{{headers}}}}}"


def _wrk(base_url: str, targets: Sequence[Target], *, seconds: float, connections: int) -> LoadResult:
    entries = ",".join(_lua_target(t) for t in targets)
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "targets.lua"
        script.write_text(_LUA % ("{" + entries + "}"))
        out = subprocess.run(
            ["wrk", "-t2", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "10s",
             "-s", str(script), base_url], capture_output=True, text=True, check=True).stdout
    match = re.search(r"^PLANTRACK (\d+) (\d+) (\d+) (\d+) (\d+) (\d+)$", out, re.M)
    if match is None:
        raise RuntimeError(f"wrk printed no summary:\n{out}")
    requests, micros, bad_status, errors, p50, p99 = map(int, match.groups())
    statuses: Counter[int] = Counter({201: requests - bad_status - errors})
    if bad_status:
        statuses[400] = bad_status  # wrk counts non-2xx/3xx answers without telling which
    if errors:
        statuses[0] = errors
    return LoadResult(requests, micros / 1e6, statuses, p50 / 1000, p99 / 1000, tool="wrk")


def _wire(base_url: str, targets: Sequence[Target]) -> tuple[str, int, list[bytes]]:
    """Host, port and each target as the bytes of an HTTP/1.1 keep-alive POST."""
    url = urlsplit(base_url)
    host, port = url.hostname or "127.0.0.1", url.port or 80
    return host, port, [
        (f"POST {t.path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
         + "".join(f"{k}: {v}\r\n" for k, v in t.headers.items())
         + f"Content-Length: {len(t.body)}\r\n\r\n").encode() + t.body
        for t in targets]


_LENGTH = re.compile(rb"(?i)content-length:\s*(\d+)")


async def _exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes) -> int:
    """Send one request, read its whole answer; its status."""
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    length = _LENGTH.search(head)
    await reader.readexactly(int(length.group(1)) if length else 0)
    return int(head[9:12])


async def _python_loop(base_url: str, targets: Sequence[Target], *, seconds: float, connections: int) -> LoadResult:
    """A minimal HTTP/1.1 keep-alive client: one request in flight per connection."""
    host, port, wire = _wire(base_url, targets)
    statuses: Counter[int] = Counter()
    latencies: list[float] = []
    counter = iter(range(1 << 62))
    deadline = time.perf_counter() + seconds

    async def connection() -> None:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                statuses[await _exchange(reader, writer, wire[next(counter) % len(wire)])] += 1
                latencies.append(time.perf_counter() - started)
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(connections)))
    elapsed = time.perf_counter() - started
    ordered = sorted(latencies)
    return LoadResult(len(latencies), elapsed, statuses, percentile(ordered, 50), percentile(ordered, 99),
                      tool="python")


def percentile(ordered: Sequence[float], p: float) -> float | None:
    """The p-th percentile (nearest rank) of sorted seconds, in milliseconds."""
    if not ordered:
        return None
    return 1000 * ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


@dataclass
class Sent:
    """One request of a steady run: when it left, and how it was answered."""

    index: int
    sent_at: float  # time.time()
    status: int = 0
    answered_at: float = 0.0


async def steady(base_url: str, targets: Sequence[Target], *, rate: float, seconds: float,
                 connections: int = 64) -> list[Sent]:
    """Target i falls due at start + i / rate (open loop: a slow answer never delays the schedule);
    `connections` keep-alive connections take due requests in order. Each request's `sent_at` is
    when it fell due, so time spent waiting for a free connection counts against the server."""
    host, port, wire = _wire(base_url, targets)
    total = int(rate * seconds)
    sent = [Sent(i, 0.0) for i in range(total)]
    due: asyncio.Queue[int | None] = asyncio.Queue()

    async def schedule() -> None:
        wall, start = time.time(), time.perf_counter()
        for i in range(total):
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            sent[i].sent_at = wall + i / rate
            due.put_nowait(i)
        for _ in range(connections):
            due.put_nowait(None)

    async def connection() -> None:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while (i := await due.get()) is not None:
                try:
                    sent[i].status = await _exchange(reader, writer, wire[i % len(wire)])
                except (OSError, asyncio.IncompleteReadError):
                    writer.close()
                    reader, writer = await asyncio.open_connection(host, port)
                sent[i].answered_at = time.time()
        finally:
            writer.close()

    await asyncio.gather(schedule(), *(connection() for _ in range(connections)))
    return sent
