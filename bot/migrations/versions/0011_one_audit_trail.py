"""one audit trail

The console's log (console_audit), the reports' history (report_audit) and the broadcasts' trail
(broadcast_audit) become one append-only table, audit_trail, that every channel writes with its
actor and its channel. Old rows are copied in time order; their channel is the best that can be
known: console for the console's log (cli for the rows the command line wrote there as "cli"); for a
report's step, console when the console logged the same act, the chat or the mini-program API for a
resident's submission (by the report's source), system for the system's, else cli; for a draft's
act, console when the console logged it, system when no staff member acted, else chat. The
downgrade writes the rows back to the three tables.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 12:00:00.000000
"""
from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from alembic import op

import bot.core.database


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

UTC = bot.core.database.UTCDateTime(timezone=True)
CHANNELS = ('console', 'cli', 'chat', 'api', 'system')
# A report step's action code, by (from, to) status.
REPORT_ACTIONS = {
    'under_review': 'report.review',
    'accepted': 'report.accept',
    'rejected': 'report.reject',
    'duplicate': 'report.duplicate',
    'resolved': 'report.resolve',
    'closed': 'report.close',
}
# Broadcast acts on no draft, and back.
OTHER_ACTIONS = {'menu_push': 'menu.push', 'staff_link': 'staff.link_wechat'}
OTHER_BACK = {code: short for short, code in OTHER_ACTIONS.items()}

trail = sa.table(
    'audit_trail',
    sa.column('id', sa.Integer()),
    sa.column('at', UTC),
    sa.column('staff_id', sa.Integer()),
    sa.column('actor', sa.String()),
    sa.column('channel', sa.String()),
    sa.column('action', sa.String()),
    sa.column('target_kind', sa.String()),
    sa.column('target_id', sa.Integer()),
    sa.column('target_version', sa.Integer()),
    sa.column('target', sa.String()),
    sa.column('details', sa.JSON()),
    sa.column('ip', sa.String()),
)
console_audit = sa.table(
    'console_audit',
    sa.column('id', sa.Integer()),
    sa.column('at', UTC),
    sa.column('staff_id', sa.Integer()),
    sa.column('actor', sa.String()),
    sa.column('action', sa.String()),
    sa.column('target', sa.String()),
    sa.column('detail', sa.Text()),
    sa.column('ip', sa.String()),
)
report_audit = sa.table(
    'report_audit',
    sa.column('id', sa.Integer()),
    sa.column('report_id', sa.Integer()),
    sa.column('actor', sa.String()),
    sa.column('role', sa.String()),
    sa.column('from_status', sa.String()),
    sa.column('to_status', sa.String()),
    sa.column('reason_code', sa.String()),
    sa.column('comment', sa.Text()),
    sa.column('created_at', UTC),
)
broadcast_audit = sa.table(
    'broadcast_audit',
    sa.column('id', sa.Integer()),
    sa.column('draft_id', sa.Integer()),
    sa.column('version', sa.Integer()),
    sa.column('actor_id', sa.Integer()),
    sa.column('action', sa.String()),
    sa.column('comment', sa.Text()),
    sa.column('details', sa.Text()),
    sa.column('created_at', UTC),
)
staff = sa.table('staff', sa.column('id', sa.Integer()), sa.column('username', sa.String()))
reports = sa.table(
    'reports', sa.column('id', sa.Integer()), sa.column('number', sa.String()), sa.column('source', sa.String())
)


def _json(text: str | None) -> dict[str, Any]:
    try:
        value = json.loads(text) if text else {}
    except ValueError:
        return {'text': text}
    return value if isinstance(value, dict) else {'value': value}


def _report_action(from_status: str | None, to_status: str) -> str:
    if from_status is None and to_status == 'submitted':
        return 'report.submit'
    if from_status == 'accepted' and to_status == 'under_review':
        return 'report.revoke'
    return REPORT_ACTIONS.get(to_status, f'report.{to_status}')


