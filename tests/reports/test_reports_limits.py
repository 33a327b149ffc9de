"""Per-resident limits on new reports, counted in the store without the openid in any key."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select

from bot.core import services
from bot.core.store import InProcessStore, RedisStore, ResilientStore
from reports.limits import RateLimitedError
from reports.models import Report
from tests.support.reports import FakeMedia, new_report, unit

pytestmark = pytest.mark.integration

T0 = datetime(2026, 11, 27, 2, 5, tzinfo=UTC)


def store_keys(app: Flask) -> list[str]:
    store = services.store(app)
    if isinstance(store, ResilientStore):
        store = store.primary
    if isinstance(store, RedisStore):
        return [key.removeprefix(store.prefix) for key in store.client.scan_iter(match=store.prefix + "*")]
    assert isinstance(store, InProcessStore)
    return list(store._data)


def test_hourly_and_daily_limits(make_reports_app: Callable[..., Flask], media: FakeMedia) -> None:
    app = make_reports_app(reports_per_hour=2, reports_per_day=3)
    new_report(app, media, now=T0)
    new_report(app, media, now=T0 + timedelta(minutes=1), seeds=(2,))
    with pytest.raises(RateLimitedError) as info:
        new_report(app, media, now=T0 + timedelta(minutes=2), seeds=(3,))
    assert info.value.window == "hour"
    new_report(app, media, now=T0 + timedelta(hours=1), seeds=(4,))  # next hour
    with pytest.raises(RateLimitedError) as info:
        new_report(app, media, now=T0 + timedelta(hours=2), seeds=(5,))
    assert info.value.window == "day"
    new_report(app, media, now=T0 + timedelta(hours=2), seeds=(6,), openid="o-someone-else")
    with unit(app) as session:
        assert session.scalar(select(func.count()).select_from(Report)) == 4
    keys = [key for key in store_keys(app) if key.startswith("reports:rate:")]
    assert keys
    assert not any("o-resident-1" in key for key in keys)
