"""import results: the bodies a document names that the organisation tree lacks

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28 04:20:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0008'
down_revision: Union[str, Sequence[str], None] = '0007'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.add_column('import_results', sa.Column('new_units', sa.JSON(), nullable=False, server_default=sa.text("'[]'")))


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_column('import_results', 'new_units')
