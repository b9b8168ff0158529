"""A running plantrack: three uvicorn processes, a fresh vhost and databases, a real SMTP server."""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.procs import ServiceProcess, free_port
from tests.support.smtp import SmtpServer

ADMIN_TOKEN = "e2e-admin-token"


@dataclass
class Stack:
    """The services of one end-to-end test."""

    assignments: ServiceProcess
    notifications: ServiceProcess
    reporting: ServiceProcess
    smtp: SmtpServer


@pytest.fixture
def stack(make_vhost: Callable[[], str], make_database: Callable[[str], str], tmp_path: Path) -> Iterator[Stack]:
    """Start the consumers first (they declare their queues), then the assignments API."""
    port = free_port()
    with SmtpServer(port) as smtp:
        env = {
            "PLANTRACK_AMQP_URL": make_vhost(),
            "PLANTRACK_ASSIGNMENTS_DATABASE_URL": make_database("assignments"),
            "PLANTRACK_NOTIFICATIONS_DATABASE_URL": make_database("notifications"),
            "PLANTRACK_REPORTING_DATABASE_URL": make_database("reporting"),
            "PLANTRACK_ADMIN_TOKEN": ADMIN_TOKEN,
            "PLANTRACK_SMTP_HOST": "127.0.0.1",
            "PLANTRACK_SMTP_PORT": str(port),
            "PLANTRACK_DATA_DIR": str(tmp_path / "data"),
            "PLANTRACK_NOTIFICATIONS_SUPERVISOR_MODE": "immediate",  # these tests read the supervisor's email
        }
        procs = [ServiceProcess(n, env, tmp_path) for n in ("notifications", "reporting", "assignments")]
        try:
            for p in procs:
                p.start()
            yield Stack(assignments=procs[2], notifications=procs[0], reporting=procs[1], smtp=smtp)
        finally:
            for p in procs:
                p.stop()
