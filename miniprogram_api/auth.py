"""Who calls the API: a mini-program user, proven by our own signed, expiring token.

``POST /session`` exchanges a ``wx.login`` code for the user's openid through WeChat's
``jscode2session`` (with the mini program's own app id and secret), keeps WeChat's session_key in the
store (server-side only: never in a response or a log) and answers with a token:

- a JWT (PyJWT, HS256 with the algorithm pinned on reading), claims ``sub`` (openid), ``prg`` (the
  mini program's name), ``aud``, ``iat``, ``exp`` and ``jti``;
- signed with a key derived from ``secret_key`` for this purpose only (HMAC-SHA256 of a fixed
  label), so a token cannot be replayed as a cookie or another signed value of the app.

Every other route needs ``Authorization: Bearer <token>``; a token of a mini program that is no longer
configured is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt

from bot.core.config import Settings
from bot.core.ratelimit import digest
from bot.core.store import Store
from miniprogram_api.settings import MiniProgram, MiniProgramSettings

AUDIENCE = "citybot:miniprogram"
ALGORITHM = "HS256"
_KEY_LABEL = b"citybot.miniprogram.token.v1"
_LEEWAY = 5  # seconds of clock skew tolerated between workers


class TokenError(Exception):
    """The token is missing, expired or invalid; ``code`` is the API error code."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class ApiUser:
    openid: str
    program: str


def signing_key(secret_key: str) -> bytes:
    return hmac.new(secret_key.encode("utf-8"), _KEY_LABEL, hashlib.sha256).digest()


def issue_token(settings: Settings, openid: str, program: MiniProgram, now: datetime) -> tuple[str, datetime]:
    """A token for ``openid`` in ``program``; returns it and its expiry."""
    expires = now + timedelta(seconds=settings.section(MiniProgramSettings).token_ttl)
    claims = {
        "sub": openid,
        "prg": program.name,
        "aud": AUDIENCE,
        "iat": int(now.timestamp()),
        "exp": int(expires.timestamp()),
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, signing_key(settings.secret_key), algorithm=ALGORITHM), expires


def read_token(settings: Settings, token: str) -> ApiUser:
    """The user a token was issued to; TokenError(token_expired | token_invalid) otherwise."""
    try:
        claims = jwt.decode(
            token,
            signing_key(settings.secret_key),
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            leeway=_LEEWAY,
            options={"require": ["sub", "prg", "aud", "iat", "exp"]},
        )
    except jwt.ExpiredSignatureError:
        raise TokenError("token_expired") from None
    except jwt.PyJWTError:
        raise TokenError("token_invalid") from None
    openid, program = claims.get("sub"), claims.get("prg")
    if not isinstance(openid, str) or not openid or not isinstance(program, str):
        raise TokenError("token_invalid")
    if settings.section(MiniProgramSettings).program(program) is None:
        raise TokenError("token_invalid")
    return ApiUser(openid, program)


def bearer(header: str | None) -> str:
    """The token of an ``Authorization: Bearer ...`` header; TokenError(token_missing) when absent."""
    if not header:
        raise TokenError("token_missing")
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise TokenError("token_invalid")
    return token.strip()


def _session_key_name(program: str, openid: str) -> str:
    return f"mp:session_key:{program}:{digest(openid)}"


def keep_session_key(store: Store, program: str, openid: str, session_key: str, ttl: int) -> None:
    """WeChat's session_key stays here, for server-side use only (e.g. decrypting user data)."""
    store.set(_session_key_name(program, openid), session_key, ttl)


def session_key(store: Store, program: str, openid: str) -> str | None:
    return store.get(_session_key_name(program, openid))
