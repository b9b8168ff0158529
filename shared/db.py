"""Database engines, sessions and migrations, shared by every service."""

import fcntl
import os
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, Executable, Table, event, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import make_url
from sqlmodel import Session, SQLModel, create_engine

M = TypeVar("M", bound=SQLModel)


def sqlite_default_url(service: str, data_dir: str = "data") -> str:
    """Embedded default: a SQLite file per service under `data_dir`."""
    path = Path(data_dir).resolve()
    path.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path / f'{service}.db'}"


class DataDirLocked(SystemExit):
    """Another process already uses this SQLite database: this one must not start."""

    # A SystemExit, so that `uvicorn --factory` and `plantrack relay` stop with the message alone
    # (exit code 1) instead of a traceback, and no `except Exception` can swallow it.


_locks: dict[Path, tuple[int, int]] = {}  # lock file -> (open fd, engines of this process using it)
_locks_guard = threading.Lock()


def _holder(path: Path) -> str:
    try:
        return path.read_text(encoding="ascii").strip() or "unknown"
    except OSError:
        return "unknown"


def acquire_data_dir_lock(url: str) -> Path | None:
    """Lock the SQLite file of `url` for this process (`<data dir>/<service>.lock`); return the
    lock file, or None when there is nothing to lock (PostgreSQL, an in-memory database).

    Two processes on one SQLite data directory would both run the outbox relay and the mail
    worker over the same rows; on PostgreSQL FOR UPDATE SKIP LOCKED keeps them apart instead.
    Engines of one process share the lock; it is released when the last of them is collected.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    database = Path(parsed.database).resolve()
    path = database.with_name(f"{database.stem}.lock")
    with _locks_guard:
        if path in _locks:
            fd, count = _locks[path]
            _locks[path] = (fd, count + 1)
            return path
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise DataDirLocked(
                f"another plantrack process (pid {_holder(path)}) already uses {database.name} in the "
                f"data directory {database.parent} (lock {path}); stop it, or give this process its "
                f"own PLANTRACK_DATA_DIR, or use PostgreSQL to run several"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode("ascii"))
        _locks[path] = (fd, 1)
        return path


def release_data_dir_lock(path: Path) -> None:
    """Drop one engine's hold on a lock taken by `acquire_data_dir_lock`; the last one unlocks."""
    with _locks_guard:
        if path not in _locks:
            return
        fd, count = _locks[path]
        if count > 1:
            _locks[path] = (fd, count - 1)
            return
        del _locks[path]
        os.close(fd)  # closing the only descriptor releases the flock


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """Build an engine; SQLite gets WAL, foreign keys, memory-mapped reads, a busy timeout and the
    data-dir lock."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        lock = acquire_data_dir_lock(url)
        engine = create_engine(
            url, echo=echo, connect_args={"check_same_thread": False, "timeout": 30}
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            # reads of whole tables (progress, exports) through the page cache's copies were twice as slow
            cur.execute("PRAGMA mmap_size=268435456")
            cur.close()

        if lock is not None:
            weakref.finalize(engine, release_data_dir_lock, lock)
        return engine
    # bounded waits: a database that does not answer fails a request in seconds (503), never hangs it
    return create_engine(url, echo=echo, pool_pre_ping=True, pool_size=10, max_overflow=10, pool_timeout=5,
                         connect_args={"connect_timeout": 5} if parsed.get_backend_name() == "postgresql" else {})


def is_postgres(engine: Engine) -> bool:
    """True when the engine talks to PostgreSQL (enables SKIP LOCKED and friends)."""
    return engine.dialect.name == "postgresql"


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def _insert(dialect: str) -> Any:
    """The dialect's INSERT, the one with ON CONFLICT."""
    return pg_insert if dialect == "postgresql" else sqlite_insert


def insert_missing(session: Session, row: SQLModel) -> None:
    """Insert `row` unless a row with its primary key exists (or is being inserted by a concurrent
    transaction, which this waits for): two consumers creating the same row do not collide."""
    table = row.__table__  # type: ignore[attr-defined]
    values = {c.name: getattr(row, c.name) for c in table.columns}
    session.execute(_insert(session.get_bind().dialect.name)(table).values(**values).on_conflict_do_nothing())


@cache
def insert_new(dialect: str, table: Table) -> Executable:
    """`insert_missing` as a prepared statement for hot paths (compiled once, values bound per call):
    INSERT into `table` unless its key is there, returning the key (no row: it was there)."""
    return _insert(dialect)(table).on_conflict_do_nothing().returning(  # type: ignore[no-any-return]
        *table.primary_key.columns)


def lock_or_insert(session: Session, row: M) -> M:
    """The stored row with `row`'s primary key, inserted from `row` if missing, locked for the
    rest of the transaction."""
    insert_missing(session, row)
    key = tuple(getattr(row, c.name) for c in row.__table__.primary_key.columns)  # type: ignore[attr-defined]
    found = session.get(type(row), key if len(key) > 1 else key[0], with_for_update=True, populate_existing=True)
    assert found is not None
    return found


def migrate(url: str, migrations_dir: Path) -> None:
    """Bring the database at `url` to the latest schema (alembic upgrade head)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    command.upgrade(cfg, "head")


def ping(engine: Engine) -> None:
    """Raise if the database cannot answer a trivial query."""
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
