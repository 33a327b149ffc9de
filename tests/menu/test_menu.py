"""The menu file: the shipped default is valid and mirrors the modules; every WeChat limit is enforced
with an error that names the button; the keys cover every facility kind."""

from __future__ import annotations

from pathlib import Path

import pytest

from geodata.kinds import PoiKind
from menu.errors import MenuError
from menu.keys import NEARBY_KEYS, MenuKey, describe, known_keys, nearby_key, nearby_kind
from menu.loading import load_menu, parse_menu

pytestmark = pytest.mark.unit


def test_default_menu_mirrors_the_modules() -> None:
    menu = load_menu()
    payload = menu.payload()
    tops = [b["name"] for b in payload["button"]]
    assert tops == ["城管发布", "公共服务", "微生活"]
    subs = {b["name"]: [s["name"] for s in b["sub_button"]] for b in payload["button"]}
    assert subs["城管发布"] == ["最新发布", "城管微博"]
    assert subs["公共服务"] == ["公共自行车", "便民疏导点", "公共厕所", "西瓜零售点", "维修资金查询"]
    assert subs["微生活"] == ["垃圾分类助手", "随手拍", "我要留言", "我的留言"]
    clicks = {s["key"] for b in payload["button"] for s in b["sub_button"] if s["type"] == "click"}
    assert clicks == {
        "LATEST_BROADCASTS",
        "NEARBY_BIKE",
        "NEARBY_VENDOR",
        "NEARBY_TOILET",
        "NEARBY_WATERMELON",
        "CASE_MESSAGE",
        "MY_CASES",
    }
    mini = [s for s in payload["button"][2]["sub_button"] if s["type"] != "click"]
    assert all(s["type"] == "miniprogram" and s["appid"] and s["pagepath"] and s["url"] for s in mini)
    assert "matchrule" not in payload


def test_staff_menu_adds_the_drafting_buttons_for_the_tag() -> None:
    payload = load_menu().staff_payload(107)
    assert payload["matchrule"] == {"tag_id": "107"}
    first = payload["button"][0]
    assert [s["name"] for s in first["sub_button"]] == [
        "最新发布",
        "城管微博",
        "新建草稿",
        "我的草稿",
        "待审稿件",
    ]
    assert [s.get("key") for s in first["sub_button"][2:]] == ["DRAFT_NEW", "DRAFT_MINE", "DRAFT_QUEUE"]


def _menu(buttons: str, staff: str = "") -> str:
    return buttons + ("\n[staff]\n" + staff if staff else "")


