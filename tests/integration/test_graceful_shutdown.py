"""Graceful shutdown on a real RabbitMQ: stopping a consumer lets the in-flight handler finish and
ack; a handler that outlives the grace period leaves its message to be redelivered, not lost."""

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

import pytest
from faststream.rabbit import RabbitBroker
from faststream.rabbit.annotations import RabbitMessage

from shared.events import AssignmentStatusChangedV1
from shared.messaging.broker import declare_dead_letter_queues, make_broker
from shared.messaging.topology import EVENTS_EXCHANGE, consumer_queue
from tests.integration.conftest import Amqp, status_event, wait_until

pytestmark = pytest.mark.integration

EVENT_TYPE = AssignmentStatusChangedV1.TYPE
QUEUE = f"testsvc.{EVENT_TYPE}"
HANDLER_SECONDS = 1.5


@dataclass
class Worker:
    """A consumer whose handler takes HANDLER_SECONDS."""

    broker: RabbitBroker
    started: asyncio.Event = field(default_factory=asyncio.Event)
    completed: list[dict[str, Any]] = field(default_factory=list)
    seen: list[dict[str, Any]] = field(default_factory=list)


async def start_worker(amqp_url: str, *, graceful_timeout: float, sleep: float = HANDLER_SECONDS) -> Worker:
    broker = make_broker(amqp_url, graceful_timeout=graceful_timeout)
    worker = Worker(broker)
    queue = consumer_queue("testsvc", EVENT_TYPE, delivery_limit=5)

    @broker.subscriber(queue, EVENTS_EXCHANGE)
    async def slow(event: AssignmentStatusChangedV1, message: RabbitMessage) -> None:
        info = {"event_id": str(event.event_id), "redelivered": message.raw_message.redelivered,
                "delivery_count": (message.headers or {}).get("x-delivery-count")}
        worker.seen.append(info)
        worker.started.set()
        await asyncio.sleep(sleep)
        worker.completed.append(info)

    await broker.connect()
    await declare_dead_letter_queues(broker, [queue])
    await broker.start()
    return worker


async def test_stop_waits_for_the_in_flight_handler_and_acks_its_message(amqp_url: str, amqp: Amqp) -> None:
    worker = await start_worker(amqp_url, graceful_timeout=10)
    event = status_event()
    await amqp.publish(event.model_dump_json().encode(), EVENT_TYPE, message_id=str(event.event_id))
    await asyncio.wait_for(worker.started.wait(), timeout=10)

    started = time.monotonic()
    await worker.broker.stop()
    stopped_after = time.monotonic() - started

    assert [c["event_id"] for c in worker.completed] == [str(event.event_id)]  # finished, not cut off
    assert stopped_after >= HANDLER_SECONDS * 0.5  # stop() really waited for it
    # acked before the channel closed: an unacked message would have gone back to the queue,
    # so a new consumer on it gets nothing to redo
    again = await start_worker(amqp_url, graceful_timeout=10, sleep=0)
    try:
        await asyncio.sleep(0.5)
        assert again.seen == []
    finally:
        await again.broker.stop()
    assert await amqp.leftovers(QUEUE) == [] and await amqp.leftovers(f"{QUEUE}.dlq") == []


async def test_handler_outliving_the_grace_period_leaves_its_message_for_redelivery(
    amqp_url: str, amqp: Amqp
) -> None:
    worker = await start_worker(amqp_url, graceful_timeout=0.2)
    event = status_event()
    await amqp.publish(event.model_dump_json().encode(), EVENT_TYPE, message_id=str(event.event_id))
    await asyncio.wait_for(worker.started.wait(), timeout=10)

    started = time.monotonic()
    await worker.broker.stop()
    assert time.monotonic() - started < HANDLER_SECONDS  # it did not wait for the handler
    assert worker.completed == []

    # the unacked message went back to the queue: the next consumer gets it (at least once)
    again = await start_worker(amqp_url, graceful_timeout=10, sleep=0)
    try:
        await wait_until(lambda: len(again.completed) == 1, "the message is redelivered to the next consumer")
        [info] = again.completed
        assert info["event_id"] == str(event.event_id)
        assert info["redelivered"] is True
    finally:
        await again.broker.stop()
    assert worker.completed == []  # the cut-off handler was cancelled with its channel, never half-acked
    assert await amqp.leftovers(QUEUE) == []


async def test_message_arriving_during_shutdown_is_left_in_the_queue_not_lost(amqp_url: str, amqp: Amqp) -> None:
    worker = await start_worker(amqp_url, graceful_timeout=10)
    first, late = status_event(), status_event(progress=50)
    await amqp.publish(first.model_dump_json().encode(), EVENT_TYPE, message_id=str(first.event_id))
    await asyncio.wait_for(worker.started.wait(), timeout=10)

    stopping = asyncio.create_task(worker.broker.stop())
    await asyncio.sleep(0.2)  # stop() is now waiting for the in-flight handler; the consumer is still attached
    await amqp.publish(late.model_dump_json().encode(), EVENT_TYPE, message_id=str(late.event_id))
    await stopping

    # the first was finished; the late one was neither handled nor acked by the stopping consumer...
    assert [c["event_id"] for c in worker.completed] == [str(first.event_id)]
    assert [c["event_id"] for c in worker.seen] == [str(first.event_id)]

    # ...so the next consumer handles it
    again = await start_worker(amqp_url, graceful_timeout=10, sleep=0)
    try:
        await wait_until(lambda: len(again.completed) == 1, "the late message is handled by the next consumer")
        assert [c["event_id"] for c in again.completed] == [str(late.event_id)]
        # RabbitMQ 3.10 counts the return at channel close as a delivery of a quorum-queue message,
        # although no handler ever ran: each shutdown under load uses up some of the delivery limit
        assert again.completed[0]["delivery_count"] == 1 and again.completed[0]["redelivered"] is True
    finally:
        await again.broker.stop()
    assert await amqp.leftovers(QUEUE) == []
