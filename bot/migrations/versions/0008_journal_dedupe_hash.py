"""journal: dedupe key of any length, unique by its SHA-256

An event's dedupe key holds its whole EventKey (a VIEW event's URL, up to 2,048 characters): the
readable key becomes Text and the unique constraint moves to ``dedupe_hash``, the key's SHA-256.

Revision ID: 0008
Revises: 0006
Create Date: 2026-11-28 09:00:00.000000
"""
from __future__ import annotations

import hashlib

import sqlalchemy as sa
from alembic import op


revision = '0008'
down_revision = '0006'
branch_labels = None
depends_on = None

journal = sa.table(
    'message_journal',
    sa.column('id', sa.Integer()),
    sa.column('dedupe_key', sa.Text()),
    sa.column('dedupe_hash', sa.String(64)),
)


def upgrade() -> None:
    with op.batch_alter_table('message_journal', schema=None) as batch_op:
        batch_op.add_column(sa.Column('dedupe_hash', sa.String(length=64), nullable=True))

    connection = op.get_bind()
    rows = connection.execute(sa.select(journal.c.id, journal.c.dedupe_key)).all()
    for start in range(0, len(rows), 1000):
        connection.execute(
            journal.update().where(journal.c.id == sa.bindparam('row_id')).values(dedupe_hash=sa.bindparam('hash')),
            [
                {'row_id': row.id, 'hash': hashlib.sha256(row.dedupe_key.encode('utf-8')).hexdigest()}
                for row in rows[start:start + 1000]
            ],
        )

    with op.batch_alter_table('message_journal', schema=None) as batch_op:
        batch_op.alter_column('dedupe_hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.drop_constraint('uq_message_journal_dedupe_key', type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_message_journal_dedupe_hash'), ['dedupe_hash'])
        batch_op.alter_column(
            'dedupe_key', existing_type=sa.String(length=255), type_=sa.Text(), existing_nullable=False
        )


def downgrade() -> None:
    # Keys longer than 255 characters do not fit the old column: their rows are dropped.
    connection = op.get_bind()
    connection.execute(journal.delete().where(sa.func.length(journal.c.dedupe_key) > 255))
    with op.batch_alter_table('message_journal', schema=None) as batch_op:
        batch_op.alter_column(
            'dedupe_key', existing_type=sa.Text(), type_=sa.String(length=255), existing_nullable=False
        )
        batch_op.drop_constraint(batch_op.f('uq_message_journal_dedupe_hash'), type_='unique')
        batch_op.create_unique_constraint('uq_message_journal_dedupe_key', ['dedupe_key'])
        batch_op.drop_column('dedupe_hash')
