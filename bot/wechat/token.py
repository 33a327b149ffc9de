"""The one owner of the access token of an app id, shared by every process through the Store.

WeChat keeps one valid token per app id: each fetch from ``/cgi-bin/token`` invalidates the previous
one, so processes refreshing on their own throw each other's tokens away. Here the token lives in the
Store under ``wechat:token:<app_id>``; a refresh happens only under the Store lock
``wechat:token-refresh:<app_id>``, and whoever gets the lock first looks at the cache again, so N
processes starting together fetch once. The token is refreshed ``refresh_margin`` seconds before it
expires; ``/cgi-bin/stable_token`` (normal mode) is preferred, as it hands out the same token until the
last five minutes of its life and is not disturbed by other systems calling ``/cgi-bin/token``.

After WeChat rejects a token, ``renew(token)`` drops it only if the cache still holds that very token
(another process may already have replaced it) and fetches a new one; if stable_token's normal mode hands
back the rejected token, it asks once more with ``force_refresh``.
"""

from __future__ import annotations

import json
import logging
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Literal

import requests

from bot.core.clock import epoch
from bot.core.store import LockTimeoutError, Store
from bot.wechat.errors import WeChatAPIError, WeChatUnavailableError, checked_json, redact

log = logging.getLogger("citybot.wechat.token")

TokenEndpoint = Literal["stable", "classic"]


@dataclass(frozen=True)
class CachedToken:
    token: str
    expires_at: float  # epoch seconds
    refresh_at: float  # epoch seconds: from here on, get() refreshes

    def due(self, now: float) -> bool:
        return now >= self.refresh_at

    def alive(self, now: float) -> bool:
        return now < self.expires_at


