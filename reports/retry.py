"""Exponential backoff shared by photo downloads and notifications (and other domains' outboxes)."""

from __future__ import annotations

from datetime import timedelta
from typing import Protocol


class RetrySettings(Protocol):
    """A settings section with a base and a cap for retries (``ReportsSettings``, ``CasesSettings``)."""

    @property
    def retry_base_seconds(self) -> float: ...

    @property
    def retry_max_seconds(self) -> float: ...


def backoff(attempts: int, settings: RetrySettings) -> timedelta:
    """Wait before the next attempt after ``attempts`` failures: base, 2x base, 4x base ... capped."""
    seconds = settings.retry_base_seconds * 2 ** max(0, attempts - 1)
    return timedelta(seconds=min(seconds, settings.retry_max_seconds))
