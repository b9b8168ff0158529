"""Throwaway RabbitMQ vhosts and PostgreSQL databases for one test or benchmark run.

Names carry the creating process id, so a later run can drop what a killed run left behind.
"""

import os
import re
import subprocess
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

import psycopg
from sqlalchemy.engine import make_url

PREFIX = "plantrack_test"


def _stale(name: str, prefix: str) -> bool:
    """True for a `<prefix>_<pid>_…` name whose process is gone."""
    m = re.match(rf"^{prefix}_(\d+)_[0-9a-f]+", name)
    return m is not None and not _alive(int(m.group(1)))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def run_name(prefix: str = PREFIX) -> str:
    """A unique name for this process's resources."""
    return f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"


@dataclass
class Rabbit:
    """A RabbitMQ server, and how to run rabbitmqctl against it."""

    url: str  # amqp://user:pass@host:port/  (default vhost)
    ctl: Sequence[str] = ("rabbitmqctl",)
    created: list[str] = field(default_factory=list)

    def _ctl(self, *args: str) -> str:
        return subprocess.run([*self.ctl, "-q", *args], check=True, capture_output=True, text=True,
                              timeout=60).stdout

    def vhost_url(self, vhost: str) -> str:
        """The AMQP URL of `vhost` on this server."""
        return self.url.rstrip("/") + "/" + vhost

    def create_vhost(self, name: str) -> str:
        """Create a vhost with full rights for the URL's user; return its AMQP URL."""
        user = make_url(self.url.replace("amqp://", "postgresql://", 1)).username or "guest"
        self._ctl("add_vhost", name)
        self._ctl("set_permissions", "-p", name, user, ".*", ".*", ".*")
        self.created.append(name)
        return self.vhost_url(name)

    def delete_vhost(self, name: str) -> None:
        """Drop a vhost and everything in it."""
        subprocess.run([*self.ctl, "-q", "delete_vhost", name], capture_output=True, timeout=60)

    def drop_stale(self, prefix: str = PREFIX) -> None:
        """Drop the `prefix` vhosts whose creating process is gone."""
        for line in self._ctl("list_vhosts", "name").split():
            if _stale(line, prefix):
                self.delete_vhost(line)


@dataclass
class Postgres:
    """A PostgreSQL server reachable with an admin URL (SQLAlchemy form)."""

    admin_url: str  # postgresql+psycopg://postgres@127.0.0.1:5432/postgres
    created: list[str] = field(default_factory=list)

    def _conninfo(self) -> str:
        return make_url(self.admin_url).set(drivername="postgresql").render_as_string(hide_password=False)

    def _execute(self, sql: str) -> list[tuple]:
        with psycopg.connect(self._conninfo(), autocommit=True) as conn:
            cur = conn.execute(sql)
            return cur.fetchall() if cur.description else []

    def url_for(self, database: str) -> str:
        """SQLAlchemy URL of `database` on this server."""
        return make_url(self.admin_url).set(database=database).render_as_string(hide_password=False)

    def create_database(self, name: str) -> str:
        """Create an empty database; return its URL."""
        self._execute(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        return self.url_for(name)

    def drop_database(self, name: str) -> None:
        """Drop a database, disconnecting its sessions."""
        self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def drop_stale(self, prefix: str = PREFIX) -> None:
        """Drop the `prefix` databases whose creating process is gone."""
        for (name,) in self._execute("SELECT datname FROM pg_database"):
            if _stale(name, prefix):
                self.drop_database(name)
