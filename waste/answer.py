"""How a sorting answer reads: the chat's text reply and the API's fields, from the catalogue."""

from __future__ import annotations

from typing import Any

from bot.core.texts import Texts
from waste.categories import WasteCategory
from waste.lookup import Sorted
from waste.models import WasteItem


def category_view(category: WasteCategory, texts: Texts) -> dict[str, str]:
    return {
        "code": category.value,
        "name": texts(f"waste.category.{category.value}"),
        "guidance": texts(f"waste.guidance.{category.value}"),
    }


def item_view(item: WasteItem, texts: Texts) -> dict[str, Any]:
    return {
        "name": item.name,
        "note": item.note or None,
        "category": category_view(item.waste_category, texts),
    }


def reply_text(result: Sorted, texts: Texts) -> str:
    """One chat reply (a few hundred bytes at most)."""
    names = "、".join(item.name for item in result.suggestions)
    if result.item is None:
        if result.suggestions:
            example = result.suggestions[0].name
            return texts("waste.chat.ambiguous", query=result.query.strip(), names=names, example=example)
        return texts("waste.chat.not_found", query=result.query.strip())
    item = result.item
    category = item.waste_category
    lines = [
        texts(
            "waste.chat.answer" if result.exact else "waste.chat.near_answer",
            query=result.query.strip(),
            name=item.name,
            category=texts(f"waste.category.{category.value}"),
        )
    ]
    if item.note:
        lines.append(texts("waste.chat.note", note=item.note))
    lines.append(texts("waste.chat.guidance", guidance=texts(f"waste.guidance.{category.value}")))
    if names:
        lines.append(texts("waste.chat.also", names=names))
    return "\n".join(lines)
