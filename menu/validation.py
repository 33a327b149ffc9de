"""WeChat's rules for a menu, checked all at once so that every problem is named with its button.

WeChat's limits: 1-3 top buttons, at most 5 under each; names at most 16 bytes (top) or 60 bytes
(under) in UTF-8; keys at most 128 bytes; URLs at most 1024 bytes. Keys must be among
``menu.keys.known_keys()``, the closed vocabulary the chat handlers route on.
"""

from __future__ import annotations

import re

from menu.definition import Button, Menu, walk
from menu.errors import MenuError, MenuProblem, Place
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


def _listed(values: list[str] | tuple[str, ...]) -> str:
    return "、".join(values)


def _check_leaf(button: Button, where: Place, problems: list[MenuProblem]) -> None:
    kind = button.type
    if kind is None:
        types = _listed(sorted(BUTTON_TYPES))
        message = f"{where}: needs a type (one of {', '.join(sorted(BUTTON_TYPES))}) or sub-buttons"
        problems.append(MenuProblem("type_missing", message, place=where, types=types))
        return
    if kind not in BUTTON_TYPES:
        message = f"{where}: unknown type {kind!r}"
        problems.append(
            MenuProblem("type_unknown", message, place=where, type=kind, types=_listed(sorted(BUTTON_TYPES)))
        )
        return
    if kind in KEY_TYPES:
        if not button.key:
            problems.append(
                MenuProblem("key_missing", f"{where}: type {kind} needs a key", place=where, type=kind)
            )
        elif _bytes(button.key) > KEY_BYTES:
            size = _bytes(button.key)
            message = f"{where}: key is {size} bytes, at most {KEY_BYTES}"
            problems.append(MenuProblem("key_too_long", message, place=where, bytes=size, limit=KEY_BYTES))
        elif button.key not in known_keys():
            known = ", ".join(known_keys())
            message = f"{where}: key {button.key!r} is routed by no handler (known keys: {known})"
            problems.append(
                MenuProblem("key_unknown", message, place=where, key=button.key, known=_listed(known_keys()))
            )
    if kind in ("view", "miniprogram"):
        if not button.url:
            problems.append(
                MenuProblem("url_missing", f"{where}: type {kind} needs a url", place=where, type=kind)
            )
        elif _bytes(button.url) > URL_BYTES:
            size = _bytes(button.url)
            message = f"{where}: url is {size} bytes, at most {URL_BYTES}"
            problems.append(MenuProblem("url_too_long", message, place=where, bytes=size, limit=URL_BYTES))
        elif not _URL.match(button.url):
            message = f"{where}: url {button.url!r} must be an http:// or https:// address"
            problems.append(MenuProblem("url_invalid", message, place=where, url=button.url))
    if kind == "miniprogram":
        if not button.appid or not _APPID.match(button.appid):
            message = f"{where}: miniprogram needs an appid like wx0123456789abcdef"
            problems.append(MenuProblem("appid_invalid", message, place=where))
        if not button.pagepath:
            message = f"{where}: miniprogram needs a pagepath"
            problems.append(MenuProblem("pagepath_missing", message, place=where))
    if kind == "media_id" and not button.media_id:
        message = f"{where}: type media_id needs a media_id"
        problems.append(MenuProblem("media_id_missing", message, place=where))
    if kind in ("article_id", "article_view_limited") and not button.article_id:
        message = f"{where}: type {kind} needs an article_id"
        problems.append(MenuProblem("article_id_missing", message, place=where, type=kind))


def _check_name(button: Button, where: Place, limit: int, problems: list[MenuProblem]) -> None:
    if not button.name.strip():
        problems.append(MenuProblem("name_empty", f"{where}: name is empty", place=where))
    elif _bytes(button.name) > limit:
        size = _bytes(button.name)
        message = f"{where}: name is {size} bytes in UTF-8, at most {limit}"
        problems.append(MenuProblem("name_too_long", message, place=where, bytes=size, limit=limit))


