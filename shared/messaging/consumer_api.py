"""The ASGI app of a consumer service: FastAPI plus a broker that starts in the background."""

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI
from faststream.rabbit import RabbitBroker
from faststream_fastapi import FastStreamAPI
from starlette.types import Message, Receive, Scope, Send

from shared.messaging.connect import ConsumerStarter


class ConsumerAPI(FastStreamAPI):
    """A FastStreamAPI whose broker start never blocks the service and never fails silently
    (see ConsumerStarter); at shutdown it stops retrying before the broker stops."""

    def __init__(self, broker: RabbitBroker, *, application: FastAPI, starter: ConsumerStarter) -> None:
        super().__init__(broker, application=application, safe_connection=True, connection_hook=starter.hook)
        self.starter = starter

    async def lifespan(self, scope: Scope, receive: Receive, send: Send) -> None:
        """FastStreamAPI's lifespan, with the start-up retries stopped as soon as shutdown begins."""

        async def receive_and_stop() -> Message:
            message = await receive()
            if message["type"] == "lifespan.shutdown":
                await self.starter.stop()
            return message

        await super().lifespan(scope, receive_and_stop, send)


def consumer_api(
    broker: RabbitBroker, application: FastAPI, setup: Callable[[], Awaitable[Any]], *, attempt_timeout: float,
) -> ConsumerAPI:
    """Wrap `application` and `broker`; `setup` (e.g. dead-letter queues) runs before the subscribers start."""
    return ConsumerAPI(broker, application=application,
                       starter=ConsumerStarter(setup, attempt_timeout=attempt_timeout))
