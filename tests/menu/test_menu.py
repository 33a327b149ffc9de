"""The menu file: the shipped default is valid and mirrors the modules; every WeChat limit is enforced
with a problem (a code and its values) that names the button by its position and name, worded in
Chinese from the catalogue; the keys cover every facility kind."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.app import load_texts
from bot.core.errors import render
from geodata.kinds import PoiKind
from menu.definition import FIELDS
from menu.errors import MenuError, MenuProblem
from menu.keys import NEARBY_KEYS, MenuKey, describe, known_keys, nearby_key, nearby_kind
from menu.loading import load_menu, parse_menu
from menu.validation import BUTTON_TYPES
from tests.support.words import english_words

pytestmark = pytest.mark.unit

TEXTS = load_texts()


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


Facts = tuple[str, str, dict[str, Any], dict[str, Any]]

# The file's own words a sentence may quote: its fields, sections and button types.
IDENTIFIERS = (*FIELDS, "sub_button", "button", "staff", "under", *BUTTON_TYPES, "wx0123456789abcdef")


def _facts(problem: MenuProblem) -> Facts:
    """A problem as data: its code, its place's code and values, and its other values."""
    values = {name: value for name, value in problem.values.items() if name != "place"}
    return problem.code, problem.place.code, problem.place.values, values


def _problems(text: str) -> list[MenuProblem]:
    with pytest.raises(MenuError) as error:
        parse_menu(text, "menu.toml")
    return error.value.problems


def _rendered(problems: list[MenuProblem]) -> list[str]:
    return [render(TEXTS, problem) for problem in problems]


TOP_1 = ("button", {"number": 1, "name": "a"})
WHOLE: tuple[str, dict[str, Any]] = ("menu", {})
FILE = ("file", {"file": "menu.toml"})


