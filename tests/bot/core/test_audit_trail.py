"""The one audit trail: append-only, written by every channel with its actor and its channel, and
shown whole in the console's 操作日志 with a channel filter."""

from __future__ import annotations

import getpass
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from flask import Flask
from sqlalchemy import select

import bot
from bot import create_app as real_create_app
from bot.cli import cli
from bot.core import audit, services
from bot.core.audit import AuditEntry, AuditTamperError, Channel
from bot.core.database import session_scope
from broadcasts.models import audit_trail
from staff import models as staff_models
from staff.roles import Role
from tests.support.broadcasts import approved_draft
from tests.support.clock import T0, at
from tests.support.console import ConsoleClient, add_staff, text

pytestmark = pytest.mark.integration

CSV = "kind,name,lat,lon\nbike,园区站,31.3000,120.6000\nbike,湖东站,31.3100,120.6100\n"


@pytest.fixture
def run(app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    """Run ``citybot ...`` against the test's database and store."""
    settings = app.config["CITYBOT"]
    config = tmp_path / "citybot.toml"
    config.write_text(
        f"database_url = {json.dumps(settings.database_url)}\n"
        f"redis_url = {json.dumps(settings.redis_url)}\n"
        f"redis_prefix = {json.dumps(settings.redis_prefix)}\n"
        f"secret_key = {json.dumps(settings.secret_key)}\n"
        "[geo]\nservice_area = [30.0, 119.5, 32.5, 121.5]\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("CITYBOT_CONFIG", str(config))
    made: list[Flask] = []

    def recording_create_app(*args: Any, **kwargs: Any) -> Flask:
        made.append(real_create_app(*args, **kwargs))
        return made[-1]

    monkeypatch.setattr(bot, "create_app", recording_create_app)

    def invoke(*args: str) -> Result:
        try:
            return CliRunner().invoke(cli, ["--config", str(config), *args], catch_exceptions=False)
        finally:
            while made:
                services.of(made.pop()).engine.dispose()

    return invoke


def trail(app: Flask, **where: Any) -> list[AuditEntry]:
    with session_scope(app) as session:
        query = select(AuditEntry).filter_by(**where).order_by(AuditEntry.id)
        entries = list(session.scalars(query))
        session.expunge_all()
        return entries


def os_user() -> str:
    return "cli:" + getpass.getuser()


def test_entries_cannot_be_changed_or_deleted(app: Flask) -> None:
    with at(T0), session_scope(app) as session:
        entry = audit.record(session, "test.act", actor="someone", target="x", details={"n": 1})
        assert (entry.at, entry.channel) == (T0, Channel.SYSTEM)
    with session_scope(app) as session:
        entry = session.scalars(select(AuditEntry)).one()
        entry.actor = "someone else"
        with pytest.raises(AuditTamperError):
            session.flush()
        session.rollback()
        session.delete(session.scalars(select(AuditEntry)).one())
        with pytest.raises(AuditTamperError):
            session.flush()
        session.rollback()
    [kept] = trail(app)
    assert (kept.actor, kept.details) == ("someone", {"n": 1})


def test_the_channel_comes_from_the_adapter_the_act_came_through(app: Flask) -> None:
    with session_scope(app) as session:
        with audit.through(Channel.CHAT):
            chat = audit.record(session, "test.chat")
        system = audit.record(session, "test.system")
        explicit = audit.record(session, "test.api", channel=Channel.API, actor="app", ip="10.0.0.9")
        assert (chat.channel, chat.actor) == (Channel.CHAT, "chat")
        assert (system.channel, system.actor) == (Channel.SYSTEM, "system")
        assert (explicit.channel, explicit.actor, explicit.ip) == (Channel.API, "app", "10.0.0.9")


def test_staff_commands_are_audited_with_the_cli_channel_and_the_os_user(
    app: Flask, run: Callable[..., Result]
) -> None:
    with at(T0):
        added = run("staff", "add", "li.wei", "--role", "reviewer", "--password", "initial password")
        assert added.exit_code == 0, added.output
        roles = run("staff", "set-role", "li.wei", "reviewer,editor")
        assert roles.exit_code == 0, roles.output
        disabled = run("staff", "disable", "li.wei")
        assert disabled.exit_code == 0, disabled.output
        enabled = run("staff", "enable", "li.wei")
        assert enabled.exit_code == 0, enabled.output
        changed = run("staff", "password", "li.wei", "--password", "another password")
        assert changed.exit_code == 0, changed.output
    entries = trail(app, target_kind="staff")
    assert [e.action for e in entries] == [
        "staff.add",
        "staff.roles",
        "staff.disable",
        "staff.enable",
        "staff.password",
    ]
    assert {(e.channel, e.actor, e.target, e.staff_id) for e in entries} == {
        (Channel.CLI, os_user(), "li.wei", None)
    }
    assert {e.at for e in entries} == {T0} or all(e.at >= T0 for e in entries)
    with session_scope(app) as session:
        member_id = staff_models.require(session, "li.wei").id
    assert {e.target_id for e in entries} == {member_id}
    assert entries[0].details == {"roles": ["reviewer"]}
    assert entries[1].details == {"before": ["reviewer"], "after": ["editor", "reviewer"]}


def test_a_dataset_load_and_rollback_from_the_command_line_are_audited(
    app: Flask, run: Callable[..., Result], tmp_path: Path
) -> None:
    first = tmp_path / "bikes.csv"
    first.write_text(CSV, encoding="utf-8")
    second = tmp_path / "bikes2.csv"
    second.write_text(CSV + "bike,新站,31.3200,120.6200\n", encoding="utf-8")
    for path in (first, second):
        loaded = run("poi", "load", "bike", str(path), "--datum", "wgs84")
        assert loaded.exit_code == 0, loaded.output
    checked = run("poi", "load", "bike", str(first), "--datum", "wgs84", "--dry-run")
    assert checked.exit_code == 0, checked.output
    back = run("poi", "rollback", "bike")
    assert back.exit_code == 0, back.output
    entries = trail(app, target_kind="dataset")
    assert [(e.action, e.target, e.target_version) for e in entries] == [
        ("dataset.load", "bike", 1),
        ("dataset.load", "bike", 2),
        ("dataset.check", "bike", None),
        ("dataset.rollback", "bike", 1),
    ]
    assert {(e.channel, e.actor) for e in entries} == {(Channel.CLI, os_user())}
    assert entries[0].details["file"] == "bikes.csv"
    assert entries[0].details["rows"] == 2


def test_the_audit_log_shows_every_channel_and_filters_by_one(app: Flask, run: Callable[..., Result]) -> None:
    add_staff(app, "root", {Role.ADMIN})
    add_staff(app, "li.wei", {Role.REVIEWER})
    add_staff(app, "wang.fang", {Role.REVIEWER})
    assert run("staff", "disable", "wang.fang").exit_code == 0
    client = ConsoleClient(app, ip="10.1.2.3").logged_in("root")
    assert client.post("/console/staff/li.wei/disable").status_code == 302

    [console_act] = trail(app, action="staff.disable", target="li.wei")
    assert (console_act.channel, console_act.actor, console_act.ip) == (Channel.CONSOLE, "root", "10.1.2.3")
    assert console_act.staff_id is not None
    [cli_act] = trail(app, action="staff.disable", target="wang.fang")
    assert (cli_act.channel, cli_act.actor) == (Channel.CLI, os_user())

    page = text(client.get("/console/audit/"))
    for label in ("渠道", "管理后台", "命令行", "停用人员", "登录", f"命令行（{getpass.getuser()}）"):
        assert label in page
    only_cli = text(client.get("/console/audit/", query_string={"channel": "cli"}))
    assert "wang.fang" in only_cli
    assert "li.wei" not in only_cli
    only_console = text(client.get("/console/audit/", query_string={"channel": "console"}))
    assert "li.wei" in only_console
    assert "wang.fang" not in only_console
    ignored = client.get("/console/audit/", query_string={"channel": "telepathy", "since": "yesterday"})
    assert ignored.status_code == 200

    exported = client.get("/console/audit/export.csv", query_string={"channel": "cli"})
    assert exported.status_code == 200
    body = exported.data.decode("utf-8-sig")
    assert body.splitlines()[0] == "时间,操作人,操作,渠道,对象,详情,IP"
    assert "停用人员,命令行,wang.fang" in body
    assert "li.wei" not in body


def test_the_audit_log_filters_by_local_dates(app: Flask) -> None:
    add_staff(app, "root", {Role.ADMIN})
    with session_scope(app) as session:
        audit.record(session, "test.old", target="target-of-friday", at=T0)
    client = ConsoleClient(app).logged_in("root")
    day = T0.strftime("%Y-%m-%d")  # 10:00 in Shanghai, the same day
    shown = text(client.get("/console/audit/", query_string={"since": day, "until": day}))
    assert "<td>target-of-friday</td>" in shown
    before = text(client.get("/console/audit/", query_string={"until": "2026-11-26"}))
    assert "<td>target-of-friday</td>" not in before


def test_a_draft_approval_is_in_the_one_trail(app: Flask) -> None:
    with session_scope(app) as session:
        with audit.through(Channel.CHAT):
            draft = approved_draft(session, T0)
        draft_id, version = draft.id, draft.version
    approvals = trail(app, target_kind="draft", target_id=draft_id, action="draft.approve")
    assert approvals
    assert {(e.channel, e.target_version) for e in approvals} == {(Channel.CHAT, version)}
    assert all(e.staff_id is not None for e in approvals)
    with session_scope(app) as session:
        steps = audit_trail(session, draft_id)
        assert [s.action for s in steps][:2] == ["create", "submit"]
        assert [s.action for s in steps].count("approve") == len(approvals)
        assert steps[-1].actor is not None
