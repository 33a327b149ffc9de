from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from console.charts import ChartSeries, axis_top, bar_chart, hbar_chart

pytestmark = pytest.mark.unit

SVG = "{http://www.w3.org/2000/svg}"


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0, 4), (2, 4), (4, 4), (5, 8), (8, 8), (9, 20), (20, 20), (21, 40), (41, 80), (81, 200), (2400, 4000)],
)
def test_axis_top_has_whole_steps(value: float, expected: float) -> None:
    top = axis_top(value)
    assert top == expected
    assert top >= value
    assert (top / 4).is_integer()


def bars(svg: str) -> list[ET.Element]:
    return [rect for rect in ET.fromstring(svg).iter(f"{SVG}rect") if rect.find(f"{SVG}title") is not None]


def test_bar_heights_are_proportional_and_titled() -> None:
    svg = str(bar_chart(["a", "b", "c"], [ChartSeries("消息", [0, 5, 10])], title="每日消息"))
    heights = [float(rect.attrib["height"]) for rect in bars(svg)]
    assert heights[0] == 0
    assert heights[2] == pytest.approx(2 * heights[1])
    titles = [rect.find(f"{SVG}title").text for rect in bars(svg)]  # type: ignore[union-attr]
    assert titles == ["a 消息：0", "b 消息：5", "c 消息：10"]
    assert 'aria-label="每日消息"' in svg
    assert "style=" not in svg  # colours come from the stylesheet (CSP allows no inline style)


def test_grouped_series_have_a_legend() -> None:
    svg = str(
        bar_chart(["d1", "d2"], [ChartSeries("关注", [3, 1]), ChartSeries("取消关注", [1, 0])], title="t")
    )
    assert len(bars(svg)) == 4
    legend = [t.text for t in ET.fromstring(svg).iter(f"{SVG}text") if t.attrib.get("class") == "legend"]
    assert legend == ["关注", "取消关注"]


def test_labels_are_escaped_and_thinned() -> None:
    labels = [f"<d{i}>" for i in range(60)]
    svg = str(bar_chart(labels, [ChartSeries("x&y", [1] * 60)], title="<t>"))
    ET.fromstring(svg)  # well-formed despite the markup characters
    assert "<d1>" not in svg
    ticks = [t for t in ET.fromstring(svg).iter(f"{SVG}text") if t.attrib.get("text-anchor") == "middle"]
    assert len(ticks) <= 12


def test_series_must_match_labels() -> None:
    with pytest.raises(ValueError, match="one value per label"):
        bar_chart(["a", "b"], [ChartSeries("x", [1])], title="t")


def test_horizontal_bars() -> None:
    svg = str(hbar_chart([("占道经营", 8), ("乱堆乱放", 2)], title="按类别"))
    widths = [float(rect.attrib["width"]) for rect in bars(svg)]
    assert widths[0] == pytest.approx(4 * widths[1])
    assert re.search(r">8</text>", svg)
