"""How each official wants to be emailed: immediately or in a daily digest, and what is muted."""

from dataclasses import dataclass
from enum import StrEnum

from sqlmodel import Session

from services.notifications.models import Preference
from services.notifications.recipients import Recipient
from services.notifications.rules import Category
from shared.events.base import utcnow


class Mode(StrEnum):
    """Immediate emails, or one digest a day."""

    IMMEDIATE = "immediate"
    DIGEST = "digest"


@dataclass(frozen=True)
class Defaults:
    """What applies to whoever chose nothing (from settings)."""

    digest_hour: int = 7
    supervisor_mode: Mode = Mode.DIGEST

    def mode(self, role: str) -> Mode:
        """Low noise by default: supervisors, who hear from many units, get a digest; units hear at once."""
        return self.supervisor_mode if role == "supervisor" else Mode.IMMEDIATE


@dataclass(frozen=True)
class Effective:
    """The preferences that apply to one recipient, stored or default."""

    mode: Mode
    digest_hour: int
    muted: frozenset[str]
    stored: bool

    def wants(self, category: Category) -> bool:
        """False when the category is muted (a muted digest silences what a digest would carry)."""
        return category not in self.muted and not (self.mode is Mode.DIGEST and Category.DIGEST in self.muted)


def effective(session: Session, recipient: Recipient, defaults: Defaults) -> Effective:
    """The recipient's stored preferences, or the defaults of its role."""
    return of_key(session, recipient.key, recipient.role, defaults)


def of_key(session: Session, key: int, role: str, defaults: Defaults) -> Effective:
    """Preferences by key (an official's id, minus a unit's id for its mailbox)."""
    row = session.get(Preference, key)
    if row is None:
        return Effective(defaults.mode(role), defaults.digest_hour, frozenset(), stored=False)
    return Effective(Mode(row.mode), row.digest_hour, frozenset(row.muted), stored=True)


def store(session: Session, key: int, mode: Mode, digest_hour: int, muted: list[str]) -> Preference:
    """Write the recipient's choices (muted categories kept in a stable order)."""
    row = session.get(Preference, key, with_for_update=True) or Preference(official_id=key)
    row.mode, row.digest_hour = mode, digest_hour
    row.muted = sorted(set(muted))
    row.updated_at = utcnow()
    session.add(row)
    return row


def mute(session: Session, key: int, category: str, role: str, defaults: Defaults) -> Preference:
    """Mute one category, keeping everything else as it was (or as the defaults were)."""
    current = of_key(session, key, role, defaults)
    return store(session, key, current.mode, current.digest_hour, [*current.muted, category])
