"""Reply values. Handlers return them; the webhook renders them within WeChat's limits.

Each value serialises to a small dict so a reply can be cached for WeChat's retries and stored in
the journal, then rendered again (and encrypted with a fresh nonce) without re-running a handler.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, ClassVar

TEXT_LIMIT_BYTES = 2048


@dataclass(frozen=True)
class Reply:
    kind: ClassVar[str] = ""

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, **asdict(self)}


@dataclass(frozen=True)
class Silence(Reply):
    """Nothing to say: WeChat gets ``success``."""

    kind: ClassVar[str] = "silence"


@dataclass(frozen=True)
class Text(Reply):
    content: str
    kind: ClassVar[str] = "text"


@dataclass(frozen=True)
class News(Reply):
    """One article: passive news replies show a single article since 2018-10."""

    title: str
    description: str
    url: str
    picurl: str = ""
    kind: ClassVar[str] = "news"


@dataclass(frozen=True)
class Image(Reply):
    media_id: str
    kind: ClassVar[str] = "image"


_KINDS: dict[str, type[Reply]] = {cls.kind: cls for cls in (Silence, Text, News, Image)}


def reply_from_dict(data: dict[str, Any]) -> Reply:
    fields = dict(data)
    cls = _KINDS[fields.pop("kind")]
    return cls(**fields)


def fit_utf8(text: str, limit: int = TEXT_LIMIT_BYTES, marker: str = "…") -> str:
    """Cut ``text`` to at most ``limit`` UTF-8 bytes, never mid-character, preferring a line break."""
    encoded = text.encode("utf-8")
    if len(encoded) <= limit:
        return text
    budget = limit - len(marker.encode("utf-8"))
    cut = encoded[:budget].decode("utf-8", errors="ignore")
    newline = cut.rfind("\n")
    if newline >= len(cut) // 2:
        cut = cut[: newline + 1]
    return cut + marker
