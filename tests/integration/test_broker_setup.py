"""`plantrack broker-setup` on a real RabbitMQ (a test vhost, rabbitmqctl): policies instead of
x-arguments, so the delivery limit can change; queues exist before any consumer runs."""

import asyncio
import json
from collections.abc import Callable

import aio_pika
import pytest

from services.broker_cli import consumer_queues
from services.cli import main
from shared.events import UnitCreatedV1
from shared.messaging.broker import declare_dead_letter_queues, make_broker
from shared.messaging.errors import LegacyQueueError
from shared.messaging.setup import setup_broker, vhost_of
from shared.messaging.topology import consumer_queue
from tests.integration.conftest import Amqp, unit_event
from tests.support.servers import Rabbit

pytestmark = pytest.mark.integration

QUEUE = f"reporting.{UnitCreatedV1.TYPE}"


def policies(rabbit: Rabbit, amqp_url: str) -> dict[str, dict]:  # type: ignore[type-arg]
    """The vhost's policies by name: their definitions."""
    out = rabbit._ctl("list_policies", "-p", vhost_of(amqp_url), "--no-table-headers")
    # columns: vhost name pattern apply-to definition priority
    rows = [line.split("\t") for line in out.splitlines() if line.strip()]
    return {row[1]: json.loads(row[4]) for row in rows}


async def setup(rabbit: Rabbit, amqp_url: str, limit: int) -> None:
    report = await setup_broker(amqp_url, consumer_queues(), delivery_limit=limit, rabbitmqctl=" ".join(rabbit.ctl))
    assert report.legacy == {}


async def fail_until_parked(amqp: Amqp, queue: str) -> int:
    """Consume `queue` and nack every delivery (as a consumer whose handler raises would, without our
    middleware); return how many deliveries RabbitMQ made before it dead-lettered the message."""
    channel = await amqp.connection.channel()
    q = await channel.declare_queue(queue, passive=True)
    deliveries = 0
    for _ in range(50):
        message = await q.get(no_ack=False, fail=False, timeout=5)
        if message is None:
            await asyncio.sleep(0.1)
            if (await q.get(no_ack=False, fail=False)) is None:
                break
            raise AssertionError("unexpected: a message appeared late")
        deliveries += 1
        await message.nack(requeue=True)
    await channel.close()
    return deliveries


async def test_setup_twice_with_a_changed_delivery_limit(rabbit: Rabbit, amqp_url: str, amqp: Amqp) -> None:
    await setup(rabbit, amqp_url, 5)
    assert policies(rabbit, amqp_url)[f"plantrack-{QUEUE}"]["delivery-limit"] == 5
    await setup(rabbit, amqp_url, 2)  # a queue's x-arguments could never change; a policy can

    defined = policies(rabbit, amqp_url)
    assert len(defined) == sum(len(specs) for specs in consumer_queues().values())
    assert defined[f"plantrack-{QUEUE}"] == {
        "delivery-limit": 2, "dead-letter-exchange": "plantrack.dlx", "dead-letter-routing-key": QUEUE,
        "dead-letter-strategy": "at-least-once", "overflow": "reject-publish",
    }
    # and it is in force: the third failed delivery dead-letters the message (3.10 counts redeliveries)
    event = unit_event(1)
    await amqp.publish(event.model_dump_json().encode(), UnitCreatedV1.TYPE, message_id=str(event.event_id))
    await amqp.take(f"notifications.{UnitCreatedV1.TYPE}", 1)
    assert await fail_until_parked(amqp, QUEUE) == 3
    [parked] = await amqp.take(f"{QUEUE}.dlq", 1)
    assert parked.message_id == str(event.event_id)
    assert parked.headers["x-first-death-reason"] == "delivery_limit"


async def test_an_event_published_before_any_consumer_ran_waits_in_its_queues(
        rabbit: Rabbit, amqp_url: str, amqp: Amqp) -> None:
    await setup(rabbit, amqp_url, 1000)
    # published as the relay does: confirmed and mandatory, so it would come back if no queue took it
    channel = await amqp.connection.channel(publisher_confirms=True, on_return_raises=True)
    exchange = await channel.get_exchange("plantrack.events")
    event = unit_event(7)
    await exchange.publish(aio_pika.Message(event.model_dump_json().encode(), message_id=str(event.event_id)),
                           routing_key=UnitCreatedV1.TYPE, mandatory=True)
    for service in ("reporting", "notifications"):
        [got] = await amqp.take(f"{service}.{UnitCreatedV1.TYPE}", 1, settle=0.2)
        assert got.message_id == str(event.event_id)


async def test_a_queue_left_with_x_arguments_is_reported_not_a_crash(
        rabbit: Rabbit, amqp_url: str, amqp: Amqp, make_vhost: Callable[[], str],
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    # as an older plantrack declared it
    await amqp.channel.declare_queue(QUEUE, durable=True, arguments={
        "x-queue-type": "quorum", "x-delivery-limit": 10, "x-dead-letter-exchange": "plantrack.dlx",
        "x-dead-letter-routing-key": QUEUE})
    monkeypatch.setenv("RABBITMQCTL", " ".join(rabbit.ctl))
    code = await asyncio.to_thread(main, ["broker-setup", "--amqp-url", amqp_url])
    assert code == 3
    err = capsys.readouterr().err
    assert QUEUE in err and "x-arguments" in err
    # everything else was set up, and the old queue is bound: it loses no event meanwhile
    event = unit_event(3)
    await amqp.publish(event.model_dump_json().encode(), UnitCreatedV1.TYPE, message_id=str(event.event_id))
    assert len(await amqp.take(QUEUE, 1)) == 1
    assert len(await amqp.take(f"notifications.{UnitCreatedV1.TYPE}", 1)) == 1

    # a consumer that starts against it says what to do
    broker = make_broker(amqp_url)
    await broker.connect()
    try:
        with pytest.raises(LegacyQueueError, match="broker-setup"):
            await declare_dead_letter_queues(broker, [consumer_queue("reporting", UnitCreatedV1.TYPE,
                                                                     delivery_limit=10)])
    finally:
        await broker.stop()
