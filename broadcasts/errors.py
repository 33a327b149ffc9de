"""Errors of the broadcast workflow. Each carries a code (a key under ``broadcasts.errors`` in the
text catalogue) and the values its sentence needs, so the chat, the console and the CLI can each
say why in their own words."""

from __future__ import annotations

from typing import Any

from broadcasts.screening import Screening


class BroadcastError(Exception):
    def __init__(self, code: str, message: str, **values: Any) -> None:
        super().__init__(message)
        self.code = code
        self.values = values


class BlockedError(BroadcastError):
    """Forbidden content: nothing goes further until it is removed."""

    def __init__(self, screening: Screening) -> None:
        terms = ", ".join(sorted({hit.term for hit in screening.forbidden}))
        super().__init__("blocked", f"forbidden content: {terms}", terms=terms)
        self.screening = screening


class SensitiveUnacknowledgedError(BroadcastError):
    """Sensitive content that the acting reviewer has not explicitly acknowledged."""

    def __init__(self, screening: Screening, terms: tuple[str, ...]) -> None:
        joined = "、".join(terms)
        super().__init__(
            "sensitive_unacknowledged", f"sensitive content needs acknowledgement: {joined}", terms=joined
        )
        self.screening = screening
        self.terms = terms


class QuotaExhaustedError(BroadcastError):
    def __init__(self, used: int, quota: int, *, reported_by_wechat: bool = False) -> None:
        super().__init__(
            "quota_exhausted_wechat" if reported_by_wechat else "quota_exhausted",
            f"no mass-send quota left this month ({used} of {quota} used)"
            + (" - WeChat answered 45028" if reported_by_wechat else ""),
            used=used,
            quota=quota,
        )