def _click(name: str, key: str = "LATEST_BROADCASTS") -> str:
    return f'[[button]]\nname = "{name}"\ntype = "click"\nkey = "{key}"\n'


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            _click("a")
            + _click("b", "NEARBY_BIKE")
            + _click("c", "NEARBY_TOILET")
            + _click("d", "NEARBY_VENDOR"),
            "menu has 4 top buttons, at most 3",
        ),
        (_click("城管发布信息"), "button 1 '城管发布信息': name is 18 bytes in UTF-8, at most 16"),
        (
            '[[button]]\nname = "a"\n'
            + "".join(
                f'[[button.sub_button]]\ntype = "view"\nname = "s{i}"\nurl = "https://a.cn/{i}"\n'
                for i in range(6)
            ),
            "button 1 'a': 6 sub-buttons, at most 5",
        ),
        (
            '[[button]]\nname = "a"\n[[button.sub_button]]\ntype = "view"\nname = "'
            + "长" * 21
            + '"\nurl = "https://a.cn"\n',
            "name is 63 bytes in UTF-8, at most 60",
        ),
        (_click("a", "K" * 129), "key is 129 bytes, at most 128"),
        (_click("a", "UNKNOWN_KEY"), "button 1 'a': key 'UNKNOWN_KEY' is routed by no handler"),
        (
            '[[button]]\nname = "a"\ntype = "view"\nurl = "javascript:alert(1)"\n',
            "button 1 'a': url 'javascript:alert(1)' must be an http:// or https:// address",
        ),
        ('[[button]]\nname = "a"\ntype = "view"\n', "button 1 'a': type view needs a url"),
        ('[[button]]\nname = "a"\ntype = "teleport"\n', "button 1 'a': unknown type 'teleport'"),
        ('[[button]]\nname = "a"\n', "button 1 'a': needs a type"),
        ('[[button]]\nname = ""\ntype = "click"\nkey = "NEARBY_BIKE"\n', "name is empty"),
        (
            '[[button]]\nname = "a"\ntype = "miniprogram"\nurl = "https://a.cn"\n'
            'appid = "abc"\npagepath = "p"\n',
            "button 1 'a': miniprogram needs an appid",
        ),
        (
            '[[button]]\nname = "a"\ntype = "miniprogram"\nurl = "https://a.cn"\n'
            'appid = "wx0123456789abcdef"\n',
            "miniprogram needs a pagepath",
        ),
        (
            '[[button]]\nname = "a"\ntype = "click"\nkey = "NEARBY_BIKE"\n'
            '[[button.sub_button]]\ntype = "click"\nname = "b"\nkey = "NEARBY_TOILET"\n',
            "a button with sub-buttons has no type of its own",
        ),
        (_click("a") + _click("b"), "key 'LATEST_BROADCASTS' is used by 2 buttons"),
        (_click("a", "DRAFT_NEW"), "key DRAFT_NEW belongs in the [staff] section"),
        (
            '[[button]]\nname = "a"\ntype = "click"\nkey = "NEARBY_BIKE"\ncolour = "red"\n',
            "unknown fields colour",
        ),
        ("", "menu has no buttons"),
        (
            _menu(
                _click("a"),
                'under = "nope"\n[[staff.sub_button]]\ntype = "click"\nname = "x"\nkey = "DRAFT_NEW"\n',
            ),
            "staff: under = 'nope' names no top button",
        ),
        ("[[button]\n", "is not valid TOML"),
    ],
)
def test_menu_errors_name_the_button(text: str, problem: str) -> None:
    with pytest.raises(MenuError) as error:
        parse_menu(text, "menu.toml")
    assert any(problem in line for line in error.value.problems), error.value.problems


def test_staff_buttons_must_fit_under_their_top_button() -> None:
    buttons = '[[button]]\nname = "a"\n' + "".join(
        f'[[button.sub_button]]\ntype = "view"\nname = "s{i}"\nurl = "https://a.cn/{i}"\n' for i in range(4)
    )
    staff = 'under = "a"\n' + "".join(
        f'[[staff.sub_button]]\ntype = "click"\nname = "{k}"\nkey = "{k}"\n'
        for k in ("DRAFT_NEW", "DRAFT_MINE")
    )
    with pytest.raises(MenuError) as error:
        parse_menu(_menu(buttons, staff))
    assert "staff menu: button 1 'a': 6 sub-buttons, at most 5" in error.value.problems


def test_menu_file_from_a_path(tmp_path: Path) -> None:
    path = tmp_path / "menu.toml"
    path.write_text(_click("发布", MenuKey.LATEST_BROADCASTS.value), encoding="utf-8")
    assert load_menu(str(path)).payload() == {
        "button": [{"type": "click", "name": "发布", "key": "LATEST_BROADCASTS"}]
    }
    with pytest.raises(MenuError, match="menu file"):
        load_menu(str(tmp_path / "absent.toml"))


def test_every_kind_has_a_nearby_key() -> None:
    assert [nearby_key(kind) for kind in PoiKind] == list(NEARBY_KEYS)
    assert nearby_key(PoiKind.WATERMELON) == "NEARBY_WATERMELON"
    assert all(nearby_kind(nearby_key(kind)) is kind for kind in PoiKind)
    assert nearby_kind(MenuKey.LATEST_BROADCASTS) is None
    assert nearby_kind(None) is None
    assert set(known_keys()) == {*NEARBY_KEYS, *MenuKey}
    assert describe(nearby_key(PoiKind.TOILET)) == "一键查找 公共厕所 (toilet)"
    assert all(describe(key) for key in known_keys())


def test_an_unknown_key_is_named_with_the_known_ones() -> None:
    with pytest.raises(MenuError) as error:
        parse_menu(_click("a", "NEARBY_NOWHERE"))
    (problem,) = error.value.problems
    assert "key 'NEARBY_NOWHERE' is routed by no handler" in problem
    assert all(key in problem for key in known_keys())