def _check_sub(sub: Button, where: Place, problems: list[MenuProblem]) -> None:
    _check_name(sub, where, SUB_NAME_BYTES, problems)
    if sub.sub_buttons:
        message = f"{where}: sub-buttons cannot have sub-buttons"
        problems.append(MenuProblem("nested_sub_buttons", message, place=where))
    _check_leaf(sub, where, problems)


def _check_subs(top: Button, count: int, where: Place, problems: list[MenuProblem]) -> None:
    """A top button that has ``count`` sub-buttons: it has no type of its own, and at most SUB_MAX."""
    if top.type is not None:
        message = f"{where}: a button with sub-buttons has no type of its own"
        problems.append(MenuProblem("type_with_sub_buttons", message, place=where, type=top.type))
    if count > SUB_MAX:
        message = f"{where}: {count} sub-buttons, at most {SUB_MAX}"
        problems.append(MenuProblem("too_many_sub_buttons", message, place=where, count=count, limit=SUB_MAX))


def _check_tree(buttons: tuple[Button, ...], problems: list[MenuProblem]) -> None:
    menu = Place("menu", "menu")
    if not buttons:
        problems.append(MenuProblem("no_buttons", "menu has no buttons", place=menu))
    if len(buttons) > TOP_MAX:
        message = f"menu has {len(buttons)} top buttons, at most {TOP_MAX}"
        problems.append(
            MenuProblem("too_many_buttons", message, place=menu, count=len(buttons), limit=TOP_MAX)
        )
    for i, top in enumerate(buttons, start=1):
        where = Place.of("button", top.name, i)
        _check_name(top, where, TOP_NAME_BYTES, problems)
        if top.sub_buttons:
            _check_subs(top, len(top.sub_buttons), where, problems)
            for j, sub in enumerate(top.sub_buttons, start=1):
                _check_sub(sub, Place.of("sub_button", sub.name, i, j), problems)
        else:
            _check_leaf(top, where, problems)


def _check_staff(menu: Menu, problems: list[MenuProblem]) -> None:
    """The staff menu: the default one with the staff buttons added under one top button.

    Only what the staff buttons change is checked again: the top button they join, and themselves.
    """
    names = [b.name for b in menu.buttons]
    if menu.staff_under not in names:
        message = f"staff: under = {menu.staff_under!r} names no top button"
        problems.append(
            MenuProblem("staff_under_unknown", message, place=Place("staff", "staff"), under=menu.staff_under)
        )
        return
    i = names.index(menu.staff_under) + 1
    top = menu.buttons[i - 1]
    count = len(top.sub_buttons) + len(menu.staff_buttons)
    _check_subs(top, count, Place.of("staff_menu_button", top.name, i), problems)
    for j, sub in enumerate(menu.staff_buttons, start=len(top.sub_buttons) + 1):
        _check_sub(sub, Place.of("staff_menu_sub_button", sub.name, i, j), problems)


def _placed(buttons: tuple[Button, ...]) -> list[tuple[Place, Button]]:
    found: list[tuple[Place, Button]] = []
    for i, top in enumerate(buttons, start=1):
        found.append((Place.of("button", top.name, i), top))
        found.extend(
            (Place.of("sub_button", sub.name, i, j), sub) for j, sub in enumerate(top.sub_buttons, 1)
        )
    return found


def validate(menu: Menu) -> None:
    """Raise MenuError listing every problem of the menu and of its staff variant."""
    problems: list[MenuProblem] = []
    _check_tree(menu.buttons, problems)
    seen: dict[str, int] = {}
    for button in walk((*menu.buttons, *menu.staff_buttons)):
        if button.key:
            seen[button.key] = seen.get(button.key, 0) + 1
    whole = Place("menu", "menu")
    problems.extend(
        MenuProblem("key_repeated", f"key {key!r} is used by {n} buttons", place=whole, key=key, count=n)
        for key, n in sorted(seen.items())
        if n > 1
    )
    for where, button in _placed(menu.buttons):
        if button.key in STAFF_KEYS:
            message = f"{where}: key {button.key} belongs in the [staff] section"
            problems.append(MenuProblem("staff_key", message, place=where, key=button.key))
    if menu.staff_buttons:
        _check_staff(menu, problems)
    if problems:
        raise MenuError(problems)
