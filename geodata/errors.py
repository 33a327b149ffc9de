"""The geodata domain's refusals, under ``geodata.errors`` in the text catalogue."""

from __future__ import annotations

from bot.core.errors import DomainError


class GeodataError(DomainError):
    namespace = "geodata.errors"
