"""Claiming time-based occasions: the claim rows and the emails they cover commit together."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import Session

from services.notifications.models import Occasion
from shared.db import session_scope


@contextmanager
def claiming(engine: Engine, keys: list[str], now: datetime) -> Iterator[Session]:
    """A transaction that first claims `keys`: IntegrityError (nothing written) if another
    process or pass claimed one already, or is claiming it now."""
    with session_scope(engine) as session:
        session.add_all([Occasion(key=key, claimed_at=now) for key in keys])
        session.flush()
        yield session
