"""a partial index on the emails still to send: the mail sender's claim stops walking the history

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28 04:40:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0007'
down_revision: Union[str, Sequence[str], None] = '0006'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

DUE = sa.text("sent_at IS NULL AND failed_at IS NULL")


def upgrade() -> None:
    """Upgrade schema."""
    op.create_index('ix_outgoing_emails_due', 'outgoing_emails', ['id'], postgresql_where=DUE, sqlite_where=DUE)


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index('ix_outgoing_emails_due', table_name='outgoing_emails')