def _create_trail() -> None:
    op.create_table('audit_trail',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', UTC, nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=True),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('channel', sa.Enum(*CHANNELS, name='channel', native_enum=False, length=16), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('target_kind', sa.String(length=32), nullable=False),
    sa.Column('target_id', sa.Integer(), nullable=True),
    sa.Column('target_version', sa.Integer(), nullable=True),
    sa.Column('target', sa.String(length=128), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('ip', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_trail'))
    )
    with op.batch_alter_table('audit_trail', schema=None) as batch_op:
        batch_op.create_index('ix_audit_trail_action_at', ['action', 'at'], unique=False)
        batch_op.create_index('ix_audit_trail_actor', ['actor'], unique=False)
        batch_op.create_index('ix_audit_trail_at', ['at'], unique=False)
        batch_op.create_index('ix_audit_trail_channel_at', ['channel', 'at'], unique=False)
        batch_op.create_index('ix_audit_trail_target', ['target_kind', 'target_id'], unique=False)


def upgrade() -> None:
    _create_trail()
    bind = op.get_bind()
    usernames = {row.id: row.username for row in bind.execute(sa.select(staff.c.id, staff.c.username))}
    staff_ids = {name: sid for sid, name in usernames.items()}
    numbers = {
        row.id: (row.number, row.source)
        for row in bind.execute(sa.select(reports.c.id, reports.c.number, reports.c.source))
    }
    rows: list[tuple[Any, int, int, dict[str, Any]]] = []  # (at, source order, old id, new row)
    logged: set[tuple[str, str, str]] = set()  # (action, target, actor) the console logged

    for old in bind.execute(sa.select(console_audit).order_by(console_audit.c.id)):
        logged.add((old.action, old.target, old.actor))
        kind, target_id = '', None
        if old.action.startswith('staff.'):
            kind, target_id = 'staff', staff_ids.get(old.target)
        elif old.action.startswith('dataset.'):
            kind = 'dataset'
        elif old.action.startswith('rewards.') and old.target.removeprefix('batch ').isdigit():
            kind, target_id = 'payout_batch', int(old.target.removeprefix('batch '))
        rows.append((old.at, 0, old.id, {
            'at': old.at,
            'staff_id': old.staff_id,
            'actor': old.actor,
            'channel': 'cli' if old.actor == 'cli' else 'console',
            'action': old.action,
            'target_kind': kind,
            'target_id': target_id,
            'target_version': None,
            'target': old.target,
            'details': _json(old.detail),
            'ip': old.ip,
        }))

    for old in bind.execute(sa.select(report_audit).order_by(report_audit.c.id)):
        action = _report_action(old.from_status, old.to_status)
        number, source = numbers.get(old.report_id, (str(old.report_id), 'chat'))
        if old.role == 'resident':
            channel = 'api' if source == 'miniprogram' else 'chat'
        elif old.role == 'system':
            channel = 'system'
        else:
            channel = 'console' if (action, number, old.actor) in logged else 'cli'
        details = {
            'role': old.role,
            'from': old.from_status,
            'to': old.to_status,
            'reason': old.reason_code,
            'comment': old.comment,
        }
        rows.append((old.created_at, 1, old.id, {
            'at': old.created_at,
            'staff_id': staff_ids.get(old.actor) if channel in ('console', 'cli') else None,
            'actor': old.actor,
            'channel': channel,
            'action': action,
            'target_kind': 'report',
            'target_id': old.report_id,
            'target_version': None,
            'target': number,
            'details': {k: v for k, v in details.items() if v is not None},
            'ip': '',
        }))

    for old in bind.execute(sa.select(broadcast_audit).order_by(broadcast_audit.c.id)):
        details = _json(old.details)
        if old.comment:
            details = {'comment': old.comment, **details}
        actor = usernames.get(old.actor_id, 'system') if old.actor_id is not None else 'system'
        if old.draft_id is not None:
            action, kind, target = f'draft.{old.action}', 'draft', f'draft:{old.draft_id}'
            if old.actor_id is None:
                channel = 'system'
            elif (f'broadcast.{old.action}', target, actor) in logged:
                channel = 'console'
            else:
                channel = 'chat'
        else:
            action = OTHER_ACTIONS.get(old.action, f'broadcasts.{old.action}')
            kind, target, channel = '', str(details.get('username', '')), 'cli'
        rows.append((old.created_at, 2, old.id, {
            'at': old.created_at,
            'staff_id': old.actor_id,
            'actor': actor,
            'channel': channel,
            'action': action,
            'target_kind': kind,
            'target_id': old.draft_id,
            'target_version': old.version,
            'target': target,
            'details': details,
            'ip': '',
        }))

    rows.sort(key=lambda row: (row[0], row[1], row[2]))
    if rows:
        op.bulk_insert(trail, [row[3] for row in rows])

    with op.batch_alter_table('broadcast_audit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_broadcast_audit_draft_id'))
    op.drop_table('broadcast_audit')
    with op.batch_alter_table('report_audit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_audit_report_id'))
    op.drop_table('report_audit')
    with op.batch_alter_table('console_audit', schema=None) as batch_op:
        batch_op.drop_index('ix_console_audit_at')
        batch_op.drop_index('ix_console_audit_action_at')
    op.drop_table('console_audit')


