"""Opening hours: open, closed or unknown at a moment, never a guess.

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
from datetime import datetime
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
    text = unicodedata.normalize("NFKC", expression).strip()
    return _DASHES.sub("-", text)


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


def status_at(
    expression: str | None,
    when: datetime,
    *,
    lat: float,
    lon: float,
    timezone: str = "Asia/Shanghai",
    country: str = "CN",
) -> OpenStatus | None:
    """OPEN, CLOSED or UNKNOWN at ``when`` (an aware datetime); None when there are no hours at all."""
    if expression is None or not expression.strip():
        return None
    if when.tzinfo is None:
        raise ValueError("when must be timezone-aware")
    # Coordinates only matter for sun events; rounding keeps the cache small (1 km is seconds of sun).
    parsed = _parsed(normalise(expression), timezone, country, round(lat, 2), round(lon, 2))
    if parsed is None:
        return OpenStatus.UNKNOWN
    state, _comment = parsed.state(when.astimezone(ZoneInfo(timezone)))
    return _STATES.get(state, OpenStatus.UNKNOWN)
