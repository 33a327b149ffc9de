"""How large an inbound WeChat message may be, field by field: the one place these limits live.

Everything above a limit is refused (400) before anything is claimed, journaled or handled, and every
column that keeps an inbound field holds whatever passes (``tests/unit/test_wechat_limits.py``
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
- Any other leaf (``PicUrl``, ``Label``, ``Url``, ``Recognition``, the job-finish events' fields):
  2,048 characters.
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
DIGITS = 20  # MsgId / MsgID: an unsigned 64-bit integer
CREATE_TIME_MAX = 2**32 - 1  # CreateTime: seconds since 1970, unsigned 32-bit
OTHER = 2048

FIELDS: Mapping[str, int] = {
    "FromUserName": OPENID,
    "ToUserName": ACCOUNT,
    "MsgType": MSG_TYPE,
    "Event": EVENT,
    "EventKey": EVENT_KEY,
    "Content": CONTENT,
    "MediaId": MEDIA_ID,
    "ThumbMediaId": MEDIA_ID,
    "MsgId": DIGITS,
    "MsgID": DIGITS,
    "CreateTime": DIGITS,
}

# Openids and the account's id: what WeChat issues, and nothing that could end a CDATA section.
IDENTIFIER = re.compile(r"[A-Za-z0-9_-]+")


def field_problem(path: str, name: str, value: str) -> str | None:
    """Why the leaf ``name`` (at ``path``) cannot be accepted, or None."""
    limit = FIELDS.get(name, OTHER) if "/" not in path else OTHER
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
                problem = field_problem(path, name, item)
            if problem:
                return problem
    return None
