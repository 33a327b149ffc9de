"""城管发布 in the console, on both backends: write a draft with a cover, preview it, submit it, take it
through 初审 / 复审 / 终审 as different staff, publish it to the fake WeChat and withdraw it."""

from __future__ import annotations

import io
import re
from collections.abc import Callable

import pytest
from flask import Flask
from sqlalchemy import select

from bot.core.audit import AuditEntry, Channel
from bot.core.database import session_scope
from broadcasts.models import Draft, DraftStatus, Publication, PublicationStatus, audit_trail
from devtools.fake_wechat import FakeWeChat
from staff.roles import Role
from tests.support.broadcasts import png
from tests.support.console import ConsoleClient, add_staff, text

pytestmark = pytest.mark.integration

STAFF = {
    "bianji": {Role.EDITOR},
    "chushen": {Role.EDITOR},
    "kezhang": {Role.SECTION_CHIEF},
    "fenguan": {Role.DEPUTY_LEADER},
    "zongbian": {Role.CHIEF_EDITOR},
    "shenhe": {Role.REVIEWER},
}
BODY = "今年夏季西瓜临时摊点于6月1日开放。\n\n请市民**文明购买**，详见[公告](https://example.gov.cn/a)。"


@pytest.fixture
def console_app(make_app: Callable[..., Flask], fake_wechat: FakeWeChat) -> Flask:
    app = make_app(**fake_wechat.settings_overrides())
    for username, roles in STAFF.items():
        add_staff(app, username, roles, display_name=username)
    return app


def as_(app: Flask, username: str) -> ConsoleClient:
    return ConsoleClient(app).logged_in(username)


def create(
    client: ConsoleClient,
    *,
    title: str = "夏季西瓜摊点开放",
    body: str = BODY,
    grade: str = "general",
    cover: bytes | None = None,
) -> int:
    data: dict[str, object] = {
        "csrf_token": client.token(),
        "title": title,
        "author": "城管局",
        "digest": "",
        "body": body,
        "grade": grade,
    }
    if cover is not None:
        data["cover"] = (io.BytesIO(cover), "cover.png")
    response = client.client.post(
        "/console/broadcasts/new",
        data=data,
        content_type="multipart/form-data",
        environ_base=client._environ(),
    )
    assert response.status_code == 302, text(response)
    found = re.search(r"/console/broadcasts/(\d+)$", response.headers["Location"])
    assert found is not None
    return int(found.group(1))


def status_of(app: Flask, draft_id: int) -> DraftStatus:
    with session_scope(app) as session:
        draft = session.get(Draft, draft_id)
        assert draft is not None
        return draft.status


def flashes(client: ConsoleClient, path: str) -> str:
    return text(client.get(path))


