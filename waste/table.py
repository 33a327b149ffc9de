"""Reading and loading the sorting table: a CSV file (UTF-8, with or without BOM).

Columns: ``name`` and ``category`` (required), ``note`` (a sentence about this item) and ``aliases``
(other names, separated by ``|`` or ``、``). A category is written as its code or a bin's name
(可回收物, 有害垃圾, 厨余垃圾 / 湿垃圾, 其他垃圾 / 干垃圾). Every row is checked and every error is
reported with its line number; a load is all-or-nothing and replaces the whole table in one
transaction, so readers see the old table or the new one, never a mix.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar

from sqlalchemy import delete
from sqlalchemy.orm import Session

from bot.core.errors import Codes, DomainError
from waste.categories import WasteCategory
from waste.lookup import normalise
from waste.models import WasteItem, WasteTerm

REQUIRED = ("name", "category")
KNOWN = (*REQUIRED, "note", "aliases")
MAX_NAME = 64
MAX_NOTE = 500
_ALIAS_SPLIT = re.compile(r"[|、]")


class RowError(DomainError):
    """One problem on one line of the table."""

    namespace = "waste.errors.row"
    codes: ClassVar[Codes] = {
        "name_empty": ("line",),
        "name_too_long": ("line", "limit"),
        "name_unsearchable": ("line",),
        "unknown_category": ("line", "category"),
        "note_too_long": ("line", "limit"),
        "term_repeated": ("line", "term", "first"),
    }


class TableError(DomainError, ValueError):
    """The file cannot be loaded. ``errors`` lists every problem (English, one line each); a row's
    problems are also in ``problems``, rendered one per line in the sentence of ``rows``."""

    namespace = "waste.errors"
    codes: ClassVar[Codes] = {
        "not_utf8": ("byte",),
        "missing_columns": ("columns",),
        "unknown_columns": ("columns", "known"),
        "no_rows": (),
        "rows": ("count", "problems"),
    }

    def __init__(self, code: str, errors: list[str], **values: Any) -> None:
        super().__init__(code, "\n".join(errors), **values)
        self.errors = errors


def _rows_error(problems: list[RowError]) -> TableError:
    return TableError("rows", [str(p) for p in problems], count=len(problems), problems=problems)


@dataclass(frozen=True)
class TableRow:
    line: int
    name: str
    category: WasteCategory
    note: str
    aliases: tuple[str, ...]


def sample_path() -> Path:
    """The table that ships with citybot (common household items)."""
    return Path(str(resources.files("waste").joinpath("sample.csv")))


def read_table(data: bytes) -> list[TableRow]:
    """Parse and check a table; raise TableError listing every problem."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise TableError("not_utf8", [f"the file is not UTF-8 (byte {exc.start})"], byte=exc.start) from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [name.strip().lower() for name in (reader.fieldnames or [])]
    missing = [column for column in REQUIRED if column not in header]
    if missing:
        raise TableError(
            "missing_columns", [f"line 1: missing column(s) {', '.join(missing)}"], columns=", ".join(missing)
        )
    unknown = [column for column in header if column not in KNOWN]
    if unknown:
        raise TableError(
            "unknown_columns",
            [f"line 1: unknown column(s) {', '.join(unknown)}; known: {', '.join(KNOWN)}"],
            columns=", ".join(unknown),
            known=", ".join(KNOWN),
        )
    reader.fieldnames = header
    errors: list[RowError] = []
    rows: list[TableRow] = []
    term_lines: dict[str, int] = {}
    for raw in reader:
        line = reader.line_num
        name = (raw.get("name") or "").strip()
        problems: list[RowError] = []
        if not name:
            problems.append(RowError("name_empty", f"line {line}: name is empty", line=line))
        elif len(name) > MAX_NAME:
            message = f"line {line}: name is longer than {MAX_NAME} characters"
            problems.append(RowError("name_too_long", message, line=line, limit=MAX_NAME))
        elif not normalise(name):
            message = f"line {line}: name has no characters to search by"
            problems.append(RowError("name_unsearchable", message, line=line))
        try:
            category = WasteCategory.parse(raw.get("category") or "")
        except ValueError:
            given = (raw.get("category") or "").strip()
            message = f"line {line}: unknown category {given!r}"
            problems.append(RowError("unknown_category", message, line=line, category=given))
        note = (raw.get("note") or "").strip()
        if len(note) > MAX_NOTE:
            message = f"line {line}: note is longer than {MAX_NOTE} characters"
            problems.append(RowError("note_too_long", message, line=line, limit=MAX_NOTE))
        aliases = tuple(a.strip() for a in _ALIAS_SPLIT.split(raw.get("aliases") or "") if a.strip())
        for term in dict.fromkeys(normalise(word) for word in (name, *aliases) if word):
            if not term:
                continue
            if term in term_lines:
                first = term_lines[term]
                message = f"line {line}: {term!r} is already on line {first}"
                problems.append(RowError("term_repeated", message, line=line, term=term, first=first))
            else:
                term_lines[term] = line
        if problems:
            errors.extend(problems)
            continue
        rows.append(TableRow(line, name, category, note, aliases))
    if not rows and not errors:
        raise TableError("no_rows", ["the file has no rows"])
    if errors:
        raise _rows_error(errors)
    return rows


def load_table(session: Session, rows: list[TableRow]) -> int:
    """Replace the table with ``rows``; returns how many items were loaded. Never commits."""
    session.execute(delete(WasteTerm))
    session.execute(delete(WasteItem))
    for row in rows:
        item = WasteItem(name=row.name, category=row.category.value, note=row.note)
        terms = dict.fromkeys(normalise(word) for word in (row.name, *row.aliases))
        item.terms = [WasteTerm(term=term) for term in terms if term]
        session.add(item)
    session.flush()
    return len(rows)
