"""Reading, replaying and purging the dead-letter queues (`plantrack dlq …`)."""

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage, AbstractQueue

from shared.messaging.broker import BROKER_HEADERS
from shared.messaging.guard import (
    ATTEMPTS_HEADER,
    DELIVERIES_HEADER,
    ERROR_HEADER,
    ORIGINAL_USER_HEADER,
    SOURCE_QUEUE_HEADER,
    header_int,
    header_text,
)
from shared.messaging.topology import DLQ_SUFFIX, retry_exchange_name, service_of

# set when a copy is parked; a replayed message starts over without them
_PARKING_HEADERS = (ATTEMPTS_HEADER, DELIVERIES_HEADER, ERROR_HEADER, SOURCE_QUEUE_HEADER)


@dataclass(frozen=True)
class DeadLetter:
    """What an operator needs to know about one parked message."""

    event_id: str
    event_type: str
    error: str
    attempts: int
    source_queue: str


def describe(message: AbstractIncomingMessage, dlq: str) -> DeadLetter:
    """The parked message's event id and type (from its properties, else its body), the reason it was
    parked (our header, else RabbitMQ's x-death) and its attempts."""
    headers = message.headers or {}
    event_id, event_type = message.message_id or "", message.type or ""
    if not (event_id and event_type):
        try:
            body = json.loads(message.body)
        except ValueError:
            body = None
        if isinstance(body, dict):
            event_id = event_id or str(body.get("event_id", ""))
            event_type = event_type or str(body.get("event_type", ""))
    error = headers.get(ERROR_HEADER)
    if not isinstance(error, str | bytes):
        reason = headers.get("x-first-death-reason")
        reason = reason.decode() if isinstance(reason, bytes) else reason
        error = f"dead-lettered by RabbitMQ: {reason}" if reason else ""
    elif isinstance(error, bytes):
        error = error.decode("utf-8", "replace")
    return DeadLetter(
        event_id=header_text(event_id, 100), event_type=header_text(event_type, 100), error=header_text(error),
        attempts=header_int(headers, ATTEMPTS_HEADER), source_queue=source_queue(message, dlq),
    )


def source_queue(message: AbstractIncomingMessage, dlq: str) -> str:
    """The queue a parked message came from: `<queue>.dlq` holds only `<queue>`'s messages."""
    return dlq[: -len(DLQ_SUFFIX)] if dlq.endswith(DLQ_SUFFIX) else dlq


@asynccontextmanager
async def _channel(amqp_url: str) -> AsyncIterator[AbstractChannel]:
    connection = await aio_pika.connect(amqp_url)
    try:
        yield await connection.channel(publisher_confirms=True, on_return_raises=True)
    finally:
        await connection.close()


async def _drain(queue: AbstractQueue) -> AsyncIterator[AbstractIncomingMessage]:
    """Every message in `queue`, each got once and left unacked (basic.get until empty)."""
    while (message := await queue.get(no_ack=False, fail=False)) is not None:
        yield message


async def counts(amqp_url: str, dlqs: list[str]) -> dict[str, int | None]:
    """Each dead-letter queue's message count (None when it does not exist). RabbitMQ 3.10 reports a
    quorum queue's count with a short lag; `show` reads the messages themselves."""
    result: dict[str, int | None] = {}
    connection = await aio_pika.connect(amqp_url)
    try:
        for name in dlqs:
            channel = await connection.channel()
            try:
                declared = await channel.declare_queue(name, passive=True)
                result[name] = declared.declaration_result.message_count
            except aio_pika.exceptions.ChannelClosed:
                result[name] = None
            else:
                await channel.close()
    finally:
        await connection.close()
    return result


async def show(amqp_url: str, dlq: str, *, limit: int = 20) -> list[DeadLetter]:
    """Up to `limit` parked messages, left in the queue: each is got without an ack and all are
    nacked back (requeued) at the end. Their order stays; the dead-letter queues have no delivery
    limit, so the redelivery this counts does nothing."""
    found: list[DeadLetter] = []
    async with _channel(amqp_url) as channel:
        queue = await channel.declare_queue(dlq, passive=True)
        held: list[AbstractIncomingMessage] = []
        try:
            async for message in _drain(queue):
                held.append(message)
                found.append(describe(message, dlq))
                if len(found) >= limit:
                    break
        finally:
            for message in held:
                await message.nack(requeue=True)
    return found


def replay_copy(message: AbstractIncomingMessage) -> aio_pika.Message:
    """The message as its producer published it, attempts reset; it still names its producer."""
    headers: dict[str, Any] = {k: v for k, v in (message.headers or {}).items()
                               if k not in BROKER_HEADERS and k not in _PARKING_HEADERS}
    if ORIGINAL_USER_HEADER not in headers and message.user_id:
        # parked by RabbitMQ (delivery limit): the message still has its producer's user_id
        headers[ORIGINAL_USER_HEADER] = message.user_id
    return aio_pika.Message(
        message.body, headers=headers, content_type=message.content_type,
        content_encoding=message.content_encoding, delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        message_id=message.message_id, correlation_id=message.correlation_id, type=message.type,
        timestamp=message.timestamp,
    )


async def replay(amqp_url: str, dlq: str, *, event_id: str | None = None) -> list[str]:
    """Move parked messages (all, or those of `event_id`) back to their queue through its service's
    retry exchange; each is acked from the dead-letter queue only after RabbitMQ confirmed its copy.
    Returns the replayed event ids. A message that fails again and comes back during the replay is
    left for the next one."""
    replayed: list[str] = []
    async with _channel(amqp_url) as channel:
        queue = await channel.declare_queue(dlq, passive=True)
        held: list[AbstractIncomingMessage] = []
        seen: set[str] = set()
        try:
            async for message in _drain(queue):
                key = message.message_id or ""
                if (event_id is not None and key != event_id) or (key and key in seen):
                    held.append(message)
                    if key in seen:
                        break  # it failed again and was parked anew: stop here
                    continue
                target = source_queue(message, dlq)
                exchange = await channel.get_exchange(retry_exchange_name(service_of(target)))
                await exchange.publish(replay_copy(message), routing_key=target, mandatory=True)
                await message.ack()
                seen.add(key)
                replayed.append(key)
        finally:
            for message in held:
                await message.nack(requeue=True)
    return replayed


async def purge(amqp_url: str, dlq: str, *, event_id: str | None = None) -> int:
    """Drop parked messages: all, or only those of `event_id`. Returns how many were dropped."""
    async with _channel(amqp_url) as channel:
        queue = await channel.declare_queue(dlq, passive=True)
        if event_id is None:
            return await _purge_all(queue)
        dropped = 0
        held: list[AbstractIncomingMessage] = []
        try:
            async for message in _drain(queue):
                if message.message_id == event_id:
                    await message.ack()
                    dropped += 1
                else:
                    held.append(message)
        finally:
            for message in held:
                await message.nack(requeue=True)
        return dropped


async def _purge_all(queue: AbstractQueue) -> int:
    result = await queue.purge()
    return int(getattr(result, "message_count", 0) or 0)
