"""Settings every service that honours browser sessions takes (mixed into its one settings class)."""

import secrets
from datetime import timedelta

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings

from shared.identity.cookies import SessionCookies

_PROCESS_SECRET = secrets.token_bytes(32)  # without a configured secret, sessions hold in this process only


class SessionSettings(BaseSettings):
    """The session cookie's shared secret and idle timeout."""

    session_secret: str = Field(
        default="", validation_alias=AliasChoices("PLANTRACK_SESSION_SECRET"),
        description="Signs session cookies and CSRF tokens; the same value on every service that serves pages. "
                    "Empty: a random secret of this process (sessions then work on this process only).",
    )
    session_idle_minutes: int = Field(
        default=30, gt=0, validation_alias=AliasChoices("PLANTRACK_SESSION_IDLE_MINUTES"),
        description="A browser session unused this long must sign in again.",
    )

    def session_cookies(self) -> SessionCookies:
        """What sealing and opening session cookies needs."""
        secret = self.session_secret.encode() if self.session_secret else _PROCESS_SECRET
        return SessionCookies(secret, timedelta(minutes=self.session_idle_minutes))
