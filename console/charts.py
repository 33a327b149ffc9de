"""Charts as inline SVG, rendered on the server: no script, no external library, no CDN.

Colours and fonts come from the console's stylesheet through class names (``series-0`` ...), so the
markup carries no inline style and passes the console's Content-Security-Policy.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH = 720
HEIGHT = 260
LEFT = 48
RIGHT = 12
TOP = 16
BOTTOM = 40
MAX_X_LABELS = 12


@dataclass(frozen=True)
class ChartSeries:
    name: str
    values: Sequence[float]


TICKS = 4


def nice_step(value: float) -> float:
    """The smallest whole 1, 2 or 5 x 10^k at or above ``value`` (counts never need fractions)."""
    if value <= 1:
        return 1
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


def axis_top(value: float) -> float:
    """The top of an axis of TICKS equal whole steps that reaches ``value``."""
    return nice_step(value / TICKS) * TICKS


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def bar_chart(
    labels: Sequence[str],
    series: Sequence[ChartSeries],
    *,
    title: str,
    tick_labels: Sequence[str] | None = None,
) -> Markup:
    """Grouped vertical bars: one group per label, one bar per series, with a legend and hover titles.

    ``labels`` name each group in hover titles; ``tick_labels`` (default: ``labels``) are the shorter
    texts under the axis, thinned to at most MAX_X_LABELS.
    """
    if any(len(s.values) != len(labels) for s in series):
        raise ValueError("every series needs one value per label")
    ticks = list(tick_labels) if tick_labels is not None else list(labels)
    top = axis_top(max((v for s in series for v in s.values), default=0))
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    groups = max(1, len(labels))
    group_w = plot_w / groups
    bar_w = max(1.0, group_w * 0.8 / max(1, len(series)))
    parts: list[str] = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title)}" '
        'xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    for i in range(TICKS + 1):
        value = top * i / TICKS
        y = TOP + plot_h - plot_h * i / TICKS
        parts.append(f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>')
        parts.append(
            f'<text class="axis" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{_number(value)}</text>'
        )
    for index, label in enumerate(labels):
        x0 = LEFT + group_w * index + group_w * 0.1
        for number, item in enumerate(series):
            value = item.values[index]
            h = plot_h * value / top
            x = x0 + bar_w * number
            y = TOP + plot_h - h
            parts.append(
                f'<rect class="bar series-{number}" x="{x:.1f}" y="{y:.1f}" '
                f'width="{max(bar_w - 1, 1):.1f}" height="{h:.1f}">'
                f"<title>{escape(label)} {escape(item.name)}：{_number(value)}</title></rect>"
            )
    step = max(1, math.ceil(len(ticks) / MAX_X_LABELS))
    for index in range(0, len(ticks), step):
        x = LEFT + group_w * (index + 0.5)
        parts.append(
            f'<text class="axis" x="{x:.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle">'
            f"{escape(ticks[index])}</text>"
        )
    if len(series) > 1:
        x = LEFT
        for number, item in enumerate(series):
            parts.append(
                f'<rect class="bar series-{number}" x="{x}" y="{HEIGHT - 14}" width="10" height="10"/>'
                f'<text class="legend" x="{x + 14}" y="{HEIGHT - 5}">{escape(item.name)}</text>'
            )
            x += 24 + 14 * len(item.name)
    parts.append("</svg>")
    return Markup("".join(parts))


def hbar_chart(items: Sequence[tuple[str, float]], *, title: str) -> Markup:
    """Horizontal bars, one per named item (categories, statuses), value written at the bar's end."""
    row_h = 28
    label_w = 150
    height = TOP + row_h * max(1, len(items)) + 8
    top = max((v for _, v in items), default=0) or 1
    plot_w = WIDTH - label_w - RIGHT - 60
    parts: list[str] = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{escape(title)}" '
        'xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    for index, (name, value) in enumerate(items):
        y = TOP + row_h * index
        w = plot_w * value / top
        parts.append(
            f'<text class="axis" x="{label_w - 8}" y="{y + 17}" text-anchor="end">{escape(name)}</text>'
            f'<rect class="bar series-0" x="{label_w}" y="{y + 4}" width="{w:.1f}" height="{row_h - 8}">'
            f"<title>{escape(name)}：{_number(value)}</title></rect>"
            f'<text class="value" x="{label_w + w + 6:.1f}" y="{y + 17}">{_number(value)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))