class TokenManager:
    """Access token of one app id: cached in the Store, refreshed once across processes."""

    def __init__(
        self,
        store: Store,
        app_id: str,
        app_secret: str,
        base_url: str,
        http: requests.Session,
        refresh_margin: float = 300,
        endpoint: TokenEndpoint = "stable",
        timeout: float = 5.0,
    ) -> None:
        if endpoint not in ("stable", "classic"):
            raise ValueError(f"unknown token endpoint {endpoint!r} (stable or classic)")
        self.store = store
        self.app_id = app_id
        self._secret = app_secret
        self.base_url = base_url.rstrip("/")
        self.http = http
        self.refresh_margin = refresh_margin
        self.endpoint: TokenEndpoint = endpoint
        self.timeout = timeout
        self.key = f"wechat:token:{app_id}"
        self.lock_name = f"wechat:token-refresh:{app_id}"
        # Held across at most two fetches (normal, then forced) with room to spare; waiters wait as long.
        self._lock_ttl = 3 * timeout + 1
        self._clock = epoch

    def __repr__(self) -> str:
        return f"TokenManager(app_id={self.app_id!r}, endpoint={self.endpoint!r})"

    # -- public -----------------------------------------------------------------------------------

    def get(self) -> str:
        """A valid token: the cached one, unless it is within ``refresh_margin`` of expiry."""
        cached = self.cached()
        if cached is not None and not cached.due(self._clock()):
            return cached.token
        return self._refresh(stale=cached)

    def cached(self) -> CachedToken | None:
        """The token in the Store, if any (no network)."""
        raw = self.store.get(self.key)
        return None if raw is None else self._parse(raw)

    def invalidate(self, failed_token: str) -> bool:
        """Drop the cached token only while it is still ``failed_token``; return whether it was."""
        try:
            with self._locked():
                return self._drop(failed_token)
        except LockTimeoutError:
            # The compare-and-delete is atomic on its own; the lock only orders it with refreshes.
            return self._drop(failed_token)

    def renew(self, failed_token: str) -> str:
        """After WeChat rejected ``failed_token``: invalidate it, then get a token that is not it.

        One lock acquisition covers both steps. If another process already replaced the token, that
        one is returned without a fetch. If stable_token's normal mode answers with the rejected token
        again, one forced fetch follows.
        """
        try:
            with self._locked():
                replaced = self._replacement(failed_token)
                if replaced is not None:
                    log.info("access token of app %s was already renewed by another process", self.app_id)
                    return replaced
                self._drop(failed_token)
                fresh = self._fetch(force=False)
                if fresh.token == failed_token and self.endpoint == "stable":
                    log.warning(
                        "stable_token returned the rejected access token of app %s; forcing a refresh",
                        self.app_id,
                    )
                    fresh = self._fetch(force=True)
                self._save(fresh)
                return fresh.token
        except LockTimeoutError:
            return self._after_lock_timeout(exclude=failed_token)

    # -- internals --------------------------------------------------------------------------------

    def _locked(self) -> AbstractContextManager[str]:
        return self.store.lock(self.lock_name, ttl=self._lock_ttl, wait=self._lock_ttl)

    def _refresh(self, stale: CachedToken | None) -> str:
        # With a still-valid token in hand, do not queue behind a refresh under way elsewhere.
        wait = 0.0 if stale is not None and stale.alive(self._clock()) else self._lock_ttl
        try:
            with self.store.lock(self.lock_name, ttl=self._lock_ttl, wait=wait):
                cached = self.cached()
                if cached is not None and not cached.due(self._clock()):
                    return cached.token
                try:
                    fresh = self._fetch(force=False)
                except WeChatAPIError:
                    if cached is not None and cached.alive(self._clock()):
                        log.warning(
                            "could not refresh the access token for app %s ahead of expiry; "
                            "using the cached one while it lasts",
                            self.app_id,
                            exc_info=True,
                        )
                        return cached.token
                    raise
                self._save(fresh)
                return fresh.token
        except LockTimeoutError:
            return self._after_lock_timeout(exclude=None)

    def _replacement(self, failed_token: str | None) -> str | None:
        """A cached token that is alive and is not ``failed_token``."""
        cached = self.cached()
        if cached is not None and cached.token != failed_token and cached.alive(self._clock()):
            return cached.token
        return None

    def _after_lock_timeout(self, exclude: str | None) -> str:
        token = self._replacement(exclude)
        if token is not None:
            return token
        raise WeChatUnavailableError(
            f"timed out waiting for another process to refresh the access token of app {self.app_id}"
        )

    def _drop(self, failed_token: str) -> bool:
        raw = self.store.get(self.key)
        if raw is None:
            return False
        cached = self._parse(raw)
        if cached is not None and cached.token != failed_token:
            return False
        dropped = self.store.delete_if_equals(self.key, raw)
        if dropped:
            log.info("dropped the rejected access token of app %s", self.app_id)
        return dropped

    def _parse(self, raw: str) -> CachedToken | None:
        try:
            data = json.loads(raw)
            return CachedToken(str(data["token"]), float(data["expires_at"]), float(data["refresh_at"]))
        except (ValueError, KeyError, TypeError):
            log.warning("ignoring a malformed cached access token for app %s", self.app_id)
            return None

    def _save(self, token: CachedToken) -> None:
        ttl = token.expires_at - self._clock()
        if ttl <= 0:
            return
        self.store.set_json(
            self.key,
            {"token": token.token, "expires_at": token.expires_at, "refresh_at": token.refresh_at},
            ttl=ttl,
        )

    def _fetch(self, force: bool) -> CachedToken:
        started = self._clock()
        try:
            if self.endpoint == "stable":
                response = self.http.post(
                    f"{self.base_url}/cgi-bin/stable_token",
                    json={
                        "grant_type": "client_credential",
                        "appid": self.app_id,
                        "secret": self._secret,
                        "force_refresh": force,
                    },
                    timeout=self.timeout,
                )
            else:
                response = self.http.get(
                    f"{self.base_url}/cgi-bin/token",
                    params={"grant_type": "client_credential", "appid": self.app_id, "secret": self._secret},
                    timeout=self.timeout,
                )
        except requests.RequestException as exc:
            raise WeChatUnavailableError(
                f"access token request failed: {type(exc).__name__}: {redact(str(exc))}"
            ) from None
        data = checked_json(response, "access token request")
        token = data.get("access_token")
        if not isinstance(token, str) or not token:
            raise WeChatAPIError(None, "access token response has no access_token")
        expires_in = float(data.get("expires_in") or 7200)
        margin = min(self.refresh_margin, expires_in / 2)
        log.info(
            "fetched an access token for app %s from %s%s; expires in %ds",
            self.app_id,
            "stable_token" if self.endpoint == "stable" else "token",
            " (forced)" if force else "",
            expires_in,
        )
        return CachedToken(token, started + expires_in, started + expires_in - margin)
