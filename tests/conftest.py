"""Shared fixtures: isolated apps on every backend pair, real services when configured.

Backends come from the environment:
- CITYBOT_TEST_DATABASE_URL: a PostgreSQL URL; each test gets its own schema.
- CITYBOT_TEST_REDIS_URL: a Redis URL; each test gets its own key prefix.
- CITYBOT_TEST_REQUIRE_SERVICES=1 (CI): a missing service fails the test instead of skipping it.
"""

from __future__ import annotations

import os
import secrets
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import redis as redis_lib
import requests
import time_machine
from flask import Flask
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bot import create_app
from bot.app import load_settings
from bot.chat import recovery
from bot.core import services
from bot.core.clock import utcnow
from bot.core.store import Store
from bot.migrations import upgrade
from bot.wechat.api import WeChatAPI
from bot.wechat.token import TokenManager
from devtools.fake_wechat import FakeWeChat

# Fixtures shared across the tree (tests mirror the packages, so they are plugins, not conftests).
pytest_plugins = [
    "tests.support.api_fixtures",
    "tests.support.reports_fixtures",
    "tests.support.browser_fixtures",
]

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
REQUIRE_SERVICES = os.environ.get("CITYBOT_TEST_REQUIRE_SERVICES") == "1"
PG_URL = os.environ.get("CITYBOT_TEST_DATABASE_URL", "")
REDIS_URL = os.environ.get("CITYBOT_TEST_REDIS_URL", "")
# A key start-up accepts (32+ characters), fresh for each run.
SECRET_KEY = secrets.token_urlsafe(32)
SECRET_ENV = {"CITYBOT_SECRET_KEY": SECRET_KEY}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--clock-shift-days",
        type=int,
        default=0,
        help="run with the wall clock moved this many days ahead, so a test tied to today's date fails now",
    )


# Every test says what kind it is; `-m unit` and the like select by it (README, "Layout").
KINDS = frozenset({"unit", "contract", "integration", "browser", "faults"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    unmarked = [item.nodeid for item in items if not KINDS & {mark.name for mark in item.iter_markers()}]
    if unmarked:
        raise pytest.UsageError(f"tests without a kind marker ({', '.join(sorted(KINDS))}): {unmarked}")


def pytest_configure(config: pytest.Config) -> None:
    days = config.getoption("--clock-shift-days")
    if days:
        traveller = time_machine.travel(utcnow() + timedelta(days=days), tick=True)
        traveller.start()
        config.add_cleanup(traveller.stop)


def pytest_report_header(config: pytest.Config) -> str | None:
    days = config.getoption("--clock-shift-days")
    return f"clock shifted {days} days ahead: {utcnow().isoformat()}" if days else None


def unavailable(what: str) -> None:
    if REQUIRE_SERVICES:
        pytest.fail(f"{what} is required (CITYBOT_TEST_REQUIRE_SERVICES=1) but not available")
    pytest.skip(f"{what} not available")


def _pg_reachable() -> bool:
    if not PG_URL:
        return False
    try:
        engine = create_engine(PG_URL)
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
        return True
    except Exception:
        return False


def _redis_reachable() -> bool:
    if not REDIS_URL:
        return False
    try:
        return bool(redis_lib.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except Exception:
        return False


_reachable: dict[str, bool] = {}


def require(service: str) -> str:
    if service not in _reachable:
        _reachable[service] = _pg_reachable() if service == "postgres" else _redis_reachable()
    if not _reachable[service]:
        unavailable(
            {"postgres": "PostgreSQL (CITYBOT_TEST_DATABASE_URL)", "redis": "Redis (CITYBOT_TEST_REDIS_URL)"}[
                service
            ]
        )
    return PG_URL if service == "postgres" else REDIS_URL


def shared_path(*parts: str) -> Path:
    """A file under ../shared; skips (or fails in CI) when it is absent."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        unavailable(f"shared data {path}")
    return path


@pytest.fixture
def pg_schema_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh schema, dropped afterwards."""
    base = require("postgres")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def redis_prefix_url() -> Iterator[tuple[str, str]]:
    url = require("redis")
    prefix = f"citybot-test:{uuid.uuid4().hex[:12]}:"
    yield url, prefix
    client = redis_lib.Redis.from_url(url)
    keys = list(client.scan_iter(match=prefix + "*", count=500))
    if keys:
        client.delete(*keys)
    client.close()


BACKENDS = ["embedded", pytest.param("services", marks=[pytest.mark.redis, pytest.mark.postgres])]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def base_overrides(request: pytest.FixtureRequest, backend: str, tmp_path: Path) -> dict[str, Any]:
    """Settings for one isolated app on the chosen backend pair."""
    overrides: dict[str, Any] = {
        "secret_key": SECRET_KEY,
        "instance_path": str(tmp_path / "instance"),
        "wechat": {"app_id": "wx0000000000000000", "app_secret": "test-secret", "token": "testtoken"},
        # Tests run recovery passes themselves (bot.chat.recovery.run_once); no background loop.
        "intake": {"recovery_interval": 0},
    }
    if backend == "embedded":
        overrides["database_url"] = f"sqlite:///{tmp_path / 'citybot.db'}"
        overrides["redis_url"] = ""
    else:
        overrides["database_url"] = request.getfixturevalue("pg_schema_url")
        url, prefix = request.getfixturevalue("redis_prefix_url")
        overrides["redis_url"] = url
        overrides["redis_prefix"] = prefix
    return overrides


def deep_merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        merged[key] = deep_merge(merged[key], value) if isinstance(value, dict) and key in merged else value
    return merged


@pytest.fixture
def make_app(base_overrides: dict[str, Any]) -> Iterator[Callable[..., Flask]]:
    """Build apps sharing the test's database and store settings; migrations run once."""
    apps: list[Flask] = []
    migrated: set[str] = set()

    def factory(**extra: Any) -> Flask:
        overrides = deep_merge(base_overrides, extra)
        settings = load_settings(None, overrides, environ={})
        if settings.database_url not in migrated:
            upgrade(settings)
            migrated.add(settings.database_url)
        app = create_app(overrides)
        app.testing = True
        apps.append(app)
        return app

    yield factory
    from tests.support.reports import close_queue

    for app in apps:
        recovery.stop(app)
        close_queue(app)  # jobs a test left queued (RQ keys in Redis, inline timers)
        services.of(app).engine.dispose()
        services.of(app).store.close()


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    return make_app()


@pytest.fixture
def fake_wechat() -> Iterator[FakeWeChat]:
    """A fake WeChat API server on loopback; ``fake_wechat.settings_overrides()`` points an app at it."""
    with FakeWeChat() as fake:
        yield fake


@pytest.fixture
def make_wechat_api() -> Iterator[Callable[..., WeChatAPI]]:
    """Build WeChatAPI clients (each with its own HTTP session) for a store and a fake; closed afterwards."""
    made: list[WeChatAPI] = []

    def factory(
        store: Store,
        fake: FakeWeChat,
        *,
        endpoint: str = "stable",
        margin: float = 300,
        timeout: float = 2.0,
        app_secret: str | None = None,
    ) -> WeChatAPI:
        secret = fake.app_secret if app_secret is None else app_secret
        http = requests.Session()
        tokens = TokenManager(
            store,
            fake.app_id,
            secret,
            fake.url,
            http,
            refresh_margin=margin,
            endpoint=endpoint,  # type: ignore[arg-type]
            timeout=timeout,
        )
        api = WeChatAPI(tokens, secret, fake.url, http=http, timeout=timeout)
        made.append(api)
        return api

    yield factory
    for api in made:
        api.close()
