"""``citybot menu push`` / ``menu keys`` and ``citybot staff link-wechat`` (the staff tag) against the
fake WeChat."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from flask import Flask

from bot.cli import cli
from bot.core.database import session_scope
from broadcasts.models import remembered
from devtools.fake_wechat import FakeWeChat
from geodata.kinds import PoiKind
from menu.keys import known_keys, nearby_key
from staff import models as staff_models
from staff.roles import Role
from tests.support.broadcasts import add_staff
from tests.support.live import write_config
from tests.support.words import english_words

pytestmark = pytest.mark.integration

CREATE = "将发送的菜单（menu/create）："
CONDITIONAL = "将发送的工作人员菜单（menu/addconditional）："


def _sentences(output: str) -> str:
    """The lines a person reads, without the JSON payloads (machine text, left as WeChat takes it)."""
    return "\n".join(line for line in output.splitlines() if not line.startswith((" ", "{", "}")))


@pytest.fixture
def setup(make_app: Any, base_overrides: dict[str, Any], fake_wechat: FakeWeChat, tmp_path: Path) -> Any:
    wechat = {**base_overrides["wechat"], **fake_wechat.settings_overrides()["wechat"]}
    app: Flask = make_app(wechat=wechat)
    overrides = {**base_overrides, "wechat": wechat}

    def run(*args: str, broadcasts: dict[str, Any] | None = None) -> Result:
        config = write_config(str(tmp_path / "c.toml"), {**overrides, "broadcasts": broadcasts or {}})
        return CliRunner().invoke(cli, ["--config", config, *args])

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
    assert [b["name"] for b in _payload(result.output, CREATE)["button"]] == [
        "城管发布",
        "公共服务",
        "微生活",
    ]
    staff = _payload(result.output, CONDITIONAL)
    assert staff["matchrule"] == {"tag_id": "<标签“城管工作人员”的编号，推送时创建>"}
    assert _sentences(result.output).splitlines() == [CREATE, CONDITIONAL, "试运行：未发送任何内容"]
    assert english_words(_sentences(result.output)) == []
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
    assert first.output == (
        "菜单已推送：3 个一级菜单\n"
        f"工作人员菜单 {conditional['menuid']} 已对标签“城管工作人员”（编号 {tag_id}）生效\n"
    )
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
    assert _payload(dry.output, CONDITIONAL)["matchrule"] == {"tag_id": str(tag_id)}


def test_menu_push_refuses_an_invalid_file(setup: Any, fake_wechat: FakeWeChat, tmp_path: Path) -> None:
    _app, run = setup
    bad = tmp_path / "menu.toml"
    bad.write_text(
        '[[button]]\nname = "城管发布最新消息"\ntype = "click"\nkey = "LATEST_BROADCASTS"\n'
        '[[button]]\nname = "服务"\n'
        '[[button.sub_button]]\nname = "厕所"\ntype = "click"\nkey = "NEARBY_LOO"\n',
        "utf-8",
    )
    result = run("menu", "push", broadcasts={"menu_file": str(bad)})
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[:3] == [
        "Error: 菜单文件有误：",
        "第 1 个菜单“城管发布最新消息”：名称有 24 个字节（UTF-8），最多 16 个",
        "第 2 个菜单的第 1 个子菜单“厕所”：键值 NEARBY_LOO 没有对应的功能；可用的键值："
        + "、".join(known_keys()),
    ]
    assert english_words(result.output) == []
    assert fake_wechat.calls() == []

    missing = run("menu", "push", broadcasts={"menu_file": str(tmp_path / "absent.toml")})
    assert missing.exit_code == 1
    assert missing.output == f"Error: 菜单文件有误：\n菜单文件 {tmp_path / 'absent.toml'}：文件不存在\n"
    assert english_words(missing.output) == []
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
    assert "li.wei 已绑定微信用户 o_li" in linked.output
    assert run("staff", "link-wechat", "zhao.min", "o_zhao").exit_code == 0
    assert fake_wechat.tag_members[150] == {"o_li", "o_zhao"}
    assert [c.errcode for c in fake_wechat.calls("tags/create")] == [45157]
    with session_scope(app) as session:
        assert staff_models.require(session, "li.wei").wechat_openid == "o_li"

    taken = run("staff", "link-wechat", "zhao.min", "o_li")
    assert taken.exit_code == 1
    assert "该微信账号已绑定工作人员 li.wei" in taken.output

    fake_wechat.fail_next("tags/members/batchtagging", 45159)
    with session_scope(app) as session:
        add_staff(session, "sun.li", Role.EDITOR)
    failed = run("staff", "link-wechat", "sun.li", "o_sun")
    assert failed.exit_code == 1
    assert "45159" in failed.output
    with session_scope(app) as session:
        assert staff_models.require(session, "sun.li").wechat_openid is None


def test_menu_keys_lists_every_kind(setup: Any) -> None:
    _app, run = setup
    result = run("menu", "keys")
    assert result.exit_code == 0, result.output
    listed = dict(line.split("\t") for line in result.output.splitlines())
    for kind in PoiKind:
        assert kind.label in listed[nearby_key(kind)]
    assert listed["LATEST_BROADCASTS"] == "最新发布"
    assert listed["DRAFT_NEW"] == "新建草稿（仅工作人员）"
    assert listed[nearby_key(PoiKind.TOILET)] == f"一键查找 {PoiKind.TOILET.label}（toilet）"
    # the keys and the kinds' codes are what the menu file and `citybot poi` take
    assert english_words(result.output, *(kind.value for kind in PoiKind)) == []
