"""The catalogue of every resident-facing sentence (Simplified Chinese), overridable by the bureau.

Each feature keeps its sentences in the ``texts.toml`` of its package, under its own namespace
(``reports.*`` in ``reports/texts.toml``); the kernel's (``common``, ``audit``) are in
``bot/core/texts.toml``. The composition root hands the features' files to :meth:`Texts.load`; one
key defined by two files stops start-up. A bureau may point ``[texts] file`` at its own TOML with
the same keys; an override may only change wording: an unknown key, or a sentence that drops or
adds a ``{placeholder}``, stops start-up with a message naming the key.
"""

from __future__ import annotations

import string
import tomllib
from collections.abc import Mapping, Sequence
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from bot.core.config import ConfigError


def _flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(_flatten(value, name + "."))
        elif isinstance(value, str):
            flat[name] = value
        else:
            raise ConfigError(f"texts: {name} must be a string")
    return flat


def _fields(template: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(template) if field}


class Texts:
    def __init__(self, catalogue: Mapping[str, str]) -> None:
        self._catalogue = dict(catalogue)

    @classmethod
    def defaults(cls, sources: Sequence[Traversable] = ()) -> dict[str, str]:
        """The kernel's sentences and those of ``sources`` (the features' ``texts.toml`` files)."""
        catalogue: dict[str, str] = {}
        for source in (resources.files("bot.core").joinpath("texts.toml"), *sources):
            found = _flatten(tomllib.loads(source.read_text(encoding="utf-8")))
            twice = sorted(set(found) & set(catalogue))
            if twice:
                raise ConfigError(f"texts: {', '.join(twice)} defined twice ({source})")
            catalogue.update(found)
        return catalogue

    @classmethod
    def load(cls, override: str | Path | None = None, sources: Sequence[Traversable] = ()) -> Texts:
        catalogue = cls.defaults(sources)
        if override:
            path = Path(override)
            try:
                extra = _flatten(tomllib.loads(path.read_text(encoding="utf-8")))
            except (OSError, tomllib.TOMLDecodeError) as exc:
                raise ConfigError(f"texts.file {path}: {exc}") from exc
            for key, value in extra.items():
                if key not in catalogue:
                    raise ConfigError(f"texts.file {path}: unknown key {key}")
                if _fields(value) != _fields(catalogue[key]):
                    expected = ", ".join(sorted(_fields(catalogue[key]))) or "none"
                    raise ConfigError(f"texts.file {path}: {key} must use the placeholders: {expected}")
                catalogue[key] = value
        return cls(catalogue)

    def __call__(self, key: str, /, **values: Any) -> str:
        template = self._catalogue[key]
        return template.format(**values) if values or _fields(template) else template

    def placeholders(self, key: str) -> set[str]:
        """The names a sentence fills in."""
        return _fields(self._catalogue[key])

    def __contains__(self, key: str) -> bool:
        return key in self._catalogue

    def keys(self) -> list[str]:
        return sorted(self._catalogue)

    def zone_name(self, zone: str) -> str:
        """How people name a time zone (Asia/Shanghai: 北京时间), from ``time_zones``."""
        key = f"time_zones.{zone}"
        return self(key) if key in self else self("time_zones.other", zone=zone)
