"""Dead-lettering on real RabbitMQ quorum queues: a message that keeps failing, or cannot even be
parsed, is parked in `<queue>.dlq` after `delivery_limit` attempts (counted by the consumer) instead
of looping forever."""

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from faststream.rabbit import RabbitBroker
from faststream.rabbit.annotations import RabbitMessage

from shared.events import AssignmentStatusChangedV1
from shared.messaging.broker import declare_dead_letter_queues, make_broker
from shared.messaging.guard import ATTEMPTS_HEADER, DELIVERIES_HEADER, ERROR_HEADER, SOURCE_QUEUE_HEADER
from shared.messaging.topology import EVENTS_EXCHANGE, consumer_queue
from tests.integration.conftest import Amqp, status_event, wait_until

pytestmark = pytest.mark.integration

SERVICE = "testsvc"
EVENT_TYPE = AssignmentStatusChangedV1.TYPE
QUEUE = f"{SERVICE}.{EVENT_TYPE}"
DLQ = f"{QUEUE}.dlq"
LIMIT = 2


@dataclass
class Consumer:
    """A service-like consumer of assignment.status_changed.v1 with a scripted handler."""

    broker: RabbitBroker
    calls: list[dict[str, Any]] = field(default_factory=list)


async def start_consumer(amqp_url: str, fail: Callable[[AssignmentStatusChangedV1], bool]) -> Consumer:
    """Start a broker like the services do: subscribe, declare the dead-letter queues, start."""
    broker = make_broker(amqp_url)
    consumer = Consumer(broker)
    queue = consumer_queue(SERVICE, EVENT_TYPE, delivery_limit=LIMIT)

    @broker.subscriber(queue, EVENTS_EXCHANGE)
    async def on_status_changed(event: AssignmentStatusChangedV1, message: RabbitMessage) -> None:
        consumer.calls.append({
            "event_id": str(event.event_id),
            "delivery_count": (message.headers or {}).get("x-delivery-count"),
            "redelivered": message.raw_message.redelivered,
        })
        if fail(event):
            raise RuntimeError("the handler keeps failing")

    await broker.connect()
    await declare_dead_letter_queues(broker, [queue])
    await broker.start()
    return consumer


@pytest.fixture
async def failing(amqp_url: str) -> AsyncIterator[Consumer]:
    """A consumer whose handler always raises."""
    consumer = await start_consumer(amqp_url, lambda event: True)
    yield consumer
    await consumer.broker.stop()


@pytest.fixture
async def succeeding(amqp_url: str) -> AsyncIterator[Consumer]:
    """A consumer whose handler succeeds on every valid event."""
    consumer = await start_consumer(amqp_url, lambda event: False)
    yield consumer
    await consumer.broker.stop()


async def test_failing_message_is_dead_lettered_after_the_delivery_limit(failing: Consumer, amqp: Amqp) -> None:
    event = status_event()
    event_id = str(event.event_id)
    await amqp.publish(event.model_dump_json().encode(), EVENT_TYPE, message_id=event_id,
                       correlation_id=event.correlation_id)

    [parked] = await amqp.take(DLQ, 1, within=15)
    assert parked.message_id == event_id
    assert parked.correlation_id == event.correlation_id
    assert json.loads(parked.body) == json.loads(event.model_dump_json())  # the message, untouched

    # the consumer counts attempts itself (RabbitMQ 4.3 no longer counts nacks): each failure
    # republishes a fresh copy through `testsvc.retry` with the count in a header, so RabbitMQ
    # never redelivers it; after LIMIT failed attempts the consumer parks it with the reason.
    assert len(failing.calls) == LIMIT
    assert [c["delivery_count"] for c in failing.calls] == [None] * LIMIT
    assert [c["redelivered"] for c in failing.calls] == [False] * LIMIT
    assert {c["event_id"] for c in failing.calls} == {event_id}
    assert parked.headers[ATTEMPTS_HEADER] == LIMIT
    assert parked.headers[DELIVERIES_HEADER] == LIMIT
    assert parked.headers[ERROR_HEADER] == "RuntimeError: the handler keeps failing"
    assert parked.headers[SOURCE_QUEUE_HEADER] == QUEUE
    assert "x-death" not in parked.headers  # type: ignore[operator]

    # and it is not redelivered forever: no more calls, nothing left in the source queue
    await asyncio.sleep(0.5)
    assert len(failing.calls) == LIMIT
    await failing.broker.stop()
    assert len(failing.calls) == LIMIT
    assert await amqp.leftovers(QUEUE) == []
    assert await amqp.leftovers(DLQ, settle=0) == []  # we took the only one


async def test_poison_messages_are_dead_lettered_and_do_not_block_good_ones(succeeding: Consumer, amqp: Amqp) -> None:
    good = status_event()
    wrong_schema = {"event_id": "9d3c2a52-4b9c-4c3c-9a4e-2f1d0c8b7a61", "event_type": EVENT_TYPE,
                    "payload": {"assignment_id": "not a number"}}
    await amqp.publish(b"{this is not json", EVENT_TYPE, message_id="poison-not-json")
    await amqp.publish(json.dumps(wrong_schema).encode(), EVENT_TYPE, message_id="poison-wrong-schema")
    await amqp.publish(good.model_dump_json().encode(), EVENT_TYPE, message_id=str(good.event_id))

    parked = await amqp.take(DLQ, 2, within=15, settle=0.5)
    assert sorted(m.message_id for m in parked) == ["poison-not-json", "poison-wrong-schema"]  # type: ignore[type-var]
    # retrying cannot fix them: parked on their first delivery, with the reason, not after the delivery limit
    assert all(m.headers[DELIVERIES_HEADER] == 1 for m in parked)  # type: ignore[index]
    assert all(m.headers[SOURCE_QUEUE_HEADER] == QUEUE for m in parked)  # type: ignore[index]
    assert all("x-death" not in m.headers for m in parked)  # type: ignore[operator]
    reasons = {m.message_id: str(m.headers[ERROR_HEADER]) for m in parked}  # type: ignore[index]
    assert reasons["poison-not-json"].startswith("JSONDecodeError: ")
    assert reasons["poison-wrong-schema"].startswith("ValidationError: ")
    assert {m.body for m in parked} == {b"{this is not json", json.dumps(wrong_schema).encode()}

    # the good event was handled once; the poison never reached the handler
    await wait_until(lambda: len(succeeding.calls) >= 1, "the good event is handled")
    assert [c["event_id"] for c in succeeding.calls] == [str(good.event_id)]
    await succeeding.broker.stop()
    assert await amqp.leftovers(QUEUE) == []
