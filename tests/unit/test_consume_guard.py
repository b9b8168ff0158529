"""The consumer middleware's checks: producer user, safe correlation ids, header-safe reasons."""

from faststream.rabbit import TestRabbitBroker
from faststream.rabbit.annotations import RabbitMessage

from shared.events import EVENT_TYPES, UnitCreatedV1, UnitPayload
from shared.logging import correlation_id_var
from shared.messaging.broker import make_broker
from shared.messaging.guard import ProducerCheck, amqp_user, header_text, safe_correlation_id
from shared.messaging.outbox import outbox_row
from shared.messaging.publisher import outbox_publisher
from shared.messaging.topology import EVENTS_EXCHANGE, consumer_queue


def test_producer_check() -> None:
    check = ProducerCheck.single("assignments")
    assert all(check.refusal(t, "assignments") is None for t in EVENT_TYPES)
    assert str(check.refusal("unit.created.v1", None)).startswith("ForgedEvent: no user_id")
    assert "'guest' is not the producer" in str(check.refusal("unit.created.v1", "guest"))
    assert str(check.refusal("plan.deleted.v9", "assignments")).startswith("UnknownEventType")


def test_safe_text() -> None:
    assert amqp_user("amqp://notifications:pw@rabbitmq:5672/") == "notifications"
    assert amqp_user("amqp://127.0.0.1/") == "guest"
    assert safe_correlation_id("req-1:a.b_C") == "req-1:a.b_C"
    assert safe_correlation_id("req\r\nBcc: x@y") == "req__Bcc:_x_y"
    assert safe_correlation_id(None) == "" and len(safe_correlation_id("x" * 500)) == 100
    assert header_text("Lỗi\r\ndòng hai\x00") == "L\\u1ed7i d\\xf2ng hai "


async def test_the_handler_sees_a_safe_correlation_id() -> None:
    broker = make_broker("amqp://guest:guest@127.0.0.1:5672/")
    seen: list[tuple[str, str, str]] = []

    @broker.subscriber(consumer_queue("svc", UnitCreatedV1.TYPE, delivery_limit=3), EVENTS_EXCHANGE)
    async def handle(event: UnitCreatedV1, message: RabbitMessage) -> None:
        seen.append((event.correlation_id, message.correlation_id, correlation_id_var.get()))

    event = UnitCreatedV1(correlation_id="req-1\r\nX-Evil: yes",
                          payload=UnitPayload(id=1, code="U1", name="Chi bộ 1", kind="party_cell"))
    async with TestRabbitBroker(broker) as br:
        await outbox_publisher(br)(outbox_row(event))
    assert seen == [("req-1__X-Evil:_yes",) * 3]
