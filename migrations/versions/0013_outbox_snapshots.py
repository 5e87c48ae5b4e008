"""outbox rows hold what to say (a snapshot), rendered when sent

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-29 16:20:00.000000

Mail used to be rendered when queued (subject, body, .ics in the row); now the row keeps the data
and the send-mail job renders it. Mail still queued from before keeps its rendered text under
snapshot["rendered"], which the sender uses as it is, so nothing queued is lost.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

RENDERED = ('subject', 'body', 'ics', 'ics_method')

outbox = sa.table(
    'outbox',
    sa.column('id', sa.Integer()),
    sa.column('sent_at', sa.DateTime(timezone=True)),
    sa.column('snapshot', sa.JSON()),
    *(sa.column(name, sa.Text()) for name in RENDERED),
)


def upgrade():
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('event_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('snapshot', sa.JSON(), nullable=False, server_default='{}'))
        batch_op.add_column(sa.Column('set_aside_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_outbox_event_id'), ['event_id'], unique=False)
        batch_op.create_foreign_key(
            batch_op.f('fk_outbox_event_id_events'), 'events', ['event_id'], ['id'], ondelete='SET NULL'
        )

    bind = op.get_bind()
    queued = bind.execute(
        sa.select(outbox.c.id, *(outbox.c[name] for name in RENDERED)).where(outbox.c.sent_at.is_(None))
    ).all()
    for row in queued:
        rendered = {name: getattr(row, name) for name in RENDERED}
        bind.execute(outbox.update().where(outbox.c.id == row.id).values(snapshot={'rendered': rendered}))

    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.alter_column('snapshot', existing_type=sa.JSON(), server_default=None)
        for name in RENDERED:
            batch_op.drop_column(name)


def downgrade():
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('subject', sa.String(length=300), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('body', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('ics', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('ics_method', sa.String(length=10), nullable=False, server_default=''))

    # Only mail queued before the upgrade can be given back its text; later rows are left empty.
    bind = op.get_bind()
    for row in bind.execute(sa.select(outbox.c.id, outbox.c.snapshot)).all():
        rendered = (row.snapshot or {}).get('rendered')
        if rendered:
            bind.execute(outbox.update().where(outbox.c.id == row.id).values(**rendered))

    with op.batch_alter_table('outbox', schema=None) as batch_op:
        for name in RENDERED:
            batch_op.alter_column(name, server_default=None)
        batch_op.drop_constraint(batch_op.f('fk_outbox_event_id_events'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_outbox_event_id'))
        batch_op.drop_column('set_aside_at')
        batch_op.drop_column('snapshot')
        batch_op.drop_column('event_id')
