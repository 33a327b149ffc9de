"""The account's custom menu: one versioned TOML file, validated against WeChat's limits, pushed
through the API together with a staff-only conditional menu matched by a user tag.

WeChat's limits: 1-3 top buttons, at most 5 under each; names at most 16 bytes (top) or 60 bytes
(under) in UTF-8; keys at most 128 bytes; URLs at most 1024 bytes. Keys must be members of
``MenuKey``, the closed vocabulary the chat handlers route on.
"""

from __future__ import annotations

import contextlib
import enum
import json
import re
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from broadcasts.models import audit, remember, remembered
from broadcasts.remote import BroadcastAPI

TOP_MAX = 3
SUB_MAX = 5
TOP_NAME_BYTES = 16
SUB_NAME_BYTES = 60
KEY_BYTES = 128
URL_BYTES = 1024
CONDITIONAL_MENU = "menu.conditional"


class MenuKey(enum.StrEnum):
    """Every CLICK key the menu may carry; each is routed by a chat handler."""

    LATEST_BROADCASTS = "LATEST_BROADCASTS"  # 最新发布 (handlers.broadcasts)
    # 一键查找 of one facility kind near the resident's remembered location
    NEARBY_BIKE = "NEARBY_BIKE"
    NEARBY_VENDOR = "NEARBY_VENDOR"
    NEARBY_TOILET = "NEARBY_TOILET"
    NEARBY_WATERMELON = "NEARBY_WATERMELON"
    REPORT_PHOTO = "REPORT_PHOTO"  # 文明随手拍 in the chat (handlers.reports)
    # staff-only (conditional menu)
    DRAFT_NEW = "DRAFT_NEW"  # 新建草稿
    DRAFT_MINE = "DRAFT_MINE"  # 我的草稿
    DRAFT_QUEUE = "DRAFT_QUEUE"  # 待审稿件


STAFF_KEYS = frozenset({MenuKey.DRAFT_NEW, MenuKey.DRAFT_MINE, MenuKey.DRAFT_QUEUE})

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
_FIELDS = ("type", "name", "key", "url", "appid", "pagepath", "media_id", "article_id")
_URL = re.compile(r"^https?://[^\s/?#]+\.[^\s/?#]+(?:[/?#]\S*)?$")
_APPID = re.compile(r"^wx[0-9a-f]{16}$")


