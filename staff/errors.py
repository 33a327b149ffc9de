"""The staff domain's refusals, under ``staff.errors`` in the text catalogue."""

from __future__ import annotations

from typing import ClassVar

from bot.core.errors import Codes, DomainError


class StaffError(DomainError, ValueError):
    """A staff operation that cannot be done; ``code`` says why."""

    namespace = "staff.errors"
    codes: ClassVar[Codes] = {
        "password_too_short": ("min",),
        "bad_username": (),
        "exists": ("username",),
        "no_such_staff": ("username",),
        "openid_linked": ("username",),
        "unknown_role": ("role", "known"),
    }
