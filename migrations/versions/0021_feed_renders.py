"""feed renders shared by every process and host, keyed by the feed and valid for one fingerprint

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-29 19:45:00.000000
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'feed_renders',
        sa.Column('key', sa.String(length=64), nullable=False),
        sa.Column('fingerprint', sa.String(length=64), nullable=False),
        sa.Column('body', sa.LargeBinary(), nullable=False),
        sa.Column('etag', sa.String(length=64), nullable=False),
        sa.Column('last_modified', sa.DateTime(timezone=True), nullable=False),
        sa.Column('rendered_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_feed_renders')),
    )
    with op.batch_alter_table('feed_renders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_feed_renders_rendered_at'), ['rendered_at'], unique=False)


def downgrade():
    with op.batch_alter_table('feed_renders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_feed_renders_rendered_at'))
    op.drop_table('feed_renders')
