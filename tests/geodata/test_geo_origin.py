"""The remembered origin: canonical datum, TTL, label and source, on both store backends."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from flask import Flask
from geopy.distance import geodesic

from bot.core import services
from bot.core.geo import Datum, GeoPoint
from bot.core.store import Store
from geodata.origin import forget, recall, remember

pytestmark = pytest.mark.contract


@pytest.fixture
def store(app: Flask) -> Store:
    """The app's own store: in-process (embedded backend) or Redis (services backend)."""
    return services.store(app)


def test_nothing_remembered(store: Store) -> None:
    assert recall(store, "o-none") is None


def test_remembers_in_wgs84(store: Store) -> None:
    sent = GeoPoint(31.3, 120.6, Datum.GCJ02)
    at = datetime(2025, 7, 1, 4, 0, tzinfo=UTC)
    remember(store, "o1", sent, 60, label="观前街", source="location_message", now=at)
    got = recall(store, "o1")
    assert got is not None
    assert got.point.datum is Datum.WGS84
    expected = sent.to(Datum.WGS84)
    assert geodesic((got.point.lat, got.point.lon), (expected.lat, expected.lon)).meters < 0.01
    # The stored point is not the GCJ-02 one: the offset here is several hundred metres.
    assert geodesic((got.point.lat, got.point.lon), (sent.lat, sent.lon)).meters > 300
    assert got.label == "观前街"
    assert got.source == "location_message"
    assert got.remembered_at == at
    assert recall(store, "o2") is None


def test_later_location_replaces_earlier(store: Store) -> None:
    remember(store, "o1", GeoPoint(31.3, 120.6, Datum.WGS84), 60, source="location_event")
    remember(store, "o1", GeoPoint(31.4, 120.7, Datum.WGS84), 60, source="location_event")
    got = recall(store, "o1")
    assert got is not None
    assert (got.point.lat, got.point.lon) == (31.4, 120.7)
    assert got.label is None
    assert got.remembered_at.tzinfo is not None


def test_expires_after_ttl(store: Store) -> None:
    remember(store, "o1", GeoPoint(31.3, 120.6, Datum.WGS84), 1, source="location_event")
    assert recall(store, "o1") is not None
    time.sleep(1.2)
    assert recall(store, "o1") is None


def test_forget_and_bad_ttl(store: Store) -> None:
    remember(store, "o1", GeoPoint(31.3, 120.6, Datum.WGS84), 60, source="location_event")
    assert forget(store, "o1") is True
    assert recall(store, "o1") is None
    with pytest.raises(ValueError, match="ttl"):
        remember(store, "o1", GeoPoint(31.3, 120.6, Datum.WGS84), 0, source="x")


def test_unreadable_value_is_no_origin(store: Store) -> None:
    store.set("geo:origin:o1", "not json at all{")
    assert recall(store, "o1") is None
    store.set_json("geo:origin:o1", {"lat": 200, "lon": 1, "at": "2025-01-01T00:00:00+00:00"})
    assert recall(store, "o1") is None