def test_from_a_console_draft_to_publish_and_withdraw(console_app: Flask, fake_wechat: FakeWeChat) -> None:
    author = as_(console_app, "bianji")
    draft_id = create(author, cover=png(6, 4))
    page = text(author.get(f"/console/broadcasts/{draft_id}"))
    assert "<strong>文明购买</strong>" in page
    assert f'src="/console/broadcasts/{draft_id}/cover"' in page
    cover = author.get(f"/console/broadcasts/{draft_id}/cover")
    assert (cover.status_code, cover.mimetype, cover.data) == (200, "image/png", png(6, 4))
    submitted = author.post(f"/console/broadcasts/{draft_id}/submit")
    assert submitted.status_code == 302
    assert status_of(console_app, draft_id) is DraftStatus.FIRST_REVIEW
    own = author.post(f"/console/broadcasts/{draft_id}/approve")
    assert own.status_code == 302
    assert "不能审核自己撰写或修改过的稿件" in flashes(author, f"/console/broadcasts/{draft_id}")
    assert status_of(console_app, draft_id) is DraftStatus.FIRST_REVIEW

    for username, expected in (
        ("chushen", DraftStatus.SECOND_REVIEW),
        ("kezhang", DraftStatus.FINAL_REVIEW),
        ("zongbian", DraftStatus.APPROVED),
    ):
        reviewer = as_(console_app, username)
        assert "夏季西瓜摊点开放" in text(reviewer.get("/console/broadcasts/"))
        assert (
            reviewer.post(f"/console/broadcasts/{draft_id}/approve", {"comment": "同意"}).status_code == 302
        )
        assert status_of(console_app, draft_id) is expected

    chief = as_(console_app, "zongbian")
    detail = text(chief.get(f"/console/broadcasts/{draft_id}"))
    assert "本月已群发 0 / 4 次" in detail
    published = chief.post(f"/console/broadcasts/{draft_id}/publish", {"mode": "all"})
    assert published.status_code == 302
    (send,) = fake_wechat.mass_sends
    assert send["clientmsgid"] == f"citybot-d{draft_id}-v1"
    (article,) = next(iter(fake_wechat.drafts.values()))
    assert article["title"] == "夏季西瓜摊点开放"
    assert list(fake_wechat.materials.values()) == [(png(6, 4), "image/png")]

    with session_scope(console_app) as session:
        publication_id, msg_id = session.execute(select(Publication.id, Publication.msg_id)).one()
    missing = chief.post(f"/console/broadcasts/publications/{publication_id}/withdraw", {"reason": ""})
    assert missing.status_code == 302
    assert fake_wechat.deleted_mass == []
    withdrawn = chief.post(
        f"/console/broadcasts/publications/{publication_id}/withdraw", {"reason": "信息有误"}
    )
    assert withdrawn.status_code == 302
    assert fake_wechat.deleted_mass == [{"msg_id": msg_id, "article_idx": 0}]
    with session_scope(console_app) as session:
        publication = session.get(Publication, publication_id)
        assert publication is not None
        assert publication.status is PublicationStatus.WITHDRAWN
        actions = [e.action for e in audit_trail(session, draft_id)]
        assert actions[:2] == ["create", "submit"]
        assert actions[-2:] == ["publish", "withdraw"]
        logged = [
            (e.action, e.actor, e.channel)
            for e in session.scalars(
                select(AuditEntry).where(AuditEntry.target_kind == "draft", AuditEntry.target_id == draft_id)
            )
        ]
        # Every act once, in the one trail, as the console's.
        assert [action for action, _, _ in logged] == [
            "draft.create",
            "draft.submit",
            "draft.approve",
            "draft.approve",
            "draft.approve",
            "draft.publish",
            "draft.withdraw",
        ]
        assert {channel for _, _, channel in logged} == {Channel.CONSOLE}
        assert logged[0][1] == "bianji"


def test_forbidden_content_blocks_and_sensitive_needs_acknowledgement(console_app: Flask) -> None:
    author = as_(console_app, "bianji")
    blocked = create(author, body="本处可代·開·发票")
    author.post(f"/console/broadcasts/{blocked}/submit")
    assert status_of(console_app, blocked) is DraftStatus.DRAFTING
    page = flashes(author, f"/console/broadcasts/{blocked}")
    assert "稿件含禁用内容（代开发票），不能继续" in page
    assert '<mark class="forbidden">代·開·发票</mark>' in page

    sensitive = create(author, body="关于网传强拆的说明。")
    author.post(f"/console/broadcasts/{sensitive}/submit")
    reviewer = as_(console_app, "chushen")
    assert "我已核实敏感表述（强拆）" in text(reviewer.get(f"/console/broadcasts/{sensitive}"))
    reviewer.post(f"/console/broadcasts/{sensitive}/approve")
    assert status_of(console_app, sensitive) is DraftStatus.FIRST_REVIEW
    assert "请勾选确认后再通过" in flashes(reviewer, f"/console/broadcasts/{sensitive}")
    reviewer.post(f"/console/broadcasts/{sensitive}/approve", {"acknowledge": "1"})
    assert status_of(console_app, sensitive) is DraftStatus.SECOND_REVIEW


