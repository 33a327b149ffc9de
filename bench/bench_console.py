"""Console page timings with a realistic database.

Seeds a fresh database (SQLite by default, or ``--database-url`` for PostgreSQL) with a journal of
resident messages and follows and with staff accounts, logs in as an admin, and times every console
page through the app in-process (the server's own work, no network), several runs per page. The
results are printed and written as a section of docs/performance.md (replaced on each run).

    python bench/bench_console.py [--database-url URL] [--redis-url URL] [--runs 30]
"""

from __future__ import annotations

import argparse
import itertools
import os
import platform
import re
import secrets
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import insert, select, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot import create_app  # noqa: E402
from bot.app import load_settings  # noqa: E402
from bot.chat.journal import JournalEntry  # noqa: E402
from bot.core import services  # noqa: E402
from bot.core.clock import utcnow  # noqa: E402
from bot.core.database import session_scope  # noqa: E402
from bot.core.residents import Resident  # noqa: E402
from bot.migrations import upgrade  # noqa: E402
from staff import models as staff_models  # noqa: E402
from staff.roles import Role  # noqa: E402

DOC = ROOT / "docs" / "performance.md"
MARK = "<!-- bench_console {database}: {edge} -->"
TARGET_MS = 200.0
PASSWORD = "bench password 1"


@dataclass(frozen=True)
class Timing:
    name: str
    path: str
    status: int
    first_ms: float
    median_ms: float
    p95_ms: float
    max_ms: float
    size: int


def build_app(database_url: str, redis_url: str, workdir: Path) -> Flask:
    overrides: dict[str, Any] = {
        "database_url": database_url,
        "redis_url": redis_url,
        "redis_prefix": f"bench-console:{int(time.time())}:",
        "secret_key": secrets.token_urlsafe(32),
        "instance_path": str(workdir / "instance"),
        "logging": {"level": "WARNING"},
    }
    upgrade(load_settings(None, overrides, environ={}))
    return create_app(overrides)


def forget_store(app: Flask) -> None:
    """Remove what the run left in Redis (sessions, kept statistics) under its own prefix."""
    from bot.core.store import RedisStore

    store = services.store(app)
    if isinstance(store, RedisStore):
        keys = list(store.client.scan_iter(match=store.prefix + "*", count=1000))
        if keys:
            store.client.delete(*keys)


def seed_journal(app: Flask, *, days: int, per_day: int, residents: int) -> int:
    """Messages from ``residents`` senders spread over ``days``, plus follows and unfollows."""
    now = utcnow()
    keys = itertools.count()
    rows: list[dict[str, Any]] = []
    for day in range(days):
        for n in range(per_day):
            event = "subscribe" if n % 40 == 0 else "unsubscribe" if n % 97 == 0 else None
            rows.append(
                {
                    "dedupe_key": f"bench{next(keys)}",
                    "msg_type": "event" if event else "text",
                    "event": event,
                    "sender": f"o-resident-{(n * 7919 + day) % residents}",
                    "payload": "<xml/>",
                    "received_at": now - timedelta(days=day, seconds=n * 86400 // per_day),
                    "status": "handled",
                    "attempts": 1,
                }
            )
    with session_scope(app) as session:
        for start in range(0, len(rows), 5000):
            session.execute(insert(JournalEntry), rows[start : start + 5000])
        session.execute(
            insert(Resident),
            [
                {
                    "openid": f"o-resident-{i}",
                    "subscribed": i % 5 != 0,
                    "first_seen_at": now,
                    "last_seen_at": now,
                }
                for i in range(residents)
            ],
        )
    return len(rows)


def seed_staff(app: Flask, count: int) -> None:
    roles = [Role.REVIEWER, Role.REWARDS_OFFICER, Role.DATA_ADMIN, Role.EDITOR]
    with session_scope(app) as session:
        staff_models.add(session, "bench.admin", PASSWORD, frozenset({Role.ADMIN}), "管理员")
        for i in range(count):
            staff_models.add(
                session, f"staff{i:03d}", PASSWORD, frozenset({roles[i % len(roles)]}), f"人员{i}"
            )


def logged_in_client(app: Flask) -> Any:
    client = app.test_client()
    page = client.get("/console/login").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page)
    assert token is not None
    response = client.post(
        "/console/login", data={"username": "bench.admin", "password": PASSWORD, "csrf_token": token.group(1)}
    )
    assert response.status_code == 302, response.status_code
    return client


def measure(client: Any, name: str, path: str, runs: int) -> Timing:
    started = time.perf_counter()
    client.get(path).get_data()  # the first request also fills caches (templates, finished days)
    first = (time.perf_counter() - started) * 1000
    samples: list[float] = []
    status = size = 0
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(path)
        body = response.get_data()
        samples.append((time.perf_counter() - started) * 1000)
        status, size = response.status_code, len(body)
    samples.sort()
    p95 = samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))]
    return Timing(name, path, status, first, statistics.median(samples), p95, samples[-1], size)


