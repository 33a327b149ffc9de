"""先审后发 on both backends: who may decide at each stage for every grade and role, no self-approval,
no double approval, an edit after approval restarts the chain, returns need a comment, all audited."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from sqlalchemy import select

from bot.core.audit import AuditEntry, AuditTamperError
from bot.core.clock import utcnow
from bot.core.database import session_scope
from broadcasts import drafts, review
from broadcasts.errors import BlockedError, BroadcastError, SensitiveUnacknowledgedError
from broadcasts.models import Draft, DraftStatus, Grade, Stage, audit_trail
from devtools.fake_wechat import FakeWeChat
from staff import models as staff_models
from staff.roles import Role
from tests.support.broadcasts import add_staff, lexicon, submitted_draft
from tests.support.reports import drain

pytestmark = pytest.mark.contract

# The bureau's rules, written out independently of the code: who may approve at each stage.
FIRST = {Role.EDITOR, Role.ADMIN}
SECOND = {
    Grade.GENERAL: [Role.SECTION_CHIEF],
    Grade.IMPORTANT: [Role.SECTION_CHIEF, Role.DEPUTY_LEADER],
    Grade.MAJOR: [Role.SECTION_CHIEF, Role.DEPUTY_LEADER, Role.HEAD],
}
FINAL = {Role.CHIEF_EDITOR, Role.ADMIN}


def _deciders(session, draft, members) -> set[Role]:  # type: ignore[no-untyped-def]
    return {role for role, member in members.items() if review.may_decide(session, draft, member)}


@pytest.mark.parametrize("grade", list(Grade))
def test_review_matrix(app: Flask, grade: Grade) -> None:
    now = utcnow()
    with session_scope(app) as session:
        author = add_staff(session, "author", Role.EDITOR)
        members = {role: add_staff(session, f"r.{role.value}", role) for role in Role}
        draft = submitted_draft(session, author, now, grade=grade)
        assert draft.status is DraftStatus.FIRST_REVIEW
        assert draft.version == 1

        # 初审
        assert _deciders(session, draft, members) == FIRST
        for role in set(Role) - FIRST:
            with pytest.raises(BroadcastError) as refused:
                review.approve(session, draft, members[role], lexicon(), now=now)
            assert refused.value.code == "not_allowed"
        review.approve(session, draft, members[Role.EDITOR], lexicon(), now=now)
        assert draft.status is DraftStatus.SECOND_REVIEW

        # 复审: each required sign-off in turn; the draft waits until the last one
        required = SECOND[grade]
        for position, role in enumerate(required):
            waiting = set(required[position:])
            assert _deciders(session, draft, members) == waiting | {Role.ADMIN}
            review.approve(session, draft, members[role], lexicon(), now=now)
            with pytest.raises(BroadcastError) as twice:
                review.approve(session, draft, members[role], lexicon(), now=now)
            assert twice.value.code in ("already_approved", "not_allowed")
            expected = (
                DraftStatus.FINAL_REVIEW if position == len(required) - 1 else DraftStatus.SECOND_REVIEW
            )
            assert draft.status is expected
        assert review.missing_sign_offs(session, draft) == ()

        # 终审
        assert _deciders(session, draft, members) == FINAL
        review.approve(session, draft, members[Role.CHIEF_EDITOR], lexicon(), now=now)
        assert draft.status is DraftStatus.APPROVED
        assert _deciders(session, draft, members) == set()

        approvals = [e for e in audit_trail(session, draft.id) if e.action == "approve"]
        assert [e.actor_id for e in approvals] == [
            members[Role.EDITOR].id,
            *[members[role].id for role in required],
            members[Role.CHIEF_EDITOR].id,
        ]
        assert [e.details["stage"] for e in approvals] == ["first", *["second"] * len(required), "final"]


def test_nobody_approves_their_own_draft_or_twice(app: Flask) -> None:
    now = utcnow()
    with session_scope(app) as session:
        # The author holds every reviewing role, and still may decide nothing on their own draft.
        author = add_staff(session, "author", Role.EDITOR, Role.SECTION_CHIEF, Role.CHIEF_EDITOR)
        double = add_staff(session, "double", Role.EDITOR, Role.SECTION_CHIEF, Role.DEPUTY_LEADER)
        deputy = add_staff(session, "deputy", Role.DEPUTY_LEADER)
        chief = add_staff(session, "chief", Role.SECTION_CHIEF)
        draft = submitted_draft(session, author, now, grade=Grade.IMPORTANT)
        with pytest.raises(BroadcastError) as own:
            review.approve(session, draft, author, lexicon(), now=now)
        assert own.value.code == "own_draft"

        review.approve(session, draft, double, lexicon(), now=now)  # 初审
        # holding two sign-offs does not let one person fill them, nor a stage after their own
        with pytest.raises(BroadcastError) as again:
            review.approve(session, draft, double, lexicon(), now=now)
        assert again.value.code == "already_approved"
        review.approve(session, draft, chief, lexicon(), now=now)
        assert draft.status is DraftStatus.SECOND_REVIEW
        assert [s.value for s in review.missing_sign_offs(session, draft)] == ["deputy"]
        review.approve(session, draft, deputy, lexicon(), now=now)
        assert draft.status is DraftStatus.FINAL_REVIEW
        with pytest.raises(BroadcastError) as own_final:
            review.approve(session, draft, author, lexicon(), now=now)
        assert own_final.value.code == "own_draft"


def test_an_edit_after_approval_restarts_the_chain(app: Flask) -> None:
    now = utcnow()
    with session_scope(app) as session:
        author = add_staff(session, "author", Role.EDITOR)
        editor = add_staff(session, "editor", Role.EDITOR)
        fixer = add_staff(session, "fixer", Role.EDITOR)
        section = add_staff(session, "section", Role.SECTION_CHIEF)
        draft = submitted_draft(session, author, now, grade=Grade.IMPORTANT)
        review.approve(session, draft, editor, lexicon(), now=now)
        review.approve(session, draft, section, lexicon(), now=now)
        assert len(review.decisions(session, draft)) == 2

        changed = drafts.edit(session, draft, fixer, title="夏季西瓜摊点开放通知", now=now)
        assert changed == ["title"]
        assert draft.status is DraftStatus.FIRST_REVIEW
        assert draft.version == 2
        assert review.decisions(session, draft) == []
        assert len(review.history(session, draft)) == 2
        edit = [e for e in audit_trail(session, draft.id) if e.action == "edit"][-1]
        assert edit.details["approvals_reset"] == 2
        assert edit.actor_id == fixer.id
        assert [v.version for v in drafts.versions(session, draft)] == [1, 2]

        # the editor approves the new version again; the one who edited it may not
        assert review.may_decide(session, draft, editor)
        with pytest.raises(BroadcastError) as edited:
            review.approve(session, draft, fixer, lexicon(), now=now)
        assert edited.value.code == "own_draft"
        review.approve(session, draft, editor, lexicon(), now=now)
        assert draft.status is DraftStatus.SECOND_REVIEW
        assert review.missing_sign_offs(session, draft) == review.required_sign_offs(draft)

        # an edit that changes nothing is no edit
        assert drafts.edit(session, draft, fixer, title=draft.title, now=now) == []
        assert draft.version == 2


def test_return_needs_a_comment_and_goes_back_to_the_author(app: Flask) -> None:
    now = utcnow()
    with session_scope(app) as session:
        author = add_staff(session, "author", Role.EDITOR)
        editor = add_staff(session, "editor", Role.EDITOR)
        other = add_staff(session, "other", Role.EDITOR)
        final = add_staff(session, "final", Role.CHIEF_EDITOR)
        draft = submitted_draft(session, author, now)
        with pytest.raises(BroadcastError) as silent:
            review.return_to_author(session, draft, editor, comment="  ", now=now)
        assert silent.value.code == "comment_required"
        with pytest.raises(BroadcastError) as wrong_stage:
            review.return_to_author(session, draft, final, comment="不行", now=now)
        assert wrong_stage.value.code == "not_allowed"
        review.return_to_author(session, draft, editor, comment="请补充摊点地址", now=now)
        assert draft.status is DraftStatus.RETURNED
        entry = [e for e in audit_trail(session, draft.id) if e.action == "return"][-1]
        assert (entry.actor_id, entry.comment) == (editor.id, "请补充摊点地址")

        # only the author edits the returned working copy, then resubmits as a new version
        with pytest.raises(BroadcastError):
            drafts.edit(session, draft, other, body="别人改的", now=now)
        drafts.append_paragraph(session, draft, author, "地址：观前街1号。", now=now)
        assert draft.version == 1
        review.submit(session, draft, author, lexicon(), now=now)
        assert (draft.status, draft.version) == (DraftStatus.FIRST_REVIEW, 2)
        assert "观前街1号" in drafts.versions(session, draft)[-1].body


def test_screening_blocks_submission_and_sensitive_needs_each_reviewer(app: Flask) -> None:
    now = utcnow()
    with session_scope(app) as session:
        author = add_staff(session, "author", Role.EDITOR)
        editor = add_staff(session, "editor", Role.EDITOR)
        blocked = drafts.create(
            session, author, title="通知", body="可代·开·發·票，请联系", grade=Grade.GENERAL, now=now
        )
        with pytest.raises(BlockedError) as stop:
            review.submit(session, blocked, author, lexicon(), now=now)
        hit = stop.value.screening.forbidden[0]
        assert (hit.field, hit.text, hit.term) == ("body", "代·开·發·票", "代开发票")
        assert blocked.status is DraftStatus.DRAFTING
        assert [e.action for e in audit_trail(session, blocked.id)] == ["create", "screening_blocked"]

        sensitive = submitted_draft(session, author, now, body="关于网传强 拆一事的说明。")
        with pytest.raises(SensitiveUnacknowledgedError) as unack:
            review.approve(session, sensitive, editor, lexicon(), now=now)
        assert unack.value.terms == ("强拆",)
        assert sensitive.status is DraftStatus.FIRST_REVIEW
        review.approve(session, sensitive, editor, lexicon(), now=now, acknowledge_sensitive=True)
        acknowledged = [e for e in audit_trail(session, sensitive.id) if e.action == "acknowledge_sensitive"]
        assert [(e.actor_id, e.details["terms"]) for e in acknowledged] == [(editor.id, ["强拆"])]
        assert review.acknowledged_terms(session, sensitive) == {"强拆"}


def test_queue_lists_what_each_reviewer_may_decide(app: Flask) -> None:
    now = utcnow()
    with session_scope(app) as session:
        author = add_staff(session, "author", Role.EDITOR)
        editor = add_staff(session, "editor", Role.EDITOR)
        head = add_staff(session, "head", Role.HEAD)
        general = submitted_draft(session, author, now, title="一般稿件")
        major = submitted_draft(session, author, now, title="重大稿件", grade=Grade.MAJOR)
        assert [d.id for d in review.queue(session, editor)] == [general.id, major.id]
        assert review.queue(session, author) == []
        review.approve(session, major, editor, lexicon(), now=now)
        assert [d.id for d in review.queue(session, editor)] == [general.id]
        assert [d.id for d in review.queue(session, head)] == [major.id]
        assert [d.id for d in review.queue(session, head, Stage.FIRST)] == []
        assert [m.username for m in review.waiting_reviewers(session, general)] == ["editor"]


def test_audit_entries_are_append_only(app: Flask) -> None:
    now = utcnow()
    with session_scope(app) as session:
        author = add_staff(session, "author", Role.EDITOR)
        submitted_draft(session, author, now)
    with session_scope(app) as session:
        entry = session.scalars(select(AuditEntry)).first()
        assert entry is not None
        entry.details = {"comment": "rewritten"}
        with pytest.raises(AuditTamperError):
            session.flush()
        session.rollback()
        session.delete(session.scalars(select(AuditEntry)).first())
        with pytest.raises(AuditTamperError):
            session.flush()
        session.rollback()
    with session_scope(app) as session:
        assert [e.details.get("comment") for e in session.scalars(select(AuditEntry))] == [None, None]
        assert [e.action for e in session.scalars(select(AuditEntry))] == ["draft.create", "draft.submit"]


def test_reviewers_are_told_in_the_chat(make_app: Callable[..., Flask], fake_wechat: FakeWeChat) -> None:
    app = make_app(**fake_wechat.settings_overrides())
    now = utcnow()

    def told() -> list[str]:
        drain(app)
        return [m["touser"] for m in fake_wechat.sent_messages]

    with session_scope(app) as session:
        author = add_staff(session, "author", Role.EDITOR, openid="o_author")
        add_staff(session, "editor", Role.EDITOR, openid="o_editor")
        add_staff(session, "section", Role.SECTION_CHIEF, openid="o_section")
        add_staff(session, "head", Role.HEAD, openid="o_head")
        add_staff(session, "chief", Role.CHIEF_EDITOR, openid="o_chief")
        add_staff(session, "unlinked", Role.EDITOR)
        draft_id = submitted_draft(session, author, now).id
    assert told() == ["o_editor"]
    for username, expected in (("editor", "o_section"), ("section", "o_chief")):
        with session_scope(app) as session:
            draft = session.get(Draft, draft_id)
            assert draft is not None
            review.approve(session, draft, staff_models.require(session, username), lexicon(), now=now)
        assert told()[-1] == expected
    assert "待终审" in fake_wechat.sent_messages[-1]["text"]["content"]
    with session_scope(app) as session:
        draft = session.get(Draft, draft_id)
        assert draft is not None
        review.return_to_author(
            session, draft, staff_models.require(session, "chief"), comment="重写", now=now
        )
    assert told()[-1] == "o_author"
    assert len(fake_wechat.sent_messages) == 4


def test_no_chat_notices_when_turned_off(make_app: Callable[..., Flask], fake_wechat: FakeWeChat) -> None:
    app = make_app(**fake_wechat.settings_overrides(), broadcasts={"notify_reviewers": False})
    with session_scope(app) as session:
        author = add_staff(session, "author", Role.EDITOR)
        add_staff(session, "editor", Role.EDITOR, openid="o_editor")
        submitted_draft(session, author, utcnow())
    drain(app)
    assert fake_wechat.sent_messages == []
