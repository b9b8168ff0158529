"""Rebuilding the reporting read model from its event archive, while the service keeps serving.

Every event reporting consumes is kept in `event_archive`, in the transaction of its inbox row.
A rebuild replays the archive, in `occurred_at` order, through the projections the consumers use,
into a scratch copy (a temporary schema of the same PostgreSQL database, or a temporary SQLite
file), then swaps the copy into the live read-model tables in one transaction (delete all, insert
the copy's rows): readers see the old model or the new one, never a mix. During the swap the
archive is locked (on SQLite: the database's write lock), so consumers wait; the events they
committed while the copy was being built are replayed into it first, so none is lost.

Limits:
- events consumed before the archive existed (before reporting migration 0006) are not in it; a
  rebuild would lose what they brought, so it refuses when the inbox has such events, unless
  `allow_partial` is given;
- the identity tables (who may call the service), the inbox and the archive itself are left
  as they are: only the read-model tables are rebuilt;
- on SQLite the consumers wait for the whole swap (one writer at a time); the copy is built
  outside it;
- events and rows are streamed in batches; what stays in memory is the set of replayed event ids
  (to find the events consumers committed meanwhile), about 100 bytes per archived event.
"""

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from uuid import UUID, uuid4

from sqlalchemy import Connection, Engine, Table, exists, func, select, text
from sqlalchemy import create_engine as sa_create_engine
from sqlalchemy.engine import make_url
from sqlmodel import SQLModel

from services.reporting.models import EventArchive, ReportingModel
from services.reporting.projections import CONSUMER, PROJECTIONS
from shared.db import is_postgres, make_engine
from shared.events import parse_event
from shared.identity.models import IDENTITY_TABLES
from shared.messaging.inbox import ProcessedEvent

ARCHIVE: Table = EventArchive.__table__  # type: ignore[attr-defined]
INBOX: Table = ProcessedEvent.__table__  # type: ignore[attr-defined]
READ_MODEL: list[Table] = [t for t in ReportingModel.metadata.sorted_tables if t.name != ARCHIVE.name]
"""The tables a rebuild replaces."""


class RebuildRefused(Exception):
    """The archive misses events the live read model has applied."""


@dataclass
class RebuildResult:
    """What a rebuild replayed and the rows each read-model table has now."""

    events: int = 0
    late_events: int = 0
    rows: dict[str, int] = field(default_factory=dict)


def open_live(url: str) -> Engine:
    """An engine on the live reporting database. On SQLite it does not take the data-directory
    lock the running service holds: a rebuild writes in transactions, as a consumer does."""
    if make_url(url).get_backend_name() != "sqlite":
        return make_engine(url)
    return sa_create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})


def not_archived(engine: Engine) -> int:
    """How many events the inbox says reporting applied that the archive does not have."""
    with engine.connect() as conn:
        return conn.execute(
            select(func.count()).select_from(INBOX).where(
                INBOX.c.consumer == CONSUMER, ~exists().where(ARCHIVE.c.event_id == INBOX.c.event_id))
        ).scalar_one()


@contextmanager
def _scratch(engine: Engine) -> Iterator[Engine]:
    """An empty copy of the reporting schema to build into, dropped afterwards."""
    others = [INBOX, *IDENTITY_TABLES]
    if is_postgres(engine):
        schema = f"reporting_rebuild_{uuid4().hex[:12]}"
        with engine.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        try:
            translated: Engine = engine.execution_options(schema_translate_map={None: schema})
            ReportingModel.metadata.create_all(translated, checkfirst=False)
            SQLModel.metadata.create_all(translated, tables=others, checkfirst=False)
            yield translated
        finally:
            with engine.begin() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        return
    with tempfile.TemporaryDirectory(prefix="plantrack-rebuild-") as folder:
        scratch = sa_create_engine(f"sqlite:///{folder}/reporting.db", connect_args={"check_same_thread": False})
        try:
            ReportingModel.metadata.create_all(scratch)
            SQLModel.metadata.create_all(scratch, tables=others)
            yield scratch
        finally:
            scratch.dispose()


BATCH = 1000
"""Archived events read, and copied rows written, per round trip: memory stays flat however long the history."""


def _apply(scratch: Engine, body: str) -> int:
    """Apply one archived event to `scratch`: 1 if a projection took it, else 0."""
    event = parse_event(body)
    projection = PROJECTIONS.get(event.event_type)
    if projection is None:
        return 0
    projection(scratch, event)
    return 1


def _replay(conn: Connection, scratch: Engine, done: set[UUID]) -> int:
    """Apply to `scratch`, in occurred_at order, every archived event (recording each in `done`)."""
    count = 0
    rows = conn.execute(select(ARCHIVE.c.event_id, ARCHIVE.c.body)
                        .order_by(ARCHIVE.c.occurred_at, ARCHIVE.c.event_id).execution_options(yield_per=BATCH))
    for event_id, body in rows:
        done.add(event_id)
        count += _apply(scratch, body)
    return count


def _replay_late(conn: Connection, scratch: Engine, done: set[UUID]) -> int:
    """Apply to `scratch` the events archived since _replay read the archive (not in `done`)."""
    ids = conn.execute(select(ARCHIVE.c.event_id).execution_options(yield_per=BATCH * 10))
    late = [event_id for (event_id,) in ids if event_id not in done]
    count = 0
    for i in range(0, len(late), BATCH):
        rows = conn.execute(select(ARCHIVE.c.body).where(ARCHIVE.c.event_id.in_(late[i:i + BATCH]))
                            .order_by(ARCHIVE.c.occurred_at, ARCHIVE.c.event_id))
        count += sum(_apply(scratch, body) for (body,) in rows)
    done.update(late)
    return count


def _copy(source: Connection, live: Connection, table: Table) -> int:
    """Insert every row of `table` from the scratch copy into the live database, a batch at a time."""
    copied = 0
    for rows in source.execute(table.select().execution_options(yield_per=BATCH)).partitions():
        live.execute(table.insert(), [dict(r._mapping) for r in rows])
        copied += len(rows)
    return copied


def rebuild(engine: Engine, *, allow_partial: bool = False) -> RebuildResult:
    """Rebuild the read model of the live database `engine` from its archive (see the module)."""
    missing = not_archived(engine)
    if missing and not allow_partial:
        raise RebuildRefused(
            f"{missing} events were applied before the event archive existed; a rebuild would lose "
            f"what they brought (pass allow_partial / --allow-partial to rebuild anyway)")
    result = RebuildResult()
    done: set[UUID] = set()
    with _scratch(engine) as scratch:
        with engine.connect() as conn:
            result.events = _replay(conn, scratch, done)
        with engine.begin() as live:
            if is_postgres(engine):  # consumers write the archive first: they wait here, or are done
                live.execute(text(f"LOCK TABLE {ARCHIVE.name} IN EXCLUSIVE MODE"))
            for table in reversed(READ_MODEL):  # on SQLite, the first delete takes the write lock
                live.execute(table.delete())
            result.late_events = _replay_late(live, scratch, done)
            result.events += result.late_events
            with scratch.connect() as source:
                for table in READ_MODEL:
                    result.rows[table.name] = _copy(source, live, table)
    return result