def pages() -> list[tuple[str, str]]:
    return [
        ("dashboard", "/console/"),
        ("statistics, 30 days", "/console/stats/"),
        ("statistics, 365 days", "/console/stats/?start={year_ago}&end={today}"),
        ("staff list", "/console/staff/"),
        ("staff member", "/console/staff/staff001"),
        ("audit log", "/console/audit/"),
    ]


def render_section(timings: list[Timing], facts: dict[str, str]) -> str:
    baseline = timings[0].median_ms
    database = facts["database"]
    lines = [
        MARK.format(database=database, edge="begin"),
        f"## Staff console pages ({'PostgreSQL' if database == 'postgresql' else 'SQLite'})",
        "",
        "`python bench/bench_console.py` seeds a fresh database, logs in as an admin and requests each",
        "console page through the app in-process (server work only, no network), several times each.",
        "The first request of a page also fills caches (compiled templates, statistics of finished days,",
        "range totals for 5 minutes). Absolute times drift with the machine's load; the ratio to the",
        "baseline (the login page: a template and no query, measured in the same run) drifts less.",
        f"Target: every page under {TARGET_MS:.0f} ms.",
        "",
        *(f"- {key}: {value}" for key, value in facts.items()),
        "",
        "| page | first ms | median ms | p95 ms | max ms | × baseline | status | bytes | target (p95) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for t in timings:
        verdict = "met" if t.p95_ms < TARGET_MS else "MISSED"
        cells = [t.name, f"{t.first_ms:.1f}", f"{t.median_ms:.1f}", f"{t.p95_ms:.1f}", f"{t.max_ms:.1f}"]
        cells.append(f"{t.median_ms / baseline:.1f}")
        cells += [str(t.status), f"{t.size:,}", verdict]
        lines.append("| " + " | ".join(cells) + " |")
    missed = [t for t in timings if t.p95_ms >= TARGET_MS]
    cold = [t for t in timings if t.first_ms >= TARGET_MS]
    lines.append("")
    lines.append(
        "Every page meets the target (p95)."
        if not missed
        else "Pages over the target (p95): " + ", ".join(t.name for t in missed) + "."
    )
    if cold:
        lines.append(
            "First requests over the target (they count what later requests find kept): "
            + ", ".join(f"{t.name} {t.first_ms:.0f} ms" for t in cold)
            + "."
        )
    lines += ["", MARK.format(database=database, edge="end")]
    return "\n".join(lines)


def write_section(section: str, database: str) -> None:
    """Replace this database's section of docs/performance.md, or append it."""
    begin, end = MARK.format(database=database, edge="begin"), MARK.format(database=database, edge="end")
    DOC.parent.mkdir(parents=True, exist_ok=True)
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else "# Performance\n"
    if begin in text and end in text:
        text = text[: text.index(begin)] + section + text[text.index(end) + len(end) :]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    DOC.write_text(text, encoding="utf-8")


STATUSES = ["submitted"] * 3 + ["under_review", "accepted", "accepted", "rejected", "duplicate", "resolved"]


def seed_reports(app: Flask, count: int, *, days: int, residents: int) -> dict[str, int]:
    """``count`` reports over ``days``, one stored photo each, their audit trail and ledger."""
    from bot.core.audit import AuditEntry
    from reports.models import Category, LedgerEntry, Photo, Report

    now = utcnow()
    with session_scope(app) as session:
        categories = [(c.id, c.points, c.review_hours) for c in session.scalars(select(Category))]
    reports: list[dict[str, Any]] = []
    for i in range(count):
        created = now - timedelta(seconds=(count - i) * days * 86400 // count)
        category_id, _points, hours = categories[i % len(categories)]
        status = STATUSES[(i * 7) % len(STATUSES)]
        decided = status not in {"submitted", "under_review"}
        lat, lon = 31.25 + (i % 97) * 0.001, 120.55 + (i % 89) * 0.001
        reports.append(
            {
                "id": i + 1,
                "number": f"SP{created:%Y%m%d}-{i:05d}",
                "openid": f"o-resident-{(i * 31) % residents}",
                "category_id": category_id,
                "status": status,
                "source": "chat",
                "lat": lat,
                "lon": lon,
                "given_datum": "gcj02",
                "given_lat": lat,
                "given_lon": lon,
                "address": f"示范区第{i % 40}街道{i % 300}号",
                "description": "人行道上有流动摊贩" if i % 3 else "",
                "created_at": created,
                "updated_at": created,
                "review_due_at": created + timedelta(hours=hours),
                "decided_at": created + timedelta(hours=3) if decided else None,
                "reason_code": "unclear_photo" if status == "rejected" else None,
                "duplicate_of_id": i if status == "duplicate" and i > 0 else None,
                "duplicate_candidates": [
                    {
                        "report_id": i,
                        "number": f"x{i}",
                        "status": "accepted",
                        "reasons": ["nearby"],
                        "distance_m": 12.5,
                        "hamming": None,
                    }
                ]
                if i % 5 == 0 and i > 0
                else None,
                "acceptances": 1 if status in {"accepted", "resolved"} else 0,
            }
        )
    photos = [
        {
            "report_id": r["id"],
            "position": 0,
            "media_id": f"media-{r['id']}",
            "pic_url": "",
            "received_at": r["created_at"],
            "status": "stored",
            "attempts": 1,
            "derivative_key": f"bench-{r['id']}.jpg",
            "exif_too_old": False,
        }
        for r in reports
    ]

    def step(r: dict[str, Any], actor: str, channel: str, action: str, **details: Any) -> dict[str, Any]:
        return {
            "at": r["decided_at"] if action != "report.submit" else r["created_at"],
            "actor": actor,
            "channel": channel,
            "action": action,
            "target_kind": "report",
            "target_id": r["id"],
            "target": r["number"],
            "details": details,
            "ip": "",
        }

    audit = [
        step(r, "resident", "chat", "report.submit", role="resident", to="submitted") for r in reports
    ] + [
        step(
            r,
            "staff001",
            "console",
            "report.review",
            role="reviewer",
            to=r["status"],
            **{"from": "submitted"},
        )
        for r in reports
        if r["decided_at"] is not None
    ]
    ledger = [
        {
            "openid": r["openid"],
            "report_id": r["id"],
            "kind": "earn",
            "points": 10,
            "capped_points": 0,
            "acceptance": 1,
            "actor": "staff001",
            "created_at": r["decided_at"],
        }
        for r in reports
        if r["acceptances"]
    ]
    with session_scope(app) as session:
        for model, rows in ((Report, reports), (Photo, photos), (AuditEntry, audit), (LedgerEntry, ledger)):
            for start in range(0, len(rows), 2000):
                session.execute(insert(model), rows[start : start + 2000])
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("SELECT setval(pg_get_serial_sequence('reports', 'id'), :n)"), {"n": count})
    return {"reports": count, "audit": len(audit), "ledger": len(ledger)}


def report_pages(count: int) -> list[tuple[str, str]]:
    return [
        ("review queue (open, page 1)", "/console/reports/"),
        ("review queue (all, last page)", "/console/reports/?status=all&page=9999"),
        ("review queue (category, area)", "/console/reports/?status=all&category=clutter&area=第7街道"),
        ("report page", f"/console/reports/{count // 2 + 1}"),
        ("report page, duplicate candidate", f"/console/reports/{count - count % 5 or 5}"),
        ("rewards", "/console/rewards/"),
        ("datasets", "/console/datasets/"),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default="", help="default: a SQLite file in a temporary directory")
    parser.add_argument("--redis-url", default="", help="default: the in-process store")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--days", type=int, default=90, help="days of journal to seed")
    parser.add_argument("--messages-per-day", type=int, default=1000)
    parser.add_argument("--residents", type=int, default=5000)
    parser.add_argument("--staff", type=int, default=60)
    parser.add_argument("--reports", type=int, default=10_000)
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/performance.md alone")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="bench-console-") as tmp:
        workdir = Path(tmp)
        database_url = args.database_url or f"sqlite:///{workdir / 'bench.db'}"
        app = build_app(database_url, args.redis_url, workdir)
        started = time.perf_counter()
        journal_rows = seed_journal(
            app, days=args.days, per_day=args.messages_per_day, residents=args.residents
        )
        seed_staff(app, args.staff)
        facts = {
            "database": services.of(app).engine.dialect.name,
            "store": "Redis" if args.redis_url else "in-process",
            "journal rows": f"{journal_rows:,} over {args.days} days",
            "residents": f"{args.residents:,}",
            "staff accounts": f"{args.staff + 1}",
        }
        seeded = seed_reports(app, args.reports, days=args.days, residents=args.residents)
        facts["reports"] = (
            f"{seeded['reports']:,} (audit entries {seeded['audit']:,}, ledger entries {seeded['ledger']:,})"
        )
        facts["seeding"] = f"{time.perf_counter() - started:.1f} s"
        facts["machine"] = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
        facts["load average at start"] = " / ".join(f"{v:.1f}" for v in os.getloadavg())
        client = logged_in_client(app)
        today = utcnow().date()
        values = {"today": today.isoformat(), "year_ago": (today - timedelta(days=364)).isoformat()}
        plan = pages() + report_pages(args.reports)
        baseline = measure(
            app.test_client(), "baseline: login page (a template, no query)", "/console/login", args.runs
        )
        timings = [baseline] + [
            measure(client, name, path.format(**values), args.runs) for name, path in plan
        ]
        services.of(app).engine.dispose()
        forget_store(app)

    section = render_section(timings, facts)
    print(section)
    if not args.no_write:
        write_section(section, facts["database"])
    return 0 if all(t.status == 200 for t in timings) else 1


if __name__ == "__main__":
    raise SystemExit(main())
