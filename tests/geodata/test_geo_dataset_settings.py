"""The dataset rules a bureau configures in [geo]: the service area (refuse or warn), the share of
rows a load may drop without a confirmation; the demo configuration's area holds the demo data."""

from __future__ import annotations

import io
from importlib import resources
from pathlib import Path

import pytest

from bot.app import load_settings
from bot.core.config import ConfigError
from geodata import demo
from geodata.loaders import Rules, ServiceArea, detect_format, scan
from geodata.settings import GeoSettings
from tests.conftest import SECRET_ENV

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]


def test_the_rules_follow_the_settings() -> None:
    geo = load_settings(
        None,
        {"geo": {"service_area": [31.0, 120.3, 31.6, 121.1], "outside_area": "warn", "max_drop_share": 0.2}},
        environ=SECRET_ENV,
    ).section(GeoSettings)
    rules = Rules.from_settings(geo)
    assert rules.area == ServiceArea(31.0, 120.3, 31.6, 121.1)
    assert (rules.outside_area, rules.max_drop_share) == ("warn", 0.2)
    defaults = Rules.from_settings(load_settings(None, environ=SECRET_ENV).section(GeoSettings))
    assert (defaults.area, defaults.outside_area, defaults.max_drop_share) == (None, "refuse", 0.5)


@pytest.mark.parametrize(
    ("geo", "message"),
    [({"outside_area": "ignore"}, "geo.outside_area"), ({"max_drop_share": 1.5}, "geo.max_drop_share")],
)
def test_bad_dataset_settings_name_the_key(geo: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(None, {"geo": geo}, environ=SECRET_ENV)


def test_the_demo_area_holds_every_demo_row() -> None:
    """config.demo.toml sets the demo city's service area; its own datasets pass it."""
    settings = load_settings(str(ROOT / "config.demo.toml"), environ=SECRET_ENV)
    rules = Rules.from_settings(settings.section(GeoSettings))
    assert rules.area is not None
    for dataset in demo.datasets():
        data = resources.files(demo).joinpath(dataset.file).read_bytes()
        stream = io.BytesIO(data)
        found = scan(stream, detect_format(stream), dataset.datum, rules)
        assert found.ok, (dataset.file, [str(p) for p in found.errors])
    tokyo = b"name,lat,lon\n\xe4\xb8\x9c\xe4\xba\xac,35.68,139.76\n"
    stream = io.BytesIO(tokyo)
    assert not scan(stream, detect_format(stream), demo.datasets()[0].datum, rules).ok
