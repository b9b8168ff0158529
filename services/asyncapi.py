"""The AsyncAPI document of all plantrack events: who publishes what, who consumes it."""

import json
from typing import Any

from faststream.rabbit import RabbitBroker
from faststream.specification import AsyncAPI

from services.notifications import consumers as notification_consumers
from services.notifications.mailroom import Mailroom
from services.notifications.settings import NotificationsSettings
from services.reporting import consumers as reporting_consumers
from services.reporting.settings import ReportingSettings
from shared.db import make_engine
from shared.events import EVENT_TYPES
from shared.messaging.topology import EVENTS_EXCHANGE

DESCRIPTION = """Events of plantrack on the durable topic exchange `plantrack.events`.
The routing key is the event's `event_type` (`<noun>.<past_tense_verb>.v<N>`). Messages are
persistent JSON with `message_id` = `event_id` and the HTTP request id as `correlation_id`.
Every consumer queue is a quorum queue `<service>.<event_type>` that dead-letters to
`<queue>.dlq` (exchange `plantrack.dlx`) after its delivery limit."""


def build_document() -> dict[str, Any]:
    """Assemble the spec from the real subscriber registrations and one publisher per event."""
    broker = RabbitBroker("amqp://guest:guest@localhost:5672/", description="RabbitMQ of plantrack")
    for event_type, cls in sorted(EVENT_TYPES.items()):
        broker.publisher(
            routing_key=event_type, exchange=EVENTS_EXCHANGE, schema=cls, persist=True,
            title=f"assignments:{event_type}", description=(cls.__doc__ or "").strip(),
        )
    engine = make_engine("sqlite://")  # never connected: registration only
    notification_consumers.register(broker, Mailroom(engine, NotificationsSettings()), lambda: None, lambda: None)
    reporting_consumers.register(broker, engine, ReportingSettings())
    spec = AsyncAPI(broker, title="plantrack events", version="1.0.0", description=DESCRIPTION)
    return json.loads(spec.to_specification().to_json())  # type: ignore[no-any-return]


def render() -> str:
    """The document as stable, pretty JSON."""
    return json.dumps(build_document(), ensure_ascii=False, indent=2, sort_keys=True) + "\n"
