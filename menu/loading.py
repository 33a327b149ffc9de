"""Reading the menu from its versioned TOML file (the shipped ``menu/menu.toml`` by default)."""

from __future__ import annotations

import errno
import re
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

from menu.definition import FIELDS, Button, Menu
from menu.errors import MenuError, MenuProblem, Place
from menu.validation import validate

_AT = re.compile(r"\(at line (\d+), column (\d+)\)")


def _name(raw: Any) -> str:
    return str(raw.get("name") or "") if isinstance(raw, dict) else ""


def _button(raw: Any, where: Place, problems: list[MenuProblem], depth: int = 0) -> Button | None:
    if not isinstance(raw, dict):
        problems.append(MenuProblem("not_a_table", f"{where}: must be a table", place=where))
        return None
    allowed = {*FIELDS, "sub_button"}
    unknown = sorted(set(raw) - allowed)
    if unknown:
        message = f"{where}: unknown fields {', '.join(unknown)}"
        problems.append(MenuProblem("unknown_fields", message, place=where, fields="、".join(unknown)))
    values = {name: raw.get(name) for name in FIELDS}
    for name, value in values.items():
        if value is not None and not isinstance(value, str):
            message = f"{where}: {name} must be a string"
            problems.append(MenuProblem("not_a_string", message, place=where, field=name))
            values[name] = str(value)
    subs: list[Button] = []
    for j, sub in enumerate(raw.get("sub_button", []) or [], start=1):
        if depth == 0:
            place = Place.of("sub_button", _name(sub), where.values["number"], j)
            built = _button(sub, place, problems, depth + 1)
        else:
            # Deeper buttons are refused as such (validation names the sub-button that holds them),
            # so what is wrong inside them is not worth a line of its own.
            built = _button(sub, where, [], depth + 1) or Button(name="")
        if built is not None:
            subs.append(built)
    return Button(
        name=values.pop("name") or "",
        sub_buttons=tuple(subs),
        **values,
    )


def _not_toml(source: str, exc: tomllib.TOMLDecodeError) -> MenuProblem:
    where = Place("file", source, file=source)
    message = f"{source} is not valid TOML: {exc}"
    at = _AT.search(str(exc))
    if at is None:
        return MenuProblem("toml_incomplete", message, place=where)
    return MenuProblem("toml_invalid", message, place=where, line=int(at[1]), column=int(at[2]))


def parse_menu(text: str, source: str = "menu") -> Menu:
    """Build and validate the menu from TOML text; raise MenuError naming the buttons at fault."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise MenuError([_not_toml(source, exc)]) from None
    problems: list[MenuProblem] = []
    unknown = sorted(set(data) - {"button", "staff"})
    if unknown:
        message = f"{source}: unknown keys {', '.join(unknown)}"
        where = Place("file", source, file=source)
        problems.append(MenuProblem("unknown_sections", message, place=where, sections="、".join(unknown)))
    buttons = [
        b
        for i, raw in enumerate(data.get("button", []), start=1)
        if (b := _button(raw, Place.of("button", _name(raw), i), problems))
    ]
    staff = data.get("staff", {})
    staff_buttons = [
        b
        for i, raw in enumerate(staff.get("sub_button", []), start=1)
        if (b := _button(raw, Place.of("staff_button", _name(raw), i), problems, depth=1))
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
    """The menu file at ``path``, or the shipped menu/menu.toml when empty."""
    if path:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            where = Place("file", path, file=path)
            message = f"menu file {path}: {exc.strerror or exc}"
            if exc.errno == errno.ENOENT:
                raise MenuError([MenuProblem("file_missing", message, place=where)]) from None
            raise MenuError([MenuProblem("file_unreadable", message, place=where)]) from None
        except UnicodeDecodeError as exc:
            where = Place("file", path, file=path)
            message = f"menu file {path}: not UTF-8 (byte {exc.start})"
            raise MenuError([MenuProblem("file_not_utf8", message, place=where, byte=exc.start)]) from None
        return parse_menu(text, path)
    return parse_menu(resources.files("menu").joinpath("menu.toml").read_text(encoding="utf-8"), "menu.toml")
