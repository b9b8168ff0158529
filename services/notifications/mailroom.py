"""What handlers and the scanner share: the database and the stationery emails are written on."""

import time
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from services.notifications.dispatch import Stationery
from services.notifications.keys import unsubscribe_key
from services.notifications.preferences import Defaults, Mode
from services.notifications.settings import NotificationsSettings

KEY_TTL = 60.0  # seconds a stored key is trusted before it is read again (a rotation takes that long)


@dataclass
class Mailroom:
    """The engine, the settings, and the stationery (its key read lazily, once the schema exists)."""

    engine: Engine
    settings: NotificationsSettings
    _paper: Stationery | None = field(default=None, init=False)
    _read_at: float = field(default=0.0, init=False)

    def paper(self) -> Stationery:
        """The stationery, with the current unsubscribe key."""
        if self._paper is None or time.monotonic() - self._read_at > KEY_TTL:
            s = self.settings
            self._paper = Stationery(
                place=s.place, public_url=s.public_url, unsubscribe_url=s.unsubscribe_url,
                key=unsubscribe_key(self.engine, s.unsubscribe_secret), tz=ZoneInfo(s.timezone),
                defaults=Defaults(s.digest_hour, Mode(s.supervisor_mode)),
            )
            self._read_at = time.monotonic()
        return self._paper

    @property
    def tz(self) -> ZoneInfo:
        """The service's time zone."""
        return ZoneInfo(self.settings.timezone)
