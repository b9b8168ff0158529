"""The identity tables each consuming service keeps in its own database."""

from datetime import datetime

from sqlalchemy import Column, DateTime
from sqlmodel import Field, SQLModel


class IdentityUnit(SQLModel, table=True):
    """A node of the unit tree: enough to compute a caller's scope."""

    __tablename__ = "identity_units"

    id: int = Field(primary_key=True)
    parent_id: int | None = None
    kind: str = Field(max_length=40)


class IdentityOfficial(SQLModel, table=True):
    """An official's role, unit and active flag, as the latest event said."""

    __tablename__ = "identity_officials"

    id: int = Field(primary_key=True)
    role: str = Field(max_length=20)
    unit_id: int | None = None
    active: bool = True
    as_of: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False),
                            description="occurred_at of the event that set this row; older events are ignored.")


class IdentityToken(SQLModel, table=True):
    """A bearer token's hash; a revoked token stays revoked whatever arrives after."""

    __tablename__ = "identity_tokens"

    id: int = Field(primary_key=True)
    official_id: int = Field(index=True)
    token_hash: str = Field(max_length=64, unique=True)
    expires_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))
    revoked_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))


class IdentitySession(SQLModel, table=True):
    """A browser session's hash; an ended session stays ended whatever arrives after."""

    __tablename__ = "identity_sessions"

    id: int = Field(primary_key=True)
    official_id: int = Field(index=True)
    session_hash: str = Field(max_length=64, unique=True)
    expires_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    ended_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))


IDENTITY_TABLES = (IdentityUnit.__table__, IdentityOfficial.__table__, IdentityToken.__table__,  # type: ignore[attr-defined]
                   IdentitySession.__table__)  # type: ignore[attr-defined]
