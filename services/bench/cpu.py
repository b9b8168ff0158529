"""Where a stage's CPU goes: CPU seconds of plantrack's processes, RabbitMQ, PostgreSQL and the
whole machine over a window, read from /proc (Linux; elsewhere nothing is measured)."""

import os
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

PROC = Path("/proc")
BENCH = os.getpid()  # the load generator and the SMTP sink; the services are its children, counted apart
SERVERS = {"rabbitmq": "beam.smp", "postgresql": "postgres"}  # a server's processes, by command name


def _processes() -> dict[int, tuple[str, int, float]]:
    """Every process: pid -> (command name, parent pid, CPU seconds used so far)."""
    tick = os.sysconf("SC_CLK_TCK")
    found: dict[int, tuple[str, int, float]] = {}
    for entry in PROC.glob("[0-9]*/stat"):
        try:
            text = entry.read_text()
        except OSError:  # gone meanwhile
            continue
        comm = text[text.index("(") + 1:text.rindex(")")]
        fields = text[text.rindex(")") + 2:].split()
        found[int(entry.parent.name)] = (comm, int(fields[1]), (int(fields[11]) + int(fields[12])) / tick)
    return found


def _machine_busy() -> float:
    """CPU seconds the machine spent not idle, all cores together."""
    values = [int(v) for v in (PROC / "stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle and iowait
    return (sum(values[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def snapshot(roots: Mapping[str, int]) -> dict[str, float]:
    """CPU seconds so far of each named process with its descendants (uvicorn's workers; "bench",
    this process, without them), of each server in SERVERS, and of the machine ("machine")."""
    if not (PROC / "stat").exists():
        return {}
    processes = _processes()
    children: dict[int, list[int]] = {}
    for pid, (_, parent, _) in processes.items():
        children.setdefault(parent, []).append(pid)
    taken: dict[str, float] = {}
    for name, root in roots.items():
        total, todo = 0.0, [root]
        while todo:
            pid = todo.pop()
            if pid in processes:
                total += processes[pid][2]
            if pid != BENCH:
                todo.extend(children.get(pid, ()))
        taken[name] = total
    for name, comm in SERVERS.items():
        taken[name] = sum(cpu for command, _, cpu in processes.values() if command == comm)
    taken["machine"] = _machine_busy()
    return taken


@dataclass
class Window:
    """CPU seconds used between entering and leaving a `window`, by process group."""

    seconds: float = 0.0
    used: dict[str, float] = field(default_factory=dict)

    def ms_per(self, items: int) -> dict[str, float]:
        """Milliseconds of CPU per item, by group (the machine's too)."""
        return {name: round(1000 * cpu / items, 2) for name, cpu in self.used.items()} if items else {}

    def cores(self) -> float | None:
        """Cores the machine kept busy on average (2.0: both of two)."""
        return round(self.used["machine"] / self.seconds, 2) if self.seconds and "machine" in self.used else None


@contextmanager
def window(roots: Mapping[str, int]) -> Iterator[Window]:
    """Measure the CPU the named processes, this one, the servers and the machine use inside the block."""
    result = Window()
    roots = {**roots, "bench": BENCH}
    before, started = snapshot(roots), time.perf_counter()
    yield result
    after = snapshot(roots)
    result.seconds = time.perf_counter() - started
    result.used = {name: max(0.0, after[name] - before.get(name, 0.0)) for name in after}
