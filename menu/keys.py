"""The keys a menu button may carry: each is routed by a chat handler.

The 一键查找 keys come from the facility kinds, one per ``PoiKind`` (``NEARBY_`` and the kind's
value in capitals), so a new kind brings its key; the other keys are the fixed ``MenuKey`` members.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from types import MappingProxyType

from bot.core.texts import Texts
from geodata.kinds import PoiKind


class MenuKey(enum.StrEnum):
    """The menu's fixed CLICK keys (the 一键查找 keys are ``nearby_key(kind)``)."""

    LATEST_BROADCASTS = "LATEST_BROADCASTS"  # 最新发布 (handlers.broadcasts)
    REPORT_PHOTO = "REPORT_PHOTO"  # 文明随手拍 in the chat (handlers.reports)
    CASE_MESSAGE = "CASE_MESSAGE"  # 有问必答: leave a message (handlers.cases)
    MY_CASES = "MY_CASES"  # 有问必答: my messages and their status (handlers.cases)
    # staff-only (conditional menu; handlers.broadcasts)
    DRAFT_NEW = "DRAFT_NEW"  # 新建草稿
    DRAFT_MINE = "DRAFT_MINE"  # 我的草稿
    DRAFT_QUEUE = "DRAFT_QUEUE"  # 待审稿件


NEARBY_PREFIX = "NEARBY_"

STAFF_KEYS = frozenset({MenuKey.DRAFT_NEW, MenuKey.DRAFT_MINE, MenuKey.DRAFT_QUEUE})


def nearby_key(kind: PoiKind) -> str:
    """The key of the button that looks up the nearest facilities of ``kind`` (handlers.menu)."""
    return NEARBY_PREFIX + kind.value.upper()


NEARBY_KEYS: Mapping[str, PoiKind] = MappingProxyType({nearby_key(kind): kind for kind in PoiKind})


def nearby_kind(key: str | None) -> PoiKind | None:
    """The kind a 一键查找 key looks up, or None for any other key."""
    return NEARBY_KEYS.get(key or "")


def known_keys() -> tuple[str, ...]:
    """Every key a button may carry: the 一键查找 keys, then the fixed ones."""
    return (*NEARBY_KEYS, *MenuKey)


def describe(texts: Texts, key: str) -> str:
    """What a known key does in the chat, for people writing the menu file (``menu.keys``)."""
    kind = nearby_kind(key)
    if kind is not None:
        return texts("menu.keys.nearby", kind=kind.label, code=kind.value)
    return texts(f"menu.keys.{key}")
