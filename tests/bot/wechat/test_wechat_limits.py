"""The columns that keep inbound fields hold whatever ``bot.wechat.limits`` lets through."""

from __future__ import annotations

import pytest
from sqlalchemy import String, Text

from bot.app import metadata
from bot.chat.journal import JournalEntry
from bot.core.database import Base
from bot.wechat import limits
from broadcasts.models import Draft, Publication
from reports.models import Photo

pytestmark = pytest.mark.unit


def _length(column: object) -> int | None:
    """A string column's length; None for an unbounded one (Text)."""
    kind = column.type  # type: ignore[attr-defined]
    assert isinstance(kind, String)  # Text is a String without a length
    return None if isinstance(kind, Text) else kind.length


def test_every_openid_column_holds_the_longest_openid() -> None:
    metadata()
    openid_columns = [
        column
        for table in Base.metadata.tables.values()
        for column in table.columns
        if column.name in {"openid", "sender"} or column.name.endswith("_openid")
    ]
    assert len(openid_columns) >= 6
    for column in openid_columns:
        length = _length(column)
        assert length is None or length >= limits.OPENID, column


@pytest.mark.parametrize(
    ("column", "limit"),
    [
        (JournalEntry.__table__.c.msg_type, limits.MSG_TYPE),
        (JournalEntry.__table__.c.event, limits.EVENT),
        (Photo.__table__.c.media_id, limits.MEDIA_ID),
        (Photo.__table__.c.pic_url, limits.WECHAT_URL),
        (Draft.__table__.c.cover_media_id, limits.MEDIA_ID),
        (Draft.__table__.c.cover_pic_url, limits.WECHAT_URL),
        (Publication.__table__.c.article_url, limits.WECHAT_URL),
        (Publication.__table__.c.article_id, limits.ARTICLE_ID),
    ],
)
def test_columns_hold_their_fields(column: object, limit: int) -> None:
    length = _length(column)
    assert length is None or length >= limit


def test_the_dedupe_key_is_unbounded_and_unique_by_its_hash() -> None:
    table = JournalEntry.__table__
    assert _length(table.c.dedupe_key) is None
    assert not table.c.dedupe_key.unique
    assert table.c.dedupe_hash.unique
    assert _length(table.c.dedupe_hash) == 64


def test_field_limits() -> None:
    assert limits.field_problem("EventKey", "k" * limits.EVENT_KEY) is None
    assert "more than 2048" in (limits.field_problem("EventKey", "k" * 2049) or "")
    # A nested field is held to its path's limit, or the general one whatever its name.
    assert limits.field_problem("Info/MsgType", "t" * 100) is None
    url = "u" * (limits.WECHAT_URL + 1)
    assert (
        limits.leaf_problems({"PublishEventInfo": {"article_detail": {"item": [{"article_url": "u"}]}}})
        is None
    )
    assert limits.leaf_problems(
        {"PublishEventInfo": {"article_detail": {"item": [{}, {"article_url": url}]}}}
    )
    assert limits.leaf_problems({"A": [{"B": "x" * (limits.OTHER + 1)}]}) == (
        f"A/B has {limits.OTHER + 1} characters, more than {limits.OTHER}"
    )
