"""Who is told about an event: pure rules over the directory."""

from collections.abc import Iterable
from dataclasses import dataclass

from services.notifications.models import DirectoryOfficial, DirectoryUnit
from services.notifications.rules import Audience

SUPERVISING_KINDS = frozenset({"bloc_committee", "advisory_board"})


def root_of(unit_id: int, units: dict[int, DirectoryUnit]) -> int:
    """The top of the tree the unit belongs to."""
    seen: set[int] = set()
    current = unit_id
    while current in units and units[current].parent_id is not None and current not in seen:
        seen.add(current)
        current = units[current].parent_id  # type: ignore[assignment]
    return current


def supervisors_for(
    unit_id: int, units: dict[int, DirectoryUnit], officials: Iterable[DirectoryOfficial],
    *, exclude_official_id: int | None = None,
) -> list[DirectoryOfficial]:
    """Active supervisors of the committee or advisory boards in the same tree as `unit_id`,
    plus supervisors of the unit's own ancestors; one per email address, the reporter left out."""
    root = root_of(unit_id, units)
    ancestors: set[int] = set()
    current = units.get(unit_id)
    while current is not None and current.parent_id is not None and current.parent_id not in ancestors:
        ancestors.add(current.parent_id)
        current = units.get(current.parent_id)
    chosen: dict[str, DirectoryOfficial] = {}
    for official in sorted(officials, key=lambda o: o.id):
        if not official.active or official.role != "supervisor" or official.unit_id is None:
            continue
        if official.id == exclude_official_id:
            continue
        unit = units.get(official.unit_id)
        if unit is None:
            continue
        in_tree = root_of(unit.id, units) == root and unit.kind in SUPERVISING_KINDS
        if in_tree or unit.id in ancestors:
            chosen.setdefault(official.email.lower(), official)
    return list(chosen.values())


def unit_officers(unit_ids: Iterable[int], officials: Iterable[DirectoryOfficial]) -> list[DirectoryOfficial]:
    """Active unit officers of the given units, in the units' order; one per email address."""
    by_unit: dict[int, list[DirectoryOfficial]] = {}
    for official in sorted(officials, key=lambda o: o.id):
        if official.active and official.role == "unit_officer" and official.unit_id is not None:
            by_unit.setdefault(official.unit_id, []).append(official)
    chosen: dict[str, DirectoryOfficial] = {}
    for unit_id in unit_ids:
        for official in by_unit.get(unit_id, []):
            chosen.setdefault(official.email.lower(), official)
    return list(chosen.values())


@dataclass(frozen=True)
class Recipient:
    """Someone an email is written for: an official, or a unit's own mailbox."""

    email: str
    name: str
    title: str
    unit_id: int | None
    official_id: int | None  # None: the unit's mailbox
    role: str

    @property
    def key(self) -> int:
        """Whose preferences apply: the official's id, or minus the unit's id for its mailbox."""
        return self.official_id if self.official_id is not None else -(self.unit_id or 0)

    @classmethod
    def official(cls, o: DirectoryOfficial) -> "Recipient":
        """An official as a recipient."""
        return cls(o.email, o.name, o.title, o.unit_id, o.id, o.role)


def audience(
    who: Audience, unit_id: int, units: dict[int, DirectoryUnit], officials: Iterable[DirectoryOfficial],
    *, exclude_official_id: int | None = None,
) -> list[Recipient]:
    """The recipients a rule with audience `who` writes to about `unit_id` (empty: nobody reachable)."""
    if who is Audience.SUPERVISORS:
        return [Recipient.official(o) for o in
                supervisors_for(unit_id, units, officials, exclude_official_id=exclude_official_id)]
    officers = [Recipient.official(o) for o in unit_officers([unit_id], officials)]
    unit = units.get(unit_id)
    if not officers and unit is not None and unit.email:
        return [Recipient(unit.email, unit.name, "", unit.id, None, "unit_mailbox")]
    return officers
