"""The key signing unsubscribe links: from settings, or generated once and kept in the database so
that every replica signs and verifies alike."""

import secrets

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from services.notifications.models import SigningKey

UNSUBSCRIBE = "unsubscribe"


def unsubscribe_key(engine: Engine, configured: str) -> bytes:
    """The configured secret, else the stored one (created by whichever replica asks first)."""
    if configured:
        return configured.encode()
    with Session(engine) as session:
        row = session.get(SigningKey, UNSUBSCRIBE)
        if row is not None:
            return row.value.encode()
        session.add(SigningKey(name=UNSUBSCRIBE, value=secrets.token_urlsafe(32)))
        try:
            session.commit()
        except IntegrityError:
            session.rollback()
    with Session(engine) as session:
        stored = session.get(SigningKey, UNSUBSCRIBE)
        assert stored is not None
        return stored.value.encode()


def rotate_unsubscribe_key(engine: Engine) -> None:
    """Replace the stored key: every unsubscribe link sent so far stops working."""
    with Session(engine) as session:
        row = session.get(SigningKey, UNSUBSCRIBE) or SigningKey(name=UNSUBSCRIBE, value="")
        row.value = secrets.token_urlsafe(32)
        session.add(row)
        session.commit()
