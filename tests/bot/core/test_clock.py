"""The one clock: nothing in the app reads the calendar except through bot.core.clock."""

from __future__ import annotations

import ast
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.core import clock
from tests.conftest import REPO
from tests.support.clock import at

pytestmark = pytest.mark.unit

PACKAGES = (
    "bot",
    "handlers",
    "geodata",
    "miniprogram_api",
    "reports",
    "staff",
    "waste",
    "open311",
    "console",
    "broadcasts",
    "devtools",
)
# (module or class name, attribute): every way of reading the wall clock or today's date.
FORBIDDEN = {
    ("time", "time"),
    ("time", "time_ns"),
    ("datetime", "now"),
    ("datetime", "utcnow"),
    ("datetime", "today"),
    ("date", "today"),
}


def wall_clock_reads(source: str) -> list[int]:
    """Line numbers of ``time.time``, ``datetime.now`` ... references, called or passed as a value."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and (node.value.id, node.attr) in FORBIDDEN
        ):
            found.append(node.lineno)
        if (
            isinstance(node, ast.ImportFrom)
            and node.module == "time"
            and any(alias.name in {"time", "time_ns"} for alias in node.names)
        ):
            found.append(node.lineno)
    return sorted(found)


def test_the_scanner_sees_every_spelling() -> None:
    source = (
        "import time\nfrom datetime import date, datetime\n"
        "a = time.time()\nb = datetime.now(UTC)\nc = date.today()\nd = time.time\nfrom time import time\n"
        "e = time.monotonic()\n"
    )
    assert wall_clock_reads(source) == [3, 4, 5, 6, 7]


def test_only_bot_clock_reads_the_wall_clock() -> None:
    offenders = []
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            if path == REPO / "bot" / "core" / "clock.py" or "migrations" in path.parts:
                continue
            offenders += [f"{path.relative_to(REPO)}:{line}" for line in wall_clock_reads(path.read_text())]
    assert offenders == []


def test_pinned_clock_is_seen_by_every_reading() -> None:
    pinned = datetime(2031, 2, 28, 17, 30, tzinfo=UTC)  # 01:30 on 1 March in Shanghai
    with at(pinned, tick=False):
        assert clock.utcnow() == pinned
        assert clock.epoch() == pinned.timestamp()
        assert clock.today(ZoneInfo("Asia/Shanghai")).isoformat() == "2031-03-01"
        assert clock.today(ZoneInfo("UTC")).isoformat() == "2031-02-28"


def test_utcnow_is_aware_and_moves() -> None:
    first = clock.utcnow()
    assert first.tzinfo is not None
    assert first.utcoffset() == timedelta(0)
    with at(first + timedelta(days=400)):
        assert clock.utcnow() - first >= timedelta(days=400)


def test_the_clock_module_is_where_the_reads_are() -> None:
    assert len(wall_clock_reads((REPO / "bot" / "core" / "clock.py").read_text())) == 2
