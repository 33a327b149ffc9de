"""cases (有问必答)

Residents' messages as numbered cases with their threads, the outbox of answers to residents and
notices to staff, the per-day number counter, the calendar admins extend (holidays and make-up
working days), the duty roster (值班) and canned replies (常用回复).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 16:10:40.686643
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.core.database


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('case_calendar',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('working', sa.Boolean(), nullable=False),
    sa.Column('note', sa.String(length=64), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', bot.core.database.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('day', name=op.f('pk_case_calendar'))
    )
    op.create_table('case_canned_replies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=64), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('updated_by', sa.String(length=64), nullable=False),
    sa.Column('updated_at', bot.core.database.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_canned_replies'))
    )
    op.create_table('case_counters',
    sa.Column('day', sa.String(length=8), nullable=False),
    sa.Column('last', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('day', name=op.f('pk_case_counters'))
    )
    op.create_table('case_duty_shifts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', bot.core.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ends_at', bot.core.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', bot.core.database.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_case_duty_shifts_staff_id_staff')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_duty_shifts'))
    )
    with op.batch_alter_table('case_duty_shifts', schema=None) as batch_op:
        batch_op.create_index('ix_case_duty_shifts_span', ['starts_at', 'ends_at'], unique=False)

    op.create_table('cases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=24), nullable=False),
    sa.Column('openid', sa.String(length=64), nullable=False),
    sa.Column('topic', sa.Enum('message', 'question', 'complaint', 'suggestion', name='topic', native_enum=False, length=16), nullable=False),
    sa.Column('status', sa.Enum('open', 'assigned', 'answered', 'closed', 'converted', name='casestatus', native_enum=False, length=16), nullable=False),
    sa.Column('department', sa.String(length=32), nullable=False),
    sa.Column('assignee_id', sa.Integer(), nullable=True),
    sa.Column('subject', sa.String(length=120), nullable=False),
    sa.Column('received_at', bot.core.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_resident_at', bot.core.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', bot.core.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('due_at', bot.core.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('escalation_level', sa.Integer(), nullable=False),
    sa.Column('escalated_at', bot.core.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('second_due_at', bot.core.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('answered_at', bot.core.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closed_at', bot.core.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('rating_requested_at', bot.core.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('rating', sa.Enum('satisfied', 'fair', 'dissatisfied', name='rating', native_enum=False, length=16), nullable=True),
    sa.Column('rated_at', bot.core.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reopened_count', sa.Integer(), nullable=False),
    sa.Column('flagged', sa.Boolean(), nullable=False),
    sa.Column('outside_hours', sa.Boolean(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=True),
    sa.Column('public', sa.Boolean(), nullable=False),
    sa.Column('public_title', sa.String(length=120), nullable=False),
    sa.ForeignKeyConstraint(['assignee_id'], ['staff.id'], name=op.f('fk_cases_assignee_id_staff')),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], name=op.f('fk_cases_report_id_reports')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cases')),
    sa.UniqueConstraint('number', name=op.f('uq_cases_number'))
    )
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index('ix_cases_department_status', ['department', 'status'], unique=False)
        batch_op.create_index('ix_cases_openid_received', ['openid', 'received_at'], unique=False)
        batch_op.create_index('ix_cases_status_received', ['status', 'received_at'], unique=False)

    op.create_table('case_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('resident', 'reply', 'note', 'delivery', 'event', name='entrykind', native_enum=False, length=16), nullable=False),
    sa.Column('msg_type', sa.String(length=16), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('media_id', sa.String(length=128), nullable=False),
    sa.Column('pic_url', sa.Text(), nullable=False),
    sa.Column('url', sa.Text(), nullable=False),
    sa.Column('lat', sa.Float(), nullable=True),
    sa.Column('lon', sa.Float(), nullable=True),
    sa.Column('staff_id', sa.Integer(), nullable=True),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('flagged', sa.Boolean(), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('created_at', bot.core.database.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_messages_case_id_cases')),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_case_messages_staff_id_staff')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_messages'))
    )
    with op.batch_alter_table('case_messages', schema=None) as batch_op:
        batch_op.create_index('ix_case_messages_case_id', ['case_id', 'id'], unique=False)

    op.create_table('case_deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=True),
    sa.Column('openid', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('status', sa.Enum('pending', 'sent', 'failed', 'undeliverable', name='deliverystatus', native_enum=False, length=16), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', bot.core.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('created_at', bot.core.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', bot.core.database.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_deliveries_case_id_cases')),
    sa.ForeignKeyConstraint(['message_id'], ['case_messages.id'], name=op.f('fk_case_deliveries_message_id_case_messages')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_deliveries'))
    )
    with op.batch_alter_table('case_deliveries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_deliveries_case_id'), ['case_id'], unique=False)
        batch_op.create_index('ix_case_deliveries_openid_sent', ['openid', 'sent_at'], unique=False)
        batch_op.create_index('ix_case_deliveries_status_next', ['status', 'next_attempt_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('case_deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_case_deliveries_status_next')
        batch_op.drop_index('ix_case_deliveries_openid_sent')
        batch_op.drop_index(batch_op.f('ix_case_deliveries_case_id'))

    op.drop_table('case_deliveries')
    with op.batch_alter_table('case_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_case_messages_case_id')

    op.drop_table('case_messages')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_status_received')
        batch_op.drop_index('ix_cases_openid_received')
        batch_op.drop_index('ix_cases_department_status')

    op.drop_table('cases')
    with op.batch_alter_table('case_duty_shifts', schema=None) as batch_op:
        batch_op.drop_index('ix_case_duty_shifts_span')

    op.drop_table('case_duty_shifts')
    op.drop_table('case_counters')
    op.drop_table('case_canned_replies')
    op.drop_table('case_calendar')
