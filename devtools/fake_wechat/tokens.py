"""``/cgi-bin/token`` and ``/cgi-bin/stable_token``.

``token`` issues a new token each call and the previous one stops working at once. ``stable_token``
(POST JSON) hands out the same token while it lives, a new one in the last ``stable_renew_window``
seconds (WeChat: five minutes) with the old one valid until its own expiry, and a new one at once
with ``force_refresh``, which invalidates the previous stable token. The two endpoints' tokens are
independent, as on WeChat.
"""

from __future__ import annotations

import math
from typing import Any

from devtools.fake_wechat.server import Call, Fail, FakeWeChatServer, Incoming, endpoint


class TokenEndpoints(FakeWeChatServer):
    _classic: str | None  # the live token of /cgi-bin/token
    _stable: str | None  # the live token of /cgi-bin/stable_token

    def _init_state(self) -> None:
        super()._init_state()
        self._classic = None
        self._stable = None

    def expire_tokens(self) -> None:
        with self._lock:
            super().expire_tokens()
            self._classic = None
            self._stable = None

    @property
    def token_fetches(self) -> list[Call]:
        """Successful calls to /cgi-bin/token and /cgi-bin/stable_token."""
        return [c for c in self.calls() if c.endpoint in ("token", "stable_token") and c.errcode == 0]

    def _check_credentials(self, grant_type: Any, appid: Any, secret: Any) -> None:
        if grant_type != "client_credential":
            raise Fail(40002)
        if appid != self.app_id:
            raise Fail(40013)
        if secret != self.app_secret:
            raise Fail(40125)

    @endpoint("token", methods=("GET",), auth=False, envelope=False)
    def _token(self, incoming: Incoming) -> dict[str, Any]:
        q = incoming.query
        self._check_credentials(q.get("grant_type"), q.get("appid"), q.get("secret"))
        if self._classic is not None:
            self._tokens.pop(self._classic, None)
        self._classic = self._issue()
        return {"access_token": self._classic, "expires_in": self.expires_in}

    @endpoint("stable_token", methods=("POST",), auth=False, envelope=False)
    def _stable_token(self, incoming: Incoming) -> dict[str, Any]:
        body = self._body(incoming)
        self._check_credentials(body.get("grant_type"), body.get("appid"), body.get("secret"))
        current = self._stable
        if body.get("force_refresh") is True and current is not None:
            self._tokens.pop(current, None)
            current = None
        if current is None or self._remaining(current) <= self.stable_renew_window:
            # Within the renewal window the old token keeps working until its own expiry.
            self._stable = self._issue()
            return {"access_token": self._stable, "expires_in": self.expires_in}
        return {"access_token": current, "expires_in": max(1, math.floor(self._remaining(current)))}
