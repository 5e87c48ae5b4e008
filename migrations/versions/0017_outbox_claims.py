"""outbox rows are claimed by one sender at a time

Revision ID: 0017
Revises: 0019
Create Date: 2026-11-29 17:40:00.000000

A `send-mail` run claims the rows it will send (claimed_by, claimed_until) so concurrent runs never
send a mail twice; a claim that expires (a crashed sender) is taken again by a later run.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claimed_by', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('claimed_until', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_outbox_claimed_by'), ['claimed_by'], unique=False)


def downgrade():
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_claimed_by'))
        batch_op.drop_column('claimed_until')
        batch_op.drop_column('claimed_by')
