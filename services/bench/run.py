"""`plantrack bench`: this machine's own limits and plantrack's stages, measured side by side in one run.

Every stage runs on a throwaway RabbitMQ vhost and throwaway PostgreSQL databases, against the
services started as real processes (uvicorn; the outbox relay and the mail sender in processes of
their own, as compose runs them), with an SMTP sink in this process. The stages, in order:
1. raw RabbitMQ: aio-pika publishing persistent messages with confirms, routed to two quorum queues
   as plantrack's events are, then consuming one of them;
2. the bare FastAPI endpoint and `POST /assignments/{id}/updates` under the same closed-loop load;
3. the outbox relay draining what that load left, then each consumer service draining its queue
   (its `/metrics` counts what it consumed);
4. lag at a steady rate of updates: read model (the reporting consumer's lag histogram) and email
   (each email found by a marker in its summary, timed from its request);
5. progress and the exports on a large read model (built without ANALYZE: autovacuum may be off).
"""

import asyncio
import logging
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from services.bench import cpu
from services.bench.broker_limits import raw_limits
from services.bench.load import Sent, Target, closed_loop, percentile, steady
from services.bench.mailsink import MailSink
from services.bench.processes import ServiceProcess, free_port
from services.bench.read_model import build, median_seconds, route_work
from services.bench.scrape import Scrape, quantile, scrape
from services.bench.servers import Postgres, Rabbit, run_name
from services.bench.world import SUMMARY, World, build_world, update_targets
from services.reporting.app import MIGRATIONS as REPORTING_MIGRATIONS
from shared.db import make_engine, migrate
from shared.events import AssignmentStatusChangedV1
from shared.events.assignments import AssignmentStatusChangedPayload
from shared.messaging.relay import pending_count

log = logging.getLogger("plantrack.bench")

PREFIX = "plantrack_bench"
ADMIN_TOKEN = "bench-admin-token"
METRICS_TOKEN = "bench-metrics-token"
STATUS_CHANGED = AssignmentStatusChangedV1.TYPE
CONSUMED = "plantrack_events_consumed_total"
LAG = "plantrack_consumer_lag_seconds"
HANDLE = "plantrack_event_handle_seconds"
HTTP_DURATION = "plantrack_http_request_duration_seconds"
UPDATE_ROUTE = "/assignments/{assignment_id}/updates"


def mean_ms(scraped: Scrape, histogram: str, **labels: str) -> float | None:
    """The mean of a histogram's observations, in milliseconds (None before any)."""
    count = scraped.value(f"{histogram}_count", **labels)
    return round(1000 * scraped.value(f"{histogram}_sum", **labels) / count, 2) if count else None


@dataclass(frozen=True)
class Sizes:
    """How much each stage does."""

    raw_messages: int
    units: int
    tasks: int
    api_seconds: float
    rate: float
    steady_seconds: float
    scale: tuple[int, int, int]  # units, tasks, updates per assignment
    runs: int
    connections: int = 16


FULL = Sizes(raw_messages=20_000, units=200, tasks=5, api_seconds=15, rate=200, steady_seconds=30,
             scale=(200, 50, 10), runs=5)
QUICK = Sizes(raw_messages=5_000, units=20, tasks=5, api_seconds=5, rate=200, steady_seconds=5,
              scale=(200, 50, 10), runs=1)


def status_event_body() -> bytes:
    """A typical assignment.status_changed.v1 message, the size the relay and consumers move."""
    now = datetime.now(UTC)
    return AssignmentStatusChangedV1(correlation_id="bench", payload=AssignmentStatusChangedPayload(
        assignment_id=100, update_id=2, plan_id=1, plan_number="41-KH/ĐUK", task_id=6, task_code="II.1",
        task_title="Nhiệm vụ trọng tâm số 1", unit_id=3, unit_code="CB-001", unit_name="Chi bộ đơn vị số 1",
        old_status="in_progress", new_status="in_progress", progress=40, summary=SUMMARY,
        difficulties="", due_on=date(2030, 12, 31), reported_by_id=12, reported_by_name="Bí thư 1",
        reported_at=now, version=3)).model_dump_json().encode()


def ratio(part: float | None, whole: float | None) -> float | None:
    """part / whole, rounded; None when either is unknown."""
    return round(part / whole, 3) if part is not None and whole else None


