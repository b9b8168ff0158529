"""Time the notifications mail sender: N queued emails to a local SMTP server (aiosmtpd).

The sender is built as the service builds it (`SmtpSender` and the `DueRowWorker` settings of
services/notifications/app.py), on SQLite, or on PostgreSQL when PLANTRACK_TEST_PG_URL is set.

    .venv/bin/python scripts/bench_mail.py [-n 500] [--json]
"""

import argparse
import asyncio
import json
import os
import socket
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from services.notifications.app import MIGRATIONS, mail_sender  # noqa: E402
from services.notifications.mailer import SmtpPool  # noqa: E402
from services.notifications.models import OutgoingEmail  # noqa: E402
from services.notifications.settings import NotificationsSettings  # noqa: E402
from shared.db import make_engine, migrate, session_scope  # noqa: E402
from shared.messaging.relay import pending_count  # noqa: E402
from tests.support.servers import Postgres, run_name  # noqa: E402
from tests.support.smtp import SmtpServer  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def email(n: int) -> OutgoingEmail:
    event_id = uuid.uuid4()
    return OutgoingEmail(event_id=event_id, event_type="assignment.status_changed.v1",
                         recipient=f"can-bo-{n}@travinh.gov.vn", recipient_name="Nguyễn Thị Lan",
                         subject="[41-KH/ĐUK] Chi bộ Sở Tài chính cập nhật nhiệm vụ III.1", body="Nội dung " * 80,
                         html="<p>Nội dung</p>" * 80, message_id=f"<{event_id}@plantrack.example.org>")


async def drain(url: str, n: int, data_dir: str) -> float:
    """Emails a second the sender delivers from a queue of `n`."""
    port = free_port()
    settings = NotificationsSettings(smtp_port=port, data_dir=data_dir)
    await asyncio.to_thread(migrate, url, MIGRATIONS)
    engine = make_engine(url)
    with session_scope(engine) as session:
        session.add_all(email(i) for i in range(n))
    sender = SmtpPool(settings, settings.smtp_connections)
    worker = mail_sender(engine, sender, settings)
    stop = asyncio.Event()
    with SmtpServer(port):
        started = time.perf_counter()
        task = asyncio.create_task(worker.run(stop))
        while await asyncio.to_thread(pending_count, engine, OutgoingEmail):  # noqa: ASYNC110 - the table is what we watch
            await asyncio.sleep(0.02)
        elapsed = time.perf_counter() - started
        stop.set()
        await task
        await sender.close()
    engine.dispose()
    return n / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=500)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        pg_url = os.environ.get("PLANTRACK_TEST_PG_URL")
        if pg_url:
            postgres, name = Postgres(pg_url), run_name()
            url = postgres.create_database(name)
            try:
                rate = asyncio.run(drain(url, args.n, tmp))
            finally:
                postgres.drop_database(name)
        else:
            rate = asyncio.run(drain(f"sqlite:///{tmp}/notifications.db", args.n, tmp))
    result = {"emails": args.n, "database": "postgresql" if pg_url else "sqlite", "emails_per_s": round(rate, 1)}
    print(json.dumps(result) if args.json else f"{args.n} emails ({result['database']}): {result['emails_per_s']}/s")


if __name__ == "__main__":
    main()
