"""The job queue's interface, below the container that holds one (implementations: bot.core.jobs)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import datetime
from typing import Any


class JobQueue(ABC):
    @abstractmethod
    def enqueue(self, path: str, args: list[Any], *, at: datetime | None = None) -> None:
        """Run ``path(*args)`` now, or not before ``at``."""

    @abstractmethod
    def close(self) -> None:
        """Release what the queue holds (connections, timers)."""
