"""Text from outside (API parameters, console forms, Open311 queries): no control characters.

NUL cannot be stored in PostgreSQL text at all, and the other C0/C1 controls and lone surrogates
(which JSON's ``\\ud800`` escapes produce) are never meant: each adapter refuses a request holding one
before any view runs, in its own error shape. Tab, line feed and carriage return are text.

``unclean_fields(request)`` names the query, path, form and JSON values (and keys) that hold one;
uploaded files are the upload checks' business.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from flask import Request

CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def is_clean(text: str) -> bool:
    return CONTROL.search(text) is None


def shown(name: str) -> str:
    """A field name fit to be echoed back (its own control characters replaced)."""
    return CONTROL.sub("\ufffd", name)


def _json_strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            name = f"{path}.{key}" if path else str(key)
            yield name, str(key)
            yield from _json_strings(item, name)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _json_strings(item, f"{path}.{index}" if path else str(index))


def _strings(request: Request, *, json: bool) -> Iterator[tuple[str, str]]:
    for name, value in (request.view_args or {}).items():
        if isinstance(value, str):
            yield name, value
    for source in (request.args, request.form):
        for name, value in source.items(multi=True):
            yield name, name
            yield name, value
    if json and request.is_json:
        yield from _json_strings(request.get_json(silent=True), "")


def unclean_fields(request: Request, *, json: bool = True) -> list[str]:
    """The names (each once, in order) of the request's values that hold a control character."""
    found: list[str] = []
    for name, value in _strings(request, json=json):
        if not is_clean(value) and shown(name) not in found:
            found.append(shown(name))
    return found
