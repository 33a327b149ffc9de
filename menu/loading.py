"""Reading the menu from its versioned TOML file (the shipped ``menu/menu.toml`` by default)."""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

from menu.definition import FIELDS, Button, Menu
from menu.errors import MenuError
from menu.validation import validate


def _button(raw: Any, where: str, problems: list[str]) -> Button | None:
    if not isinstance(raw, dict):
        problems.append(f"{where}: must be a table")
        return None
    allowed = {*FIELDS, "sub_button"}
    unknown = sorted(set(raw) - allowed)
    if unknown:
        problems.append(f"{where}: unknown fields {', '.join(unknown)}")
    values = {name: raw.get(name) for name in FIELDS}
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
    """The menu file at ``path``, or the shipped menu/menu.toml when empty."""
    if path:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise MenuError([f"menu file {path}: {exc.strerror or exc}"]) from None
        return parse_menu(text, path)
    return parse_menu(resources.files("menu").joinpath("menu.toml").read_text(encoding="utf-8"), "menu.toml")