def test_an_edit_in_review_starts_again_and_return_needs_a_comment(console_app: Flask) -> None:
    author = as_(console_app, "bianji")
    draft_id = create(author, grade="important")
    author.post(f"/console/broadcasts/{draft_id}/submit")
    as_(console_app, "chushen").post(f"/console/broadcasts/{draft_id}/approve")
    section = as_(console_app, "kezhang")
    section.post(f"/console/broadcasts/{draft_id}/approve")
    assert "分管领导" in text(section.get(f"/console/broadcasts/{draft_id}"))  # the sign-off still missing

    edit_page = text(author.get(f"/console/broadcasts/{draft_id}/edit"))
    assert "从初审重新开始" in edit_page
    response = author.client.post(
        f"/console/broadcasts/{draft_id}/edit",
        data={
            "csrf_token": author.token(),
            "title": "夏季西瓜摊点开放通知",
            "author": "城管局",
            "digest": "",
            "body": BODY,
            "grade": "important",
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    assert status_of(console_app, draft_id) is DraftStatus.FIRST_REVIEW
    assert "已保存为第 2 版，审核从初审重新开始" in flashes(author, f"/console/broadcasts/{draft_id}")

    reviewer = as_(console_app, "chushen")
    reviewer.post(f"/console/broadcasts/{draft_id}/return", {"comment": ""})
    assert status_of(console_app, draft_id) is DraftStatus.FIRST_REVIEW
    reviewer.post(f"/console/broadcasts/{draft_id}/return", {"comment": "请补充时间"})
    assert status_of(console_app, draft_id) is DraftStatus.RETURNED
    assert "请补充时间" in text(author.get(f"/console/broadcasts/{draft_id}"))


def test_quota_and_rhythm_on_the_console(make_app: Callable[..., Flask], fake_wechat: FakeWeChat) -> None:
    app = make_app(**fake_wechat.settings_overrides(), broadcasts={"monthly_quota": 40})
    add_staff(app, "zongbian", {Role.CHIEF_EDITOR})
    page = text(as_(app, "zongbian").get("/console/broadcasts/"))
    assert "0 / 40" in page
    assert "发布节奏明显落后" in page  # 40 sends left, fewer days than that in any month
    quiet = make_app(**fake_wechat.settings_overrides(), broadcasts={"monthly_quota": 0})
    assert "发布节奏明显落后" not in text(as_(quiet, "zongbian").get("/console/broadcasts/"))


def test_quota_exhausted_is_refused_in_the_console(
    make_app: Callable[..., Flask], fake_wechat: FakeWeChat
) -> None:
    app = make_app(**fake_wechat.settings_overrides(), broadcasts={"monthly_quota": 0, "default_cover": ""})
    for username, roles in STAFF.items():
        add_staff(app, username, roles)
    author = as_(app, "bianji")
    draft_id = create(author, cover=png())
    author.post(f"/console/broadcasts/{draft_id}/submit")
    for username in ("chushen", "kezhang", "zongbian"):
        as_(app, username).post(f"/console/broadcasts/{draft_id}/approve")
    chief = as_(app, "zongbian")
    chief.post(f"/console/broadcasts/{draft_id}/publish", {"mode": "all"})
    assert "本月群发次数已用完（已用0次，共0次）" in flashes(chief, f"/console/broadcasts/{draft_id}")
    assert fake_wechat.mass_sends == []
    chief.post(f"/console/broadcasts/{draft_id}/publish", {"mode": "publish"})
    assert len(fake_wechat.publishes) == 1
    assert status_of(app, draft_id) is DraftStatus.PUBLISHED


def test_working_copies_are_private_and_roles_without_drafts_are_kept_out(console_app: Flask) -> None:
    author = as_(console_app, "bianji")
    draft_id = create(author)
    assert as_(console_app, "chushen").get(f"/console/broadcasts/{draft_id}").status_code == 404
    outsider = as_(console_app, "shenhe")
    assert outsider.get("/console/broadcasts/").status_code == 403
    assert outsider.get(f"/console/broadcasts/{draft_id}").status_code == 403
    deputy = as_(console_app, "fenguan")
    assert deputy.get("/console/broadcasts/new").status_code == 403
    assert deputy.get("/console/broadcasts/").status_code == 200
