"""`plantrack dlq list|show|replay|purge` over a real RabbitMQ, with the real reporting app."""

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from services.broker_cli import consumer_queues
from services.cli import main
from services.reporting import projections
from services.reporting.app import create_app
from services.reporting.models import ReportUnit
from services.reporting.settings import ReportingSettings
from shared.db import make_engine
from shared.events import UnitCreatedV1
from shared.messaging.setup import setup_broker
from tests.integration.conftest import Amqp, unit_event, wait_until
from tests.support.asgi import lifespan
from tests.support.servers import Rabbit

pytestmark = pytest.mark.integration

QUEUE = f"reporting.{UnitCreatedV1.TYPE}"
DLQ = f"{QUEUE}.dlq"


async def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    capsys.readouterr()
    code = await asyncio.to_thread(main, list(args))
    return code, capsys.readouterr().out


async def test_list_show_replay_and_purge(rabbit: Rabbit, amqp_url: str, amqp: Amqp, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    await setup_broker(amqp_url, consumer_queues(), delivery_limit=1000, rabbitmqctl=" ".join(rabbit.ctl))
    broken = {"on": True}
    apply = projections.apply_unit_created

    def sometimes(engine: Engine, event: UnitCreatedV1) -> bool:
        if broken["on"]:
            raise ValueError(f"cannot apply unit {event.payload.id}")
        return apply(engine, event)

    monkeypatch.setattr(projections, "apply_unit_created", sometimes)
    settings = ReportingSettings(amqp_url=amqp_url, data_dir=str(tmp_path), delivery_limit=2)
    engine = make_engine(settings.db_url())
    events = [unit_event(i) for i in (1, 2, 3)]
    url = ["--amqp-url", amqp_url]
    async with lifespan(create_app(settings)):
        for event in events:
            await amqp.publish(event.model_dump_json().encode(), UnitCreatedV1.TYPE, message_id=str(event.event_id))

        async def listed() -> bool:
            _, out = await cli(capsys, "dlq", "list", *url)
            return f"{DLQ}\t3" in out.splitlines()

        await wait_until(listed, "three messages parked and listed", within=20, every=0.5)

        # show leaves them where they are
        for _ in range(2):
            code, out = await cli(capsys, "dlq", "show", DLQ, "--limit", "10", *url)
            assert code == 0
            lines = out.splitlines()
            assert [line.split("\t")[0] for line in lines] == [str(e.event_id) for e in events]
            assert lines[0].split("\t")[1:] == [UnitCreatedV1.TYPE, "attempts=2", "ValueError: cannot apply unit 1"]

        # replay one, once the bug is fixed: it is applied, the others stay parked
        broken["on"] = False
        code, out = await cli(capsys, "dlq", "replay", DLQ, "--id", str(events[0].event_id), *url)
        assert code == 0 and "replayed 1" in out
        await wait_until(lambda: _unit(engine, 1), "unit 1 applied after the replay")
        code, out = await cli(capsys, "dlq", "show", DLQ, *url)
        assert [line.split("\t")[0] for line in out.splitlines()] == [str(e.event_id) for e in events[1:]]

        # purge one by id, then replay the rest
        code, out = await cli(capsys, "dlq", "purge", DLQ, "--id", str(events[1].event_id), *url)
        assert code == 0 and "purged 1" in out
        code, out = await cli(capsys, "dlq", "replay", DLQ, *url)
        assert "replayed 1" in out
        await wait_until(lambda: _unit(engine, 3), "unit 3 applied after the replay")
        assert not _unit(engine, 2)
        assert await amqp.leftovers(DLQ) == []

        # purge everything
        broken["on"] = True
        await amqp.publish(unit_event(4).model_dump_json().encode(), UnitCreatedV1.TYPE, message_id="four")
        await amqp.take(DLQ, 0, settle=0)
        await wait_until(listed_one(capsys, url), "the fourth parked", within=20, every=0.5)
        code, out = await cli(capsys, "dlq", "purge", DLQ, *url)
        assert code == 0
        assert await amqp.leftovers(DLQ) == []
    engine.dispose()


def listed_one(capsys: pytest.CaptureFixture[str], url: list[str]):  # type: ignore[no-untyped-def]
    async def check() -> bool:
        _, out = await cli(capsys, "dlq", "show", DLQ, *url)
        return len(out.splitlines()) == 1

    return check


def _unit(engine: Engine, unit_id: int) -> bool:
    with Session(engine) as session:
        return session.get(ReportUnit, unit_id) is not None
