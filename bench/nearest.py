"""Benchmark: k=5 nearest over 1,000,000 points, KD-tree vs a numpy full haversine scan.

    python bench/nearest.py [--points N] [--queries Q] [--scans S]

Random points over Jiangsu province (a regional platform's worth of facilities). Reports the tree
build time, per-query latency (median, p99) of the raw cKDTree query and of the search the app runs
(``geodata.nearest._candidates``: the query plus the margin for geodesic ranking), a numpy full
haversine scan in the same process, and the ratios. Bounded: fixed query counts, no network.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from scipy.spatial import cKDTree

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from geodata.index import Searchable
from geodata.nearest import _candidates
from geodata.spatial import EARTH_RADIUS_M, to_xyz

AREA = (30.7, 116.3, 35.1, 121.9)  # south, west, north, east


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def haversine_scan(
    lat_r: np.ndarray, lon_r: np.ndarray, cos_lat: np.ndarray, lat: float, lon: float, k: int
) -> np.ndarray:
    la, lo = np.radians(lat), np.radians(lon)
    a = np.sin((lat_r - la) / 2) ** 2 + np.cos(la) * cos_lat * np.sin((lon_r - lo) / 2) ** 2
    d = 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(a))
    best = np.argpartition(d, k)[:k]
    return best[np.argsort(d[best])]


def timed(fn, repeat: int) -> list[float]:  # type: ignore[no-untyped-def]
    out = []
    for i in range(repeat):
        start = time.perf_counter()
        fn(i)
        out.append(time.perf_counter() - start)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=20_000)
    parser.add_argument("--scans", type=int, default=60)
    parser.add_argument("--k", type=int, default=5)
    args = parser.parse_args()
    rng = np.random.default_rng(42)
    south, west, north, east = AREA
    lat = rng.uniform(south, north, args.points)
    lon = rng.uniform(west, east, args.points)
    q_lat = rng.uniform(south, north, args.queries)
    q_lon = rng.uniform(west, east, args.queries)

    rss_before = rss_mb()
    start = time.perf_counter()
    xyz = to_xyz(lat, lon)
    tree = cKDTree(xyz)
    build_s = time.perf_counter() - start
    ids = np.arange(args.points, dtype=np.int64)  # the index keeps POI ids beside the tree
    index_mb = rss_mb() - rss_before
    q_xyz = to_xyz(q_lat, q_lon)
    found = Searchable(tree, ids)

    for i in range(200):  # warm up
        tree.query(q_xyz[i], k=args.k)
    raw = timed(lambda i: tree.query(q_xyz[i], k=args.k), args.queries)
    app = timed(lambda i: _candidates(found, q_xyz[i], args.k, 2000.0), args.queries)

    lat_r, lon_r = np.radians(lat), np.radians(lon)
    cos_lat = np.cos(lat_r)
    scan = timed(lambda i: haversine_scan(lat_r, lon_r, cos_lat, q_lat[i], q_lon[i], args.k), args.scans)

    # The tree and the scan agree on the neighbours (spherical distance both ways).
    for i in range(min(args.scans, 20)):
        _, idx = tree.query(q_xyz[i], k=args.k)
        assert list(idx) == list(haversine_scan(lat_r, lon_r, cos_lat, q_lat[i], q_lon[i], args.k)), i

    us = 1e6
    rows = [
        ("cKDTree query k=5", raw),
        ("app search (_candidates)", app),
        ("numpy full haversine scan", scan),
    ]
    print(f"points: {args.points:,}   queries: {args.queries:,}   scans: {args.scans}   k={args.k}")
    print(f"tree build (xyz + cKDTree): {build_s:.2f} s   memory: +{index_mb:.0f} MB RSS (xyz, tree, ids)")
    print(f"{'':28} {'median':>10} {'p99':>10}")
    for name, values in rows:
        print(f"{name:28} {statistics.median(values) * us:>8.1f}µs {percentile(values, 99) * us:>8.1f}µs")
    scan_median = statistics.median(scan)
    print(f"scan / tree (median): {scan_median / statistics.median(raw):,.0f}x")
    print(f"scan / app search (median): {scan_median / statistics.median(app):,.0f}x")


if __name__ == "__main__":
    main()
