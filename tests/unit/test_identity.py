"""One identity across the services: the scope rule, and tokens learnt from events (SQLite)."""

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from services.reporting import app as reporting_app
from services.reporting import projections
from shared.db import make_engine, migrate
from shared.events import (
    ApiTokenIssuedV1,
    ApiTokenPayload,
    ApiTokenRevokedV1,
    OfficialCreatedV1,
    OfficialPayload,
    OfficialUpdatedV1,
    UnitCreatedV1,
    UnitPayload,
)
from shared.events.base import utcnow
from shared.identity.auth import authenticate, hash_token
from shared.identity.scope import visible_units

# DUK ─ BTG (board), A, B (cells); KDN ─ X
TREE = {1: (None, "bloc_committee"), 2: (1, "advisory_board"), 3: (1, "party_cell"), 4: (1, "party_cell"),
        10: (None, "bloc_committee"), 11: (10, "party_cell")}


@pytest.mark.parametrize(("role", "unit_id", "expected"), [
    ("admin", None, None),
    ("unit_officer", 3, {3}),
    ("supervisor", 2, {1, 2, 3, 4}),  # a board serves its parent committee
    ("observer", 1, {1, 2, 3, 4}),
    ("supervisor", 3, {3}),  # a supervisor of a cell sees the cell's own subtree
    ("supervisor", 11, {11}),
    ("supervisor", 99, set()),  # unknown unit: nothing
    ("unit_officer", None, set()),
    ("stranger", 1, set()),
])
def test_visible_units(role: str, unit_id: int | None, expected: set[int] | None) -> None:
    found = visible_units(role, unit_id, TREE)
    assert (None if found is None else set(found)) == expected


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    url = f"sqlite:///{tmp_path}/reporting.db"
    migrate(url, reporting_app.MIGRATIONS)
    engine = make_engine(url)
    yield engine
    engine.dispose()


TOKEN = "pt_secret-token"


def token_event(cls: type[ApiTokenIssuedV1] | type[ApiTokenRevokedV1] = ApiTokenIssuedV1, *, id: int = 5,
                official_id: int = 7, revoked: bool = False, expires_in: timedelta | None = None,
                token: str = TOKEN) -> ApiTokenIssuedV1 | ApiTokenRevokedV1:
    now = utcnow()
    return cls(payload=ApiTokenPayload(
        id=id, official_id=official_id, token_hash=hash_token(token),
        expires_at=now + expires_in if expires_in is not None else None, revoked_at=now if revoked else None))


def official_event(cls: type[OfficialCreatedV1] | type[OfficialUpdatedV1] = OfficialCreatedV1, *,
                   role: str = "unit_officer", unit_id: int | None = 3, active: bool = True,
                   at_offset: timedelta = timedelta(0)) -> OfficialCreatedV1 | OfficialUpdatedV1:
    return cls(occurred_at=utcnow() + at_offset, payload=OfficialPayload(
        id=7, name="Trần Văn Bình", email="binh@example.vn", unit_id=unit_id, role=role, active=active))


def load_tree(engine: Engine) -> None:
    for unit_id, (parent_id, kind) in TREE.items():
        projections.apply_unit_created(engine, UnitCreatedV1(payload=UnitPayload(
            id=unit_id, code=f"U{unit_id}", name=f"Đơn vị {unit_id}", kind=kind, parent_id=parent_id)))


def who(engine: Engine, token: str = TOKEN) -> tuple[str, int | None, set[int] | None] | None:
    with Session(engine) as session:
        p = authenticate(session, token)
    return None if p is None else (p.role, p.unit_id, None if p.scope is None else set(p.scope))


def test_a_token_from_events_authenticates_with_the_officials_scope(engine: Engine) -> None:
    load_tree(engine)
    assert who(engine) is None
    projections.apply_token(engine, token_event())
    assert who(engine) is None  # the official is not known yet
    projections.apply_official(engine, official_event())
    assert who(engine) == ("unit_officer", 3, {3})
    assert who(engine, "pt_another") is None


def test_revocation_is_final_even_when_it_overtakes_the_issue(engine: Engine) -> None:
    load_tree(engine)
    projections.apply_official(engine, official_event())
    projections.apply_token(engine, token_event(ApiTokenRevokedV1, revoked=True))
    projections.apply_token(engine, token_event())  # the issue event arrives late, from its own queue
    assert who(engine) is None


def test_expired_token_is_refused(engine: Engine) -> None:
    load_tree(engine)
    projections.apply_official(engine, official_event())
    projections.apply_token(engine, token_event(expires_in=timedelta(seconds=-1)))
    assert who(engine) is None
    projections.apply_token(engine, token_event(id=6, token="pt_other", expires_in=timedelta(days=1)))
    assert who(engine, "pt_other") == ("unit_officer", 3, {3})


def test_deactivation_and_an_older_event_arriving_late(engine: Engine) -> None:
    load_tree(engine)
    projections.apply_token(engine, token_event())
    projections.apply_official(engine, official_event(OfficialUpdatedV1, active=False, at_offset=timedelta(0)))
    projections.apply_official(engine, official_event(role="supervisor", unit_id=2, at_offset=timedelta(hours=-1)))
    assert who(engine) is None  # the later deactivation wins over the older creation
    projections.apply_official(engine, official_event(OfficialUpdatedV1, role="supervisor", unit_id=2,
                                                      at_offset=timedelta(hours=1)))
    assert who(engine) == ("supervisor", 2, {1, 2, 3, 4})
