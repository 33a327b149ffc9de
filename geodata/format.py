"""A NearestResult as one WeChat text reply: at most 2048 bytes of UTF-8, never cut inside an entry.

WeChat drops longer text replies silently, so entries that do not fit are left out whole, from the
end, and a last line says how many. Every sentence comes from the ``[nearby]`` section of the
catalogue.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.texts import Texts
from geodata.hours import OpenStatus
from geodata.links import NavProvider, navigation_url
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


_STATUS_KEYS = {
    OpenStatus.OPEN: "nearby.open",
    OpenStatus.CLOSED: "nearby.closed",
    OpenStatus.UNKNOWN: "nearby.unknown",
}


def format_entry(texts: Texts, style: ReplyStyle, number: int, entry: NearbyEntry) -> str:
    lines = [texts("nearby.entry", number=number, name=_plain(entry.name))]
    if entry.address:
        lines.append(texts("nearby.address", address=_plain(entry.address)))
    distance = format_distance(texts, entry.distance_m)
    lines.append(texts("nearby.distance", distance=distance, minutes=entry.walking_minutes))
    if entry.capacity is not None:
        lines.append(texts("nearby.capacity", capacity=entry.capacity))
    if entry.status is not None:
        lines.append(texts(_STATUS_KEYS[entry.status], hours=_plain(entry.opening_hours or "")))
    url = navigation_url(style.provider, entry.point, entry.name, app=style.app)
    lines.append(texts("nearby.navigate", url=url))
    return "\n".join(lines)


def format_nearest(result: NearestResult, texts: Texts, style: ReplyStyle) -> str:
    """The reply for a search: header, as many whole entries as fit, and a count of the rest."""
    label = style.label
    if not result.has_dataset:
        return texts("nearby.no_dataset", label=label)
    if not result.in_season:
        return texts("nearby.out_of_season", label=label)
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
    blocks = [format_entry(texts, style, number, entry) for number, entry in enumerate(result.entries, 1)]
    return fit(header, blocks, texts, style.max_bytes)


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
