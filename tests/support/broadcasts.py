"""Factories for broadcast tests: staff with roles, drafts at a given stage."""

from __future__ import annotations

import struct
import zlib
from datetime import datetime
from unittest import mock

from sqlalchemy.orm import Session

from broadcasts import drafts, review
from broadcasts.models import Draft, Grade
from broadcasts.screening import Lexicon, load_lexicon
from staff import models as staff_models
from staff.models import Staff
from staff.roles import Role

PASSWORD = "correct horse battery"


def png(width: int = 2, height: int = 2) -> bytes:
    """A valid grey RGB PNG, for covers."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\x80\x80\x80" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def add_staff(session: Session, username: str, *roles: Role, openid: str | None = None) -> Staff:
    # A cheap hash: these tests are about roles, not passwords, and create many accounts.
    with mock.patch.object(staff_models, "PASSWORD_METHOD", "pbkdf2:sha256:1"):
        member = staff_models.add(session, username, PASSWORD, frozenset(roles), display_name=username)
    if openid:
        staff_models.link_wechat(session, username, openid)
    session.flush()
    return member


def lexicon() -> Lexicon:
    return load_lexicon("")


def submitted_draft(
    session: Session,
    author: Staff,
    now: datetime,
    *,
    grade: Grade = Grade.GENERAL,
    title: str = "夏季西瓜摊点开放公告",
    body: str = "今年夏季西瓜临时摊点于6月1日开放。\n\n请市民**文明购买**，详见[公告](https://example.gov.cn/a)。",
) -> Draft:
    draft = drafts.create(session, author, title=title, body=body, grade=grade, now=now)
    review.submit(session, draft, author, lexicon(), now=now)
    return draft


def approved_draft(session: Session, now: datetime, *, grade: Grade = Grade.GENERAL, **fields: str) -> Draft:
    """A draft through the whole review, by staff created here (author, editor, reviewers, chief)."""
    from staff.roles import Role

    suffix = str(len(staff_models.all_staff(session)))
    author = add_staff(session, f"author{suffix}", Role.EDITOR)
    editor = add_staff(session, f"editor{suffix}", Role.EDITOR)
    chief = add_staff(session, f"chief{suffix}", Role.CHIEF_EDITOR)
    signers = [
        add_staff(session, f"s{suffix}{r.value}", r)
        for r in (Role.SECTION_CHIEF, Role.DEPUTY_LEADER, Role.HEAD)
    ]
    draft = submitted_draft(session, author, now, grade=grade, **fields)
    for reviewer in (editor, *signers[: len(review.SIGN_OFFS[grade])], chief):
        review.approve(session, draft, reviewer, lexicon(), now=now, acknowledge_sensitive=True)
    assert draft.status.value == "approved"
    return draft
