"""``citybot report`` and ``citybot rewards`` over the domain functions, with the staff roster."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from flask import Flask

from reports import phones
from reports.models import PhotoStatus, Report, ReportStatus
from tests.support.reports import FakeMedia, add_staff, make_unready, new_report, unit
from tests.support.words import english_words

pytestmark = pytest.mark.integration


def numbers(app: Flask, *ids: int) -> list[str]:
    with unit(app) as session:
        return [session.get(Report, i).number for i in ids]  # type: ignore[union-attr]


def test_review_from_the_command_line(
    reports_app: Flask, media: FakeMedia, run: Callable[..., Result]
) -> None:
    add_staff(reports_app)
    first, second = new_report(reports_app, media), new_report(reports_app, media, seeds=(2,))
    n1, n2 = numbers(reports_app, first, second)

    listing = run("report", "list", "--open")
    assert listing.exit_code == 0, listing.output
    assert n1 in listing.output
    assert n2 in listing.output
    assert "疑似重复 1 件" in listing.output  # the second is 0 m from the first, same category
    assert "已提交" in listing.output
    assert english_words(listing.output) == []

    shown = run("report", "show", n2)
    assert shown.exit_code == 0, shown.output
    assert f"可能与 {n1}（已提交）重复：位置相近，相距 0.0 米" in shown.output
    assert "来源：公众号对话" in shown.output
    assert "照片 1：已保存，尝试 1 次" in shown.output
    assert "市民：已提交" in shown.output
    assert "resident" not in shown.output
    assert "o-resident-1" not in shown.output
    assert english_words(shown.output) == []

    refused = run("report", "accept", n1, "--actor", "officer-a")
    assert refused.exit_code == 1
    assert refused.output == "Error: 您没有执行该操作的权限。\n"
    unknown = run("report", "accept", n1, "--actor", "mallory")
    assert unknown.exit_code == 1
    assert unknown.output == "Error: 没有用户名为 mallory 的工作人员。\n"

    accepted = run("report", "accept", n1, "--actor", "rev-a", "--comment", "属实")
    assert accepted.exit_code == 0, accepted.output
    assert accepted.output.startswith(f"{n1}：已采纳，10 积分\n")
    assert english_words(accepted.output) == []
    stale = run(
        "report", "reject", n1, "--reason", "unclear_photo", "--actor", "rev-b", "--expect", "submitted"
    )
    assert stale.exit_code == 1
    assert stale.output == f"Error: 举报 {n1} 已被他人处理（当前状态：已采纳），您的操作未执行。\n"
    bad_reason = run("report", "reject", n2, "--reason", "dislike", "--actor", "rev-b")
    assert bad_reason.exit_code == 2
    assert "未知的不采纳原因“dislike”，可选：not_a_violation, unclear_photo," in bad_reason.output
    assert english_words(bad_reason.output, "dislike") == []
    missing = run("report", "show", "SSP-00000000-0000")
    assert missing.exit_code == 1
    assert missing.output == "Error: 没有编号为 SSP-00000000-0000 的举报\n"

    duplicate = run("report", "duplicate", n2, "--of", n1, "--actor", "rev-b")
    assert duplicate.exit_code == 0, duplicate.output
    assert duplicate.output.strip() == f"{n2}：重复举报，原举报 {n1}"
    assert run("report", "resolve", n1, "--actor", "rev-b").output.strip() == f"{n1}：已处理"

    trail = run("report", "show", n1).output
    assert "审核员 rev-a：已提交 → 已采纳，说明：属实" in trail
    assert "审核员 rev-b：已采纳 → 已处理" in trail


def test_payout_from_the_command_line(
    reports_app: Flask, media: FakeMedia, run: Callable[..., Result], tmp_path: Path
) -> None:
    add_staff(reports_app)
    report_id = new_report(reports_app, media)
    assert run("report", "accept", str(report_id), "--actor", "rev-a").exit_code == 0
    with unit(reports_app) as session:
        phones.bind_phone(session, "o-resident-1", "13800138000")

    balance = run("rewards", "balance", "o-resident-1", "--actor", "officer-a")
    assert balance.output.startswith("积分余额 10")
    created = run("rewards", "payout", "--actor", "officer-a")
    assert created.exit_code == 0, created.output
    assert created.output.strip() == "已生成兑付批次 1：1 笔，10 积分"
    assert run("rewards", "payout", "--actor", "officer-a").output.strip() == "目前没有可兑付的积分"

    out = tmp_path / "batch1.csv"
    exported = run("rewards", "export", "1", "--actor", "officer-a", "-o", str(out))
    assert exported.exit_code == 0, exported.output
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    assert b"13800138000" in data
    assert b"o-resident-1" not in data
    masked = run("rewards", "export", "1", "--actor", "boss")
    assert "138****8000" in masked.output
    assert "13800138000" not in masked.output

    self_confirm = run("rewards", "confirm", "1", "--actor", "officer-a")
    assert self_confirm.exit_code == 1
    assert self_confirm.output == "Error: 付款批次须由创建人以外的人员确认。\n"
    confirmed = run("rewards", "confirm", "1", "--actor", "officer-b", "--failed", "1=号码停机")
    assert confirmed.exit_code == 0, confirmed.output
    assert confirmed.output.strip() == "兑付批次 1 已确认：0 笔已发放，1 笔失败"
    assert run("rewards", "balance", "o-resident-1", "--actor", "officer-a").output.startswith("积分余额 10")
    assert (
        "兑付批次 1：已确认，1 笔，10 积分，创建人 officer-a，确认人 officer-b"
        in run("rewards", "batches").output
    )


def test_jobs_commands(reports_app: Flask, backend: str, run: Callable[..., Result]) -> None:
    due = run("jobs", "run-due")
    assert due.exit_code == 0, due.output
    assert "reports.jobs.run_due：处理 0 项" in due.output
    assert english_words(due.output) == []
    worker = run("worker", "--burst")
    if backend == "embedded":
        assert worker.exit_code == 1
        assert "未配置 redis_url" in worker.output
    else:
        assert worker.exit_code == 0, worker.output
        assert "后台任务进程已启动，队列" in worker.output
    assert english_words(worker.output) == []


def test_decisions_from_the_command_line_are_in_the_one_trail(
    reports_app: Flask, media: FakeMedia, run: Callable[..., Result]
) -> None:
    from sqlalchemy import select

    from bot.core.audit import AuditEntry, Channel
    from bot.core.database import session_scope
    from reports.models import audit_of
    from staff.models import require

    add_staff(reports_app)
    report_id = new_report(reports_app, media)
    [number] = numbers(reports_app, report_id)
    accepted = run("report", "accept", number, "--actor", "rev-a", "--comment", "属实")
    assert accepted.exit_code == 0, accepted.output
    with session_scope(reports_app) as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "report.accept")).one()
        reviewer = require(session, "rev-a")
        assert (entry.channel, entry.actor, entry.staff_id) == (Channel.CLI, "rev-a", reviewer.id)
        assert (entry.target_kind, entry.target_id, entry.target) == ("report", report_id, number)
        assert entry.details == {"role": "reviewer", "from": "submitted", "to": "accepted", "comment": "属实"}
        steps = audit_of(session, report_id)
        assert [(s.to_status, s.channel) for s in steps][-1] == ("accepted", "cli")


def test_accepting_with_photos_not_ready_needs_confirm_photos(
    reports_app: Flask, media: FakeMedia, run: Callable[..., Result]
) -> None:
    add_staff(reports_app)
    report_id = new_report(reports_app, media)
    make_unready(reports_app, report_id, PhotoStatus.PENDING)
    [number] = numbers(reports_app, report_id)
    refused = run("report", "accept", number, "--actor", "rev-a")
    assert refused.exit_code == 1
    assert refused.output == (
        f"Error: 举报 {number} 还有 1 张照片尚未就绪（正在下载或下载失败），审核人员还看不到。"
        "采纳前须确认在未看到这些照片的情况下采纳。如确认，请加上 --confirm-photos 重新执行。\n"
    )
    assert run("rewards", "balance", "o-resident-1", "--actor", "officer-a").output.startswith("积分余额 0")
    accepted = run("report", "accept", number, "--actor", "rev-a", "--confirm-photos")
    assert accepted.exit_code == 0, accepted.output
    assert accepted.output.startswith(f"{number}：已采纳，10 积分")


def test_revoke_and_reject_print_the_catalogue_words(
    reports_app: Flask, media: FakeMedia, run: Callable[..., Result]
) -> None:
    add_staff(reports_app)
    [number] = numbers(reports_app, new_report(reports_app, media))
    assert run("report", "accept", number, "--actor", "rev-a").exit_code == 0
    revoked = run("report", "revoke", number, "--actor", "rev-b", "--comment", "照片有误")
    assert revoked.exit_code == 0, revoked.output
    assert revoked.output == f"{number}：审核中（已撤销采纳）\n"
    rejected = run("report", "reject", number, "--reason", "unclear_photo", "--actor", "rev-b")
    assert rejected.exit_code == 0, rejected.output
    assert rejected.output == f"{number}：未采纳（照片不够清晰，无法确认具体情况。）\n"
    shown = run("report", "show", number)
    assert "原因：照片不够清晰，无法确认具体情况。" in shown.output
    for output in (revoked.output, rejected.output, shown.output):
        assert english_words(output) == []
    bad_status = run("report", "list", "--status", "pending")
    assert bad_status.exit_code == 2
    assert "未知的状态“pending”，可选：submitted（已提交）" in bad_status.output
    # the option's values are named as they are typed, each with its word
    assert english_words(bad_status.output, "pending", *ReportStatus) == []
