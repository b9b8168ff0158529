"""The envelope every plantrack event carries."""

from datetime import UTC, datetime
from typing import ClassVar
from uuid import UUID, uuid4

from pydantic import BaseModel, ConfigDict, Field


def utcnow() -> datetime:
    """Return the current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """`moment` with its time zone: SQLite gives back naive datetimes, which plantrack stores in UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class Event(BaseModel):
    """Base of all integration events: identity, type, time and correlation, then the payload.

    Subclasses pin `event_type` with a Literal and declare `payload`. The type string is also
    the routing key on the `plantrack.events` exchange.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    TYPE: ClassVar[str]

    event_id: UUID = Field(default_factory=uuid4, description="Unique id; consumers dedupe on it.")
    event_type: str = Field(description="`<noun>.<past_tense_verb>.v<N>`; also the routing key.")
    occurred_at: datetime = Field(default_factory=utcnow, description="When the change committed.")
    correlation_id: str = Field(
        default="", description="Id of the HTTP request that caused the change; follows it to the email and logs."
    )
    producer: str = Field(default="assignments", description="Service that emitted the event.")
    directory_version: int | None = Field(
        default=None, ge=1,
        description="Where the producer's directory (units and officials) stood: a directory event "
                    "(unit.created, unit.updated, official.created, official.updated) carries its own number, "
                    "gap-free from 1; any other event the number of directory changes committed before it. A consumer "
                    "that needs the directory as of an event waits until it holds every directory event up "
                    "to this number. None: published before directory versions existed.",
    )

    def redacted(self) -> "Event":
        """The event as it may be kept after its effect (an event carrying a secret leaves it out)."""
        return self

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: object) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        field = cls.model_fields.get("event_type")
        if field is not None and field.default not in (None, ""):
            cls.TYPE = str(field.default)
