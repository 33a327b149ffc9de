"""The menu's refusals and the problems of a menu file, under ``menu.errors`` in the text catalogue.

Every problem is a code and the values its sentence needs (a :class:`MenuProblem`), the first of
which is always its place (a :class:`Place`: the file, the menu, or a button by its position and
name); both are worded from the catalogue like any domain error. ``str()`` of either is English,
for logs.
"""

from __future__ import annotations

from typing import ClassVar

from bot.core.errors import Codes, DomainError


class Place(DomainError):  # noqa: N818 (a sentence with values, never raised)
    """Where a problem is: 第 2 个菜单的第 3 个子菜单“xxx”, 菜单文件 menu.toml, ..."""

    namespace = "menu.errors.place"
    codes: ClassVar[Codes] = {
        "file": ("file",),
        "menu": (),
        "button": ("number", "name"),
        "button_unnamed": ("number",),
        "sub_button": ("number", "sub", "name"),
        "sub_button_unnamed": ("number", "sub"),
        "staff": (),
        "staff_button": ("number", "name"),
        "staff_button_unnamed": ("number",),
        "staff_menu_button": ("number", "name"),
        "staff_menu_button_unnamed": ("number",),
        "staff_menu_sub_button": ("number", "sub", "name"),
        "staff_menu_sub_button_unnamed": ("number", "sub"),
    }

    @classmethod
    def of(cls, kind: str, name: str, number: int, sub: int | None = None) -> Place:
        """A button's place: ``kind`` is button, sub_button (``sub`` given), staff_button (in the
        [staff] section), staff_menu_button or staff_menu_sub_button (in the staff variant of the menu)."""
        english = {
            "button": "button",
            "sub_button": "button",
            "staff_button": "staff button",
            "staff_menu_button": "staff menu: button",
            "staff_menu_sub_button": "staff menu: button",
        }[kind]
        path = f"{number}" if sub is None else f"{number} › {sub}"
        message = f"{english} {path} {name!r}" if name else f"{english} {path}"
        numbers = {"number": number} if sub is None else {"number": number, "sub": sub}
        if name:
            return cls(kind, message, name=name, **numbers)
        return cls(f"{kind}_unnamed", message, **numbers)


class MenuProblem(DomainError):  # noqa: N818 (one of the problems a MenuError lists, never raised alone)
    """What is wrong with the menu file at one place; ``menu.errors.problems.<code>``."""

    namespace = "menu.errors.problems"
    codes: ClassVar[Codes] = {
        # reading the file
        "file_missing": ("place",),
        "file_unreadable": ("place",),
        "file_not_utf8": ("place", "byte"),
        "toml_invalid": ("place", "line", "column"),
        "toml_incomplete": ("place",),
        "unknown_sections": ("place", "sections"),
        "not_a_table": ("place",),
        "unknown_fields": ("place", "fields"),
        "not_a_string": ("place", "field"),
        # the whole menu
        "no_buttons": ("place",),
        "too_many_buttons": ("place", "count", "limit"),
        "key_repeated": ("place", "key", "count"),
        # one button
        "name_empty": ("place",),
        "name_too_long": ("place", "bytes", "limit"),
        "type_missing": ("place", "types"),
        "type_unknown": ("place", "type", "types"),
        "type_with_sub_buttons": ("place", "type"),
        "too_many_sub_buttons": ("place", "count", "limit"),
        "nested_sub_buttons": ("place",),
        "key_missing": ("place", "type"),
        "key_too_long": ("place", "bytes", "limit"),
        "key_unknown": ("place", "key", "known"),
        "staff_key": ("place", "key"),
        "url_missing": ("place", "type"),
        "url_too_long": ("place", "bytes", "limit"),
        "url_invalid": ("place", "url"),
        "appid_invalid": ("place",),
        "pagepath_missing": ("place",),
        "media_id_missing": ("place",),
        "article_id_missing": ("place", "type"),
        # the staff buttons
        "staff_under_unknown": ("place", "under"),
    }

    @property
    def place(self) -> Place:
        place = self.values["place"]
        assert isinstance(place, Place)
        return place


class MenuError(DomainError, ValueError):
    """The menu breaks WeChat's rules (or cannot be read); one problem per line, each with its place."""

    namespace = "menu.errors"
    codes: ClassVar[Codes] = {"invalid": ("problems",)}

    def __init__(self, problems: list[MenuProblem]) -> None:
        message = "invalid menu:\n" + "\n".join(f"  {p}" for p in problems)
        super().__init__("invalid", message, problems=problems)
        self.problems = problems
