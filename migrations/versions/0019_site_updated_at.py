"""sites.updated_at, so calendar feeds' Last-Modified moves when a site's name or address does

Revision ID: 0019
Revises: 0015
Create Date: 2026-11-29 17:35:00.000000

A site's name and address appear in the LOCATION of every feed event at it; without a change time
a renamed site changed the feed's bytes but not its Last-Modified. Existing rows get the time of
the upgrade.
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0019"
down_revision = "0015"
branch_labels = None
depends_on = None

sites = sa.table("sites", sa.column("updated_at", sa.DateTime(timezone=True)))


def upgrade():
    with op.batch_alter_table("sites", schema=None) as batch_op:
        batch_op.add_column(sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True))
    now = datetime.now(UTC)
    if op.get_bind().dialect.name == "sqlite":
        now = now.replace(tzinfo=None)  # naive UTC text, as the application stores it there
    op.execute(sites.update().values(updated_at=now))
    with op.batch_alter_table("sites", schema=None) as batch_op:
        batch_op.alter_column("updated_at", existing_type=sa.DateTime(timezone=True), nullable=False)


def downgrade():
    with op.batch_alter_table("sites", schema=None) as batch_op:
        batch_op.drop_column("updated_at")
