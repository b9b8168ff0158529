"""The metrics every plantrack process records, and their text exposition.

prometheus_client registers a metric once per process, so these are module-level objects (a
factory would register them twice when tests build several apps); label sets stay bounded: route
templates, event types, service names, status codes."""

import logging
import os
import re
import time
from datetime import datetime

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from shared.events.base import as_utc

log = logging.getLogger("plantrack.metrics")

# 1 ms to 60 s: a consumer that keeps up is in the first buckets, a backlog in the last ones
EVENT_BUCKETS = (.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60)
HTTP_BUCKETS = (.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30)  # exports take seconds

HTTP_REQUESTS = Counter("plantrack_http_requests_total", "HTTP requests answered, by route template and status.",
                        ["service", "method", "route", "status"])
HTTP_DURATION = Histogram("plantrack_http_request_duration_seconds",
                          "Time from a request's arrival to the end of its response, by route template.",
                          ["service", "method", "route"], buckets=HTTP_BUCKETS)
EVENTS_PUBLISHED = Counter("plantrack_events_published_total",
                           "Outbox events the relay published and RabbitMQ confirmed.", ["event_type"])
EVENTS_CONSUMED = Counter("plantrack_events_consumed_total", "Events a consumer handled successfully.",
                          ["service", "event_type"])
EVENTS_FAILED = Counter("plantrack_events_failed_total", "Handler failures sent back through the retry exchange.",
                        ["service", "event_type"])
EVENTS_DEAD_LETTERED = Counter("plantrack_events_dead_lettered_total",
                               "Events parked in a dead-letter queue: unreadable, forged, or out of attempts.",
                               ["service", "event_type"])
EVENT_HANDLE = Histogram("plantrack_event_handle_seconds",
                         "Time in the handler (a wait for a dependency that is down included).",
                         ["service", "event_type"], buckets=EVENT_BUCKETS)
CONSUMER_LAG = Histogram("plantrack_consumer_lag_seconds",
                         "From the event's occurrence to its successful handling.",
                         ["service", "event_type"], buckets=EVENT_BUCKETS)
CONSUMER_BATCH = Histogram("plantrack_consumer_batch_events",
                           "Events a consumer committed together in one transaction (group commit).",
                           ["service"], buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500))
EMAILS_SENT = Counter("plantrack_emails_sent_total", "Emails the SMTP server accepted.")
EMAILS_FAILED = Counter("plantrack_emails_failed_total",
                        "Failed sends: permanent (the row is parked) or not (retried later).", ["permanent"])

# the envelope's fields come in declaration order: occurred_at is within the first few hundred bytes
_OCCURRED_AT = re.compile(rb'"occurred_at"\s*:\s*"([^"]{10,40})"')


def occurred_at(body: bytes, timestamp: datetime | None) -> datetime | None:
    """When the event happened: the envelope's `occurred_at` (microseconds), else the AMQP timestamp
    (whole seconds), else None."""
    found = _OCCURRED_AT.search(body, 0, 512)
    if found is not None:
        try:
            return as_utc(datetime.fromisoformat(found.group(1).decode("ascii")))
        except ValueError:
            pass
    return as_utc(timestamp) if isinstance(timestamp, datetime) else None


def count(counter: Counter, *labels: str) -> None:
    """Add one to `counter` (with `labels`); never raises: a metric must not fail a consumer."""
    try:
        (counter.labels(*labels) if labels else counter).inc()
    except Exception:  # noqa: BLE001
        log.debug("metrics: %s not counted", counter, exc_info=True)


def event_handled(service: str, event_type: str, *, body: bytes, timestamp: object) -> None:
    """Count a successfully handled event and observe its lag (skipped when its time is unknown);
    never raises."""
    count(EVENTS_CONSUMED, service, event_type)
    try:
        moment = occurred_at(body, timestamp if isinstance(timestamp, datetime) else None)
        if moment is not None:
            CONSUMER_LAG.labels(service, event_type).observe(max(0.0, time.time() - moment.timestamp()))
    except Exception:  # noqa: BLE001
        log.debug("metrics: lag not observed", exc_info=True)


def exposition(*extra: CollectorRegistry) -> bytes:
    """The text exposition of this process's metrics (of every worker's, when PROMETHEUS_MULTIPROC_DIR
    is set), followed by `extra` registries' (e.g. scrape-time gauges)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    return b"".join(generate_latest(r) for r in (registry, *extra))
