"""The Alembic migrations build exactly the schema the models declare, on both databases."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from sqlalchemy import inspect, select, text

from bot.app import create_app, load_settings, metadata
from bot.chat.journal import key_hash
from bot.core import services
from bot.core.audit import AuditEntry
from bot.core.clock import utcnow
from bot.core.database import Base, make_engine, session_scope
from bot.migrations import downgrade, upgrade
from broadcasts.models import audit_trail
from reports.models import audit_of
from tests.support.clock import T0

pytestmark = pytest.mark.contract


def test_migrations_match_models(app: Flask) -> None:
    metadata()
    engine = services.of(app).engine
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_journal_keys_get_their_hash_and_survive_a_round_trip(base_overrides: dict[str, Any]) -> None:
    """0008 fills ``dedupe_hash`` for rows journaled before it; downgrading and upgrading again works."""
    settings = load_settings(None, base_overrides, environ={})
    upgrade(settings, "0006")
    engine = make_engine(settings.database_url)
    try:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO message_journal (dedupe_key, msg_type, sender, payload, received_at, status,"
                    " attempts) VALUES ('msg:o:1', 'text', 'o', '<xml/>', :now, 'handled', 1)"
                ),
                {"now": utcnow()},
            )
        upgrade(settings)
        with engine.connect() as connection:
            stored = connection.execute(text("SELECT dedupe_key, dedupe_hash FROM message_journal")).one()
        assert stored == ("msg:o:1", key_hash("msg:o:1"))
        downgrade(settings, "0006")
        upgrade(settings)
        with engine.connect() as connection:
            again = connection.execute(text("SELECT dedupe_hash FROM message_journal")).scalar_one()
        assert again == key_hash("msg:o:1")
    finally:
        engine.dispose()


def test_the_three_audit_tables_are_copied_into_the_one_trail(base_overrides: dict[str, Any]) -> None:
    """0011 moves console_audit, report_audit and broadcast_audit into audit_trail, in time order,
    with each row's channel as far as it is known; the downgrade gives the three tables back."""
    settings = load_settings(None, base_overrides, environ={})
    upgrade(settings, "0010")
    engine = make_engine(settings.database_url)
    t0 = T0
    try:
        with engine.begin() as connection:
            run = connection.execute
            run(
                text(
                    "INSERT INTO staff (id, username, display_name, password_hash, roles, active, created_at,"
                    " password_changed_at) VALUES (7, 'rev', '审核员', 'x', 'reviewer', true, :at, :at)"
                ),
                {"at": t0},
            )
            run(
                text(
                    "INSERT INTO reports (id, number, openid, category_id, status, source, lat, lon,"
                    " given_datum, given_lat, given_lon, address, description, created_at, updated_at,"
                    " review_due_at, acceptances) VALUES (3, 'SP20261127-0001', 'o-1',"
                    " (SELECT min(id) FROM report_categories), 'accepted', 'miniprogram',"
                    " 31.3, 120.6, 'wgs84', 31.3, 120.6, '', '', :at, :at, :at, 1)"
                ),
                {"at": t0},
            )
            run(
                text(
                    "INSERT INTO broadcast_drafts (id, title, author, digest, body, status, version,"
                    " created_by_id, created_at, updated_at)"
                    " VALUES (5, '公告', '', '', '正文', 'approved', 1, 7, :at, :at)"
                ),
                {"at": t0},
            )
            for minutes, actor, staff_id, action, target, detail in (
                (0, "rev", 7, "login", "rev", ""),
                (2, "rev", 7, "report.accept", "SP20261127-0001", '{"comment": "属实"}'),
                (4, "cli", None, "staff.disable", "rev", ""),
            ):
                run(
                    text(
                        "INSERT INTO console_audit (at, staff_id, actor, action, target, detail, ip)"
                        " VALUES (:at, :staff_id, :actor, :action, :target, :detail, '10.0.0.1')"
                    ),
                    {
                        "at": t0 + timedelta(minutes=minutes),
                        "staff_id": staff_id,
                        "actor": actor,
                        "action": action,
                        "target": target,
                        "detail": detail,
                    },
                )
            for minutes, actor, role, before, after, comment in (
                (1, "resident", "resident", None, "submitted", None),
                (2, "rev", "reviewer", "submitted", "accepted", "属实"),
            ):
                run(
                    text(
                        "INSERT INTO report_audit (report_id, actor, role, from_status, to_status, comment,"
                        " created_at) VALUES (3, :actor, :role, :before, :after, :comment, :at)"
                    ),
                    {
                        "at": t0 + timedelta(minutes=minutes),
                        "actor": actor,
                        "role": role,
                        "before": before,
                        "after": after,
                        "comment": comment,
                    },
                )
            for minutes, actor_id, action, comment in (
                (3, 7, "approve", "可以发布"),
                (5, None, "mass_finished", ""),
            ):
                run(
                    text(
                        "INSERT INTO broadcast_audit (draft_id, version, actor_id, action, comment, details,"
                        " created_at) VALUES (5, 1, :actor_id, :action, :comment, :details, :at)"
                    ),
                    {
                        "at": t0 + timedelta(minutes=minutes),
                        "actor_id": actor_id,
                        "action": action,
                        "comment": comment,
                        "details": '{"stage": "final"}',
                    },
                )

        upgrade(settings)
        with engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT actor, channel, action, target_kind, target_id, target_version, target, staff_id"
                    " FROM audit_trail ORDER BY id"
                )
            ).all()
            tables = set(inspect(connection).get_table_names())
        assert [tuple(row) for row in rows] == [
            ("rev", "console", "login", "", None, None, "rev", 7),
            ("resident", "api", "report.submit", "report", 3, None, "SP20261127-0001", None),
            ("rev", "console", "report.accept", "", None, None, "SP20261127-0001", 7),
            ("rev", "console", "report.accept", "report", 3, None, "SP20261127-0001", 7),
            ("rev", "chat", "draft.approve", "draft", 5, 1, "draft:5", 7),
            ("cli", "cli", "staff.disable", "staff", 7, None, "rev", None),
            ("system", "system", "draft.mass_finished", "draft", 5, 1, "draft:5", None),
        ]
        assert not tables & {"console_audit", "report_audit", "broadcast_audit"}
        app = create_app(base_overrides)
        with session_scope(app) as session:
            steps = audit_of(session, 3)
            assert [(s.actor, s.role, s.from_status, s.to_status, s.comment) for s in steps] == [
                ("resident", "resident", None, "submitted", None),
                ("rev", "reviewer", "submitted", "accepted", "属实"),
            ]
            [approval, finished] = audit_trail(session, 5)
            assert (approval.action, approval.comment, approval.details) == (
                "approve",
                "可以发布",
                {"stage": "final"},
            )
            assert approval.actor is not None
            assert approval.actor.username == "rev"
            assert (finished.action, finished.actor) == ("mass_finished", None)
            [login] = [e for e in session.scalars(select(AuditEntry)) if e.action == "login"]
            assert (login.at, login.ip) == (t0, "10.0.0.1")
        services.of(app).engine.dispose()

        downgrade(settings, "0010")
        with engine.connect() as connection:
            console = connection.execute(text("SELECT actor, action FROM console_audit ORDER BY id")).all()
            steps_back = connection.execute(text("SELECT to_status FROM report_audit ORDER BY id")).all()
            acts = connection.execute(text("SELECT action, comment FROM broadcast_audit ORDER BY id")).all()
        assert [tuple(r) for r in console] == [
            ("rev", "login"),
            ("rev", "report.accept"),
            ("cli", "staff.disable"),
        ]
        assert [r[0] for r in steps_back] == ["submitted", "accepted"]
        assert [tuple(r) for r in acts] == [("approve", "可以发布"), ("mass_finished", "")]
        upgrade(settings)
    finally:
        engine.dispose()


