"""refused requests counted per resource, day and reason, for the reports

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 22:20:00.000000
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'refusal_counts',
        sa.Column('resource_id', sa.Integer(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('reason', sa.String(length=40), nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ['resource_id'], ['resources.id'], name=op.f('fk_refusal_counts_resource_id_resources'), ondelete='CASCADE'
        ),
        sa.PrimaryKeyConstraint('resource_id', 'day', 'reason', name=op.f('pk_refusal_counts')),
    )


def downgrade():
    op.drop_table('refusal_counts')
