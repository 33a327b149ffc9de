"""The check that command output holds no English sentence catches one and lets identifiers through."""

from __future__ import annotations

import pytest

from tests.support.words import english_words

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    "english",
    [
        "SSP-20261201-0001: accepted, 10 points",
        "replayed 1 message(s), 0 still failing",
        "no reports",
        "menu pushed: 2 top buttons",
        "photo 1: stored, attempts 1",
        "note: 1 possible duplicate(s)",
        "已从 a.csv 导入 3 个 items",
    ],
)
def test_english_is_found(english: str) -> None:
    assert english_words(english)


@pytest.mark.parametrize(
    "chinese",
    [
        "SSP-20261201-0001：已采纳，10 积分",
        "reports.jobs.run_due：处理 0 项",
        "Error: 未配置 redis_url：后台任务在网页进程内直接执行；请定时运行 citybot jobs run-due 处理重试",
        "位置：31.230000,121.470000 WGS-84（提交坐标 31.23,121.47 GCJ-02）",
        "如确认，请加上 --confirm-photos 重新执行。",
        "     1 2026-12-01 08:00:00 失败 文字  tests.cli.test_messages_cli.flaky",
        "/tmp/pytest-1/good.csv：共 1 个物品，没有错误（试运行：未导入）",
        "NEARBY_TOILET\t一键查找 公共厕所（toilet）",
        "已处理 msg:10001",
        "Error: Invalid value for '--reason': 未知的不采纳原因“dislike”，可选：not_a_violation。",
    ],
)
def test_identifiers_are_not_english(chinese: str) -> None:
    assert english_words(chinese, "toilet", "dislike") == []


def test_a_raw_value_is_left_out() -> None:
    assert english_words("  错误：database hiccup", "database hiccup") == []
