"""Opening hours: open, closed or unknown at a moment, never a guess; when a place opens or closes next;
and the expression as rules that ``geodata.describe`` puts in words.

Expressions use OpenStreetMap's ``opening_hours`` syntax ("06:00-22:00", "24/7",
"Mo-Fr 08:00-18:00; Sa,Su 09:00-17:00", "sunrise-sunset", "PH off", ...), evaluated by the
``opening-hours-py`` library in the facility's own time zone, with its coordinates (for sun events)
and the bureau's country (for public holidays). Full-width characters and the usual dash and tilde
variants are folded first ("０６：００～２２：００" is "06:00-22:00"); anything that still does not
parse is UNKNOWN, and so is whatever the expression itself leaves unknown.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from zoneinfo import ZoneInfo

import opening_hours
from opening_hours import OpeningHours, State


class OpenStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    UNKNOWN = "unknown"


_DASHES = re.compile(r"\s*[~～〜—–－−至]\s*")


def normalise(expression: str) -> str:
    """NFKC, and the dash variants as "-" outside comments (a quoted comment keeps its words)."""
    parts = unicodedata.normalize("NFKC", expression).strip().split('"')
    return '"'.join(part if i % 2 else _DASHES.sub("-", part) for i, part in enumerate(parts))


@lru_cache(maxsize=65536)
def is_valid(expression: str) -> bool:
    """Whether the expression parses (a loader warns about the ones that do not)."""
    text = normalise(expression)
    return bool(text) and bool(opening_hours.validate(text))


# opening-hours-py raises these, but its bundled __init__.pyi does not declare them.
_REFUSALS: tuple[type[Exception], ...] = (
    opening_hours.ParserError,  # type: ignore[attr-defined]
    opening_hours.UnknownCountryError,  # type: ignore[attr-defined]
    opening_hours.InvalidCoordinatesError,  # type: ignore[attr-defined]
)


@lru_cache(maxsize=4096)
def _parsed(text: str, timezone: str, country: str, lat: float, lon: float) -> OpeningHours | None:
    try:
        return OpeningHours(text, timezone=ZoneInfo(timezone), country=country or None, coords=(lat, lon))
    except _REFUSALS:
        return None


_STATES = {State.OPEN: OpenStatus.OPEN, State.CLOSED: OpenStatus.CLOSED}


@dataclass(frozen=True, slots=True)
class HoursNow:
    """The state at a moment and the next change that matters to someone on the way there."""

    status: OpenStatus
    opens: datetime | None = None  # closed or unknown: when it next opens (local time), if it does soon
    closes: datetime | None = None  # open: when it closes (local time), if it does within CLOSES_WITHIN


OPENS_WITHIN = timedelta(days=400)  # a seasonal place may open months ahead; never is None
CLOSES_WITHIN = timedelta(hours=24)


def evaluate(
    expression: str | None,
    when: datetime,
    *,
    lat: float,
    lon: float,
    timezone: str = "Asia/Shanghai",
    country: str = "CN",
) -> HoursNow | None:
    """The status at ``when`` with the next opening (when closed) or closing (when open)."""
    if expression is None or not expression.strip():
        return None
    if when.tzinfo is None:
        raise ValueError("when must be timezone-aware")
    # Coordinates only matter for sun events; rounding keeps the cache small (1 km is seconds of sun).
    parsed = _parsed(normalise(expression), timezone, country, round(lat, 2), round(lon, 2))
    if parsed is None:
        return HoursNow(OpenStatus.UNKNOWN)
    local = when.astimezone(ZoneInfo(timezone))
    state, _comment = parsed.state(local)
    status = _STATES.get(state, OpenStatus.UNKNOWN)
    if status is OpenStatus.OPEN:
        change = parsed.next_change(local)
        closes = change if change is not None and change - local <= CLOSES_WITHIN else None
        return HoursNow(status, closes=closes)
    for start, _end, later, _ in parsed.intervals(local, local + OPENS_WITHIN):
        if later is State.OPEN:
            return HoursNow(status, opens=start)
    return HoursNow(status)


# -- the expression as rules, for describing it in words ---------------------------------------------

DAYS = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")
HOLIDAYS = ("PH", "SH")  # public holidays, school holidays
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
SUN_EVENTS = ("sunrise", "sunset", "dawn", "dusk")

_DAY = "|".join(DAYS)
_DAY_ITEM = rf"(?:(?:{_DAY})(?:-(?:{_DAY}))?|PH|SH)"
_MONTH = "|".join(MONTHS)
_MONTH_ITEM = rf"(?:{_MONTH})(?:-(?:{_MONTH}))?"
_TIME = rf"(?:\d\d:\d\d|{'|'.join(SUN_EVENTS)})"
_SPAN = rf"{_TIME}(?:-{_TIME}|\+)"
_RULE = re.compile(
    rf"""
    (?:(?P<always>24/7)
      |(?:(?P<months>{_MONTH_ITEM}(?:,{_MONTH_ITEM})*)(?:\ |$))?
       (?:(?P<days>{_DAY_ITEM}(?:,{_DAY_ITEM})*)(?:\ |$))?
       (?P<times>{_SPAN}(?:,{_SPAN})*)?
    )
    \ ?(?P<modifier>open|closed|off|unknown)?
    \ ?(?:"(?P<comment>[^"]*)")?
    """,
    re.VERBOSE,
)
# Rules are separated by "; " (normal) or ", " (additional); inside a rule commas have no space.
_SEPARATOR = re.compile(r'(?:; |, )(?=(?:[^"]*"[^"]*")*[^"]*$)')


@dataclass(frozen=True, slots=True)
class Span:
    start: str  # "06:00" or a sun event
    end: str | None  # None: open end ("12:00+")

    @property
    def overnight(self) -> bool:
        return self.end is not None and ":" in self.start and ":" in self.end and self.end < self.start


@dataclass(frozen=True, slots=True)
class Rule:
    """One rule of an expression: its months, days and times (empty: all of them), what it says
    (open, closed, unknown) and its comment."""

    months: tuple[tuple[str, str], ...] = ()  # (first, last); a single month is (m, m)
    days: tuple[tuple[str, str], ...] = ()  # (first, last) weekdays, or (PH, PH) / (SH, SH)
    times: tuple[Span, ...] = ()
    modifier: str = "open"  # open, closed or unknown
    comment: str = ""
    always: bool = False  # "24/7"


def _pairs(text: str | None) -> tuple[tuple[str, str], ...]:
    if not text:
        return ()
    pairs = []
    for item in text.split(","):
        first, _, last = item.partition("-")
        pairs.append((first, last or first))
    return tuple(pairs)


def _spans(text: str | None) -> tuple[Span, ...]:
    if not text:
        return ()
    spans = []
    for item in text.split(","):
        if item.endswith("+"):
            spans.append(Span(item[:-1], None))
        else:
            start, _, end = item.partition("-")
            spans.append(Span(start, end))
    return tuple(spans)


@lru_cache(maxsize=4096)
def rules(expression: str) -> tuple[Rule, ...] | None:
    """The expression's rules in the library's canonical spelling; None when it does not parse or
    uses what these rules cannot say (dates, week numbers, nth weekdays, offsets, fallbacks)."""
    text = normalise(expression)
    if not is_valid(text):
        return None
    try:
        canonical = str(OpeningHours(text))
    except _REFUSALS:
        return None
    if "||" in canonical:
        return None
    found = []
    for part in _SEPARATOR.split(canonical):
        match = _RULE.fullmatch(part.strip())
        if match is None or not part.strip():
            return None
        modifier = match["modifier"] or "open"
        found.append(
            Rule(
                months=_pairs(match["months"]),
                days=_pairs(match["days"]),
                times=_spans(match["times"]),
                modifier="closed" if modifier == "off" else modifier,
                comment=match["comment"] or "",
                always=bool(match["always"]),
            )
        )
    return tuple(found)