class MenuError(ValueError):
    """The menu breaks WeChat's rules; one line per problem, each naming its button."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("invalid menu:\n" + "\n".join(f"  {p}" for p in problems))
        self.problems = problems


@dataclass(frozen=True)
class Button:
    name: str
    type: str | None = None
    key: str | None = None
    url: str | None = None
    appid: str | None = None
    pagepath: str | None = None
    media_id: str | None = None
    article_id: str | None = None
    sub_buttons: tuple[Button, ...] = ()

    def to_wechat(self) -> dict[str, Any]:
        if self.sub_buttons:
            return {"name": self.name, "sub_button": [b.to_wechat() for b in self.sub_buttons]}
        data = {name: getattr(self, name) for name in _FIELDS}
        return {name: value for name, value in data.items() if value is not None}


@dataclass(frozen=True)
class Menu:
    buttons: tuple[Button, ...]
    staff_under: str = ""
    staff_buttons: tuple[Button, ...] = field(default_factory=tuple)

    def payload(self) -> dict[str, Any]:
        """menu/create body."""
        return {"button": [b.to_wechat() for b in self.buttons]}

    def staff_menu(self) -> tuple[Button, ...]:
        merged = []
        for button in self.buttons:
            if button.name == self.staff_under:
                button = Button(name=button.name, sub_buttons=(*button.sub_buttons, *self.staff_buttons))
            merged.append(button)
        return tuple(merged)

    def staff_payload(self, tag_id: int | str) -> dict[str, Any]:
        """menu/addconditional body: the menu with the staff buttons, for the staff tag."""
        return {"button": [b.to_wechat() for b in self.staff_menu()], "matchrule": {"tag_id": str(tag_id)}}

    def keys(self) -> set[str]:
        return {b.key for b in _walk((*self.buttons, *self.staff_buttons)) if b.key}


def _walk(buttons: tuple[Button, ...]) -> list[Button]:
    found: list[Button] = []
    for button in buttons:
        found.append(button)
        found.extend(button.sub_buttons)
    return found


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
        elif button.key not in set(MenuKey):
            known = ", ".join(k.value for k in MenuKey)
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
    for button in _walk((*menu.buttons, *menu.staff_buttons)):
        if button.key:
            seen[button.key] = seen.get(button.key, 0) + 1
    problems.extend(f"key {key!r} is used by {n} buttons" for key, n in sorted(seen.items()) if n > 1)
    for button in _walk(menu.buttons):
        if button.key in STAFF_KEYS:
            problems.append(f"button {button.name!r}: key {button.key} belongs in the [staff] section")
    if menu.staff_buttons:
        if menu.staff_under not in {b.name for b in menu.buttons}:
            problems.append(f"staff: under = {menu.staff_under!r} names no top button")
        else:
            _check_tree(menu.staff_menu(), problems, prefix="staff menu: ")
    if problems:
        raise MenuError(problems)


def _button(raw: Any, where: str, problems: list[str]) -> Button | None:
    if not isinstance(raw, dict):
        problems.append(f"{where}: must be a table")
        return None
    allowed = {*_FIELDS, "sub_button"}
    unknown = sorted(set(raw) - allowed)
    if unknown:
        problems.append(f"{where}: unknown fields {', '.join(unknown)}")
    values = {name: raw.get(name) for name in _FIELDS}
    for name, value in values.items():
        if value is not None and not isinstance(value, str):
            problems.append(f"{where}: {name} must be a string")
            values[name] = str(value)
    subs: list[Button] = []
    for j, sub in enumerate(raw.get("sub_button", []) or [], start=1):
        label = sub.get("name", j) if isinstance(sub, dict) else j
        built = _button(sub, f"{where} › {label!r}", problems)
        if built is not None:
            subs.append(built)
    return Button(
        name=values.pop("name") or "",
        sub_buttons=tuple(subs),
        **values,
    )


def parse_menu(text: str, source: str = "menu") -> Menu:
    """Build and validate the menu from TOML text; raise MenuError naming the buttons at fault."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise MenuError([f"{source} is not valid TOML: {exc}"]) from None
    problems: list[str] = []
    unknown = sorted(set(data) - {"button", "staff"})
    if unknown:
        problems.append(f"{source}: unknown keys {', '.join(unknown)}")
    buttons = [
        b
        for i, raw in enumerate(data.get("button", []), start=1)
        if (
            b := _button(
                raw, f"button {i} {raw.get('name', '') if isinstance(raw, dict) else ''!r}", problems
            )
        )
    ]
    staff = data.get("staff", {})
    staff_buttons = [
        b
        for i, raw in enumerate(staff.get("sub_button", []), start=1)
        if (b := _button(raw, f"staff button {i}", problems))
    ]
    if problems:
        raise MenuError(problems)
    menu = Menu(
        buttons=tuple(buttons),
        staff_under=str(staff.get("under", "")),
        staff_buttons=tuple(staff_buttons),
    )
    validate(menu)
    return menu


def load_menu(path: str = "") -> Menu:
    """The menu file at ``path``, or the shipped broadcasts/menu.toml when empty."""
    if path:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise MenuError([f"menu file {path}: {exc.strerror or exc}"]) from None
        return parse_menu(text, path)
    return parse_menu(
        resources.files("broadcasts").joinpath("menu.toml").read_text(encoding="utf-8"), "menu.toml"
    )


def render(payload: dict[str, Any]) -> str:
    return json.dumps(payload, ensure_ascii=False, indent=2)


def push(session: Session, api: BroadcastAPI, menu: Menu, *, staff_tag_id: int | None) -> str | None:
    """Create the menu, then replace the staff conditional menu; returns the conditional menu id."""
    api.create_menu(menu.payload())
    menu_id: str | None = None
    if menu.staff_buttons and staff_tag_id is not None:
        previous = remembered(session, CONDITIONAL_MENU)
        if previous:
            # It may be gone already (removed on the platform): then there is nothing to delete.
            with contextlib.suppress(Exception):
                api.delete_conditional_menu(previous)
        menu_id = str(api.create_conditional_menu(menu.staff_payload(staff_tag_id)))
        remember(session, CONDITIONAL_MENU, menu_id)
    audit(session, "menu_push", actor=None, conditional_menu=menu_id, keys=sorted(menu.keys()))
    return menu_id
