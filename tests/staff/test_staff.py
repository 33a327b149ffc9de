from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask

from bot.cli import cli
from bot.core.database import session_scope
from staff import models
from staff.roles import GRANTS, Permission, Role, parse_roles, permissions_of
from tests.support.live import write_config

pytestmark = pytest.mark.unit


def test_roles_grant_permissions() -> None:
    editor = permissions_of({Role.EDITOR})
    assert Permission.DRAFTS_FIRST_REVIEW in editor
    assert Permission.DRAFTS_FINAL_REVIEW not in editor
    assert Permission.REPORTS_REVIEW not in editor
    # admin: everything but residents' full phone numbers, which only those who pay them see
    assert permissions_of({Role.ADMIN}) == frozenset(Permission) - {Permission.REWARDS_FULL_PHONES}
    assert Permission.REWARDS_FULL_PHONES in permissions_of({Role.ADMIN, Role.REWARDS_OFFICER})
    assert all(Permission.CONSOLE in grants for grants in GRANTS.values())


def test_parse_roles() -> None:
    assert parse_roles("editor, chief_editor") == {Role.EDITOR, Role.CHIEF_EDITOR}
    with pytest.raises(ValueError, match="unknown role 'boss'"):
        parse_roles("editor,boss")


def test_staff_lifecycle(app: Flask) -> None:
    with session_scope(app) as session:
        member = models.add(session, "li.wei", "correct horse battery", frozenset({Role.REVIEWER}), "李伟")
        assert member.password_hash.startswith("scrypt:")
        assert member.check_password("correct horse battery")
        assert not member.check_password("wrong")
        assert member.can(Permission.REPORTS_REVIEW)
    with session_scope(app) as session:
        with pytest.raises(models.StaffError, match="already exists"):
            models.add(session, "li.wei", "another password", frozenset())
        with pytest.raises(models.StaffError, match="at least"):
            models.add(session, "zhang", "short", frozenset())
        with pytest.raises(models.StaffError, match="username"):
            models.add(session, "Bad Name", "long enough pw", frozenset())
    with session_scope(app) as session:
        models.set_roles(session, "li.wei", frozenset({Role.EDITOR}))
        models.set_active(session, "li.wei", False)
    with session_scope(app) as session:
        member = models.require(session, "li.wei")
        assert member.roles == {Role.EDITOR}
        assert member.permissions == frozenset()  # disabled accounts can do nothing
        assert models.with_permission(session, Permission.DRAFTS_WRITE) == []


def test_link_wechat_is_unique(app: Flask) -> None:
    with session_scope(app) as session:
        models.add(session, "aaa", "password-aaa", frozenset({Role.EDITOR}))
        models.add(session, "bbb", "password-bbb", frozenset({Role.EDITOR}))
        models.link_wechat(session, "aaa", "openid-1")
    with session_scope(app) as session:
        with pytest.raises(models.StaffError, match="already linked"):
            models.link_wechat(session, "bbb", "openid-1")
        found = models.by_openid(session, "openid-1")
        assert found is not None
        assert found.username == "aaa"


def test_staff_cli(app: Flask, base_overrides: dict[str, Any], tmp_path: Path) -> None:
    config = write_config(str(tmp_path / "c.toml"), base_overrides)
    runner = CliRunner()
    added = runner.invoke(
        cli,
        [
            "--config",
            config,
            "staff",
            "add",
            "wang.fang",
            "--role",
            "reviewer,editor",
            "--password",
            "a-good-long-password",
        ],
    )
    assert added.exit_code == 0, added.output
    assert added.output.endswith("已添加工作人员 wang.fang，角色：审核员、编辑\n")
    bad = runner.invoke(cli, ["--config", config, "staff", "set-role", "wang.fang", "emperor"])
    assert bad.exit_code != 0
    assert "未知的角色“emperor”" in bad.output
    assert runner.invoke(cli, ["--config", config, "staff", "disable", "wang.fang"]).exit_code == 0
    listed = runner.invoke(cli, ["--config", config, "staff", "list"])
    assert "wang.fang" in listed.output
    assert "已停用" in listed.output
    assert "审核员、编辑" in listed.output
    assert "reviewer" not in listed.output
    missing = runner.invoke(cli, ["--config", config, "staff", "disable", "nobody"])
    assert missing.exit_code != 0
    assert "没有用户名为 nobody 的工作人员。" in missing.output
