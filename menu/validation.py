"""WeChat's rules for a menu, checked all at once so that every problem is named with its button.

WeChat's limits: 1-3 top buttons, at most 5 under each; names at most 16 bytes (top) or 60 bytes
(under) in UTF-8; keys at most 128 bytes; URLs at most 1024 bytes. Keys must be among
``menu.keys.known_keys()``, the closed vocabulary the chat handlers route on.
"""

from __future__ import annotations

import re

from menu.definition import Button, Menu, walk
from menu.errors import MenuError
from menu.keys import STAFF_KEYS, known_keys

TOP_MAX = 3
SUB_MAX = 5
TOP_NAME_BYTES = 16
SUB_NAME_BYTES = 60
KEY_BYTES = 128
URL_BYTES = 1024
KEY_TYPES = frozenset(
    {
        "click",
        "scancode_push",
        "scancode_waitmsg",
        "pic_sysphoto",
        "pic_photo_or_album",
        "pic_weixin",
        "location_select",
    }
)
BUTTON_TYPES = KEY_TYPES | {"view", "miniprogram", "media_id", "article_id", "article_view_limited"}
_URL = re.compile(r"^https?://[^\s/?#]+\.[^\s/?#]+(?:[/?#]\S*)?$")
_APPID = re.compile(r"^wx[0-9a-f]{16}$")


def _bytes(value: str) -> int:
    return len(value.encode("utf-8"))


def _label(path: list[str]) -> str:
    return "button " + " › ".join(path)


def _check_leaf(button: Button, where: str, problems: list[str]) -> None:
    kind = button.type
    if kind is None:
        problems.append(f"{where}: needs a type (one of {', '.join(sorted(BUTTON_TYPES))}) or sub-buttons")
        return
    if kind not in BUTTON_TYPES:
        problems.append(f"{where}: unknown type {kind!r}")
        return
    if kind in KEY_TYPES:
        if not button.key:
            problems.append(f"{where}: type {kind} needs a key")
        elif _bytes(button.key) > KEY_BYTES:
            problems.append(f"{where}: key is {_bytes(button.key)} bytes, at most {KEY_BYTES}")
        elif button.key not in known_keys():
            known = ", ".join(known_keys())
            problems.append(f"{where}: key {button.key!r} is routed by no handler (known keys: {known})")
    if kind in ("view", "miniprogram"):
        if not button.url:
            problems.append(f"{where}: type {kind} needs a url")
        elif _bytes(button.url) > URL_BYTES:
            problems.append(f"{where}: url is {_bytes(button.url)} bytes, at most {URL_BYTES}")
        elif not _URL.match(button.url):
            problems.append(f"{where}: url {button.url!r} must be an http:// or https:// address")
    if kind == "miniprogram":
        if not button.appid or not _APPID.match(button.appid):
            problems.append(f"{where}: miniprogram needs an appid like wx0123456789abcdef")
        if not button.pagepath:
            problems.append(f"{where}: miniprogram needs a pagepath")
    if kind == "media_id" and not button.media_id:
        problems.append(f"{where}: type media_id needs a media_id")
    if kind in ("article_id", "article_view_limited") and not button.article_id:
        problems.append(f"{where}: type {kind} needs an article_id")


def _check_name(button: Button, where: str, limit: int, problems: list[str]) -> None:
    if not button.name.strip():
        problems.append(f"{where}: name is empty")
    elif _bytes(button.name) > limit:
        problems.append(f"{where}: name is {_bytes(button.name)} bytes in UTF-8, at most {limit}")


def _check_tree(buttons: tuple[Button, ...], problems: list[str], prefix: str = "") -> None:
    if not buttons:
        problems.append(f"{prefix}menu has no buttons")
    if len(buttons) > TOP_MAX:
        problems.append(f"{prefix}menu has {len(buttons)} top buttons, at most {TOP_MAX}")
    for i, top in enumerate(buttons, start=1):
        where = _label([f"{i} {top.name!r}"])
        _check_name(top, prefix + where, TOP_NAME_BYTES, problems)
        if top.sub_buttons:
            if top.type is not None:
                problems.append(f"{prefix}{where}: a button with sub-buttons has no type of its own")
            if len(top.sub_buttons) > SUB_MAX:
                problems.append(f"{prefix}{where}: {len(top.sub_buttons)} sub-buttons, at most {SUB_MAX}")
            for j, sub in enumerate(top.sub_buttons, start=1):
                sub_where = prefix + _label([f"{i} {top.name!r}", f"{j} {sub.name!r}"])
                _check_name(sub, sub_where, SUB_NAME_BYTES, problems)
                if sub.sub_buttons:
                    problems.append(f"{sub_where}: sub-buttons cannot have sub-buttons")
                _check_leaf(sub, sub_where, problems)
        else:
            _check_leaf(top, prefix + where, problems)


def validate(menu: Menu) -> None:
    """Raise MenuError listing every problem of the menu and of its staff variant."""
    problems: list[str] = []
    _check_tree(menu.buttons, problems)
    seen: dict[str, int] = {}
    for button in walk((*menu.buttons, *menu.staff_buttons)):
        if button.key:
            seen[button.key] = seen.get(button.key, 0) + 1
    problems.extend(f"key {key!r} is used by {n} buttons" for key, n in sorted(seen.items()) if n > 1)
    for button in walk(menu.buttons):
        if button.key in STAFF_KEYS:
            problems.append(f"button {button.name!r}: key {button.key} belongs in the [staff] section")
    if menu.staff_buttons:
        if menu.staff_under not in {b.name for b in menu.buttons}:
            problems.append(f"staff: under = {menu.staff_under!r} names no top button")
        else:
            _check_tree(menu.staff_menu(), problems, prefix="staff menu: ")
    if problems:
        raise MenuError(problems)
