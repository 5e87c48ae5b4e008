"""event invitations: co-organisers are invited and must accept

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-29 17:40:00.000000

Co-organisers named before this revision keep their rights (their event_organisers rows stay).
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "event_invitations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("invited_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('pending', 'accepted', 'declined')", name=op.f("ck_event_invitations_status")),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name=op.f("fk_event_invitations_event_id_events"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["invited_by_id"], ["users.id"], name=op.f("fk_event_invitations_invited_by_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_invitations")),
        sa.UniqueConstraint("event_id", "email", name=op.f("uq_event_invitations_event_id")),
    )
    with op.batch_alter_table("event_invitations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_event_invitations_event_id"), ["event_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_event_invitations_email"), ["email"], unique=False)


def downgrade():
    with op.batch_alter_table("event_invitations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_event_invitations_email"))
        batch_op.drop_index(batch_op.f("ix_event_invitations_event_id"))
    op.drop_table("event_invitations")
