"""Poison handling through the real app factories over RabbitMQ: the consumer counts attempts itself
(independent of how RabbitMQ counts deliveries), and a dependency that is down is waited out, never
counted against the message."""

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import Engine, func
from sqlalchemy.engine import make_url
from sqlmodel import Session, select

from services.broker_cli import consumer_queues
from services.notifications.app import create_app as notifications_app
from services.notifications.models import OutgoingEmail
from services.notifications.settings import NotificationsSettings
from services.reporting import projections
from services.reporting.app import create_app as reporting_app
from services.reporting.models import ReportUnit
from services.reporting.settings import ReportingSettings
from shared.db import make_engine
from shared.events import AssignmentStatusChangedV1, Event, OfficialCreatedV1, UnitCreatedV1
from shared.messaging.guard import ATTEMPTS_HEADER, ERROR_HEADER, SOURCE_QUEUE_HEADER
from shared.messaging.setup import setup_broker
from tests.integration.conftest import Amqp, status_event, unit_event, wait_until
from tests.support.asgi import lifespan
from tests.support.servers import Postgres, Rabbit
from tests.unit.test_consumers_testbroker import BLOC, BOARD, CELL, OFFICIALS, OTHER_BLOC
from tests.unit.test_consumers_testbroker import status_event as notifications_status_event

pytestmark = pytest.mark.integration


async def publish(amqp: Amqp, event: Event) -> None:
    await amqp.publish(event.model_dump_json().encode(), event.event_type, message_id=str(event.event_id),
                       correlation_id=event.correlation_id)


def rows(engine: Engine, model: type) -> int:
    with Session(engine) as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


async def test_an_always_failing_message_is_parked_after_exactly_n_attempts(
        rabbit: Rabbit, amqp_url: str, amqp: Amqp, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # RabbitMQ's own limit (a policy) is 1: were the consumer still nacking, RabbitMQ would
    # dead-letter at its second delivery, without a reason
    await setup_broker(amqp_url, consumer_queues(), delivery_limit=1, rabbitmqctl=" ".join(rabbit.ctl))
    calls: list[str] = []

    def explode(engine: Engine, event: AssignmentStatusChangedV1) -> None:
        calls.append(str(event.event_id))
        raise RuntimeError("projection exploded: ứng dụng")

    monkeypatch.setattr(projections, "apply_status_changed", explode)
    settings = ReportingSettings(amqp_url=amqp_url, data_dir=str(tmp_path), delivery_limit=4)
    queue = f"reporting.{AssignmentStatusChangedV1.TYPE}"
    async with lifespan(reporting_app(settings)):
        event = status_event()
        await publish(amqp, event)
        [parked] = await amqp.take(f"{queue}.dlq", 1, within=20)
        await asyncio.sleep(0.5)
        assert calls == [str(event.event_id)] * 4
    assert parked.message_id == str(event.event_id)
    assert parked.headers[ATTEMPTS_HEADER] == 4
    assert parked.headers[ERROR_HEADER] == r"RuntimeError: projection exploded: \u1ee9ng d\u1ee5ng"
    assert parked.headers[SOURCE_QUEUE_HEADER] == queue
    assert "x-death" not in parked.headers  # type: ignore[operator]
    assert await amqp.leftovers(queue) == []


async def test_a_database_outage_loses_nothing(
        rabbit: Rabbit, amqp_url: str, amqp: Amqp, pg_url: str, postgres: Postgres,
        capfd: pytest.CaptureFixture[str]) -> None:
    await setup_broker(amqp_url, consumer_queues(), delivery_limit=1000, rabbitmqctl=" ".join(rabbit.ctl))
    database = make_url(pg_url).database
    settings = ReportingSettings(amqp_url=amqp_url, database_url=pg_url, delivery_limit=3)
    queue = f"reporting.{UnitCreatedV1.TYPE}"
    engine = make_engine(pg_url)
    try:
        async with lifespan(reporting_app(settings)):
            postgres._execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS false')
            postgres._execute(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{database}'")
            for i in range(1, 6):
                await publish(amqp, unit_event(i))
            # far longer than 3 attempts with backoff (0.2 + 0.4 + 0.8 s): nothing is dead-lettered
            await asyncio.sleep(6)
            assert await amqp.leftovers(f"{queue}.dlq", settle=0) == []
            postgres._execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS true')
            await wait_until(lambda: rows(engine, ReportUnit) == 5, "every unit is applied", within=30)
        assert await amqp.leftovers(f"{queue}.dlq") == []
        out, err = capfd.readouterr()
        warnings = [line for line in (out + err).splitlines() if '"logger": "plantrack.messaging"' in line]
        waits = [m for m in warnings if '"msg": "dependency unavailable' in m]
        assert 1 <= len(waits) <= 5  # one per message that had to wait, not one per attempt
        assert len([m for m in warnings if '"msg": "dependency back' in m]) == len(waits)
    finally:
        postgres._execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS true')
        engine.dispose()


async def test_an_event_waits_for_its_dependency_instead_of_being_dead_lettered(
        rabbit: Rabbit, amqp_url: str, amqp: Amqp, tmp_path: Path) -> None:
    await setup_broker(amqp_url, consumer_queues(), delivery_limit=1000, rabbitmqctl=" ".join(rabbit.ctl))
    settings = NotificationsSettings(amqp_url=amqp_url, data_dir=str(tmp_path), delivery_limit=2,
                                     smtp_host="127.0.0.1", smtp_port=9, supervisor_mode="immediate")
    queue = f"notifications.{AssignmentStatusChangedV1.TYPE}"
    engine = make_engine(settings.db_url())
    async with lifespan(notifications_app(settings)):
        # the unit's status changed before this service heard of the unit: DirectoryNotReady
        await publish(amqp, notifications_status_event())
        await asyncio.sleep(3)  # well past 2 attempts with backoff
        assert await amqp.leftovers(f"{queue}.dlq", settle=0) == []
        # the officials first: the units are what the waiting event checks for, so once they are
        # there the supervisors to email are too
        for official in OFFICIALS:
            await publish(amqp, OfficialCreatedV1(payload=official))
        await asyncio.sleep(1)
        for unit in (BLOC, BOARD, CELL, OTHER_BLOC):
            await publish(amqp, UnitCreatedV1(payload=unit))
        await wait_until(lambda: rows(engine, OutgoingEmail) == 2, "the supervisors' emails are queued", within=20)
    engine.dispose()
    assert await amqp.leftovers(f"{queue}.dlq") == []
