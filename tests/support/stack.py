"""A running plantrack: three uvicorn processes, a fresh vhost and databases, a real SMTP server."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.support.procs import ServiceProcess, free_port
from tests.support.smtp import SmtpServer

ADMIN_TOKEN = "e2e-admin-token"
SESSION_SECRET = "e2e-session-secret-shared-by-the-page-services"


@dataclass
class Stack:
    """The services of one end-to-end test."""

    assignments: ServiceProcess
    notifications: ServiceProcess
    reporting: ServiceProcess
    smtp: SmtpServer


@contextmanager
def running_stack(amqp_url: str, make_database: Callable[[str], str], tmp_path: Path) -> Iterator[Stack]:
    """Start the consumers first (they declare their queues), then the assignments API; stop them all on exit."""
    port = free_port()
    with SmtpServer(port) as smtp:
        env = {
            "PLANTRACK_AMQP_URL": amqp_url,
            "PLANTRACK_ASSIGNMENTS_DATABASE_URL": make_database("assignments"),
            "PLANTRACK_NOTIFICATIONS_DATABASE_URL": make_database("notifications"),
            "PLANTRACK_REPORTING_DATABASE_URL": make_database("reporting"),
            "PLANTRACK_ADMIN_TOKEN": ADMIN_TOKEN,
            "PLANTRACK_SMTP_HOST": "127.0.0.1",
            "PLANTRACK_SMTP_PORT": str(port),
            "PLANTRACK_DATA_DIR": str(tmp_path / "data"),
            "PLANTRACK_NOTIFICATIONS_SUPERVISOR_MODE": "immediate",  # these tests read the supervisor's email
            "PLANTRACK_SESSION_SECRET": SESSION_SECRET,  # one browser session cookie for every page service
        }
        procs = [ServiceProcess(n, env, tmp_path) for n in ("notifications", "reporting", "assignments")]
        notifications, reporting, assignments = procs
        links = {"PLANTRACK_ASSIGNMENTS_PUBLIC_URL": assignments.url,
                 "PLANTRACK_ASSIGNMENTS_REPORTING_PUBLIC_URL": reporting.url}  # the pages link to each other
        for p in procs:
            p.env.update(links)
        try:
            for p in procs:
                p.start()
            yield Stack(assignments=assignments, notifications=notifications, reporting=reporting, smtp=smtp)
        finally:
            for p in procs:
                p.stop()
