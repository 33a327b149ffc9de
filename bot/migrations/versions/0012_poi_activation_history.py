"""poi activation history

Every switch of a facility kind's active version is written to poi_activations, so a rollback
returns to the version that was active before the current one (not to the previous version
number, which may be the version just rolled back). Existing datasets get a history in version
order up to the active version; versions above the active one were rolled back, so their
activations are written as undone.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 15:40:00.000000
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.core.database


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    activations = op.create_table('poi_activations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('dataset_id', sa.Integer(), nullable=False),
    sa.Column('activated_at', bot.core.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('activated_by', sa.String(length=64), nullable=False),
    sa.Column('undone_at', bot.core.database.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['dataset_id'], ['poi_datasets.id'], name=op.f('fk_poi_activations_dataset_id_poi_datasets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_poi_activations'))
    )
    with op.batch_alter_table('poi_activations', schema=None) as batch_op:
        batch_op.create_index('ix_poi_activations_kind_id', ['kind', 'id'], unique=False)

    connection = op.get_bind()
    datasets = sa.table(
        'poi_datasets',
        sa.column('id', sa.Integer()),
        sa.column('kind', sa.String()),
        sa.column('version', sa.Integer()),
        sa.column('loaded_at', bot.core.database.UTCDateTime(timezone=True)),
        sa.column('loaded_by', sa.String()),
        sa.column('active', sa.Boolean()),
    )
    found = connection.execute(
        sa.select(datasets.c.id, datasets.c.kind, datasets.c.version, datasets.c.loaded_at,
                  datasets.c.loaded_by, datasets.c.active)
        .order_by(datasets.c.kind, datasets.c.version)
    ).all()
    active_version = {row.kind: row.version for row in found if row.active}
    history = []
    for row in found:
        above_active = row.kind not in active_version or row.version > active_version[row.kind]
        history.append({
            'kind': row.kind,
            'dataset_id': row.id,
            'activated_at': row.loaded_at,
            'activated_by': row.loaded_by,
            'undone_at': row.loaded_at if above_active else None,
        })
    # The active version last, so it is the newest activation of its kind that is not undone.
    history.sort(key=lambda entry: entry['undone_at'] is None)
    if history:
        op.bulk_insert(activations, history)


def downgrade() -> None:
    with op.batch_alter_table('poi_activations', schema=None) as batch_op:
        batch_op.drop_index('ix_poi_activations_kind_id')

    op.drop_table('poi_activations')
