"""The directory clock: every unit and official change gets the next number, every other event the
number it was raised under, so consumers can tell whether they hold the directory an event needs."""

from sqlalchemy import ScalarSelect, update
from sqlmodel import Session, col, select

from services.assignments.models import DirectoryClock
from shared.events.base import Event

DIRECTORY_EVENTS = frozenset({"unit.created.v1", "unit.updated.v1", "official.created.v1", "official.updated.v1"})


def stamp(session: Session, event: Event) -> Event:
    """`event` with its directory version; a directory event takes the next one (the row stays locked
    until the transaction ends, so numbers are gap-free and in commit order)."""
    if event.event_type in DIRECTORY_EVENTS:
        version = session.execute(
            update(DirectoryClock).where(col(DirectoryClock.id) == 1)
            .values(version=col(DirectoryClock.version) + 1).returning(col(DirectoryClock.version))
        ).scalar_one()
    else:
        clock = session.get(DirectoryClock, 1)
        version = clock.version if clock is not None else 0
    return event.model_copy(update={"directory_version": version or None})


def current_version() -> ScalarSelect[int]:
    """The clock's number as a column of the caller's query: what a non-directory event raised from
    the data that query reads is stamped with (`stamp`'s number, read in the same snapshot)."""
    return select(col(DirectoryClock.version)).where(col(DirectoryClock.id) == 1).scalar_subquery()
