"""Benchmark: the whole webhook path for `3` with a remembered location, against real Redis and
PostgreSQL, beside a bare wechatpy echo webhook served the same way in the same run.

    python bench/webhook.py [--duration 15] [--connections 16] [--workers 2] [--residents 200]

Both servers run under gunicorn with sync workers on loopback; wrk (Debian package `wrk`) sends
distinct, correctly signed plain-mode text messages (bench/webhook.lua), so no request is a retry.
citybot does everything it does in production for each message: signature and replay window,
parsing, the journal row committed with its lease before the handler, the resident's turn (a row
lock), the conversation read in the turn, the origin look-up in Redis, the nearest search, and the
journal outcome committed with the handler's effects under the lease's fencing token.
Needs PostgreSQL and Redis (URLs below); creates and drops its own schema and key prefix.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode

import redis
import requests
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.core.geo import Datum, GeoPoint
from bot.core.store import RedisStore
from bot.wechat.signature import sign
from geodata.origin import remember

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "bench-token"
ORIGIN = GeoPoint(31.2990, 120.5853, Datum.GCJ02)  # the demo city's centre


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_up(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=1)
            return
        except requests.RequestException:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


def signed_query() -> dict[str, str]:
    timestamp, nonce = str(int(time.time())), "20261127"
    return {"signature": sign(TOKEN, timestamp, nonce), "timestamp": timestamp, "nonce": nonce}


def run_wrk(url: str, content: str, residents: int, args: argparse.Namespace) -> dict[str, float]:
    query = urlencode(signed_query())
    out = subprocess.run(
        [
            "wrk",
            f"-t{args.threads}",
            f"-c{args.connections}",
            f"-d{args.duration}s",
            "--latency",
            "-s",
            str(ROOT / "bench" / "webhook.lua"),
            url,
            "--",
            query,
            content,
            str(residents),
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    if "Non-2xx" in out:
        raise RuntimeError("wrk saw non-2xx answers:\n" + out)

    def ms(label: str) -> float:
        match = re.search(rf"^\s+{label}\s+([\d.]+)(us|ms|s)", out, re.M)
        if not match:
            raise RuntimeError(f"no {label} in wrk output:\n{out}")
        value, unit = float(match[1]), match[2]
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out)[1])  # type: ignore[index]
    return {"rps": rps, "p50": ms("50%"), "p90": ms("90%"), "p99": ms("99%")}


def gunicorn(app: str, port: int, workers: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    binary = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or "gunicorn"
    return subprocess.Popen(
        [
            binary,
            "--workers",
            str(workers),
            "--worker-class",
            "sync",
            "--bind",
            f"127.0.0.1:{port}",
            "--no-control-socket",
            "--log-level",
            "warning",
            app,
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=int, default=15)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--residents", type=int, default=200)
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "CITYBOT_BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
        ),
    )
    parser.add_argument(
        "--redis-url", default=os.environ.get("CITYBOT_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
    )
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install wrk")

    schema = f"bench_{uuid.uuid4().hex[:10]}"
    prefix = f"citybot-bench:{uuid.uuid4().hex[:8]}:"
    admin = create_engine(args.database_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    db_url = make_url(args.database_url).update_query_dict({"options": f"-csearch_path={schema}"})
    workdir = Path(tempfile.mkdtemp(prefix="citybot-bench-"))
    config = workdir / "bench.toml"
    config.write_text(
        f'database_url = "{db_url.render_as_string(hide_password=False)}"\n'
        f'redis_url = "{args.redis_url}"\nredis_prefix = "{prefix}"\n'
        f'secret_key = "{secrets.token_urlsafe(32)}"\n'
        f'instance_path = "{workdir}"\n'
        f'[wechat]\napp_id = "wxbench"\napp_secret = "bench"\ntoken = "{TOKEN}"\n'
        '[logging]\nlevel = "WARNING"\n',
        encoding="utf-8",
    )
    env = {**os.environ, "CITYBOT_CONFIG": str(config), "ECHO_TOKEN": TOKEN, "PYTHONPATH": str(ROOT)}
    citybot = [sys.executable, "-m", "bot.cli"]
    results: dict[str, dict[str, float]] = {}
    try:
        subprocess.run([*citybot, "db", "upgrade"], check=True, env=env, cwd=ROOT, capture_output=True)
        subprocess.run([*citybot, "poi", "demo"], check=True, env=env, cwd=ROOT, capture_output=True)
        store = RedisStore.from_url(args.redis_url, prefix)
        for i in range(args.residents):
            remember(store, f"bench-{i}", ORIGIN, 3600, source="bench")

        for name, app, content in (("echo", "bench.echo_app:app", "3"), ("citybot", "bot:create_app()", "3")):
            port = free_port()
            server = gunicorn(app, port, args.workers, env)
            try:
                url = f"http://127.0.0.1:{port}/wechat"
                wait_up(url)
                probe = requests.post(
                    f"{url}?{urlencode(signed_query())}",
                    data=(
                        f"<xml><ToUserName>gh</ToUserName><FromUserName>bench-0</FromUserName>"
                        f"<CreateTime>{int(time.time())}</CreateTime><MsgType>text</MsgType>"
                        f"<Content>{content}</Content><MsgId>1</MsgId></xml>"
                    ).encode(),
                    timeout=10,
                )
                probe.raise_for_status()
                if name == "citybot" and "公共厕所" not in probe.text:
                    raise RuntimeError(f"citybot did not answer with toilets: {probe.text[:300]}")
                results[name] = run_wrk(url, content, args.residents, args)
            finally:
                stop(server)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
        client = redis.Redis.from_url(args.redis_url)
        keys = list(client.scan_iter(match=prefix + "*", count=1000))
        if keys:
            client.delete(*keys)
        shutil.rmtree(workdir, ignore_errors=True)

    print(
        f"{args.workers} sync workers, wrk {args.threads} threads x {args.connections} connections, "
        f"{args.duration} s each, on {os.cpu_count()} cores"
    )
    print(f"{'server':<10}{'req/s':>10}{'p50 ms':>10}{'p90 ms':>10}{'p99 ms':>10}")
    for name, row in results.items():
        print(f"{name:<10}{row['rps']:>10.0f}{row['p50']:>10.2f}{row['p90']:>10.2f}{row['p99']:>10.2f}")
    print(f"citybot / echo throughput: {results['citybot']['rps'] / results['echo']['rps']:.2f}")


if __name__ == "__main__":
    main()