def test_existing_datasets_get_an_activation_history(base_overrides: dict[str, Any]) -> None:
    """0012 writes the history of the versions loaded before it: up to the active version in order,
    those above it as undone, so a rollback after the upgrade returns below the active version."""
    settings = load_settings(None, base_overrides, environ={})
    upgrade(settings, "0011")
    engine = make_engine(settings.database_url)
    try:
        with engine.begin() as connection:
            for version, active in ((1, False), (2, True), (3, False)):
                connection.execute(
                    text(
                        "INSERT INTO poi_datasets (kind, version, datum, source_name, checksum, row_count,"
                        " loaded_at, loaded_by, active)"
                        " VALUES ('toilet', :version, 'wgs84', 'f.csv', :sum, 1, :at, 'data', :active)"
                    ),
                    {"version": version, "sum": str(version) * 64, "at": utcnow(), "active": active},
                )
        upgrade(settings)
        query = text(
            "SELECT d.version, a.undone_at IS NOT NULL FROM poi_activations a"
            " JOIN poi_datasets d ON d.id = a.dataset_id ORDER BY a.id"
        )
        with engine.connect() as connection:
            history = [(version, bool(undone)) for version, undone in connection.execute(query)]
        assert history == [(3, True), (1, False), (2, False)]
        downgrade(settings, "0011")
        assert "poi_activations" not in inspect(engine).get_table_names()
        upgrade(settings)
    finally:
        engine.dispose()
