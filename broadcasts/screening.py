"""Screening text against the bureau's lexicon before submitting and again before publishing.

The lexicon groups terms into categories; each category is ``forbidden`` (a hit blocks) or
``sensitive`` (a hit needs a reviewer's explicit acknowledgement). Text and terms go through the
same normalisation, character by character, remembering where each normalised character came from:

- traditional characters become simplified (OpenCC ``t2s``) and the lexicon's own variant table
  maps other common variants (Japanese forms, look-alikes);
- NFKC folds full-width letters, digits and punctuation, circled and compatibility forms;
  case is folded;
- white space, punctuation, symbols and invisible format characters are dropped, so
  ``代 开。发-票`` still matches ``代开发票``.

Matching is Aho-Corasick (pyahocorasick) over the normalised text; every hit is mapped back to a
span of the original text, so the author sees exactly what matched.
"""

from __future__ import annotations

import enum
import functools
import os
import tomllib
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import ahocorasick
import opencc


class LexiconError(ValueError):
    """The lexicon file cannot be used; the message names the file and the entry."""


class HitKind(enum.StrEnum):
    FORBIDDEN = "forbidden"
    SENSITIVE = "sensitive"


@dataclass(frozen=True)
class Category:
    name: str
    kind: HitKind
    terms: tuple[str, ...]


@dataclass(frozen=True)
class Hit:
    field: str  # "title", "digest", "body", ...
    term: str
    category: str
    kind: HitKind
    start: int  # span in the original text of ``field``, end exclusive
    end: int
    text: str  # the original characters that matched


@dataclass(frozen=True)
class Screening:
    hits: tuple[Hit, ...] = ()

    @property
    def forbidden(self) -> tuple[Hit, ...]:
        return tuple(hit for hit in self.hits if hit.kind is HitKind.FORBIDDEN)

    @property
    def sensitive(self) -> tuple[Hit, ...]:
        return tuple(hit for hit in self.hits if hit.kind is HitKind.SENSITIVE)

    @property
    def blocked(self) -> bool:
        return bool(self.forbidden)

    @property
    def sensitive_terms(self) -> tuple[str, ...]:
        return tuple(sorted({hit.term for hit in self.sensitive}))


_t2s = opencc.OpenCC("t2s")

_SKIPPED_CATEGORIES = ("Z", "P", "S", "Cc", "Cf")


def _skipped(char: str) -> bool:
    category = unicodedata.category(char)
    return category.startswith(_SKIPPED_CATEGORIES)


@dataclass
class Normaliser:
    variants: Mapping[str, str] = field(default_factory=dict)

    def _simplified(self, text: str) -> str:
        converted = _t2s.convert(text)
        if len(converted) == len(text):
            return converted
        # A phrase conversion changed the length: convert one character at a time to keep positions.
        return "".join(c if len(c := _t2s.convert(ch)) == 1 else ch for ch in text)

    def normalise(self, text: str) -> tuple[str, list[int]]:
        """The normalised text and, for each of its characters, the index it came from in ``text``."""
        out: list[str] = []
        origin: list[int] = []
        for index, char in enumerate(self._simplified(text)):
            folded = unicodedata.normalize("NFKC", self.variants.get(char, char)).casefold()
            for piece in folded:
                if _skipped(piece):
                    continue
                piece = self.variants.get(piece, piece)
                out.append(piece)
                origin.append(index)
        return "".join(out), origin

    def key(self, term: str) -> str:
        return self.normalise(term)[0]


class Lexicon:
    def __init__(self, categories: Iterable[Category], variants: Mapping[str, str] | None = None) -> None:
        self.categories = tuple(categories)
        self.normaliser = Normaliser(dict(variants or {}))
        self._automaton = ahocorasick.Automaton()
        entries: dict[str, list[tuple[str, Category]]] = {}
        for category in self.categories:
            for term in category.terms:
                key = self.normaliser.key(term)
                if not key:
                    raise LexiconError(f"category {category.name!r}: term {term!r} is empty once normalised")
                entries.setdefault(key, []).append((term, category))
        for key, found in entries.items():
            self._automaton.add_word(key, (len(key), tuple(found)))
        self.size = len(entries)
        if entries:
            self._automaton.make_automaton()

    def screen_text(self, text: str, field_name: str = "text") -> list[Hit]:
        if not self.size or not text:
            return []
        normalised, origin = self.normaliser.normalise(text)
        hits: list[Hit] = []
        seen: set[tuple[int, int, str, str]] = set()
        for end, (length, found) in self._automaton.iter(normalised):
            start = origin[end - length + 1]
            stop = origin[end] + 1
            for term, category in found:
                marker = (start, stop, term, category.name)
                if marker in seen:
                    continue
                seen.add(marker)
                hits.append(
                    Hit(
                        field=field_name,
                        term=term,
                        category=category.name,
                        kind=category.kind,
                        start=start,
                        end=stop,
                        text=text[start:stop],
                    )
                )
        hits.sort(key=lambda hit: (hit.start, hit.end, hit.term))
        return hits

    def screen(self, fields: Mapping[str, str]) -> Screening:
        """Screen several named texts (title, digest, body ...) at once."""
        hits: list[Hit] = []
        for name, text in fields.items():
            hits.extend(self.screen_text(text or "", name))
        return Screening(tuple(hits))


def parse_lexicon(text: str, source: str = "lexicon") -> Lexicon:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise LexiconError(f"{source} is not valid TOML: {exc}") from None
    unknown = set(data) - {"category", "variants"}
    if unknown:
        raise LexiconError(f"{source}: unknown keys {', '.join(sorted(unknown))}")
    categories: list[Category] = []
    for position, raw in enumerate(data.get("category", []), start=1):
        name = raw.get("name")
        if not isinstance(name, str) or not name.strip():
            raise LexiconError(f"{source}: category #{position} needs a name")
        try:
            kind = HitKind(raw.get("kind"))
        except ValueError:
            raise LexiconError(
                f"{source}: category {name!r}: kind must be 'forbidden' or 'sensitive'"
            ) from None
        terms = raw.get("terms", [])
        if not isinstance(terms, list) or not all(isinstance(t, str) and t.strip() for t in terms):
            raise LexiconError(f"{source}: category {name!r}: terms must be a list of non-empty strings")
        categories.append(Category(name=name.strip(), kind=kind, terms=tuple(t.strip() for t in terms)))
    variants = data.get("variants", {})
    for variant, standard in variants.items():
        if len(variant) != 1 or not isinstance(standard, str) or len(standard) != 1:
            raise LexiconError(
                f"{source}: variants: {variant!r} = {standard!r} must map one character to one"
            )
    return Lexicon(categories, variants)


def _read(path: str) -> tuple[str, str]:
    if not path:
        sample = resources.files("broadcasts").joinpath("lexicon.toml")
        return sample.read_text(encoding="utf-8"), "broadcasts/lexicon.toml"
    try:
        return Path(path).read_text(encoding="utf-8"), path
    except OSError as exc:
        raise LexiconError(f"lexicon file {path}: {exc.strerror or exc}") from None


@functools.lru_cache(maxsize=8)
def _cached(path: str, _stamp: float) -> Lexicon:
    text, source = _read(path)
    return parse_lexicon(text, source)


def load_lexicon(path: str = "") -> Lexicon:
    """The lexicon at ``path`` (the shipped sample when empty); rebuilt when the file changes."""
    stamp = 0.0
    if path:
        try:
            stamp = os.stat(path).st_mtime
        except OSError as exc:
            raise LexiconError(f"lexicon file {path}: {exc.strerror or exc}") from None
    return _cached(path, stamp)
