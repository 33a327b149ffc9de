"""Typed errors of the WeChat API: one class per errcode family callers act on.

Every failure of a call to WeChat surfaces as a ``WeChatAPIError``: platform errors carry WeChat's
``errcode`` and ``errmsg``; network failures, timeouts and HTTP 5xx answers are a
``WeChatUnavailableError`` (``errcode`` None). Messages never carry the access token or the secret.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

import requests

from bot.core.delivery import OutOfServiceWindowError, SendQuotaExhaustedError

#: errcodes that mean "this access token is not (or no longer) valid": refresh once and retry.
TOKEN_ERRCODES = frozenset({40001, 40014, 42001})


class WeChatAPIError(Exception):
    """WeChat answered with a non-zero errcode, or could not be reached (subclasses say which)."""

    errcodes: ClassVar[frozenset[int]] = frozenset()

    def __init__(self, errcode: int | None, errmsg: str = "") -> None:
        super().__init__(errcode, errmsg)
        self.errcode = errcode
        self.errmsg = errmsg
        # WeChat's whole JSON answer, when it says more than errcode/errmsg (45065 carries the msg_id
        # of the earlier mass send).
        self.answer: dict[str, Any] = {}

    def __str__(self) -> str:
        return f"WeChat API error {self.errcode}: {self.errmsg}"


class InvalidTokenError(WeChatAPIError):
    """The access token was rejected even after one refresh (40001, 40014, 42001)."""

    errcodes = TOKEN_ERRCODES


class OutsideServiceWindowError(WeChatAPIError, OutOfServiceWindowError):
    """45015: the resident has not written within the customer-service window (48 h)."""

    errcodes = frozenset({45015})


class CustomerServiceQuotaError(WeChatAPIError, SendQuotaExhaustedError):
    """45047: too many customer-service messages to this resident since their last message."""

    errcodes = frozenset({45047})


class MassSendQuotaError(WeChatAPIError):
    """45028: no mass-send quota left this month."""

    errcodes = frozenset({45028})


class RateLimitError(WeChatAPIError):
    """45009: the daily call quota of this API is used up."""

    errcodes = frozenset({45009})


class SystemBusyError(WeChatAPIError):
    """-1: WeChat is busy; the call may be tried again later."""

    errcodes = frozenset({-1})


class LoginCodeError(WeChatAPIError):
    """40029 / 40163: a mini program's login code is invalid, expired or already used."""

    errcodes = frozenset({40029, 40163})


class TooFrequentError(WeChatAPIError):
    """45011: this user called the API too often; try again a minute later."""

    errcodes = frozenset({45011})


class RiskyUserError(WeChatAPIError):
    """40226: WeChat refuses to log in a user it flags as high-risk."""

    errcodes = frozenset({40226})


class WeChatUnavailableError(WeChatAPIError):
    """WeChat could not be reached: connection failure, timeout, or an HTTP error status."""

    def __init__(self, errmsg: str) -> None:
        super().__init__(None, errmsg)

    def __str__(self) -> str:
        return f"WeChat API unavailable: {self.errmsg}"


_BY_ERRCODE: dict[int, type[WeChatAPIError]] = {
    code: cls
    for cls in (
        InvalidTokenError,
        OutsideServiceWindowError,
        CustomerServiceQuotaError,
        MassSendQuotaError,
        RateLimitError,
        SystemBusyError,
        LoginCodeError,
        TooFrequentError,
        RiskyUserError,
    )
    for code in cls.errcodes
}


def error_for(errcode: int, errmsg: str = "") -> WeChatAPIError:
    """The most specific error class for ``errcode``."""
    return _BY_ERRCODE.get(errcode, WeChatAPIError)(errcode, redact(errmsg))


_SECRETS = re.compile(r"(access_token|secret)=[^&\s'\"]+", re.IGNORECASE)


def redact(text: str) -> str:
    """Hide access tokens and secrets in URLs quoted by error messages."""
    return _SECRETS.sub(r"\1=***", text)


def checked_json(response: requests.Response, what: str) -> dict[str, Any]:
    """The JSON object of a WeChat answer with errcode 0 (or none); a typed error otherwise."""
    if response.status_code >= 400:
        raise WeChatUnavailableError(f"{what} answered HTTP {response.status_code}")
    try:
        data = response.json()
    except ValueError:
        raise WeChatUnavailableError(f"{what} response is not JSON") from None
    if not isinstance(data, dict):
        raise WeChatUnavailableError(f"{what} response is not a JSON object")
    errcode = int(data.get("errcode") or 0)
    if errcode:
        raise error_for(errcode, str(data.get("errmsg", "")))
    return data
