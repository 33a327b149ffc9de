"""``citybot broadcasts`` against the fake WeChat."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from flask import Flask
from sqlalchemy import select

from bot.cli import cli
from bot.core.clock import utcnow
from bot.core.database import session_scope
from broadcasts.models import Cover, Draft, DraftStatus, Publication, audit_trail
from devtools.fake_wechat import FakeWeChat
from staff.roles import Role
from tests.support.broadcasts import add_staff, approved_draft, png
from tests.support.live import write_config

pytestmark = pytest.mark.integration


@pytest.fixture
def setup(make_app: Any, base_overrides: dict[str, Any], fake_wechat: FakeWeChat, tmp_path: Path) -> Any:
    wechat = {**base_overrides["wechat"], **fake_wechat.settings_overrides()["wechat"]}
    app: Flask = make_app(wechat=wechat)
    overrides = {**base_overrides, "wechat": wechat}

    def run(*args: str, broadcasts: dict[str, Any] | None = None, stdin: str | None = None) -> Result:
        config = write_config(str(tmp_path / "c.toml"), {**overrides, "broadcasts": broadcasts or {}})
        return CliRunner().invoke(cli, ["--config", config, *args], input=stdin)

    return app, run


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
