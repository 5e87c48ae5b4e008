"""booking creation counted per user in fixed windows, shared by every process

Revision ID: 0020
Revises: 0017
Create Date: 2026-11-29 19:20:00.000000
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0020'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'usage_counters',
        sa.Column('key', sa.String(length=200), nullable=False),
        sa.Column('window_start', sa.BigInteger(), nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('key', 'window_start', name=op.f('pk_usage_counters')),
    )


def downgrade():
    op.drop_table('usage_counters')
