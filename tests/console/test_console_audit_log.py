"""The audit log (操作日志) words every entry for staff: each action's details as a sentence from the
catalogue, role codes as role names, reasons and statuses as their words, empty values left out,
who acted and what was acted on by name; the CSV export says the same."""

from __future__ import annotations

import re

import pytest
from flask import Flask

from bot.core import audit
from bot.core.audit import Channel
from bot.core.database import session_scope
from staff.roles import Role
from tests.support.console import ConsoleClient, add_staff, text

pytestmark = pytest.mark.integration

RAW = ("None", "['", "{'", "reviewer", "insufficient_info", "pending", "resident", "under_review", "cli:")


def record_everything(app: Flask) -> None:
    with session_scope(app) as session:
        audit.record(session, "staff.add", actor="root", target="li.wei", details={"roles": ["reviewer"]})
        audit.record(
            session,
            "staff.roles",
            actor="root",
            target="li.wei",
            details={"before": ["reviewer"], "after": ["editor", "reviewer"]},
        )
        failed = {"reason": "unknown user"}
        audit.record(session, "login.failed", actor="ghost", target="ghost", details=failed)
        audit.record(
            session,
            "report.reject",
            actor="li.wei",
            target="R20261127-0001",
            target_kind="report",
            target_id=7,
            details={
                "role": "reviewer",
                "from": "under_review",
                "to": "rejected",
                "reason": "insufficient_info",
                "comment": None,
            },
        )
        audit.record(
            session,
            "report.submit",
            actor="resident",
            target="R20261127-0002",
            target_kind="report",
            target_id=8,
            details={"role": "resident", "from": None, "to": "submitted"},
        )
        audit.record(
            session,
            "rewards.confirm",
            actor="pay",
            target="batch 3",
            target_kind="payout_batch",
            target_id=3,
            details={"role": "rewards_officer", "failed": None},
        )
        with audit.through(Channel.CLI, actor="cli:ops"):
            audit.record(
                session,
                "dataset.load",
                target="toilet",
                target_kind="dataset",
                version=2,
                details={
                    "file": "t.csv",
                    "datum": "wgs84",
                    "rows": 4,
                    "errors": 0,
                    "status": "loaded",
                    "encoding": "gb18030",
                },
            )


def rows(page: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "|", row) for row in re.findall(r"<tr>\s*<td>.*?</tr>", page, re.S)]


def test_every_entry_reads_as_chinese_sentences(app: Flask) -> None:
    add_staff(app, "root", {Role.ADMIN})
    record_everything(app)
    client = ConsoleClient(app).logged_in("root")
    page = text(client.get("/console/audit/"))
    details = re.findall(r'<td class="detail">([^<]*)</td>', page)
    assert "角色：审核员" in details
    assert "角色由“审核员”改为“编辑、审核员”" in details
    assert "原因：用户名不存在" in details
    assert "审核中 → 未采纳，原因：信息不完整，无法核实。；身份：审核员" in details
    assert "市民提交，状态：已提交" in details
    assert "身份：奖励专员" in details  # failed=None left out
    assert "发布文件 t.csv：已发布为新版本；坐标系：WGS-84；条数：4；错误：0 处；编码：GBK/GB18030" in details
    assert "兑付批次 3" in page
    assert "公共厕所（版本 2）" in page
    assert "命令行（ops）" in page
    assert "<td>市民</td>" in page
    table = page[page.index("<tbody>") : page.index("</tbody>")]
    for raw in RAW:
        assert raw not in table, raw


def test_the_export_words_entries_as_the_page_does(app: Flask) -> None:
    add_staff(app, "root", {Role.ADMIN})
    record_everything(app)
    client = ConsoleClient(app).logged_in("root")
    body = client.get("/console/audit/export.csv").data.decode("utf-8-sig")
    assert "角色由“审核员”改为“编辑、审核员”" in body
    assert "兑付批次 3" in body
    for raw in RAW:
        assert raw not in body.split("\n", 1)[1], raw
