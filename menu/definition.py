"""The menu as data: top buttons with their sub-buttons, and the staff buttons that the conditional
menu adds under one top button; each renders itself as the body WeChat's menu API takes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

FIELDS = ("type", "name", "key", "url", "appid", "pagepath", "media_id", "article_id")


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
        data = {name: getattr(self, name) for name in FIELDS}
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
        return {b.key for b in walk((*self.buttons, *self.staff_buttons)) if b.key}


def walk(buttons: tuple[Button, ...]) -> list[Button]:
    found: list[Button] = []
    for button in buttons:
        found.append(button)
        found.extend(button.sub_buttons)
    return found
