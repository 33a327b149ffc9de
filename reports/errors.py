"""The reports domain's refusals share one namespace in the text catalogue: ``reports.errors``."""

from __future__ import annotations

from bot.core.errors import DomainError


class ReportsError(DomainError):
    namespace = "reports.errors"
