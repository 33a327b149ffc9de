"""The cases domain's refusals share one namespace in the text catalogue: ``cases.errors``."""

from __future__ import annotations

from typing import ClassVar

from bot.core.errors import Codes, DomainError


class CasesError(DomainError):
    """A refusal of the cases domain; ``code`` says which."""

    namespace = "cases.errors"
    codes: ClassVar[Codes] = {
        "no_such_case": ("number",),
        "closed": ("number",),
        "not_closed": ("number",),
        "converted": ("number",),
        "not_answered": ("number",),
        "empty_text": (),
        "too_long": ("max",),
        "unknown_department": ("department",),
        "no_such_staff": ("username",),
        "not_permitted": (),
        "bad_rating": (),
        "unknown_category": ("category",),
        "no_photo": (),
        "no_location": (),
        "bad_shift": (),
    }
