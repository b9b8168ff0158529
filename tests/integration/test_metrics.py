"""The event metrics over a real RabbitMQ and PostgreSQL: the real reporting app counts what it
consumes and parks (and serves it on /metrics), a failing handler's retries are counted, and the
relay counts what it published while the outbox backlog gauge drains."""

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine
from sqlmodel import Session

from services.reporting.app import create_app
from services.reporting.models import ReportAssignment
from services.reporting.settings import ReportingSettings
from shared.db import make_engine
from shared.events import AssignmentStatusChangedV1
from shared.messaging.outbox import OutboxMessage
from shared.metrics.backlog import Backlog
from tests.integration.conftest import Amqp, relay_outbox, stage_events, status_event, unit_event, wait_until
from tests.integration.test_dead_letter import DLQ as TESTSVC_DLQ
from tests.integration.test_dead_letter import LIMIT, SERVICE, start_consumer
from tests.support.asgi import lifespan

pytestmark = pytest.mark.integration

EVENT_TYPE = AssignmentStatusChangedV1.TYPE
REPORTING_DLQ = f"reporting.{EVENT_TYPE}.dlq"
TOKEN = "metrics-token-it"


def value(name: str, **labels: str) -> float:
    """A sample of this process's default registry (0 when it was never recorded)."""
    return REGISTRY.get_sample_value(name, labels) or 0.0


def event_values(service: str) -> dict[str, float]:
    labels = {"service": service, "event_type": EVENT_TYPE}
    return {name: value(name, **labels) for name in (
        "plantrack_events_consumed_total", "plantrack_events_failed_total", "plantrack_events_dead_lettered_total",
        "plantrack_event_handle_seconds_count", "plantrack_consumer_lag_seconds_count")}


def moved(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {name.removeprefix("plantrack_"): after[name] - before[name] for name in before}


@pytest.fixture
async def reporting(amqp_url: str, tmp_path: Path) -> AsyncIterator[tuple[Any, Engine]]:
    """The real reporting app, started as uvicorn would start it (metrics token set); its engine."""
    settings = ReportingSettings(amqp_url=amqp_url, data_dir=str(tmp_path), metrics_token=TOKEN)
    engine = make_engine(settings.db_url())
    app = create_app(settings)
    async with lifespan(app):
        yield app, engine
    engine.dispose()


def _applied(engine: Engine) -> bool:
    with Session(engine) as session:
        return session.get(ReportAssignment, 7) is not None


async def test_the_reporting_app_counts_consumed_and_dead_lettered_events(
    reporting: tuple[Any, Engine], amqp: Amqp
) -> None:
    app, engine = reporting
    before = event_values("reporting")
    good = status_event()
    await amqp.publish(b"{this is not json", EVENT_TYPE, message_id="poison")
    await amqp.publish(good.model_dump_json().encode(), EVENT_TYPE, message_id=str(good.event_id))
    await amqp.take(REPORTING_DLQ, 1, within=10)
    await wait_until(lambda: _applied(engine), "the good event is applied")
    await wait_until(lambda: value("plantrack_events_consumed_total", service="reporting",
                                   event_type=EVENT_TYPE) > before["plantrack_events_consumed_total"],
                     "the good event is counted")
    change = moved(before, event_values("reporting"))
    assert change == {"events_consumed_total": 1, "events_failed_total": 0, "events_dead_lettered_total": 1,
                      "event_handle_seconds_count": 2, "consumer_lag_seconds_count": 1}
    # the lag of an event published a moment ago is under a minute
    assert value("plantrack_consumer_lag_seconds_bucket", service="reporting", event_type=EVENT_TYPE, le="60.0") >= 1

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://reporting") as client:
        assert (await client.get("/metrics")).status_code == 401
        response = await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    families = {f.name: f for f in text_string_to_metric_families(response.text)}
    consumed = [s for s in families["plantrack_events_consumed"].samples
                if s.name.endswith("_total") and s.labels == {"service": "reporting", "event_type": EVENT_TYPE}]
    assert consumed and consumed[0].value >= 1


async def test_a_failing_handler_counts_each_retry_then_the_dead_letter(amqp_url: str, amqp: Amqp) -> None:
    before = event_values(SERVICE)
    consumer = await start_consumer(amqp_url, lambda event: True)
    try:
        event = status_event()
        await amqp.publish(event.model_dump_json().encode(), EVENT_TYPE, message_id=str(event.event_id))
        await amqp.take(TESTSVC_DLQ, 1, within=15)
    finally:
        await consumer.broker.stop()
    change = moved(before, event_values(SERVICE))
    assert change == {"events_consumed_total": 0, "events_failed_total": LIMIT - 1, "events_dead_lettered_total": 1,
                      "event_handle_seconds_count": LIMIT, "consumer_lag_seconds_count": 0}


async def test_the_relay_counts_published_events_and_the_backlog_drains(
    assignments_engine: Engine, amqp_url: str, amqp: Amqp
) -> None:
    engine = assignments_engine
    await amqp.bind("probe.metrics", "unit.created.v1")
    backlog = Backlog(engine, OutboxMessage, "outbox")
    assert backlog.read() == (0.0, 0.0)
    stage_events(engine, [unit_event(i) for i in range(1, 4)])
    count, age = backlog.read()
    assert count == 3 and 0 <= age < 60
    published = value("plantrack_events_published_total", event_type="unit.created.v1")

    await relay_outbox(engine, amqp_url)
    assert value("plantrack_events_published_total", event_type="unit.created.v1") - published == 3
    assert backlog.read() == (0.0, 0.0)
    assert len(await amqp.take("probe.metrics", 3, within=5)) == 3
