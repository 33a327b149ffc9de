"""Exponential backoff shared by photo downloads and notifications."""

from __future__ import annotations

from datetime import timedelta

from reports.settings import ReportsSettings


def backoff(attempts: int, settings: ReportsSettings) -> timedelta:
    """Wait before the next attempt after ``attempts`` failures: base, 2x base, 4x base ... capped."""
    seconds = settings.retry_base_seconds * 2 ** max(0, attempts - 1)
    return timedelta(seconds=min(seconds, settings.retry_max_seconds))
