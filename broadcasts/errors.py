"""Errors of the broadcast workflow: domain errors under ``broadcasts.errors`` in the text catalogue,
each with the values its sentence needs (see bot/core/errors.py)."""

from __future__ import annotations

from typing import ClassVar

from bot.core.errors import Codes, DomainError
from broadcasts.screening import Screening


class BroadcastError(DomainError):
    namespace = "broadcasts.errors"
    codes: ClassVar[Codes] = {
        "not_allowed": (),
        "wrong_status": (),
        "no_such_draft": ("id",),
        "no_such_publication": ("id",),
        "title_missing": (),
        "title_too_long": ("limit",),
        "author_too_long": ("limit",),
        "digest_too_long": ("limit",),
        "body_missing": (),
        "body_too_long": ("limit",),
        "grade_missing": (),
        "not_editable": (),
        "own_draft": (),
        "already_approved": (),
        "no_sign_off": (),
        "comment_required": (),
        "no_cover": (),
        "cover_expired": (),
        "cover_not_image": (),
        "cover_too_large": ("limit_mb",),
        "not_withdrawable": (),
        "wechat_error": ("step", "errcode"),
        "wechat_unreachable": ("step",),
    }


class BlockedError(BroadcastError):
    """Forbidden content: nothing goes further until it is removed."""

    codes: ClassVar[Codes] = {"blocked": ("terms",)}

    def __init__(self, screening: Screening) -> None:
        terms = ", ".join(sorted({hit.term for hit in screening.forbidden}))
        super().__init__("blocked", f"forbidden content: {terms}", terms=terms)
        self.screening = screening


class SensitiveUnacknowledgedError(BroadcastError):
    """Sensitive content that the acting reviewer has not explicitly acknowledged."""

    codes: ClassVar[Codes] = {"sensitive_unacknowledged": ("terms",)}

    def __init__(self, screening: Screening, terms: tuple[str, ...]) -> None:
        joined = "、".join(terms)
        super().__init__(
            "sensitive_unacknowledged", f"sensitive content needs acknowledgement: {joined}", terms=joined
        )
        self.screening = screening
        self.terms = terms


class QuotaExhaustedError(BroadcastError):
    codes: ClassVar[Codes] = {
        "quota_exhausted": ("used", "quota"),
        "quota_exhausted_wechat": ("used", "quota"),
    }

    def __init__(self, used: int, quota: int, *, reported_by_wechat: bool = False) -> None:
        super().__init__(
            "quota_exhausted_wechat" if reported_by_wechat else "quota_exhausted",
            f"no mass-send quota left this month ({used} of {quota} used)"
            + (" - WeChat answered 45028" if reported_by_wechat else ""),
            used=used,
            quota=quota,
        )
