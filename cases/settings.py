"""The ``[cases]`` section of 有问必答."""

from __future__ import annotations

import re
from datetime import time, timedelta

from pydantic import Field, field_validator

from bot.core.config import Section, time_zone

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([mhd])\s*$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


def parse_duration(value: str) -> timedelta:
    """``"72h"``, ``"3d"``, ``"90m"`` as a timedelta; raises ValueError otherwise."""
    found = _DURATION.match(value)
    if not found:
        raise ValueError(f"{value!r} is not a duration such as 72h, 3d or 90m")
    return timedelta(**{_UNITS[found.group(2)]: float(found.group(1))})


def _clock(value: str) -> time:
    try:
        hour, minute = value.split(":")
        return time(int(hour), int(minute))
    except ValueError:
        raise ValueError(f"{value!r} is not a time of day such as 09:00") from None


class CasesSettings(Section):
    """有问必答: case numbers, deadlines in working days, escalation, delivery of answers."""

    timezone: str = "Asia/Shanghai"
    number_prefix: str = Field("LY", pattern=r"^[A-Z]{1,4}$")
    # A resident's message within this time of their open case's last message joins that case.
    join_within: str = "72h"
    # The promised answer: this many working days after receipt (per department where given).
    deadline_days: int = Field(5, ge=1, le=60)
    department_deadline_days: dict[str, int] = Field(default_factory=dict)
    # Overdue again this many working days after the first escalation: the 分管领导 is told.
    second_deadline_days: int = Field(2, ge=1, le=60)
    # Departments a case can be assigned to: code -> name as staff read it.
    departments: dict[str, str] = Field(
        default_factory=lambda: {"general": "综合科", "city": "市容科", "law": "执法科"}
    )
    default_department: str = "general"
    # Office hours on working days; a case arriving outside them alerts the staff on duty (值班).
    office_start: str = "09:00"
    office_end: str = "17:30"
    # WeChat's customer-service window and how many messages it allows before the resident writes again.
    service_window_hours: float = Field(48.0, gt=0)
    window_messages: int = Field(5, ge=1, le=20)
    # The template message used outside the window, its fields, and the base of the answer link.
    template_id: str = ""
    template_fields: dict[str, str] = Field(
        default_factory=lambda: {
            "first": "first",
            "number": "keyword1",
            "time": "keyword2",
            "remark": "remark",
        }
    )
    public_base_url: str = ""
    link_max_age_days: int = Field(30, ge=1)
    # 不满意 within this many days of closing reopens the case.
    reopen_within_days: int = Field(7, ge=1)
    max_text: int = Field(2000, ge=10)
    notify_max_attempts: int = Field(8, ge=1)
    retry_base_seconds: float = Field(60.0, gt=0)
    retry_max_seconds: float = Field(6 * 3600.0, gt=0)
    # The screening lexicon (broadcasts' format); empty: the shipped sample.
    lexicon_file: str = ""

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        return time_zone(value)

    @field_validator("join_within")
    @classmethod
    def _join_within(cls, value: str) -> str:
        parse_duration(value)
        return value

    @field_validator("office_start", "office_end")
    @classmethod
    def _office(cls, value: str) -> str:
        _clock(value)
        return value

    @field_validator("template_fields")
    @classmethod
    def _template_fields(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = set(value) - {"first", "number", "time", "remark"}
        if unknown:
            raise ValueError(f"unknown fields {sorted(unknown)}; use first, number, time, remark")
        return value

    @property
    def join_window(self) -> timedelta:
        return parse_duration(self.join_within)

    @property
    def office_hours(self) -> tuple[time, time]:
        return _clock(self.office_start), _clock(self.office_end)

    def deadline_days_for(self, department: str) -> int:
        return self.department_deadline_days.get(department, self.deadline_days)
