"""The four categories of household waste (GB/T 19095-2019), as a closed vocabulary.

The resident-facing name and guidance of each live in the catalogue (``waste.category.<code>``,
``waste.guidance.<code>``); a table file may name a category by its code, its standard name or the
older names some cities use (湿垃圾, 干垃圾).
"""

from __future__ import annotations

from enum import StrEnum


class WasteCategory(StrEnum):
    RECYCLABLE = "recyclable"  # 可回收物
    HAZARDOUS = "hazardous"  # 有害垃圾
    KITCHEN = "kitchen"  # 厨余垃圾 (湿垃圾)
    RESIDUAL = "residual"  # 其他垃圾 (干垃圾)

    @classmethod
    def parse(cls, text: str) -> WasteCategory:
        """By code or by any of the names used on bins; ValueError otherwise."""
        key = text.strip().lower()
        for category in cls:
            if key == category.value or key in NAMES[category]:
                return category
        raise ValueError(f"unknown waste category {text!r}")


NAMES: dict[WasteCategory, tuple[str, ...]] = {
    WasteCategory.RECYCLABLE: ("可回收物", "可回收垃圾", "可回收"),
    WasteCategory.HAZARDOUS: ("有害垃圾", "有害"),
    WasteCategory.KITCHEN: ("厨余垃圾", "湿垃圾", "厨余", "餐厨垃圾", "易腐垃圾"),
    WasteCategory.RESIDUAL: ("其他垃圾", "干垃圾", "其他", "其它垃圾"),
}
