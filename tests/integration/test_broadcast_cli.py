"""``citybot menu push``, ``citybot staff link-wechat`` and ``citybot broadcasts`` against the fake WeChat."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from flask import Flask
from sqlalchemy import select

from bot.cli import cli
from bot.core.clock import utcnow
from bot.core.database import session_scope
from broadcasts.models import Cover, Draft, DraftStatus, Publication, audit_trail, remembered
from devtools.fake_wechat import FakeWeChat
from staff import models as staff_models
from staff.roles import Role
from tests.support.broadcasts import add_staff, approved_draft, png
from tests.support.live import write_config


@pytest.fixture
def setup(make_app: Any, base_overrides: dict[str, Any], fake_wechat: FakeWeChat, tmp_path: Path) -> Any:
    wechat = {**base_overrides["wechat"], **fake_wechat.settings_overrides()["wechat"]}
    app: Flask = make_app(wechat=wechat)
    overrides = {**base_overrides, "wechat": wechat}

    def run(*args: str, broadcasts: dict[str, Any] | None = None, stdin: str | None = None) -> Result:
        config = write_config(str(tmp_path / "c.toml"), {**overrides, "broadcasts": broadcasts or {}})
        return CliRunner().invoke(cli, ["--config", config, *args], input=stdin)

    return app, run


def _payload(output: str, after: str) -> dict[str, Any]:
    start = output.index(after) + len(after)
    decoder = json.JSONDecoder()
    value, _end = decoder.raw_decode(output[start:].lstrip())
    return value


def test_menu_push_dry_run_calls_nothing(setup: Any, fake_wechat: FakeWeChat) -> None:
    _app, run = setup
    result = run("menu", "push", "--dry-run")
    assert result.exit_code == 0, result.output
    assert [b["name"] for b in _payload(result.output, "menu/create:")["button"]] == [
        "城管发布",
        "公共服务",
        "微生活",
    ]
    staff = _payload(result.output, "menu/addconditional:")
    assert staff["matchrule"] == {"tag_id": "<id of tag '城管工作人员', created on push>"}
    assert "dry run: nothing was sent" in result.output
    assert fake_wechat.calls() == []


def test_menu_push_creates_both_menus_and_the_tag_once(setup: Any, fake_wechat: FakeWeChat) -> None:
    app, run = setup
    first = run("menu", "push")
    assert first.exit_code == 0, first.output
    assert fake_wechat.menu is not None
    assert [b["name"] for b in fake_wechat.menu["button"]] == ["城管发布", "公共服务", "微生活"]
    ((tag_id, name),) = fake_wechat.tags.items()
    assert name == "城管工作人员"
    (conditional,) = fake_wechat.conditional_menus
    assert conditional["matchrule"] == {"tag_id": str(tag_id)}
    assert [s["name"] for s in conditional["button"][0]["sub_button"]][-3:] == [
        "新建草稿",
        "我的草稿",
        "待审稿件",
    ]

    again = run("menu", "push")
    assert again.exit_code == 0, again.output
    assert len(fake_wechat.conditional_menus) == 1  # replaced, not piled up
    assert len(fake_wechat.calls("tags/create")) == 1
    with session_scope(app) as session:
        assert remembered(session, "menu.conditional") == fake_wechat.conditional_menus[0]["menuid"]
    dry = run("menu", "push", "--dry-run")
    assert _payload(dry.output, "menu/addconditional:")["matchrule"] == {"tag_id": str(tag_id)}


def test_menu_push_refuses_an_invalid_file(setup: Any, fake_wechat: FakeWeChat, tmp_path: Path) -> None:
    _app, run = setup
    bad = tmp_path / "menu.toml"
    bad.write_text(
        '[[button]]\nname = "城管发布最新消息"\ntype = "click"\nkey = "LATEST_BROADCASTS"\n', "utf-8"
    )
    result = run("menu", "push", broadcasts={"menu_file": str(bad)})
    assert result.exit_code == 1
    assert "button 1 '城管发布最新消息': name is 24 bytes in UTF-8, at most 16" in result.output
    assert fake_wechat.calls() == []


def test_link_wechat_stores_the_openid_and_tags_it(setup: Any, fake_wechat: FakeWeChat) -> None:
    app, run = setup
    with session_scope(app) as session:
        add_staff(session, "li.wei", Role.EDITOR)
        add_staff(session, "zhao.min", Role.CHIEF_EDITOR)
    # the tag exists on WeChat already (made by hand on the platform)
    fake_wechat.tags[150] = "城管工作人员"
    fake_wechat.tag_members[150] = set()
    linked = run("staff", "link-wechat", "li.wei", "o_li")
    assert linked.exit_code == 0, linked.output
    assert "li.wei linked to o_li" in linked.output
    assert run("staff", "link-wechat", "zhao.min", "o_zhao").exit_code == 0
    assert fake_wechat.tag_members[150] == {"o_li", "o_zhao"}
    assert [c.errcode for c in fake_wechat.calls("tags/create")] == [45157]
    with session_scope(app) as session:
        assert staff_models.require(session, "li.wei").wechat_openid == "o_li"

    taken = run("staff", "link-wechat", "zhao.min", "o_li")
    assert taken.exit_code == 1
    assert "该微信账号已绑定工作人员 li.wei。" in taken.output

    fake_wechat.fail_next("tags/members/batchtagging", 45159)
    with session_scope(app) as session:
        add_staff(session, "sun.li", Role.EDITOR)
    failed = run("staff", "link-wechat", "sun.li", "o_sun")
    assert failed.exit_code == 1
    assert "45159" in failed.output
    with session_scope(app) as session:
        assert staff_models.require(session, "sun.li").wechat_openid is None


def test_broadcasts_publish_withdraw_and_rhythm(setup: Any, fake_wechat: FakeWeChat) -> None:
    app, run = setup
    with session_scope(app) as session:
        draft = approved_draft(session, utcnow())
        draft.cover = Cover(content_type="image/png", data=png(), sha256="x")
        add_staff(session, "chief.pub", Role.CHIEF_EDITOR)
        add_staff(session, "plain.editor", Role.EDITOR)
        draft_id = draft.id
    refused = run("broadcasts", "publish", str(draft_id), "--as", "plain.editor")
    assert refused.exit_code == 1
    assert "您没有权限进行此操作。" in refused.output

    published = run("broadcasts", "publish", str(draft_id), "--as", "chief.pub")
    assert published.exit_code == 0, published.output
    assert f"mass sending (clientmsgid citybot-d{draft_id}-v1" in published.output
    assert len(fake_wechat.mass_sends) == 1
    rhythm = run("broadcasts", "rhythm")
    assert ": 1 of 4 mass sends used, 3 left" in rhythm.output

    with session_scope(app) as session:
        publication_id = session.scalars(select(Publication.id)).one()
    withdrawn = run(
        "broadcasts", "withdraw", str(publication_id), "--as", "chief.pub", "--reason", "信息有误"
    )
    assert withdrawn.exit_code == 0, withdrawn.output
    assert len(fake_wechat.deleted_mass) == 1
    with session_scope(app) as session:
        row = session.get(Draft, draft_id)
        assert row is not None
        assert row.status is DraftStatus.WITHDRAWN
        assert "信息有误" in [e.comment for e in audit_trail(session, draft_id)]


def test_broadcasts_screen(setup: Any) -> None:
    _app, run = setup
    clean = run("broadcasts", "screen", "-", stdin="今日天气晴。\n")
    assert (clean.exit_code, clean.output.strip()) == (0, "0 hit(s)")
    hits = run("broadcasts", "screen", "-", stdin="第一行\n这里有强拆，还有代開發票。\n")
    assert hits.exit_code == 1
    assert "sensitive line 2: '强拆' (强拆, 执法敏感表述)" in hits.output
    assert "forbidden line 2: '代開發票' (代开发票, 违法违规信息)" in hits.output