@pytest.mark.parametrize(
    ("text", "code", "place", "values"),
    [
        (
            _click("a")
            + _click("b", "NEARBY_BIKE")
            + _click("c", "NEARBY_TOILET")
            + _click("d", "NEARBY_VENDOR"),
            "too_many_buttons",
            WHOLE,
            {"count": 4, "limit": 3},
        ),
        (
            _click("城管发布信息"),
            "name_too_long",
            ("button", {"number": 1, "name": "城管发布信息"}),
            {"bytes": 18, "limit": 16},
        ),
        (
            '[[button]]\nname = "a"\n'
            + "".join(
                f'[[button.sub_button]]\ntype = "view"\nname = "s{i}"\nurl = "https://a.cn/{i}"\n'
                for i in range(6)
            ),
            "too_many_sub_buttons",
            TOP_1,
            {"count": 6, "limit": 5},
        ),
        (
            '[[button]]\nname = "a"\n[[button.sub_button]]\ntype = "view"\nname = "b"\nurl = "https://a.cn"\n'
            '[[button.sub_button]]\ntype = "view"\nname = "' + "长" * 21 + '"\nurl = "https://a.cn"\n',
            "name_too_long",
            ("sub_button", {"number": 1, "sub": 2, "name": "长" * 21}),
            {"bytes": 63, "limit": 60},
        ),
        (_click("a", "K" * 129), "key_too_long", TOP_1, {"bytes": 129, "limit": 128}),
        (
            '[[button]]\nname = "a"\ntype = "view"\nurl = "https://a.cn/' + "x" * 1020 + '"\n',
            "url_too_long",
            TOP_1,
            {"bytes": 1033, "limit": 1024},
        ),
        (
            '[[button]]\nname = "a"\ntype = "view"\nurl = "javascript:alert(1)"\n',
            "url_invalid",
            TOP_1,
            {"url": "javascript:alert(1)"},
        ),
        ('[[button]]\nname = "a"\ntype = "view"\n', "url_missing", TOP_1, {"type": "view"}),
        ('[[button]]\nname = "a"\ntype = "click"\n', "key_missing", TOP_1, {"type": "click"}),
        (
            '[[button]]\nname = "a"\ntype = "teleport"\n',
            "type_unknown",
            TOP_1,
            {"type": "teleport", "types": "、".join(sorted(BUTTON_TYPES))},
        ),
        ('[[button]]\nname = "a"\n', "type_missing", TOP_1, {"types": "、".join(sorted(BUTTON_TYPES))}),
        (
            '[[button]]\nname = ""\ntype = "click"\nkey = "NEARBY_BIKE"\n',
            "name_empty",
            ("button_unnamed", {"number": 1}),
            {},
        ),
        (
            '[[button]]\nname = "a"\ntype = "miniprogram"\nurl = "https://a.cn"\n'
            'appid = "abc"\npagepath = "p"\n',
            "appid_invalid",
            TOP_1,
            {},
        ),
        (
            '[[button]]\nname = "a"\ntype = "miniprogram"\nurl = "https://a.cn"\n'
            'appid = "wx0123456789abcdef"\n',
            "pagepath_missing",
            TOP_1,
            {},
        ),
        ('[[button]]\nname = "a"\ntype = "media_id"\n', "media_id_missing", TOP_1, {}),
        (
            '[[button]]\nname = "a"\ntype = "article_view_limited"\n',
            "article_id_missing",
            TOP_1,
            {"type": "article_view_limited"},
        ),
        (
            '[[button]]\nname = "a"\ntype = "click"\nkey = "NEARBY_BIKE"\n'
            '[[button.sub_button]]\ntype = "click"\nname = "b"\nkey = "NEARBY_TOILET"\n',
            "type_with_sub_buttons",
            TOP_1,
            {"type": "click"},
        ),
        (
            '[[button]]\nname = "a"\n[[button.sub_button]]\ntype = "click"\nname = "b"\nkey = "NEARBY_BIKE"\n'
            '[[button.sub_button.sub_button]]\nname = "c"\ntype = "click"\nkey = "NEARBY_TOILET"\n',
            "nested_sub_buttons",
            ("sub_button", {"number": 1, "sub": 1, "name": "b"}),
            {},
        ),
        (_click("a") + _click("b"), "key_repeated", WHOLE, {"key": "LATEST_BROADCASTS", "count": 2}),
        (_click("a", "DRAFT_NEW"), "staff_key", TOP_1, {"key": "DRAFT_NEW"}),
        (
            '[[button]]\nname = "a"\ntype = "click"\nkey = "NEARBY_BIKE"\ncolour = "red"\nsize = 2\n',
            "unknown_fields",
            TOP_1,
            {"fields": "colour、size"},
        ),
        (
            '[[button]]\nname = "a"\ntype = "click"\nkey = 7\n',
            "not_a_string",
            TOP_1,
            {"field": "key"},
        ),
        ("button = [1]\n", "not_a_table", ("button_unnamed", {"number": 1}), {}),
        ("", "no_buttons", WHOLE, {}),
        ('theme = "dark"\n' + _click("a"), "unknown_sections", FILE, {"sections": "theme"}),
        (
            _menu(
                _click("a"),
                'under = "nope"\n[[staff.sub_button]]\ntype = "click"\nname = "x"\nkey = "DRAFT_NEW"\n',
            ),
            "staff_under_unknown",
            ("staff", {}),
            {"under": "nope"},
        ),
        ("[[button]\n", "toml_invalid", FILE, {"line": 1, "column": 9}),
        ('[[button]]\nname = "a\n', "toml_invalid", FILE, {"line": 2, "column": 10}),
    ],
)
def test_each_problem_is_a_code_with_its_place_and_values(
    text: str, code: str, place: tuple[str, dict[str, Any]], values: dict[str, Any]
) -> None:
    problems = _problems(text)
    assert (code, *place, values) in [_facts(p) for p in problems], [str(p) for p in problems]
    assert all(isinstance(p, MenuProblem) for p in problems)
    # each is worded from the catalogue in Chinese, its place first; str() stays English for logs
    for problem, sentence in zip(problems, _rendered(problems), strict=True):
        assert sentence.startswith(render(TEXTS, problem.place) + "：")
        quoted = [str(value) for value in (*problem.values.values(), *problem.place.values.values())]
        assert english_words(sentence, *IDENTIFIERS, *quoted) == []
        assert english_words(str(problem), *IDENTIFIERS) != []


def test_problems_read_in_chinese_naming_the_button_by_position_and_name() -> None:
    sub = '[[button.sub_button]]\ntype = "view"\nname = "{}"\nurl = "https://a.cn"\n'
    text = (
        _click("发布")
        + '[[button]]\nname = "服务"\n'
        + sub.format("s1")
        + sub.format("s2")
        + sub.format("城管发布最新消息城管发布最新消息城管发布最新消息")
        + '[[button]]\nname = "城管发布最新消息"\ntype = "click"\nkey = "NEARBY_BIKE"\n'
        + '[[button]]\nname = "更多"\ntype = "view"\nurl = "ftp://a.cn"\n'
    )
    problems = _problems(text)
    assert _rendered(problems) == [
        "菜单：有 4 个一级菜单，最多 3 个",
        "第 2 个菜单的第 3 个子菜单“城管发布最新消息城管发布最新消息城管发布最新消息”："
        "名称有 72 个字节（UTF-8），最多 60 个",
        "第 3 个菜单“城管发布最新消息”：名称有 24 个字节（UTF-8），最多 16 个",
        "第 4 个菜单“更多”：网页链接 ftp://a.cn 应以 http:// 或 https:// 开头",
    ]
    assert [str(p) for p in problems][
        2
    ] == "button 3 '城管发布最新消息': name is 24 bytes in UTF-8, at most 16"
    with pytest.raises(MenuError) as error:
        parse_menu(text)
    assert render(TEXTS, error.value) == "菜单文件有误：\n" + "\n".join(_rendered(problems))
    assert english_words(render(TEXTS, error.value), "ftp://a.cn") == []