def downgrade() -> None:
    op.create_table('console_audit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', UTC, nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=True),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('target', sa.String(length=128), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('ip', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_console_audit_staff_id_staff'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_console_audit'))
    )
    with op.batch_alter_table('console_audit', schema=None) as batch_op:
        batch_op.create_index('ix_console_audit_action_at', ['action', 'at'], unique=False)
        batch_op.create_index('ix_console_audit_at', ['at'], unique=False)
    op.create_table('report_audit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.Column('from_status', sa.String(length=16), nullable=True),
    sa.Column('to_status', sa.String(length=16), nullable=False),
    sa.Column('reason_code', sa.String(length=32), nullable=True),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('created_at', UTC, nullable=False),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], name=op.f('fk_report_audit_report_id_reports')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_audit'))
    )
    with op.batch_alter_table('report_audit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_audit_report_id'), ['report_id'], unique=False)
    op.create_table('broadcast_audit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('draft_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=True),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('details', sa.Text(), nullable=False),
    sa.Column('created_at', UTC, nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['staff.id'], name=op.f('fk_broadcast_audit_actor_id_staff')),
    sa.ForeignKeyConstraint(['draft_id'], ['broadcast_drafts.id'], name=op.f('fk_broadcast_audit_draft_id_broadcast_drafts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_broadcast_audit'))
    )
    with op.batch_alter_table('broadcast_audit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_broadcast_audit_draft_id'), ['draft_id'], unique=False)

    bind = op.get_bind()
    known = set(bind.scalars(sa.select(staff.c.id)))
    consoles: list[dict[str, Any]] = []
    steps: list[dict[str, Any]] = []
    acts: list[dict[str, Any]] = []
    for row in bind.execute(sa.select(trail).order_by(trail.c.id)):
        details = dict(row.details or {})
        member = row.staff_id if row.staff_id in known else None
        if row.target_kind == 'report' and row.target_id is not None:
            steps.append({
                'report_id': row.target_id,
                'actor': row.actor[:64],
                'role': str(details.get('role', ''))[:32],
                'from_status': details.get('from'),
                'to_status': str(details.get('to', '')),
                'reason_code': details.get('reason'),
                'comment': details.get('comment'),
                'created_at': row.at,
            })
        elif (row.target_kind == 'draft' and row.target_id is not None) or row.action in OTHER_BACK:
            comment = str(details.pop('comment', '') or '')
            if row.action in OTHER_BACK:
                action, draft_id = OTHER_BACK[row.action], None
            else:
                action, draft_id = row.action.removeprefix('draft.'), row.target_id
            acts.append({
                'draft_id': draft_id,
                'version': row.target_version,
                'actor_id': member,
                'action': action[:32],
                'comment': comment,
                'details': json.dumps(details, ensure_ascii=False, sort_keys=True),
                'created_at': row.at,
            })
        else:
            consoles.append({
                'at': row.at,
                'staff_id': member,
                'actor': row.actor[:64],
                'action': row.action[:64],
                'target': row.target[:128],
                'detail': json.dumps(details, ensure_ascii=False, sort_keys=True) if details else '',
                'ip': row.ip,
            })
    for table, rows in ((console_audit, consoles), (report_audit, steps), (broadcast_audit, acts)):
        if rows:
            op.bulk_insert(table, rows)

    with op.batch_alter_table('audit_trail', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_trail_target')
        batch_op.drop_index('ix_audit_trail_channel_at')
        batch_op.drop_index('ix_audit_trail_at')
        batch_op.drop_index('ix_audit_trail_actor')
        batch_op.drop_index('ix_audit_trail_action_at')
    op.drop_table('audit_trail')
