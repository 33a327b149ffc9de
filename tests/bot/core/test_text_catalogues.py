"""Each feature brings its own sentences; the kernel merges them and refuses a key defined twice."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from bot.app import FEATURES, catalogues, load_texts
from bot.core.config import ConfigError
from bot.core.texts import Texts

pytestmark = pytest.mark.unit


def namespaces(source: Path) -> set[str]:
    return set(tomllib.loads(source.read_text(encoding="utf-8")))


def test_each_catalogue_holds_its_own_namespaces() -> None:
    seen: dict[str, str] = {}
    for feature in FEATURES:
        if feature.texts is None:
            continue
        for namespace in namespaces(Path(str(feature.texts))):
            assert namespace not in seen, f"{namespace} in {feature.name} and {seen[namespace]}"
            seen[namespace] = feature.name
    # the kernel's own, and the features' under their names
    assert {"reports", "broadcasts", "waste", "staff", "geodata", "api", "open311", "console"} <= set(seen)
    assert "common" not in seen
    assert "audit" not in seen


def test_the_whole_catalogue_is_the_kernel_plus_the_features() -> None:
    kernel = Texts.load()
    whole = load_texts()
    assert "common.welcome" in kernel
    assert "reports.errors.not_found" not in kernel
    assert set(kernel.keys()) < set(whole.keys())
    assert len(whole.keys()) == len(kernel.keys()) + sum(
        len(Texts.defaults([source])) - len(kernel.keys()) for source in catalogues()
    )


def test_a_key_defined_twice_stops_start_up(tmp_path: Path) -> None:
    clash = tmp_path / "texts.toml"
    clash.write_text('[common]\nwelcome = "又一个欢迎"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"common\.welcome defined twice"):
        Texts.load(None, [clash])
