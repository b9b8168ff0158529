"""Events that can never be handled leave the queue on their first delivery, through the real
reporting app (FastStreamAPI-wrapped subscribers), with the reason in a header; and a parked copy
is never lost: while the dead-letter queue cannot take it, the original stays in its queue."""

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aio_pika
import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from services.reporting.app import create_app
from services.reporting.models import ReportAssignment
from services.reporting.settings import ReportingSettings
from shared.db import make_engine
from shared.events import AssignmentStatusChangedV1
from shared.messaging.broker import make_broker
from shared.messaging.guard import DELIVERIES_HEADER, ERROR_HEADER, SOURCE_QUEUE_HEADER
from shared.messaging.topology import (
    DEAD_LETTER_EXCHANGE_NAME,
    EVENTS_EXCHANGE,
    consumer_queue,
    dead_letter_queue,
)
from tests.integration.conftest import Amqp, status_event, wait_until
from tests.support.asgi import lifespan

pytestmark = pytest.mark.integration

EVENT_TYPE = AssignmentStatusChangedV1.TYPE
QUEUE = f"reporting.{EVENT_TYPE}"
DLQ = f"{QUEUE}.dlq"


@pytest.fixture
async def reporting(amqp_url: str, tmp_path: Path) -> AsyncIterator[Engine]:
    """The real reporting app, started as uvicorn would start it; its read model's engine."""
    settings = ReportingSettings(amqp_url=amqp_url, data_dir=str(tmp_path))
    engine = make_engine(settings.db_url())
    async with lifespan(create_app(settings)):
        yield engine
    engine.dispose()


def _assignment(engine: Engine) -> ReportAssignment | None:
    with Session(engine) as session:
        return session.get(ReportAssignment, 7)


async def test_unreadable_events_reach_the_dlq_on_their_first_delivery(reporting: Engine, amqp: Amqp) -> None:
    good = status_event(correlation_id="req-good\r\nBcc: x@example.com")
    wrong_schema = json.loads(status_event().model_dump_json())
    wrong_schema["payload"]["assignment_id"] = "not a number"
    wrong_type = {**json.loads(status_event().model_dump_json()), "event_type": "plan.deleted.v9"}
    poison = {
        "not-json": b"{this is not json",
        "wrong-schema": json.dumps(wrong_schema).encode(),
        "wrong-type": json.dumps(wrong_type).encode(),
        "not-utf8": b"\xff\xfe\x00",
    }
    started = time.monotonic()
    for message_id, body in poison.items():
        await amqp.publish(body, EVENT_TYPE, message_id=message_id, correlation_id="bad\r\nid")
    await amqp.publish(good.model_dump_json().encode(), EVENT_TYPE, message_id=str(good.event_id))

    parked = await amqp.take(DLQ, len(poison), within=10)
    assert time.monotonic() - started < 2
    assert await amqp.leftovers(DLQ) == []
    by_id = {m.message_id: m for m in parked}
    assert set(by_id) == set(poison)
    for message_id, message in by_id.items():
        headers = message.headers
        assert message.body == poison[message_id]  # untouched
        assert message.correlation_id == "bad\r\nid"  # the copy is exact; only logs see a safe one
        assert headers[DELIVERIES_HEADER] == 1, message_id
        assert headers[SOURCE_QUEUE_HEADER] == QUEUE
        reason = str(headers[ERROR_HEADER])
        assert reason.isascii() and reason.isprintable() and len(reason) <= 1000
        assert "x-death" not in headers  # parked by the consumer, not by the delivery limit
    assert "JSONDecodeError" in str(by_id["not-json"].headers[ERROR_HEADER])
    assert "ValidationError" in str(by_id["wrong-schema"].headers[ERROR_HEADER])
    assert "assignment_id" in str(by_id["wrong-schema"].headers[ERROR_HEADER])
    assert "ValidationError" in str(by_id["wrong-type"].headers[ERROR_HEADER])

    # the good event behind them was handled, its correlation id made safe on the way in
    await wait_until(lambda: _assignment(reporting) is not None, "the good event is applied")
    assert await amqp.leftovers(QUEUE) == []


async def test_a_parked_message_stays_in_its_queue_until_the_dlq_can_take_it(amqp_url: str, amqp: Amqp) -> None:
    broker = make_broker(amqp_url)
    queue = consumer_queue("testsvc", EVENT_TYPE, delivery_limit=50)

    @broker.subscriber(queue, EVENTS_EXCHANGE)
    async def handle(event: AssignmentStatusChangedV1) -> None:
        raise AssertionError("poison must not reach the handler")

    # the dead-letter exchange exists but the queue does not (yet): the copy comes back unroutable
    dlx = await amqp.channel.declare_exchange(DEAD_LETTER_EXCHANGE_NAME, aio_pika.ExchangeType.DIRECT,
                                              durable=True)
    await broker.start()
    try:
        await amqp.publish(b"{not json", EVENT_TYPE, message_id="poison")
        await asyncio.sleep(1.5)  # a few failed attempts to park it (backoff 0.2 s, 0.4 s, …)
        dlq = dead_letter_queue(queue)
        declared = await amqp.channel.declare_queue(dlq.name, durable=True, arguments={"x-queue-type": "quorum"})
        await declared.bind(dlx, routing_key=queue.name)
        [parked] = await amqp.take(dlq.name, 1, within=15)
    finally:
        await broker.stop()
    assert parked.message_id == "poison" and parked.body == b"{not json"
    assert int(parked.headers[DELIVERIES_HEADER]) >= 2  # type: ignore[arg-type]
    assert await amqp.leftovers(queue.name) == []