def wait_for(check: Callable[[], bool], *, timeout: float, what: str, every: float = 0.1) -> None:
    """Poll `check` until it holds; RuntimeError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(every)


def drain_rate(count: Callable[[], float], total: float, *, timeout: float, every: float = 0.05,
               clock: Callable[[], float] = time.perf_counter, sleep: Callable[[float], None] = time.sleep) -> float:
    """Items a second while `count` (what is done so far) climbs to `total`: from the first sample
    that saw it move to the first that reached `total`, counting only what was done in between (a
    worker that records its progress a batch at a time is not credited with a batch it took no time
    for). When one step took it all the way, the rate from the last sample before it moved."""
    before_t, before_v = clock(), count()
    moved: tuple[float, float] | None = None
    deadline = clock() + timeout
    while True:
        now, value = clock(), count()
        if value >= total:
            if moved is not None and value > moved[1]:
                return (value - moved[1]) / (now - moved[0])
            return (value - before_v) / (now - before_t) if now > before_t else 0.0
        if moved is None:
            if value == before_v:
                before_t = now  # not started yet (the process is still starting)
            else:
                moved = (now, value)
        if now > deadline:
            raise RuntimeError(f"only {value:.0f} of {total:.0f} done after {timeout:.0f} s")
        sleep(every)


def _consumed(proc: ServiceProcess, service: str) -> Callable[[], float]:
    def count() -> float:
        try:
            return scrape(proc.url, METRICS_TOKEN).value(CONSUMED, service=service, event_type=STATUS_CHANGED)
        except Exception:  # noqa: BLE001 - still starting
            return 0.0
    return count


def _running(*procs: ServiceProcess) -> dict[str, int]:
    """The pids of those of `procs` that run, by name (for cpu.window)."""
    return {p.name: p.proc.pid for p in procs if p.proc is not None and p.proc.poll() is None}


@contextmanager
def _services(env: dict[str, str], tmp: Path, workers: int) -> Iterator[dict[str, ServiceProcess]]:
    procs = {name: ServiceProcess(name, env, tmp, workers=workers if name == "assignments" else 1)
             for name in ("notifications", "reporting", "assignments", "relay", "mail-sender")}
    try:
        yield procs
    finally:
        for proc in procs.values():
            proc.stop()


def stack_stages(sizes: Sizes, rabbit: Rabbit, pg: Postgres, name: str, tmp: Path, workers: int,
                 out: dict[str, Any], *, steady: bool = True) -> None:
    """Stages 2 (the project's side) to 4 over the running services."""
    vhost = f"{name}_stack"
    url = rabbit.create_vhost(vhost)
    dbs = {s: pg.create_database(f"{name}_{s}") for s in ("assignments", "notifications", "reporting")}
    port = free_port()
    engine = make_engine(dbs["assignments"])
    try:
        with MailSink(port) as sink:
            env = {
                "PLANTRACK_AMQP_URL": url, "PLANTRACK_ADMIN_TOKEN": ADMIN_TOKEN, "PLANTRACK_LOG_LEVEL": "WARNING",
                "PLANTRACK_METRICS_TOKEN": METRICS_TOKEN, "PLANTRACK_SMTP_HOST": "127.0.0.1",
                "PLANTRACK_SMTP_PORT": str(port), "PLANTRACK_DATA_DIR": str(tmp / "data"),
                "PLANTRACK_NOTIFICATIONS_SUPERVISOR_MODE": "immediate",
                "PLANTRACK_ASSIGNMENTS_RELAY_ENABLED": "false", "PLANTRACK_NOTIFICATIONS_SEND_ENABLED": "false",
                **{f"PLANTRACK_{s.upper()}_DATABASE_URL": db for s, db in dbs.items()},
            }
            with _services(env, tmp, workers) as procs:
                notifications, reporting, assignments, relay, sender = procs.values()
                for proc in procs.values():
                    proc.start(timeout=60)
                log.info("building the plan: %d units x %d tasks", sizes.units, sizes.tasks)
                world = build_world(assignments.url, ADMIN_TOKEN, units=sizes.units, tasks=sizes.tasks)
                wait_for(lambda: pending_count(engine) == 0, timeout=600, what="the relay to publish the plan")
                _settle(sink.count)
                emails = sink.count()

                # the API alone: consumers and relay stopped, so its events wait in the outbox
                relay.stop()
                reporting.stop()
                notifications.stop()
                sender.stop()
                log.info("API: closed loop for %.0f s", sizes.api_seconds)
                with cpu.window(_running(assignments)) as used:
                    api = closed_loop(assignments.url, update_targets(world, len(world.assignments)),
                                      seconds=sizes.api_seconds, connections=sizes.connections)
                out["api_update_cpu_ms"] = used.ms_per(api.requests)
                served = scrape(assignments.url, METRICS_TOKEN)
                out["api_update_server_ms"] = mean_ms(served, HTTP_DURATION, route=UPDATE_ROUTE, method="POST")
                out.update(api_update_per_s=round(api.per_s, 1), api_update_p50_ms=api.p50_ms,
                           api_update_p99_ms=api.p99_ms, api_update_non_2xx=api.requests - api.statuses[201],
                           load_tool=api.tool)
                backlog = pending_count(engine)
                out["backlog_events"] = backlog

                log.info("relay: draining %d events", backlog)
                relay.launch()
                relay.wait_ready(timeout=60)  # CPU is counted from here: start-up (imports) aside
                left = pending_count(engine)
                with cpu.window(_running(relay)) as used:
                    out["relay_publish_per_s"] = round(drain_rate(
                        lambda: backlog - pending_count(engine), backlog, timeout=900), 1)
                out["relay_cpu_ms"] = used.ms_per(left)

                for proc, key in ((reporting, "reporting"), (notifications, "notifications")):
                    log.info("%s: consuming %d events", key, backlog)
                    if proc is notifications:
                        sender.launch()
                    proc.launch()
                    proc.wait_ready(timeout=60)
                    consumed = _consumed(proc, key)
                    left = backlog - int(consumed())
                    with cpu.window(_running(proc, sender)) as used:
                        out[f"{key}_consume_per_s"] = round(drain_rate(consumed, backlog, timeout=900), 1)
                    out[f"{key}_cpu_ms"] = used.ms_per(left)
                    out[f"{key}_handle_ms"] = mean_ms(scrape(proc.url, METRICS_TOKEN), HANDLE, service=key,
                                                      event_type=STATUS_CHANGED)
                log.info("notifications: sending %d emails", backlog)
                wait_for(lambda: sink.count() >= emails + backlog, timeout=900, what="the emails")
                arrivals = sink.arrivals()[-backlog:]
                if len(arrivals) > 1:
                    out["emails_per_s"] = round((len(arrivals) - 1) / (arrivals[-1].at - arrivals[0].at), 1)

                if steady:
                    with cpu.window(_running(*procs.values())) as used:
                        steady_stage(sizes, world, assignments, reporting, sink, out)
                    out.update(steady_cpu_ms=used.ms_per(out["steady_accepted"]), steady_busy_cores=used.cores())
    finally:
        engine.dispose()
        rabbit.delete_vhost(vhost)
        for db in dbs.values():
            pg.drop_database(db.rsplit("/", 1)[1])


def _settle(emails: Callable[[], int]) -> None:
    """Let the consumers finish the plan's events (emails stop arriving for a second)."""
    last, quiet_since = -1, time.monotonic()
    deadline = time.monotonic() + 300
    while time.monotonic() - quiet_since < 1.5 and time.monotonic() < deadline:
        now = emails()
        if now != last:
            last, quiet_since = now, time.monotonic()
        time.sleep(0.1)


def steady_stage(sizes: Sizes, world: World, assignments: ServiceProcess, reporting: ServiceProcess,
                 sink: MailSink, out: dict[str, Any]) -> None:
    """Lag at a steady rate: every service running, the relay in its own process."""
    total = int(sizes.rate * sizes.steady_seconds)
    marker = f"BENCH{os.getpid()}"
    targets: list[Target] = update_targets(world, total, marker=marker)
    before_emails = sink.count()
    before: Scrape = scrape(reporting.url, METRICS_TOKEN)
    log.info("steady: %.0f updates/s for %.0f s", sizes.rate, sizes.steady_seconds)
    sent: list[Sent] = asyncio.run(steady(assignments.url, targets, rate=sizes.rate, seconds=sizes.steady_seconds))
    accepted = [s for s in sent if s.status == 201]
    out.update(steady_rate_per_s=sizes.rate, steady_seconds=sizes.steady_seconds, steady_sent=len(sent),
               steady_accepted=len(accepted),
               steady_answer_p99_ms=percentile(sorted(s.answered_at - s.sent_at for s in accepted), 99))
    consumed_before = before.value(CONSUMED, service="reporting", event_type=STATUS_CHANGED)
    count = _consumed(reporting, "reporting")
    emails = EmailLags(sink, marker, {f"{marker}-{s.index:07d}": s.sent_at for s in accepted}, start=before_emails)
    try:
        wait_for(lambda: count() >= consumed_before + len(accepted), timeout=600, what="the read model")
        wait_for(lambda: emails.matched() >= len(accepted), timeout=600, what="the emails", every=0.5)
    except RuntimeError as exc:
        out["steady_incomplete"] = str(exc)
    after = scrape(reporting.url, METRICS_TOKEN)
    for q, key in ((0.5, "lag_read_model_p50_ms"), (0.99, "lag_read_model_p99_ms")):
        seconds = quantile(before.buckets(LAG, service="reporting", event_type=STATUS_CHANGED),
                           after.buckets(LAG, service="reporting", event_type=STATUS_CHANGED), q)
        out[key] = round(1000 * seconds, 1) if seconds is not None else None
    lags = sorted(emails.lags)
    out.update(lag_email_p50_ms=percentile(lags, 50), lag_email_p99_ms=percentile(lags, 99),
               steady_emails_matched=len(lags))


class EmailLags:
    """Emails found at the sink by the marker in their summary, timed from their request."""

    def __init__(self, sink: MailSink, marker: str, sent_at: dict[str, float], *, start: int) -> None:
        self.sink, self.marker, self.sent_at, self.seen = sink, marker, dict(sent_at), start
        self.lags: list[float] = []

    def matched(self) -> int:
        """Read the emails that arrived since the last call; how many requests have their email."""
        arrivals = self.sink.arrivals()
        for arrival in arrivals[self.seen:]:
            body = arrival.text()
            at = body.find(self.marker + "-")
            key = body[at:at + len(self.marker) + 8] if at >= 0 else ""
            if key in self.sent_at:
                self.lags.append(arrival.at - self.sent_at.pop(key))
        self.seen = len(arrivals)
        return len(self.lags)


def read_model_stage(sizes: Sizes, pg: Postgres, name: str, out: dict[str, Any]) -> None:
    """Stage 5: progress and the exports over a large read model, minus HTTP (the functions the routes call)."""
    db = f"{name}_readmodel"
    url = pg.create_database(db)
    engine = make_engine(url)
    try:
        migrate(url, REPORTING_MIGRATIONS)
        units, tasks, each = sizes.scale
        build(engine, units, tasks, each, analyze=False)
        work = route_work(engine)
        out.update(scale_assignments=units * tasks, scale_updates=units * tasks * each,
                   progress_ms=round(1000 * median_seconds(work["progress"], sizes.runs), 1),
                   export_csv_s=round(median_seconds(work["export.csv"], sizes.runs), 3),
                   export_xlsx_s=round(median_seconds(work["export.xlsx"], sizes.runs), 3))
    finally:
        engine.dispose()
        pg.drop_database(db)


def bare_stage(sizes: Sizes, tmp: Path, workers: int, out: dict[str, Any]) -> None:
    """The bare FastAPI endpoint under the load the API gets."""
    body = b'{"status": "in_progress", "progress": 40, "summary": "' + SUMMARY.encode("ascii", "replace") + b'"}'
    proc = ServiceProcess("bare", {}, tmp, workers=workers).start()
    try:
        result = closed_loop(proc.url, [Target("/assignments/1/updates", {}, body)], seconds=sizes.api_seconds,
                             connections=sizes.connections)
    finally:
        proc.stop()
    out.update(bare_api_per_s=round(result.per_s, 1), bare_api_p50_ms=result.p50_ms, bare_api_p99_ms=result.p99_ms)


STAGES = ("raw", "bare", "stack", "steady", "read-model")


def run(sizes: Sizes, *, amqp_url: str, pg_url: str, workers: int = 1,
        stages: tuple[str, ...] = STAGES) -> dict[str, Any]:
    """Measure the stages (all by default); the result has each key `plantrack bench --json` prints."""
    rabbit, pg = Rabbit(amqp_url), Postgres(pg_url)
    rabbit.drop_stale(PREFIX)  # what an interrupted run left behind
    pg.drop_stale(PREFIX)
    name = run_name(PREFIX)
    out: dict[str, Any] = {"quick": sizes is QUICK, "api_workers": workers, "cpus": os.cpu_count()}
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        if "raw" in stages:
            url = rabbit.create_vhost(name)
            try:
                log.info("raw RabbitMQ: %d messages", sizes.raw_messages)
                published, consumed = asyncio.run(raw_limits(url, status_event_body(), sizes.raw_messages))
                out.update(raw_publish_per_s=round(published, 1), raw_consume_per_s=round(consumed, 1))
            finally:
                rabbit.delete_vhost(name)
        if "bare" in stages:
            log.info("bare FastAPI endpoint")
            bare_stage(sizes, tmp, workers, out)
        if "stack" in stages or "steady" in stages:
            try:
                stack_stages(sizes, rabbit, pg, name, tmp, workers, out, steady="steady" in stages)
            except Exception:
                for log_file in sorted(tmp.glob("*.log")):
                    sys.stderr.write(f"--- {log_file.name}\n{log_file.read_text()[-3000:]}\n")
                raise
        if "read-model" in stages:
            log.info("read model: %d x %d x %d", *sizes.scale)
            read_model_stage(sizes, pg, name, out)
    out["relay_publish_ratio"] = ratio(out.get("relay_publish_per_s"), out.get("raw_publish_per_s"))
    out["reporting_consume_ratio"] = ratio(out.get("reporting_consume_per_s"), out.get("raw_consume_per_s"))
    out["notifications_consume_ratio"] = ratio(out.get("notifications_consume_per_s"), out.get("raw_consume_per_s"))
    out["api_update_ratio"] = ratio(out.get("api_update_per_s"), out.get("bare_api_per_s"))
    out["seconds"] = round(time.perf_counter() - started, 1)
    return out
