"""a partial index on the outbox rows still to publish: the relay's claim stops walking the history

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28 04:40:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0009'
down_revision: Union[str, Sequence[str], None] = '0008'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

DUE = sa.text("sent_at IS NULL")


def upgrade() -> None:
    """Upgrade schema."""
    op.create_index('ix_outbox_due', 'outbox', ['id'], postgresql_where=DUE, sqlite_where=DUE)


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index('ix_outbox_due', table_name='outbox')
