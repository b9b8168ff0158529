"""token expiry, bootstrap flag, directory clock; publish the identity the other services now keep

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 19:40:00

Reporting and notifications authenticate callers from `unit.*`, `official.*` and `api_token.*`
events. Tokens issued before this revision were never published, and reporting ignored
officials until now, so this revision puts a snapshot of every unit, official and token into the
outbox (v1 shapes written out here, so the migration does not change when the contracts do).
Consumers apply them idempotently. The snapshot numbers the directory (units, then officials)
from 1 and starts the directory clock there.
"""
import json
import uuid
from datetime import datetime, timezone
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0003'
down_revision: Union[str, Sequence[str], None] = '0002'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def _iso(value):
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).isoformat()


def _snapshot(bind) -> list[tuple[str, dict]]:
    events: list[tuple[str, dict]] = []
    for r in bind.execute(sa.text("SELECT id, code, name, kind, parent_id FROM units ORDER BY id")).mappings():
        events.append(("unit.created.v1", dict(r)))
    for r in bind.execute(sa.text(
            "SELECT id, name, email, title, unit_id, role, active FROM officials ORDER BY id")).mappings():
        events.append(("official.updated.v1", {**dict(r), "active": bool(r["active"])}))
    for r in bind.execute(sa.text(
            "SELECT id, official_id, token_hash, expires_at, revoked_at FROM api_tokens ORDER BY id")).mappings():
        kind = "api_token.revoked.v1" if r["revoked_at"] is not None else "api_token.issued.v1"
        events.append((kind, {**dict(r), "expires_at": _iso(r["expires_at"]), "revoked_at": _iso(r["revoked_at"])}))
    return events


def upgrade() -> None:
    with op.batch_alter_table('api_tokens') as batch:
        batch.add_column(sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('bootstrap', sa.Boolean(), server_default=sa.false(), nullable=False))
    clock = op.create_table(
        'directory_clock',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    bind = op.get_bind()
    bind.execute(sa.text("UPDATE api_tokens SET bootstrap = :yes WHERE name = 'bootstrap'"), {"yes": True})
    now = datetime.now(timezone.utc)
    outbox = sa.table('outbox', sa.column('event_id', sa.Uuid()), sa.column('event_type', sa.String()),
                      sa.column('correlation_id', sa.String()), sa.column('body', sa.Text()),
                      sa.column('created_at', sa.DateTime(timezone=True)),
                      sa.column('available_at', sa.DateTime(timezone=True)), sa.column('attempts', sa.Integer()))
    rows = []
    version = 0  # the directory clock: units and officials numbered 1..N, tokens raised under N
    for event_type, payload in _snapshot(bind):
        if not event_type.startswith("api_token."):
            version += 1
        event_id = uuid.uuid4()
        body = {"event_id": str(event_id), "event_type": event_type, "occurred_at": now.isoformat(),
                "correlation_id": "migration-0003", "producer": "assignments", "payload": payload,
                "directory_version": version or None}
        rows.append({"event_id": event_id, "event_type": event_type, "correlation_id": "migration-0003",
                     "body": json.dumps(body, ensure_ascii=False), "created_at": now, "available_at": now,
                     "attempts": 0})
    if rows:
        op.bulk_insert(outbox, rows)
    op.bulk_insert(clock, [{"id": 1, "version": version}])


def downgrade() -> None:
    op.drop_table('directory_clock')
    with op.batch_alter_table('api_tokens') as batch:
        batch.drop_column('bootstrap')
        batch.drop_column('expires_at')
