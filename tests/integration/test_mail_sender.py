"""`plantrack mail-sender` in a process of its own: an email staged by the notifications service
(another process) is sent at once, woken by PostgreSQL NOTIFY, and the sender serves /ready and
/metrics on its port."""

import asyncio
import time
import uuid
from pathlib import Path

import httpx
import pytest
from sqlmodel import Session, select

from services.bench.scrape import parse
from services.notifications.app import MIGRATIONS
from services.notifications.models import OutgoingEmail
from services.notifications.sender import run_sender
from services.notifications.settings import NotificationsSettings
from shared.db import make_engine, migrate, session_scope
from tests.integration.conftest import wait_until
from tests.support.procs import free_port
from tests.support.smtp import SmtpServer

pytestmark = pytest.mark.integration


async def test_a_staged_email_is_sent_at_once_by_a_sender_that_polls_once_a_minute(
    pg_url: str, tmp_path: Path,
) -> None:
    smtp_port, http_port = free_port(), free_port()
    settings = NotificationsSettings(database_url=pg_url, smtp_host="127.0.0.1", smtp_port=smtp_port,
                                     data_dir=str(tmp_path), send_poll_interval=60, sender_port=http_port,
                                     metrics_token="m-token")
    migrate(pg_url, MIGRATIONS)
    engine = make_engine(pg_url)
    stop = asyncio.Event()
    with SmtpServer(smtp_port) as server:
        task = asyncio.create_task(run_sender(settings, stop))
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{http_port}") as client:
                await wait_until(lambda: _ready(client), "the sender's /ready")
                await asyncio.sleep(0.5)  # its first claim found nothing: it now sleeps for a minute
                sent_before = await _sent(client)
                staged = time.monotonic()
                event_id = uuid.uuid4()
                with session_scope(engine) as session:  # as the notifications consumer stages one
                    session.add(OutgoingEmail(
                        event_id=event_id, event_type="assignment.status_changed.v1", recipient="lan@example.vn",
                        recipient_name="Nguyễn Thị Lan", subject="[41-KH/ĐUK] Cập nhật", body="Nội dung",
                        message_id=f"<{event_id}@plantrack.example.org>"))
                await wait_until(lambda: len(server.mailbox.snapshot()) == 1, "the email", within=10)
                assert time.monotonic() - staged < 2.0, "woken by the commit, not by its minute's poll"
                with Session(engine) as session:
                    assert session.exec(select(OutgoingEmail)).one().sent_at is not None
                assert (await client.get("/metrics")).status_code == 401
                assert await _sent(client) == sent_before + 1
                metrics = parse((await client.get("/metrics", headers=METRICS_AUTH)).text)
                assert metrics.value("plantrack_email_backlog") == 0
        finally:
            stop.set()
            await task
            engine.dispose()


METRICS_AUTH = {"Authorization": "Bearer m-token"}


async def _sent(client: httpx.AsyncClient) -> float:
    """Emails sent so far, as the sender's /metrics says (the counter is the process's)."""
    return parse((await client.get("/metrics", headers=METRICS_AUTH)).text).value("plantrack_emails_sent_total")


async def _ready(client: httpx.AsyncClient) -> bool:
    try:
        return (await client.get("/ready", timeout=1)).status_code == 200
    except httpx.HTTPError:
        return False
