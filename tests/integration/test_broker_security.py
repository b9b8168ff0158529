"""Only the producer can publish events: one RabbitMQ user per service (deploy/broker-users.sh),
the relay stamps the AMQP user_id (RabbitMQ validates it), and the real consumer apps dead-letter
any event whose user_id is not the producer's — over the real broker, through create_app."""

import asyncio
import os
import secrets
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit

import aio_pika
import aiormq
import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from services.notifications.app import create_app as notifications_app
from services.notifications.models import DirectoryOfficial
from services.notifications.settings import NotificationsSettings
from services.reporting.app import create_app as reporting_app
from services.reporting.models import ReportAssignment
from services.reporting.settings import ReportingSettings
from shared.db import make_engine
from shared.events import Event, OfficialCreatedV1, OfficialPayload, OfficialUpdatedV1
from shared.messaging.broker import make_broker
from shared.messaging.guard import ERROR_HEADER
from shared.messaging.outbox import outbox_row
from shared.messaging.publisher import connect_until_stopped, outbox_publisher
from shared.messaging.topology import EVENTS_EXCHANGE_NAME
from tests.integration.conftest import Amqp, status_event, wait_until
from tests.support.asgi import lifespan
from tests.support.servers import Rabbit, run_name

pytestmark = pytest.mark.integration

SCRIPT = Path(__file__).resolve().parents[2] / "deploy" / "broker-users.sh"
SERVICES = ("assignments", "notifications", "reporting")


@dataclass
class BrokerUsers:
    """The three service users the deploy script made in this test's vhost."""

    names: dict[str, str]
    urls: dict[str, str]


@pytest.fixture(scope="module")
def vhost(rabbit: Rabbit) -> Iterator[str]:
    """One vhost for this module's tests (users are server-wide: making them per test is slow)."""
    name = run_name()
    rabbit.create_vhost(name)
    yield name
    rabbit.delete_vhost(name)


@pytest.fixture
def amqp_url(rabbit: Rabbit, vhost: str) -> str:
    """The module's vhost, as the guest (administrator) sees it."""
    return rabbit.vhost_url(vhost)


@pytest.fixture(scope="module")
def broker_users(rabbit: Rabbit, vhost: str) -> Iterator[BrokerUsers]:
    """Run deploy/broker-users.sh (twice: it must be idempotent) for throwaway users of the vhost."""
    prefix = run_name()
    names = {s: f"{prefix}_{s}" for s in SERVICES}
    passwords = {s: secrets.token_hex(12) for s in SERVICES}
    env = {**os.environ, "RABBITMQCTL": " ".join(rabbit.ctl), "PLANTRACK_AMQP_VHOST": vhost}
    for s in SERVICES:
        env[f"PLANTRACK_AMQP_USER_{s.upper()}"] = names[s]
        env[f"PLANTRACK_AMQP_PASSWORD_{s.upper()}"] = passwords[s]
    try:
        for _ in range(2):
            subprocess.run(["bash", str(SCRIPT)], env=env, check=True, capture_output=True, timeout=120)
        host = urlsplit(rabbit.url).netloc.rpartition("@")[2]
        urls = {s: f"amqp://{quote(names[s])}:{passwords[s]}@{host}/{vhost}" for s in SERVICES}
        yield BrokerUsers(names, urls)
    finally:
        for name in names.values():
            subprocess.run([*rabbit.ctl, "-q", "delete_user", name], capture_output=True, timeout=60)


async def _publish_as(url: str, *, user_id: str | None = None) -> None:
    """Publish one event to plantrack.events as the user of `url`, with publisher confirms."""
    connection = await aio_pika.connect(url)
    try:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await channel.get_exchange(EVENTS_EXCHANGE_NAME, ensure=False)
        event = status_event(version=1000, progress=100, status="completed")
        await exchange.publish(aio_pika.Message(event.model_dump_json().encode(), user_id=user_id),
                               routing_key=event.event_type, timeout=10)
    finally:
        await connection.close()


@pytest.mark.parametrize("consumer", ["notifications", "reporting"])
async def test_a_consumer_user_cannot_publish_events(broker_users: BrokerUsers, amqp: Amqp, consumer: str) -> None:
    await amqp.events_exchange()
    with pytest.raises(aiormq.exceptions.ChannelAccessRefused, match="ACCESS_REFUSED"):
        await _publish_as(broker_users.urls[consumer])


