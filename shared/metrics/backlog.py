"""Scrape-time gauges of a table of rows waiting to be sent (the outbox, outgoing emails)."""

import logging
import math
from collections.abc import Iterator
from typing import Any

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import ColumnElement, Engine, func, select
from sqlmodel import Session, SQLModel

from shared.events.base import as_utc, utcnow

log = logging.getLogger("plantrack.metrics")


class Backlog(Collector):
    """`plantrack_<name>_backlog` (unsent rows) and `plantrack_<name>_oldest_age_seconds` (age of the
    oldest, 0 when none), read with one query per scrape; NaN while the database does not answer."""

    def __init__(self, engine: Engine, model: type[SQLModel], name: str, *,
                 where: tuple[ColumnElement[bool], ...] = ()) -> None:
        self.engine = engine
        self.model = model
        self.name = name
        self.where = where

    def read(self) -> tuple[float, float]:
        """(unsent rows, age in seconds of the oldest); the condition is the due rows' partial index's."""
        m: Any = self.model
        query = select(func.count(), func.min(m.created_at)).where(m.sent_at.is_(None), *self.where)
        with Session(self.engine) as session:
            count, oldest = session.execute(query).one()
        age = max(0.0, (utcnow() - as_utc(oldest)).total_seconds()) if oldest is not None else 0.0
        return float(count or 0), age

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """The two gauges, as of now."""
        try:
            count, age = self.read()
        except Exception as exc:  # noqa: BLE001 - a scrape must not fail while the database is down
            log.warning("metrics: could not read the %s backlog", self.name, extra={"error": repr(exc)[:300]})
            count = age = math.nan
        yield GaugeMetricFamily(f"plantrack_{self.name}_backlog", f"Unsent rows in the {self.name} table.",
                                value=count)
        yield GaugeMetricFamily(f"plantrack_{self.name}_oldest_age_seconds",
                                f"Age of the oldest unsent {self.name} row (0 when none).", value=age)
