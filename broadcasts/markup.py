"""The body's small markup: paragraphs (blank lines), line breaks, **bold** and [links](https://...).

Drafts store the markup their author wrote; WeChat gets sanitised HTML rendered from it. markdown-it
renders only the rules enabled below (raw HTML is escaped, unsafe link schemes dropped) and nh3
cleans the result again to an allow-list, so nothing else can reach an article.
"""

from __future__ import annotations

import html
import re

import nh3
from markdown_it import MarkdownIt

ALLOWED_TAGS = frozenset({"p", "br", "strong", "em", "a"})
ALLOWED_ATTRIBUTES = {"a": {"href"}}
URL_SCHEMES = frozenset({"http", "https"})

_renderer = MarkdownIt("zero", {"breaks": True, "html": False}).enable(["emphasis", "link", "newline"])
_TAG = re.compile(r"<[^>]+>")


def to_html(markup: str) -> str:
    """Sanitised article HTML for WeChat's draft box."""
    rendered = _renderer.render(markup.replace("\r\n", "\n"))
    return nh3.clean(
        rendered,
        tags=set(ALLOWED_TAGS),
        attributes={tag: set(attrs) for tag, attrs in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel="noopener noreferrer",
    ).strip()


def to_plain(markup: str) -> str:
    """The text a reader sees, paragraphs separated by blank lines (for previews and digests)."""
    rendered = to_html(markup)
    rendered = re.sub(r"<br\s*/?>\n?", "\n", rendered)
    rendered = re.sub(r"</p>\s*", "\n\n", rendered)
    return html.unescape(_TAG.sub("", rendered)).strip()


def append_paragraph(markup: str, paragraph: str) -> str:
    paragraph = paragraph.strip()
    if not paragraph:
        return markup
    return f"{markup.rstrip()}\n\n{paragraph}" if markup.strip() else paragraph


def paragraph_count(markup: str) -> int:
    return len([p for p in re.split(r"\n\s*\n", markup) if p.strip()])


def char_count(markup: str) -> int:
    """Characters a reader sees, white space not counted."""
    return len(re.sub(r"\s", "", to_plain(markup)))


def excerpt(markup: str, limit: int) -> str:
    plain = re.sub(r"\s+", " ", to_plain(markup))
    return plain if len(plain) <= limit else plain[: limit - 1] + "…"
