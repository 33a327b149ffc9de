"""Benchmark: load 1,000,000 CSV rows, index them, and answer nearest-facility queries.

    python bench/poi_load.py [--rows N] [--database-url URL] [--queries Q]

1. Writes a CSV of N random facilities over Jiangsu province (GCJ-02, as Chinese sources are) to a
   temporary directory (not timed).
2. Loads it with ``load_dataset`` into a fresh database (SQLite file by default, or the given URL,
   which must be an empty database or schema) and commits: validation, datum conversion, duplicate
   check, bulk insert and the version switch, timed per phase.
3. Builds the in-memory index from the database and reports its time and the process's memory
   growth (RSS).
4. Runs Q full ``nearest`` searches (active-version check, KD-tree, row fetch, geodesic distances,
   opening hours) and reports median and p99.
Bounded: fixed row and query counts, no network beyond the given database.
"""

from __future__ import annotations

import argparse
import csv
import gc
import random
import resource
import secrets
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot import create_app
from bot.app import load_settings
from bot.core import services
from bot.core.database import session_scope
from bot.core.geo import Datum, GeoPoint
from bot.migrations import upgrade
from geodata.datasets import load_dataset
from geodata.index import IndexCache
from geodata.kinds import PoiKind
from geodata.loaders import Rules, ServiceArea
from geodata.nearest import nearest

AREA = (30.7, 116.3, 35.1, 121.9)
HOURS = ["24/7", "06:00-22:00", "Mo-Fr 08:00-18:00; Sa,Su 09:00-17:00", ""]


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def write_csv(path: Path, rows: int, seed: int) -> None:
    rng = random.Random(seed)
    south, west, north, east = AREA
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["name", "lat", "lon", "address", "opening_hours", "capacity", "external_id"])
        for i in range(rows):
            writer.writerow(
                [
                    f"站点{i}",
                    f"{rng.uniform(south, north):.6f}",
                    f"{rng.uniform(west, east):.6f}",
                    f"某某路{i % 997}号",
                    HOURS[i % len(HOURS)],
                    20 + i % 20,
                    f"S{i}",
                ]
            )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=2_000)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="citybot-bench-") as tmp:
        source = Path(tmp) / "facilities.csv"
        start = time.perf_counter()
        write_csv(source, args.rows, seed=7)
        written = time.perf_counter() - start
        print(
            f"rows: {args.rows:,}   file: {source.stat().st_size / 1e6:.0f} MB (written in {written:.1f} s)"
        )

        url = args.database_url or f"sqlite:///{tmp}/bench.db"
        overrides = {"database_url": url, "redis_url": "", "secret_key": secrets.token_urlsafe(32)}
        upgrade(load_settings(None, overrides, environ={}))
        app = create_app(overrides)
        south, west, north, east = AREA
        rules = Rules(area=ServiceArea(south - 0.05, west - 0.05, north + 0.05, east + 0.05))

        marks: dict[str, float] = {}

        def progress(phase: str, done: int, total: int | None) -> None:
            marks.setdefault(f"{phase} start", time.perf_counter())
            marks[f"{phase} end"] = time.perf_counter()

        rss_before_load = rss_mb()
        cpu_start = time.process_time()
        start = time.perf_counter()
        with app.app_context(), session_scope(app) as session:
            result = load_dataset(
                session, PoiKind.BIKE, source, Datum.GCJ02, dry_run=False, progress=progress, rules=rules
            )
        total = time.perf_counter() - start
        cpu = time.process_time() - cpu_start
        assert result.ok, [str(p) for p in result.errors[:5]]
        validate = marks["validate end"] - start
        insert = marks["insert end"] - marks["validate end"]
        print(f"backend: {url.split(':', 1)[0]}")
        print(f"load {result.row_count:,} rows: {total:.1f} s total ({cpu:.1f} s of CPU in this process)")
        print(f"  hash + validate + convert + duplicates: {validate:.1f} s")
        switch_and_commit = total - (marks["insert end"] - start)
        print(f"  insert: {insert:.1f} s   switch + commit: {switch_and_commit:.1f} s")
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"  peak RSS during load: {peak:.0f} MB (before: {rss_before_load:.0f} MB)")

        gc.collect()
        cache = IndexCache()
        rss_before = rss_mb()
        start = time.perf_counter()
        with session_scope(app) as session:
            cache.get(session, PoiKind.BIKE)
        build = time.perf_counter() - start
        gc.collect()
        rss_after = rss_mb()
        grown = rss_after - rss_before
        print(
            f"index from the database: {build:.1f} s   "
            f"RSS {rss_before:.0f} -> {rss_after:.0f} MB (+{grown:.0f} MB)"
        )

        rng = random.Random(3)
        south, west, north, east = AREA
        now = datetime(2025, 7, 15, 4, 0, tzinfo=UTC)
        times = []
        with session_scope(app) as session:
            for _ in range(args.queries):
                here = GeoPoint(rng.uniform(south, north), rng.uniform(west, east), Datum.GCJ02)
                t0 = time.perf_counter()
                found = nearest(session, PoiKind.BIKE, here, limit=5, radius_m=2000, now=now, cache=cache)
                times.append(time.perf_counter() - t0)
                assert found.entries
        times.sort()
        p99 = times[min(len(times) - 1, round(0.99 * (len(times) - 1)))]
        median = statistics.median(times)
        print(f"nearest() with the database, k=5: median {median * 1e3:.2f} ms   p99 {p99 * 1e3:.2f} ms")
        services.of(app).engine.dispose()


if __name__ == "__main__":
    main()
