"""How the console words a domain's refusal: its sentence from the text catalogue."""

from __future__ import annotations

from bot.core import services
from bot.core.errors import DomainError, render


def explain(exc: DomainError) -> str:
    return render(services.texts(), exc)
