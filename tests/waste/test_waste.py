"""垃圾分类: the table (loading, line-numbered errors), lookups tolerant of near matches, the chat's
``分类 电池`` and the API's ``/sorting`` giving the same answer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import func, select

from bot.app import load_texts
from bot.chat.journal import JournalEntry
from bot.cli import cli
from bot.core.database import session_scope
from tests.support.live import cli_config
from tests.support.reports import unit
from tests.support.wechat import simulator_for
from tests.support.words import english_words
from waste.categories import WasteCategory
from waste.lookup import lookup, normalise
from waste.models import WasteItem
from waste.table import TableError, load_table, read_table, sample_path

pytestmark = pytest.mark.integration

TEXTS = load_texts()


def handlers_of(app: Flask) -> list[str | None]:
    with session_scope(app) as session:
        return list(session.scalars(select(JournalEntry.handler).order_by(JournalEntry.id)))


@pytest.fixture
def sorting_app(app: Flask) -> Flask:
    with unit(app) as session:
        load_table(session, read_table(sample_path().read_bytes()))
    return app


def test_normal_form() -> None:
    assert normalise("廢 電池") == "废电池"
    assert normalise(" 废电池。") == "废电池"
    assert normalise("ＡＢＣ　塑料瓶") == "abc塑料瓶"
    assert normalise("X光片") == normalise("x 光 片")
    assert normalise("，。！") == ""


@pytest.mark.parametrize(
    ("query", "name", "category", "exact"),
    [
        ("电池", "电池", WasteCategory.HAZARDOUS, True),
        ("廢電池", "电池", WasteCategory.HAZARDOUS, True),  # traditional, via an alias
        ("用过的电池", "电池", WasteCategory.HAZARDOUS, False),
        ("塑料瓶子", "塑料瓶", WasteCategory.RECYCLABLE, True),
        ("矿泉水 瓶", "矿泉水瓶", WasteCategory.RECYCLABLE, True),
        ("吃剩的西瓜皮", "西瓜皮", WasteCategory.KITCHEN, False),
        ("外卖餐盒", "一次性餐盒", WasteCategory.RESIDUAL, True),
        ("一次性纸杯子", "奶茶杯", WasteCategory.RESIDUAL, False),
        ("過期藥品", "过期药品", WasteCategory.HAZARDOUS, True),
    ],
)
def test_lookups(sorting_app: Flask, query: str, name: str, category: WasteCategory, exact: bool) -> None:
    with unit(sorting_app) as session:
        result = lookup(session, query)
        assert result.item is not None, result
        assert (result.item.name, result.item.waste_category, result.exact) == (name, category, exact)
        assert result.score >= 72


@pytest.mark.parametrize("query", ["宇宙飞船", "汽车发动机", "！！", ""])
def test_unknown_items_get_no_guess(sorting_app: Flask, query: str) -> None:
    with unit(sorting_app) as session:
        result = lookup(session, query)
        assert result.item is None
        assert all(item.name not in query for item in result.suggestions)
        if query in ("宇宙飞船", ""):
            assert result.suggestions == []


def test_an_ambiguous_word_shows_both_bins_instead_of_guessing(sorting_app: Flask) -> None:
    with unit(sorting_app) as session:
        result = lookup(session, "骨头")  # 大骨头 (其他垃圾) or 鸡骨头 (厨余垃圾)
        assert result.item is None
        names = {item.name for item in result.suggestions}
        assert {"大骨头", "鸡骨头"} <= names
        categories = {item.waste_category for item in result.suggestions}
        assert {WasteCategory.RESIDUAL, WasteCategory.KITCHEN} <= categories


def test_the_threshold_decides_near_matches(sorting_app: Flask) -> None:
    with unit(sorting_app) as session:
        near = lookup(session, "旧衣物服")  # one extra character
        assert near.item is not None
        assert near.item.name == "旧衣服"
        assert lookup(session, "旧衣物服", min_score=100).item is None


def test_table_errors_carry_line_numbers() -> None:
    data = (
        "name,category,note,aliases\n"
        "电池,有害垃圾,,\n"
        ",可回收物,,\n"
        "报纸,纸类,,\n"
        "废电池,有害垃圾,,\n"  # its term is 电池's? no: 废电池 is new; the alias below repeats it
        "旧电池,有害垃圾,,废电池\n"
        "。。,其他垃圾,,\n"
    ).encode()
    with pytest.raises(TableError) as caught:
        read_table(data)
    assert caught.value.errors == [
        "line 3: name is empty",
        "line 4: unknown category '纸类'",
        "line 6: '废电池' is already on line 5",
        "line 7: name has no characters to search by",
    ]
    with pytest.raises(TableError, match="missing column"):
        read_table(b"item,bin\n\xe7\x94\xb5\xe6\xb1\xa0,hazardous\n")
    with pytest.raises(TableError, match="not UTF-8"):
        read_table("name,category\n电池,有害垃圾\n".encode("gbk"))
    rows = read_table(
        "\ufeffname,category\n电池,hazardous\n干电池,干垃圾\n".encode()
    )  # BOM, codes, old names
    assert [(r.name, r.category) for r in rows] == [
        ("电池", WasteCategory.HAZARDOUS),
        ("干电池", WasteCategory.RESIDUAL),
    ]


def test_the_sample_table_loads_completely() -> None:
    rows = read_table(sample_path().read_bytes())
    assert len(rows) >= 50
    assert {row.category for row in rows} == set(WasteCategory)


def test_load_command_is_all_or_nothing_and_readers_see_the_new_table(
    app: Flask, base_overrides: dict[str, Any], tmp_path: Path
) -> None:
    config = cli_config(str(tmp_path / "c.toml"), base_overrides)

    def run(*args: str) -> Any:
        return CliRunner().invoke(cli, ["--config", config, "sorting", *args], catch_exceptions=False)

    loaded = run("load", "--sample")
    assert loaded.exit_code == 0, loaded.output
    with unit(app) as session:
        assert lookup(session, "电池").item is not None  # cached terms...
        count = session.scalar(select(func.count(WasteItem.id)))
    bad = tmp_path / "bad.csv"
    bad.write_text("name,category\n手机壳,可回收物\n,有害垃圾\n", encoding="utf-8")
    refused = run("load", str(bad))
    assert refused.exit_code == 1
    assert "表格有 1 处问题，未导入任何内容：\n第 3 行：名称为空。" in refused.output
    with unit(app) as session:
        assert session.scalar(select(func.count(WasteItem.id))) == count
    good = tmp_path / "good.csv"
    good.write_text("name,category,note,aliases\n手机壳,可回收物,,手机套\n", encoding="utf-8")
    checked = run("load", "--dry-run", str(good))
    assert checked.output == f"{good}：共 1 个物品，没有错误（试运行：未导入）\n"
    stored = run("load", str(good))
    assert stored.exit_code == 0, stored.output
    assert stored.output == f"已从 {good} 导入 1 个物品\n"
    with unit(app) as session:
        assert lookup(session, "电池").item is None  # ...are dropped when the table changes
        found = lookup(session, "手机套").item
        assert found is not None
        assert found.name == "手机壳"
    answer = run("lookup", "手机壳")
    assert "可回收物" in answer.output
    neither = run("load")
    assert neither.exit_code == 2
    assert "Error: 请指定表格文件 FILE 或 --sample（二选一）" in neither.output
    for output in (
        loaded.output,
        refused.output,
        checked.output,
        stored.output,
        answer.output,
        neither.output,
    ):
        assert english_words(output) == []


@pytest.mark.parametrize(
    "query", ["香蕉皮", "纸巾", "过期药品", "手机", "电池", "用过的电池", "塑料袋", "骨头汤"]
)
def test_related_items_go_in_the_same_bin(sorting_app: Flask, query: str) -> None:
    with unit(sorting_app) as session:
        result = lookup(session, query)
        if result.item is None:
            return
        assert {item.category for item in result.suggestions} <= {result.item.category}, [
            (item.name, item.category) for item in result.suggestions
        ]
        assert result.item not in result.suggestions


def test_the_mixed_bins_of_the_issue_are_gone(sorting_app: Flask) -> None:
    with unit(sorting_app) as session:
        assert "烟头" not in {i.name for i in lookup(session, "香蕉皮").suggestions}
        assert "报纸" not in {i.name for i in lookup(session, "纸巾").suggestions}
        assert "过期食品" not in {i.name for i in lookup(session, "过期药品").suggestions}
        assert "充电电池" not in {i.name for i in lookup(session, "手机").suggestions}
        # ... while items of the same bin are still offered
        assert "充电电池" in {i.name for i in lookup(session, "电池").suggestions}


@pytest.mark.parametrize("query", ["火星石头", "石头", "汽车发动机"])
def test_no_guess_below_the_threshold(sorting_app: Flask, query: str) -> None:
    with unit(sorting_app) as session:
        result = lookup(session, query)
        assert (result.item, result.suggestions) == (None, [])
        assert 50 <= result.score < 70  # something shares a character: the threshold decides
        lowered = lookup(session, query, guess_score=result.score)
        assert lowered.suggestions  # a bureau may offer such guesses by lowering guess_score


def test_the_thresholds_come_from_the_settings(make_app: Any) -> None:
    app = make_app(waste={"guess_score": 50.0, "related_score": 95.0})
    with unit(app) as session:
        load_table(session, read_table(sample_path().read_bytes()))
    sim = simulator_for(app)
    guessed = sim.send(sim.text("o-sort-1", "分类 火星石头")).text or ""
    assert "可能是" in guessed
    answer = sim.send(sim.text("o-sort-1", "分类 电池")).text or ""
    assert "同类物品" not in answer  # no related item scores 95


def test_an_unknown_item_says_so_and_how_to_ask(sorting_app: Flask) -> None:
    sim = simulator_for(sorting_app)
    reply = sim.send(sim.text("o-sort-2", "分类 火星石头")).text or ""
    assert reply == TEXTS("waste.chat.not_found", query="火星石头")
    assert "可能是" not in reply
    assert "烟头" not in reply


@pytest.mark.parametrize(
    "message",
    [
        "分类 电池",
        "分類 電池",
        "垃圾分類：電池",
        "电池是什么垃圾",
        "电池是什么垃圾？",
        "电池属于什么垃圾",
        "电池是哪类垃圾",
        "电池算什么垃圾",
        "电池怎么扔",
        "电池应该怎么处理",
        "电池扔哪个桶",
        "电池是有害垃圾吗",
        "请问电池是什么垃圾",
        "電池屬於什麼垃圾",
        "電池怎麼丟",
    ],
)
def test_sorting_questions_are_recognised(sorting_app: Flask, message: str) -> None:
    sim = simulator_for(sorting_app)
    reply = sim.send(sim.text("o-sort-3", message)).text or ""
    assert reply.startswith("“电池”属于【有害垃圾】。"), reply
    assert handlers_of(sorting_app)[-1] == "handlers.sorting.sort_item"


def test_a_longer_item_in_a_question(sorting_app: Flask) -> None:
    sim = simulator_for(sorting_app)
    reply = sim.send(sim.text("o-sort-4", "用过的电池属于哪一类垃圾呢？")).text or ""
    assert reply.startswith("您要找的可能是“电池”，属于【有害垃圾】。")
    usage = sim.send(sim.text("o-sort-4", "这是什么垃圾")).text or ""
    assert usage == TEXTS("waste.chat.usage")


@pytest.mark.parametrize("message", ["厕所在哪里", "你好", "车放在哪里"])
def test_other_messages_are_not_sorting_questions(sorting_app: Flask, message: str) -> None:
    sim = simulator_for(sorting_app)
    sim.send(sim.text("o-sort-5", message))
    assert handlers_of(sorting_app)[-1] != "handlers.sorting.sort_item"
