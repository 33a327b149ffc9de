"""A NearestResult as one WeChat text reply: at most 2048 bytes of UTF-8, never cut inside an entry.

WeChat drops longer text replies silently, so entries that do not fit are left out whole, from the
end, and a last line says how many. Every sentence comes from the ``[nearby]`` section of the
catalogue.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from bot.core.texts import Texts
from geodata.describe import day_text, describe, moment_text
from geodata.hours import OpenStatus
from geodata.links import NavProvider, navigation_url
from geodata.loaders import parse_season
from geodata.nearest import NearbyEntry, NearestResult

MAX_REPLY_BYTES = 2048


def _size(text: str) -> int:
    return len(text.encode("utf-8"))


def _plain(text: str) -> str:
    """Keep names from opening or closing markup in the reply (WeChat reads ``<a>`` in text)."""
    return text.replace("<", "＜").replace(">", "＞")


def format_distance(texts: Texts, metres: float) -> str:
    if metres < 999.5:
        return texts("nearby.distance_m", value=max(1, round(metres)))
    return texts("nearby.distance_km", value=f"{metres / 1000:.1f}")


@dataclass(frozen=True)
class ReplyStyle:
    """How to write the reply: the kind's label and where its links go."""

    label: str
    provider: NavProvider = NavProvider.AMAP
    app: str = "citybot"
    max_bytes: int = MAX_REPLY_BYTES
    walking_max_m: float = 3000.0  # farther than this: no walking time, riding or transport advised
    area: str = ""  # the service area's name ([geo] area_name); empty: nearby.this_city


_STATUS_KEYS = {
    OpenStatus.OPEN: ("nearby.open", "nearby.open_until"),
    OpenStatus.CLOSED: ("nearby.closed", "nearby.closed_until"),
    OpenStatus.UNKNOWN: ("nearby.unknown", "nearby.unknown_until"),
}
_CJK = re.compile(r"[\u4e00-\u9fff]")


def status_line(texts: Texts, entry: NearbyEntry, now: datetime | None) -> str | None:
    """Open or closed now, when that changes (今天 22:00 关闭, 明天 06:00 开放) and the hours in words."""
    if entry.status is None:
        return None
    hours = describe(entry.opening_hours, texts)
    if hours is None and entry.opening_hours and _CJK.search(entry.opening_hours):
        return texts("nearby.as_written", hours=_plain(entry.opening_hours))  # words, not OSM syntax
    if entry.status is OpenStatus.OPEN and entry.closes is None and hours == texts("nearby.hours.always"):
        return hours
    plain, until = _STATUS_KEYS[entry.status]
    change = entry.closes if entry.status is OpenStatus.OPEN else entry.opens
    if change is not None and now is not None:
        status = texts(until, time=moment_text(texts, change, now))
    else:
        status = texts(plain)
    return texts("nearby.hours_suffix", status=status, hours=_plain(hours)) if hours else status


def _season_day(text: str, year: int) -> date | None:
    parsed = parse_season(text)
    if parsed is None:
        return None
    recurring, day = parsed
    if recurring and not (day.month == 2 and day.day == 29):
        return day.replace(year=year)  # every year: this year's date
    return day


def season_line(texts: Texts, entry: NearbyEntry, today: date | None) -> str | None:
    """经营季节：7月1日至9月30日 (a year only where it is not this year's)."""
    if entry.season is None:
        return None
    year = today.year if today is not None else 2000
    start, end = (_season_day(text, year) for text in entry.season)
    if start is None or end is None:
        return None
    first, last = (day_text(texts, day, today or start) for day in (start, end))
    return texts("nearby.season", start=first, end=last)


def format_entry(
    texts: Texts, style: ReplyStyle, number: int, entry: NearbyEntry, now: datetime | None = None
) -> str:
    lines = [texts("nearby.entry", number=number, name=_plain(entry.name))]
    if entry.address:
        lines.append(texts("nearby.address", address=_plain(entry.address)))
    distance = format_distance(texts, entry.distance_m)
    if entry.distance_m <= style.walking_max_m:
        lines.append(texts("nearby.distance", distance=distance, minutes=entry.walking_minutes))
    else:
        lines.append(texts("nearby.distance_far", distance=distance))
    if entry.capacity is not None:
        lines.append(texts("nearby.capacity", capacity=entry.capacity))
    status = status_line(texts, entry, now)
    if status is not None:
        lines.append(status)
    season = season_line(texts, entry, now.date() if now is not None else None)
    if season is not None:
        lines.append(season)
    url = navigation_url(style.provider, entry.point, entry.name, app=style.app)
    lines.append(texts("nearby.navigate", url=url))
    return "\n".join(lines)


def format_nearest(result: NearestResult, texts: Texts, style: ReplyStyle) -> str:
    """The reply for a search: header, as many whole entries as fit, and a count of the rest."""
    label = style.label
    if not result.has_dataset:
        return texts("nearby.no_dataset", label=label)
    if not result.in_season:
        return out_of_season(result, texts, label)
    if result.too_far:
        return too_far(result, texts, style)
    if not result.entries:
        return texts("nearby.empty", label=label)
    radius = format_distance(texts, result.radius_m)
    if result.beyond_radius:
        header = texts(
            "nearby.beyond",
            radius=radius,
            label=label,
            distance=format_distance(texts, result.entries[0].distance_m),
        )
    else:
        header = texts("nearby.header", label=label, radius=radius)
    blocks = [
        format_entry(texts, style, number, entry, result.now)
        for number, entry in enumerate(result.entries, 1)
    ]
    return fit(header, blocks, texts, style.max_bytes)


def out_of_season(result: NearestResult, texts: Texts, label: str) -> str:
    """Out of season: when the next season starts (this year, next year, or a later year)."""
    opens, now = result.season_opens, result.now
    if opens is None or now is None:
        return texts("nearby.out_of_season", label=label)
    today = now.date()
    if opens.year == today.year:
        return texts("nearby.out_of_season_starts", label=label, date=day_text(texts, opens, opens))
    if opens.year == today.year + 1:
        return texts("nearby.out_of_season_ended", label=label, date=day_text(texts, opens, opens))
    return texts("nearby.out_of_season_later", label=label, date=day_text(texts, opens, today))


def too_far(result: NearestResult, texts: Texts, style: ReplyStyle) -> str:
    """Nothing within the farthest distance worth a trip: say so, and what to do instead."""
    area = style.area or texts("nearby.this_city")
    distance = format_distance(texts, result.max_distance_m or result.radius_m)
    advice = texts("nearby.too_far_advice", area=area)
    key = "nearby.too_far_outside" if result.outside_area else "nearby.too_far"
    return texts(key, distance=distance, label=style.label, area=area, advice=advice)


def fit(header: str, blocks: list[str], texts: Texts, max_bytes: int = MAX_REPLY_BYTES) -> str:
    """Header plus the longest prefix of ``blocks`` that fits, with an "omitted" line for the rest."""
    separator = "\n\n"
    for shown in range(len(blocks), -1, -1):
        parts = [header, *blocks[:shown]]
        left_out = len(blocks) - shown
        if left_out:
            parts.append(texts("nearby.omitted", count=left_out))
        reply = separator.join(parts)
        if _size(reply) <= max_bytes:
            return reply
    raise ValueError("even the header does not fit in the reply")
