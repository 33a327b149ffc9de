"""The bureau's local time, as configured for reports (``reports.timezone``)."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from flask import Flask

from bot.core import clock, services
from reports.settings import ReportsSettings


def zone(app: Flask | None = None) -> ZoneInfo:
    return ZoneInfo(services.settings(app).section(ReportsSettings).timezone)


def today(app: Flask | None = None) -> date:
    return clock.today(zone(app))
