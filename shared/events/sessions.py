"""Events of browser sign-in: an emailed one-time link, and the web sessions it opens."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.events.base import Event


class _Payload(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class SigninLinkPayload(_Payload):
    """A one-time sign-in link to email to an official: the link itself travels (the notifications
    service must send it), valid until `expires_at` and once only."""

    official_id: int
    name: str = Field(examples=["Nguyễn Thị Lan"])
    title: str = Field(default="", examples=["Trưởng ban"])
    email: str = Field(examples=["lan.nt@travinh.gov.vn"])
    link: str = Field(description="The one-time sign-in URL (secret until used or expired).",
                      examples=["https://plantrack.example.vn/signin/0123456789abcdef"])
    expires_at: datetime


class WebSessionPayload(_Payload):
    """A browser session as the page-serving services need it: only its SHA-256 travels."""

    id: int
    official_id: int
    session_hash: str = Field(pattern=r"^[0-9a-f]{64}$", description="SHA-256 of the session token, hex.",
                              examples=["9f86d081884c7d659a2feaea0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a0"])
    expires_at: datetime = Field(description="Absolute end of the session, whatever its activity.")
    ended_at: datetime | None = Field(default=None, description="Set once ended; ending is final.")


class SigninLinkRequestedV1(Event):
    """An official asked for a sign-in link by email."""

    event_type: Literal["signin_link.requested.v1"] = "signin_link.requested.v1"
    payload: SigninLinkPayload

    def redacted(self) -> "SigninLinkRequestedV1":
        """The event without its link, for keeping."""
        return self.model_copy(update={"payload": self.payload.model_copy(update={"link": ""})})


class WebSessionStartedV1(Event):
    """An official signed in: a browser session started."""

    event_type: Literal["web_session.started.v1"] = "web_session.started.v1"
    payload: WebSessionPayload


class WebSessionEndedV1(Event):
    """A browser session ended (signed out, ended by an admin, or the official was deactivated)."""

    event_type: Literal["web_session.ended.v1"] = "web_session.ended.v1"
    payload: WebSessionPayload
