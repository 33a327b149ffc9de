"""The ``[broadcasts]`` section of 城管发布."""

from __future__ import annotations

from pydantic import Field, field_validator

from bot.core.config import Section, time_zone


class BroadcastSettings(Section):
    """城管发布: the menu, the content lexicon, the monthly mass-send quota and its rhythm."""

    menu_file: str = ""
    lexicon_file: str = ""
    monthly_quota: int = Field(4, ge=0, le=100)
    timezone: str = "Asia/Shanghai"
    staff_tag: str = "城管工作人员"
    default_cover: str = ""
    latest_count: int = Field(5, ge=1, le=10)
    rhythm_tolerance: float = Field(1.0, ge=0)
    send_ignore_reprint: bool = False
    notify_reviewers: bool = True

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        return time_zone(value)

    @field_validator("staff_tag")
    @classmethod
    def _tag(cls, value: str) -> str:
        if not value.strip() or len(value) > 30:
            raise ValueError("must be 1-30 characters (a WeChat user tag name)")
        return value.strip()
