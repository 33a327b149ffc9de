"""How large an inbound WeChat message may be, field by field: the one place these limits live.

Everything above a limit is refused (400) before anything is claimed, journaled or handled, and every
column that keeps an inbound field holds whatever passes (``tests/bot/wechat/test_wechat_limits.py``
checks the columns against these numbers). Lengths are in characters.

- ``FromUserName`` is an openid: 28 characters of ``[A-Za-z0-9_-]`` in practice; up to 64 accepted.
  ``ToUserName`` is the account's original id (``gh_`` + 12 hex digits); up to 64 accepted. Both are
  written back into the reply, so the character set is checked too.
- ``MsgType`` and ``Event`` are short ASCII names (``text``, ``scancode_waitmsg``, ...).
- ``EventKey`` carries a menu button's key (WeChat: at most 128 bytes), a QR scene (``qrscene_`` +
  at most 64 characters) or, for VIEW events, the button's whole URL (WeChat: at most 1,024 bytes;
  OAuth links are 200-1,000 characters). 2,048 characters leaves room for a URL WeChat lets through.
- ``Content`` of a text message: 2,048 characters, WeChat's text limit (it caps text messages at
  2,048 bytes, so real Chinese text is far shorter).
- ``MsgId`` / ``MsgID``: WeChat's 64-bit message id, at most 2**63 - 1 (what a BIGINT holds);
  ``CreateTime``: seconds since 1970 as an unsigned 32-bit number.
- URLs WeChat hosts (``PicUrl``, the job-finish events' article URLs): 1,024 characters; they are
  about 150 in practice. Ids of published articles: 128.
- Any other leaf (``Label``, ``Url``, ``Recognition``, ``Title``, ...): 2,048 characters.
- The document: at most ``MAX_DEPTH`` levels (WeChat nests 5 at most: ``xml`` > ``PublishEventInfo``
  > ``article_detail`` > ``item`` > ``idx``) and ``MAX_ELEMENTS`` elements.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

MAX_DEPTH = 8
MAX_ELEMENTS = 512

OPENID = 64
ACCOUNT = 64
MSG_TYPE = 32
EVENT = 64
EVENT_KEY = 2048
CONTENT = 2048
MEDIA_ID = 128
WECHAT_URL = 1024
ARTICLE_ID = 128
DIGITS = 20
MSG_ID_MAX = 2**63 - 1
CREATE_TIME_MAX = 2**32 - 1
OTHER = 2048

# By path: a top-level field by its name, a nested one by the names leading to it.
FIELDS: Mapping[str, int] = {
    "FromUserName": OPENID,
    "ToUserName": ACCOUNT,
    "MsgType": MSG_TYPE,
    "Event": EVENT,
    "EventKey": EVENT_KEY,
    "Content": CONTENT,
    "MediaId": MEDIA_ID,
    "ThumbMediaId": MEDIA_ID,
    "PicUrl": WECHAT_URL,
    "MsgId": DIGITS,
    "MsgID": DIGITS,
    "CreateTime": DIGITS,
    "ArticleUrlResult/ResultList/item/ArticleUrl": WECHAT_URL,
    "PublishEventInfo/article_id": ARTICLE_ID,
    "PublishEventInfo/article_detail/item/article_url": WECHAT_URL,
}

# Openids and the account's id: what WeChat issues, and nothing that could end a CDATA section.
IDENTIFIER = re.compile(r"[A-Za-z0-9_-]+")


def field_problem(path: str, value: str) -> str | None:
    """Why the leaf at ``path`` (``Name`` or ``Outer/Inner``) cannot be accepted, or None."""
    limit = FIELDS.get(path, OTHER)
    if len(value) > limit:
        return f"{path} has {len(value)} characters, more than {limit}"
    return None


def leaf_problems(raw: Mapping[str, Any], prefix: str = "") -> str | None:
    """The first field of a parsed message (nested dicts and lists included) above its limit."""
    for name, value in raw.items():
        path = f"{prefix}{name}"
        items = value if isinstance(value, list) else [value]
        for item in items:
            if isinstance(item, Mapping):
                problem = leaf_problems(item, path + "/")
            else:
                problem = field_problem(path, item)
            if problem:
                return problem
    return None
