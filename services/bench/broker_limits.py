"""What RabbitMQ itself does on this machine: aio-pika publishing with confirms, and consuming."""

import asyncio
import time

import aio_pika

QUEUES = ("bench.raw.reporting", "bench.raw.notifications")  # plantrack routes each event to both consumers


async def raw_limits(url: str, body: bytes, count: int, *, in_flight: int = 100,
                     prefetch: int = 100) -> tuple[float, float]:
    """(publishes, consumes) a second: `count` persistent messages routed to two quorum queues, as
    plantrack's events are, with publisher confirms (`in_flight` outstanding); then one queue
    consumed with manual acks (`prefetch` unacked)."""
    connection = await aio_pika.connect(url)
    try:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await channel.declare_exchange("bench.raw", aio_pika.ExchangeType.TOPIC, durable=True)
        queues = [await channel.declare_queue(name, durable=True, arguments={"x-queue-type": "quorum"})
                  for name in QUEUES]
        for q in queues:
            await q.bind(exchange, "#")
        queue = queues[0]
        message = aio_pika.Message(body, delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                                   content_type="application/json")
        started = time.perf_counter()
        for first in range(0, count, in_flight):
            await asyncio.gather(*(exchange.publish(message, routing_key="assignment.status_changed.v1",
                                                    mandatory=True)
                                   for _ in range(min(in_flight, count - first))))
        published = count / (time.perf_counter() - started)

        await channel.set_qos(prefetch_count=prefetch)
        done = asyncio.Event()
        seen = 0

        async def on_message(incoming: aio_pika.abc.AbstractIncomingMessage) -> None:
            nonlocal seen
            await incoming.ack()
            seen += 1
            if seen == count:
                done.set()

        started = time.perf_counter()
        tag = await queue.consume(on_message)
        await asyncio.wait_for(done.wait(), timeout=600)
        consumed = count / (time.perf_counter() - started)
        await queue.cancel(tag)
        for q in queues:
            await q.delete(if_unused=False, if_empty=False)
        return published, consumed
    finally:
        await connection.close()
