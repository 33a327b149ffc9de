"""Publishing against the fake WeChat server, on both backends: draft box, mass send with an idempotent
clientmsgid, the monthly quota, job-finish events through the webhook, 一键撤稿."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask

from bot.core import services
from bot.core.clock import utcnow
from bot.core.database import session_scope
from bot.core.errors import render
from bot.wechat.service import api as wechat_api
from broadcasts import drafts, publishing, quota
from broadcasts.errors import BlockedError, BroadcastError, QuotaExhaustedError
from broadcasts.models import (
    Cover,
    Draft,
    DraftStatus,
    Publication,
    PublicationKind,
    PublicationStatus,
    audit_trail,
)
from broadcasts.screening import parse_lexicon
from devtools.fake_wechat import FakeWeChat
from staff import models as staff_models
from staff.roles import Role
from tests.conftest import shared_path
from tests.support.broadcasts import add_staff, approved_draft, lexicon, png
from tests.support.servers import free_port
from tests.support.wechat import simulator_for

pytestmark = pytest.mark.contract


@pytest.fixture
def wx_app(make_app: Callable[..., Flask], fake_wechat: FakeWeChat) -> Flask:
    return make_app(**fake_wechat.settings_overrides())


def _publish(app: Flask, draft_id: int, **options: Any) -> Publication:
    with session_scope(app) as session:
        chief = staff_models.by_username(session, "publisher") or add_staff(
            session, "publisher", Role.CHIEF_EDITOR
        )
        draft = session.get(Draft, draft_id)
        assert draft is not None
        publication = publishing.publish(
            session,
            wechat_api(app),
            draft,
            chief,
            settings=services.settings(app).broadcasts,
            lexicon=options.pop("lexicon", lexicon()),
            now=options.pop("now", utcnow()),
            **options,
        )
        session.flush()
        session.expunge(publication)
        return publication


def _approved_with_cover(app: Flask, **fields: str) -> int:
    with session_scope(app) as session:
        draft = approved_draft(session, utcnow(), **fields)
        draft.cover = Cover(content_type="image/png", data=png(), sha256="x")
        return draft.id


def test_publish_adds_the_draft_then_mass_sends_it(wx_app: Flask, fake_wechat: FakeWeChat) -> None:
    draft_id = _approved_with_cover(wx_app)
    publication = _publish(wx_app, draft_id)
    assert publication.status is PublicationStatus.SENDING
    assert publication.clientmsgid == f"citybot-d{draft_id}-v1"

    (material,) = fake_wechat.materials.values()
    assert material == (png(), "image/png")
    (articles,) = fake_wechat.drafts.values()
    assert articles[0]["title"] == "夏季西瓜摊点开放公告"
    assert "<strong>文明购买</strong>" in articles[0]["content"]
    assert articles[0]["thumb_media_id"] in fake_wechat.materials
    (send,) = fake_wechat.mass_sends
    assert send["filter"] == {"is_to_all": True}
    assert send["mpnews"]["media_id"] == publication.draft_media_id
    assert send["clientmsgid"] == publication.clientmsgid
    assert publication.msg_id in fake_wechat.mass_messages

    with session_scope(wx_app) as session:
        draft = session.get(Draft, draft_id)
        assert draft is not None
        assert draft.status is DraftStatus.PUBLISHED
        assert draft.cover is not None
        assert draft.cover.material_id == publication.thumb_media_id
        assert [e.action for e in audit_trail(session, draft_id)][-1] == "publish"


def test_a_repeated_publish_sends_once(wx_app: Flask, fake_wechat: FakeWeChat) -> None:
    draft_id = _approved_with_cover(wx_app)
    first = _publish(wx_app, draft_id)
    again = _publish(wx_app, draft_id)
    assert again.id == first.id
    assert len(fake_wechat.mass_sends) == 1

    # A send whose commit was lost: the retry reaches WeChat, which refuses the used clientmsgid (45065).
    lost = _approved_with_cover(wx_app, title="第二篇")
    with session_scope(wx_app) as session:
        chief = add_staff(session, "lost.chief", Role.CHIEF_EDITOR)
        draft = session.get(Draft, lost)
        assert draft is not None
        sent = publishing.publish(
            session,
            wechat_api(wx_app),
            draft,
            chief,
            settings=services.settings(wx_app).broadcasts,
            lexicon=lexicon(),
            now=utcnow(),
        )
        original_msg_id = sent.msg_id
        session.rollback()
    retried = _publish(wx_app, lost)
    assert retried.status is PublicationStatus.SENT
    assert retried.msg_id == original_msg_id
    assert [s["clientmsgid"] for s in fake_wechat.mass_sends] == [first.clientmsgid, retried.clientmsgid]
    refused = [c for c in fake_wechat.calls("message/mass/sendall") if c.errcode == 45065]
    assert len(refused) == 1


def test_quota_exhausted_is_refused_before_sending(
    make_app: Callable[..., Flask], fake_wechat: FakeWeChat
) -> None:
    app = make_app(**fake_wechat.settings_overrides(), broadcasts={"monthly_quota": 1})
    _publish(app, _approved_with_cover(app))
    second = _approved_with_cover(app, title="第二篇")
    with pytest.raises(QuotaExhaustedError) as refused:
        _publish(app, second)
    assert (refused.value.code, refused.value.values) == ("quota_exhausted", {"used": 1, "quota": 1})
    assert len(fake_wechat.mass_sends) == 1
    # publishing without a mass send needs no quota
    published = _publish(app, second, kind=PublicationKind.PUBLISH)
    assert published.publish_id in fake_wechat.publishes
    assert len(fake_wechat.mass_sends) == 1


def test_wechat_no_quota_45028_is_reported_as_quota(wx_app: Flask, fake_wechat: FakeWeChat) -> None:
    fake_wechat.mass_quota = 0
    draft_id = _approved_with_cover(wx_app)
    with pytest.raises(QuotaExhaustedError) as refused:
        _publish(wx_app, draft_id)
    assert refused.value.code == "quota_exhausted_wechat"
    assert fake_wechat.mass_sends == []
    with session_scope(wx_app) as session:
        draft = session.get(Draft, draft_id)
        assert draft is not None
        assert draft.status is DraftStatus.APPROVED


def test_publish_screens_again_and_needs_approval(wx_app: Flask, fake_wechat: FakeWeChat) -> None:
    draft_id = _approved_with_cover(wx_app)
    stricter = parse_lexicon('[[category]]\nname = "新规"\nkind = "forbidden"\nterms = ["西瓜"]\n')
    with pytest.raises(BlockedError):
        _publish(wx_app, draft_id, lexicon=stricter)
    with session_scope(wx_app) as session:
        author = add_staff(session, "writer", Role.EDITOR)
        fresh = drafts.create(session, author, title="未审稿件", body="正文", now=utcnow())
        fresh_id = fresh.id
    with pytest.raises(BroadcastError) as unreviewed:
        _publish(wx_app, fresh_id)
    assert unreviewed.value.code == "wrong_status"
    with session_scope(wx_app) as session:
        editor = add_staff(session, "plain.editor", Role.EDITOR)
        draft = session.get(Draft, draft_id)
        assert draft is not None
        with pytest.raises(BroadcastError) as forbidden:
            publishing.publish(
                session,
                wechat_api(wx_app),
                draft,
                editor,
                settings=services.settings(wx_app).broadcasts,
                lexicon=lexicon(),
                now=utcnow(),
            )
        assert forbidden.value.code == "not_allowed"
    assert fake_wechat.mass_sends == []


def test_unreachable_wechat_is_worded_as_such_and_a_refusal_names_its_errcode(
    make_app: Callable[..., Flask], fake_wechat: FakeWeChat
) -> None:
    closed = free_port()  # a loopback port nothing listens on
    app = make_app(
        wechat={**fake_wechat.settings_overrides()["wechat"], "api_base_url": f"http://127.0.0.1:{closed}"}
    )
    with pytest.raises(BroadcastError) as unreachable:
        _publish(app, _approved_with_cover(app))
    assert unreachable.value.code == "wechat_unreachable"
    worded = render(services.texts(app), unreachable.value)
    assert worded == "无法连接微信接口（material/add_material）：网络不通或微信暂时不可用，请稍后重试。"

    wx_app = make_app(**fake_wechat.settings_overrides())
    fake_wechat.fail_next("draft/add", 45009)
    with pytest.raises(BroadcastError) as refused:
        _publish(wx_app, _approved_with_cover(wx_app))
    assert refused.value.code == "wechat_error"
    assert (
        render(services.texts(wx_app), refused.value)
        == "微信接口返回错误（draft/add，错误码45009），请稍后重试。"
    )


def test_chat_cover_is_fetched_from_wechat_at_publish(wx_app: Flask, fake_wechat: FakeWeChat) -> None:
    with session_scope(wx_app) as session:
        draft = approved_draft(session, utcnow())
        draft.cover_media_id, draft.cover_pic_url = "CHAT_MEDIA_1", "http://mmbiz.qpic.cn/x/0"
        expired = approved_draft(session, utcnow(), title="过期封面")
        expired.cover_media_id = "CHAT_MEDIA_GONE"
        ids = draft.id, expired.id
    fake_wechat.add_media("CHAT_MEDIA_1", png(3, 3), "image/png")
    _publish(wx_app, ids[0])
    assert list(fake_wechat.materials.values()) == [(png(3, 3), "image/png")]
    with pytest.raises(BroadcastError) as gone:
        _publish(wx_app, ids[1])
    assert gone.value.code == "cover_expired"


def test_default_cover_is_used_and_uploaded_once(
    make_app: Callable[..., Flask], fake_wechat: FakeWeChat, tmp_path: Any
) -> None:
    cover = tmp_path / "cover.png"
    cover.write_bytes(png(4, 4))
    app = make_app(**fake_wechat.settings_overrides(), broadcasts={"default_cover": str(cover)})
    with session_scope(app) as session:
        first, second = approved_draft(session, utcnow()).id, approved_draft(session, utcnow(), title="二").id
    _publish(app, first)
    _publish(app, second, kind=PublicationKind.PUBLISH)
    assert len(fake_wechat.materials) == 1
    without = make_app(**fake_wechat.settings_overrides())
    with session_scope(without) as session:
        bare = approved_draft(session, utcnow(), title="无封面").id
    with pytest.raises(BroadcastError) as missing:
        _publish(without, bare)
    assert missing.value.code == "no_cover"


def _mass_event(sim: Any, msg_id: int, status: str = "send success") -> Any:
    return sim.send(
        sim.event(
            "gh_system",
            "MASSSENDJOBFINISH",
            MsgID=msg_id,
            Status=status,
            TotalCount=120,
            FilterCount=118,
            SentCount=117,
            ErrorCount=1,
            ArticleUrlResult={
                "Count": 1,
                "ResultList": {"item": {"ArticleIdx": 1, "ArticleUrl": "https://mp.weixin.qq.com/s/abc"}},
            },
        )
    )


def test_mass_job_finish_event_updates_status_and_counts(wx_app: Flask) -> None:
    publication = _publish(wx_app, _approved_with_cover(wx_app))
    sim = simulator_for(wx_app)
    assert _mass_event(sim, publication.msg_id or 0).is_success
    with session_scope(wx_app) as session:
        row = session.get(Publication, publication.id)
        assert row is not None
        assert row.status is PublicationStatus.SENT
        assert (row.total_count, row.filter_count, row.sent_count, row.error_count) == (120, 118, 117, 1)
        assert row.article_url == "https://mp.weixin.qq.com/s/abc"
        assert [e.action for e in audit_trail(session, row.draft_id)][-1] == "mass_finished"


def test_failed_mass_job_from_the_sample_event(wx_app: Flask) -> None:
    publication = _publish(wx_app, _approved_with_cover(wx_app))
    sample = shared_path("wechat-samples", "messages", "event_MASSSENDJOBFINISH.xml").read_text("utf-8")
    xml = sample.replace("<MsgID>1000001625</MsgID>", f"<MsgID>{publication.msg_id}</MsgID>")
    assert simulator_for(wx_app).send(xml).is_success
    with session_scope(wx_app) as session:
        row = session.get(Publication, publication.id)
        assert row is not None
        assert (row.status, row.error) == (PublicationStatus.FAILED, "err(30003)")
        assert row.draft.status is DraftStatus.FAILED
        assert row.article_url == "Url"


def test_publish_job_finish_events(wx_app: Flask) -> None:
    ok = _publish(wx_app, _approved_with_cover(wx_app), kind=PublicationKind.PUBLISH)
    bad = _publish(wx_app, _approved_with_cover(wx_app, title="二"), kind=PublicationKind.PUBLISH)
    sim = simulator_for(wx_app)
    sample = shared_path("wechat-samples", "messages", "event_PUBLISHJOBFINISH.xml").read_text("utf-8")
    assert sim.send(sample.replace("2247503051", str(ok.publish_id))).is_success
    failed = shared_path("wechat-samples", "messages", "event_PUBLISHJOBFINISH_fail.xml").read_text("utf-8")
    # another event of the same second would be a retry of the first (same dedupe key)
    failed = failed.replace("1481013459", "1481013460").replace("2247503051", str(bad.publish_id))
    assert sim.send(failed).is_success
    with session_scope(wx_app) as session:
        done = session.get(Publication, ok.id)
        assert done is not None
        assert done.status is PublicationStatus.SENT
        assert done.article_id == "b5O2OUs25HBxRceL7hfReg-U9QGeq9zQjiDvy WP4Hq4"
        assert done.article_url == "ARTICLE_URL"
        refused = session.get(Publication, bad.id)
        assert refused is not None
        assert refused.status is PublicationStatus.FAILED
        assert refused.error == "original-content check failed (articles 1, 2)"


def test_withdraw_deletes_and_is_audited(wx_app: Flask, fake_wechat: FakeWeChat) -> None:
    mass = _publish(wx_app, _approved_with_cover(wx_app))
    page = _publish(wx_app, _approved_with_cover(wx_app, title="二"), kind=PublicationKind.PUBLISH)
    with session_scope(wx_app) as session:
        chief = add_staff(session, "withdrawer", Role.CHIEF_EDITOR)
        api = wechat_api(wx_app)
        row = session.get(Publication, mass.id)
        assert row is not None
        with pytest.raises(BroadcastError) as no_reason:
            publishing.withdraw(session, api, row, chief, reason=" ", now=utcnow())
        assert no_reason.value.code == "comment_required"
        publishing.withdraw(session, api, row, chief, reason="数据有误", now=utcnow())
        assert row.status is PublicationStatus.WITHDRAWN
        assert row.draft.status is DraftStatus.WITHDRAWN
        entry = audit_trail(session, row.draft_id)[-1]
        assert (entry.action, entry.comment, entry.actor_id) == ("withdraw", "数据有误", chief.id)
        pending = session.get(Publication, page.id)
        assert pending is not None
        with pytest.raises(BroadcastError) as unfinished:
            publishing.withdraw(session, api, pending, chief, reason="撤回", now=utcnow())
        assert unfinished.value.code == "not_withdrawable"
        pending.article_id = "ARTICLE_1"
        publishing.withdraw(session, api, pending, chief, reason="撤回", now=utcnow())
    assert fake_wechat.deleted_mass == [{"msg_id": mass.msg_id, "article_idx": 0}]
    assert fake_wechat.deleted_articles == ["ARTICLE_1"]


def test_quota_counts_sends_in_the_bureaus_month(app: Flask) -> None:
    settings = services.settings(app).broadcasts
    with session_scope(app) as session:
        draft = approved_draft(session, utcnow())
        times = [
            datetime(2026, 5, 31, 15, 59, tzinfo=UTC),  # 23:59 in Shanghai: May
            datetime(2026, 5, 31, 16, 0, tzinfo=UTC),  # 00:00 on June 1st in Shanghai: June
            datetime(2026, 6, 20, 0, 0, tzinfo=UTC),
        ]
        for i, accepted in enumerate(times):
            session.add(
                Publication(
                    draft_id=draft.id,
                    version=1,
                    kind=PublicationKind.MASS,
                    status=PublicationStatus.WITHDRAWN if i == 2 else PublicationStatus.SENT,
                    clientmsgid=f"t{i}",
                    created_by_id=draft.created_by_id,
                    accepted_at=accepted,
                )
            )
        session.add(
            Publication(
                draft_id=draft.id,
                version=1,
                kind=PublicationKind.PUBLISH,
                status=PublicationStatus.SENT,
                clientmsgid="page",
                created_by_id=draft.created_by_id,
                accepted_at=times[2],
            )
        )
        session.flush()
        june = quota.rhythm(session, settings, datetime(2026, 6, 25, 4, 0, tzinfo=UTC))
        assert (june.month.isoformat(), june.used, june.quota, june.remaining) == ("2026-06-01", 2, 4, 2)
        assert june.days_left == 6  # June 25th to 30th
        assert june.warning  # 2 sent, an even pace would be past 3
        early = quota.rhythm(session, settings, datetime(2026, 6, 3, tzinfo=UTC))
        assert (early.used, early.warning) == (2, False)  # ahead of the pace
        may = quota.rhythm(session, settings, datetime(2026, 5, 31, 15, 0, tzinfo=UTC))
        assert may.used == 1
        assert (
            quota.rhythm(
                session, settings, datetime(2026, 5, 31, 15, 0, tzinfo=UTC) - timedelta(days=40)
            ).used
            == 0
        )


def test_two_publishers_cannot_both_take_the_last_send(
    make_app: Callable[..., Flask], fake_wechat: FakeWeChat
) -> None:
    app = make_app(**fake_wechat.settings_overrides(), broadcasts={"monthly_quota": 1})
    ids = [_approved_with_cover(app, title=f"稿件{i}") for i in range(2)]
    with session_scope(app) as session:
        for i in range(2):
            add_staff(session, f"chief{i}x", Role.CHIEF_EDITOR)
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def publish_as(i: int) -> None:
        start.wait()
        try:
            with session_scope(app) as session:
                draft = session.get(Draft, ids[i])
                assert draft is not None
                publishing.publish(
                    session,
                    wechat_api(app),
                    draft,
                    staff_models.require(session, f"chief{i}x"),
                    settings=services.settings(app).broadcasts,
                    lexicon=lexicon(),
                    now=utcnow(),
                )
            outcomes.append("sent")
        except QuotaExhaustedError:
            outcomes.append("refused")

    threads = [threading.Thread(target=publish_as, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["refused", "sent"]
    assert len(fake_wechat.mass_sends) == 1
