"""The directory as of an event: recipients are computed from the units and officials the producer
had when it raised the event, whatever order the events arrive in.

Directory events (unit.* and official.*) carry a gap-free `directory_version`; each is logged here.
An event raised under version N is handled once versions 1..N are all here, from the log as it
stood at N: an official created or deactivated after the event does not change who receives it.
Events from before directory versions existed (None), and the scanner's occasions, use the current
directory.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from weakref import WeakKeyDictionary

from sqlalchemy import Connection, Engine, func
from sqlmodel import Session, col, select

from services.notifications.models import DirectoryEntry, DirectoryOfficial, DirectoryUnit
from shared.events import Event, OfficialCreatedV1, OfficialUpdatedV1, UnitCreatedV1, UnitUpdatedV1
from shared.messaging.errors import DependencyNotReady


class DirectoryNotReady(DependencyNotReady):
    """The event needs a part of the directory this service has not heard of yet (a directory
    event up to its version, or a unit it names); retry after the directory fills."""


@dataclass(frozen=True)
class Directory:
    """Units by id and officials, as of one moment."""

    units: dict[int, DirectoryUnit]
    officials: list[DirectoryOfficial]


def record(session: Session, event: UnitCreatedV1 | UnitUpdatedV1 | OfficialCreatedV1 | OfficialUpdatedV1) -> None:
    """Log a numbered directory event (a duplicate is a no-op)."""
    if event.directory_version is None or session.get(DirectoryEntry, event.directory_version) is not None:
        return
    if isinstance(event, UnitCreatedV1 | UnitUpdatedV1):
        u = event.payload
        entry = DirectoryEntry(version=event.directory_version, event_type=event.event_type, unit_id=u.id,
                               code=u.code, name=u.name, kind=u.kind, parent_id=u.parent_id, email=u.email or "")
    else:
        o = event.payload
        entry = DirectoryEntry(version=event.directory_version, event_type=event.event_type, official_id=o.id,
                               name=o.name, email=o.email, title=o.title, official_unit_id=o.unit_id,
                               role=o.role, active=o.active)
    session.add(entry)


def current(session: Session) -> Directory:
    """The directory as it stands now."""
    return Directory({u.id: u for u in session.exec(select(DirectoryUnit)).all()},
                     list(session.exec(select(DirectoryOfficial)).all()))


# The directory as of a version never changes once all its events are here (the log is gap-free and
# append-only), so each version's is read once per process and database, not once per event.
_versions: WeakKeyDictionary[Engine | Connection, dict[int, Directory]] = WeakKeyDictionary()
VERSIONS_KEPT = 64  # per database (events mostly come under the newest versions)


def as_of(session: Session, event: Event, unit_ids: Iterable[int] = ()) -> Directory:
    """The directory `event` was raised under, holding `unit_ids` (DirectoryNotReady until it is here)."""
    version = event.directory_version
    if version is None:
        return _holding(current(session), unit_ids)
    kept = _versions.setdefault(session.get_bind(), {})
    found = kept.get(version)
    if found is None:
        found = kept[version] = _read(session, version)
        while len(kept) > VERSIONS_KEPT:
            kept.pop(next(iter(kept)), None)
    return _holding(found, unit_ids)


def _read(session: Session, version: int) -> Directory:
    """The directory as of `version`, from the log (DirectoryNotReady while versions are missing)."""
    known = session.scalar(select(func.count()).select_from(DirectoryEntry)
                           .where(col(DirectoryEntry.version) <= version)) or 0
    if known < version:
        raise DirectoryNotReady(f"directory version {version} needed, {known} of its events here")
    units: dict[int, DirectoryUnit] = {}
    officials: dict[int, DirectoryOfficial] = {}
    entries = session.exec(select(DirectoryEntry).where(col(DirectoryEntry.version) <= version)
                           .order_by(col(DirectoryEntry.version))).all()
    for e in entries:
        if e.unit_id is not None:
            units[e.unit_id] = DirectoryUnit(id=e.unit_id, code=e.code, name=e.name, kind=e.kind,
                                             parent_id=e.parent_id, email=e.email)
        elif e.official_id is not None:
            officials[e.official_id] = DirectoryOfficial(
                id=e.official_id, name=e.name, email=e.email, title=e.title, unit_id=e.official_unit_id,
                role=e.role, active=e.active)
    return Directory(units, list(officials.values()))


def _holding(found: Directory, unit_ids: Iterable[int]) -> Directory:
    missing = sorted(set(unit_ids) - set(found.units))
    if missing:
        raise DirectoryNotReady(f"units {missing} not in the directory yet")
    return found
