"""A token's issue and revocation events consumed at the same moment on PostgreSQL (two queues):
the revocation always stands, and neither consumer fails. Before the identity rows were
inserted-or-locked first, one of the two failed on a duplicate key (and was retried), or the issue
event read "no row", let the revocation commit, then wrote its stale view over it."""

import threading
from datetime import UTC, datetime

import pytest
from sqlmodel import Session, SQLModel

from shared.db import make_engine, session_scope
from shared.events import ApiTokenIssuedV1, ApiTokenPayload, ApiTokenRevokedV1
from shared.identity import projection
from shared.identity.models import IDENTITY_TABLES, IdentityToken

pytestmark = pytest.mark.integration
TOKENS = 40


def test_a_revocation_racing_its_issue_is_never_lost(pg_url: str) -> None:
    engine = make_engine(pg_url)
    SQLModel.metadata.create_all(engine, tables=list(IDENTITY_TABLES))
    try:
        for i in range(1, TOKENS + 1):
            payload = {"id": i, "official_id": 1, "token_hash": f"{i:064x}"}
            issued = ApiTokenIssuedV1(payload=ApiTokenPayload(**payload))
            revoked = ApiTokenRevokedV1(payload=ApiTokenPayload(**payload, revoked_at=datetime.now(UTC)))
            start = threading.Barrier(2)
            errors: list[BaseException] = []

            def consume(event: ApiTokenIssuedV1 | ApiTokenRevokedV1, start: threading.Barrier = start,
                        errors: list[BaseException] = errors) -> None:
                start.wait()
                try:
                    with session_scope(engine) as session:
                        projection.apply_token(session, event)
                except BaseException as exc:  # noqa: BLE001 - reported below
                    errors.append(exc)

            threads = [threading.Thread(target=consume, args=(e,)) for e in (issued, revoked)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(10)
            assert errors == []
            with Session(engine) as session:
                row = session.get(IdentityToken, i)
                assert row is not None and row.revoked_at is not None, f"token {i}: revocation lost"
    finally:
        engine.dispose()