def test_staff_buttons_must_fit_under_their_top_button() -> None:
    buttons = '[[button]]\nname = "a"\n' + "".join(
        f'[[button.sub_button]]\ntype = "view"\nname = "s{i}"\nurl = "https://a.cn/{i}"\n' for i in range(4)
    )
    staff = (
        'under = "a"\n'
        + "".join(
            f'[[staff.sub_button]]\ntype = "click"\nname = "{k}"\nkey = "{k}"\n'
            for k in ("DRAFT_NEW", "DRAFT_MINE")
        )
        + '[[staff.sub_button]]\ntype = "click"\nname = "草稿"\n'
    )
    problems = _problems(_menu(buttons, staff))
    assert [_facts(p) for p in problems] == [
        ("too_many_sub_buttons", "staff_menu_button", {"number": 1, "name": "a"}, {"count": 7, "limit": 5}),
        ("key_missing", "staff_menu_sub_button", {"number": 1, "sub": 7, "name": "草稿"}, {"type": "click"}),
    ]
    assert _rendered(problems) == [
        "工作人员菜单中第 1 个菜单“a”：有 7 个子菜单，最多 5 个",
        "工作人员菜单中第 1 个菜单的第 7 个子菜单“草稿”：类型 click 需要键值（key）",
    ]
    assert str(problems[0]) == "staff menu: button 1 'a': 7 sub-buttons, at most 5"


def test_a_problem_of_the_default_menu_is_not_repeated_for_the_staff_menu() -> None:
    staff = 'under = "城管发布信息"\n[[staff.sub_button]]\ntype = "click"\nname = "新建"\nkey = "DRAFT_NEW"\n'
    top = '[[button]]\nname = "城管发布信息"\n' + _click("b", "NEARBY_BIKE").replace(
        "[[button]]", "[[button.sub_button]]"
    )
    problems = _problems(_menu(top, staff))
    assert [p.code for p in problems] == ["name_too_long"]
    assert problems[0].place.code == "button"


def test_menu_file_from_a_path(tmp_path: Path) -> None:
    path = tmp_path / "menu.toml"
    path.write_text(_click("发布", MenuKey.LATEST_BROADCASTS.value), encoding="utf-8")
    assert load_menu(str(path)).payload() == {
        "button": [{"type": "click", "name": "发布", "key": "LATEST_BROADCASTS"}]
    }
    absent = str(tmp_path / "absent.toml")
    with pytest.raises(MenuError, match="menu file") as error:
        load_menu(absent)
    (problem,) = error.value.problems
    assert _facts(problem) == ("file_missing", "file", {"file": absent}, {})
    assert render(TEXTS, problem) == f"菜单文件 {absent}：文件不存在"
    path.write_bytes(b"\xff\xfe")
    with pytest.raises(MenuError) as error:
        load_menu(str(path))
    assert _facts(error.value.problems[0]) == ("file_not_utf8", "file", {"file": str(path)}, {"byte": 0})


def test_every_kind_has_a_nearby_key() -> None:
    assert [nearby_key(kind) for kind in PoiKind] == list(NEARBY_KEYS)
    assert nearby_key(PoiKind.WATERMELON) == "NEARBY_WATERMELON"
    assert all(nearby_kind(nearby_key(kind)) is kind for kind in PoiKind)
    assert nearby_kind(MenuKey.LATEST_BROADCASTS) is None
    assert nearby_kind(None) is None
    assert set(known_keys()) == {*NEARBY_KEYS, *MenuKey}
    assert describe(TEXTS, nearby_key(PoiKind.TOILET)) == "一键查找 公共厕所（toilet）"
    assert all(describe(TEXTS, key) for key in known_keys())


def test_an_unknown_key_is_named_with_the_known_ones() -> None:
    with pytest.raises(MenuError) as error:
        parse_menu(_click("a", "NEARBY_NOWHERE"))
    (problem,) = error.value.problems
    assert (problem.code, problem.values["key"]) == ("key_unknown", "NEARBY_NOWHERE")
    assert "key 'NEARBY_NOWHERE' is routed by no handler" in str(problem)
    sentence = render(TEXTS, problem)
    assert sentence.startswith("第 1 个菜单“a”：键值 NEARBY_NOWHERE 没有对应的功能；可用的键值：")
    assert all(key in sentence for key in known_keys())
