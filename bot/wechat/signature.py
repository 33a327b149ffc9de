"""Request signatures: SHA-1 over the sorted strings, compared in constant time, with a replay window."""

from __future__ import annotations

import hashlib
import hmac

from bot.core.clock import epoch


class SignatureError(Exception):
    """The request is not from WeChat (bad signature, or a timestamp outside the window)."""


def sign(*parts: str) -> str:
    """WeChat's signature: sha1 of the sorted parts joined without separator."""
    return hashlib.sha1("".join(sorted(parts)).encode("utf-8")).hexdigest()


def check_timestamp(timestamp: str, window: int, now: float | None = None) -> None:
    try:
        sent = int(timestamp)
    except (TypeError, ValueError):
        raise SignatureError("timestamp is not an integer") from None
    current = epoch() if now is None else now
    if abs(current - sent) > window:
        raise SignatureError(f"timestamp {sent} is more than {window}s from now")


def verify(
    token: str,
    signature: str,
    timestamp: str,
    nonce: str,
    *,
    window: int,
    extra: str | None = None,
    now: float | None = None,
) -> None:
    """Verify ``signature`` (``msg_signature`` when ``extra`` is the Encrypt field); raise SignatureError."""
    if not (signature and timestamp and nonce):
        raise SignatureError("signature, timestamp and nonce are required")
    parts = (token, timestamp, nonce) if extra is None else (token, timestamp, nonce, extra)
    expected = sign(*parts)
    if not hmac.compare_digest(expected.encode("ascii"), signature.lower().encode("ascii", "replace")):
        raise SignatureError("signature mismatch")
    check_timestamp(timestamp, window, now)
