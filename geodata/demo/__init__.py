"""The demo city's sample datasets (project-authored, invented names), listed in manifest.toml."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources

from sqlalchemy.orm import Session

from bot.core.geo import Datum, GeoPoint
from geodata.datasets import LoadResult, load_dataset
from geodata.kinds import PoiKind
from geodata.loaders import Rules


@dataclass(frozen=True)
class DemoDataset:
    kind: PoiKind
    file: str
    datum: Datum


def _manifest() -> dict[str, object]:
    return tomllib.loads(resources.files(__name__).joinpath("manifest.toml").read_text(encoding="utf-8"))


def datasets() -> list[DemoDataset]:
    entries = _manifest()["dataset"]
    assert isinstance(entries, list)
    return [DemoDataset(PoiKind(e["kind"]), e["file"], Datum(e["datum"])) for e in entries]


def centre() -> GeoPoint:
    """A point in the middle of the demo city, where every kind has several facilities nearby."""
    data = _manifest()["centre"]
    assert isinstance(data, dict)
    return GeoPoint(data["lat"], data["lon"], Datum(data["datum"]))


def load_demo(session: Session, *, rules: Rules | None = None, loaded_by: str = "demo") -> list[LoadResult]:
    """Load every demo dataset (each all-or-nothing); loading them again changes nothing."""
    results = []
    for demo in datasets():
        with resources.files(__name__).joinpath(demo.file).open("rb") as stream:
            results.append(
                load_dataset(
                    session,
                    demo.kind,
                    stream,
                    demo.datum,
                    dry_run=False,
                    rules=rules,
                    source_name=f"demo/{demo.file}",
                    loaded_by=loaded_by,
                )
            )
    return results