async def test_the_relay_stamps_its_user_and_rabbitmq_refuses_a_false_one(
    broker_users: BrokerUsers, amqp: Amqp,
) -> None:
    tap = await amqp.bind("tap", "#")
    broker = make_broker(broker_users.urls["assignments"])
    assert await connect_until_stopped(broker, asyncio.Event())
    try:
        event = status_event()
        await outbox_publisher(broker)(outbox_row(event))
    finally:
        await broker.stop()
    [message] = await amqp.take(tap.name, 1)
    assert message.user_id == broker_users.names["assignments"]

    # the assignments user may publish, but only as itself
    with pytest.raises(aiormq.exceptions.ChannelPreconditionFailed, match="user_id"):
        await _publish_as(broker_users.urls["assignments"], user_id=broker_users.names["reporting"])


async def _dead_lettered(amqp: Amqp, queue: str, n: int) -> list[aio_pika.abc.AbstractIncomingMessage]:
    return await amqp.take(f"{queue}.dlq", n, within=10, settle=0.3)


async def test_reporting_dead_letters_forged_events_and_keeps_its_read_model(
    broker_users: BrokerUsers, amqp: Amqp, tmp_path: Path,
) -> None:
    settings = ReportingSettings(amqp_url=broker_users.urls["reporting"], data_dir=str(tmp_path),
                                 events_producer_user=broker_users.names["assignments"])
    app = reporting_app(settings)
    engine = make_engine(settings.db_url())
    relay = make_broker(broker_users.urls["assignments"])
    async with lifespan(app):  # consumes as its own restricted user: the permissions suffice
        assert await connect_until_stopped(relay, asyncio.Event())
        genuine = status_event(version=2, progress=40)
        await outbox_publisher(relay)(outbox_row(genuine))
        await wait_until(lambda: _assignment(engine).version == 2, "the genuine event is applied")

        started = time.monotonic()
        # the admin (guest) impersonates the producer: no user_id, then its own user_id
        forged = status_event(version=1000, progress=100, status="completed")
        body = forged.model_dump_json().encode()
        await amqp.publish(body, forged.event_type, message_id="forged-no-user", user_id=None)
        await amqp.publish(body, forged.event_type, message_id="forged-guest")
        parked = await _dead_lettered(amqp, f"reporting.{forged.event_type}", 2)
        assert time.monotonic() - started < 5
        await relay.stop()
    reasons = {m.message_id: m.headers[ERROR_HEADER] for m in parked}
    assert set(reasons) == {"forged-no-user", "forged-guest"}
    assert str(reasons["forged-no-user"]).startswith("ForgedEvent: no user_id")
    assert "'guest' is not the producer" in str(reasons["forged-guest"])
    assert all(m.body == body for m in parked)
    row = _assignment(engine)
    assert (row.version, row.progress, row.status) == (2, 40, "in_progress")
    assert await amqp.leftovers(f"reporting.{forged.event_type}") == []
    engine.dispose()


def _assignment(engine: Engine) -> ReportAssignment:
    with Session(engine) as session:
        return session.get(ReportAssignment, 7) or ReportAssignment(id=7, plan_id=0, task_id=0, unit_id=0)


def _official(i: int, email: str) -> OfficialPayload:
    return OfficialPayload(id=i, name="Nguyễn Thị Lan", email=email, unit_id=1, role="supervisor")


async def test_notifications_dead_letters_a_forged_official_update(
    broker_users: BrokerUsers, amqp: Amqp, tmp_path: Path,
) -> None:
    settings = NotificationsSettings(amqp_url=broker_users.urls["notifications"], data_dir=str(tmp_path),
                                     events_producer_user=broker_users.names["assignments"],
                                     smtp_port=9)
    app = notifications_app(settings)
    engine = make_engine(settings.db_url())
    relay = make_broker(broker_users.urls["assignments"])

    def email() -> str | None:
        with Session(engine) as session:
            row = session.get(DirectoryOfficial, 5)
            return row.email if row else None

    async with lifespan(app):
        assert await connect_until_stopped(relay, asyncio.Event())
        created: Event = OfficialCreatedV1(payload=_official(5, "lan@travinh.gov.vn"))
        await outbox_publisher(relay)(outbox_row(created))
        await wait_until(lambda: email() == "lan@travinh.gov.vn", "the genuine official is recorded")
        forged = OfficialUpdatedV1(payload=_official(5, "attacker@example.com"))
        await amqp.publish(forged.model_dump_json().encode(), forged.event_type, message_id="forged")
        [parked] = await _dead_lettered(amqp, f"notifications.{forged.event_type}", 1)
        await relay.stop()
    assert "ForgedEvent" in str(parked.headers[ERROR_HEADER])
    assert email() == "lan@travinh.gov.vn"
    engine.dispose()

