"""Mini-program login: ``sns/jscode2session`` exchanges a ``wx.login`` code for the openid, once.

A code works once and for five minutes, as WeChat's. The stand-in's own route
``devtools/login-code`` (POST ``{"appid", "openid"}``) mints one, as ``wx.login`` would on a phone.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from devtools.fake_wechat.server import Fail, FakeWeChatServer, Incoming, endpoint

LOGIN_CODE_TTL = 300.0  # seconds a wx.login code stays valid


class MiniProgramEndpoints(FakeWeChatServer):
    _miniprograms: dict[str, str]  # mini-program app id -> secret
    _login_codes: dict[str, tuple[str, str, str | None, float]]  # code -> (app id, openid, unionid, expiry)
    _used_codes: set[str]

    def _init_state(self) -> None:
        super()._init_state()
        self._miniprograms = {}
        self._login_codes = {}
        self._used_codes = set()

    def add_miniprogram(self, app_id: str, app_secret: str) -> None:
        """A mini program whose codes ``sns/jscode2session`` exchanges."""
        with self._lock:
            self._miniprograms[app_id] = app_secret

    def login_code(self, app_id: str, openid: str, *, unionid: str | None = None) -> str:
        """A ``wx.login`` code of ``openid`` in the mini program ``app_id``; it works once."""
        code = secrets.token_urlsafe(24)
        with self._lock:
            self._login_codes[code] = (app_id, openid, unionid, time.monotonic() + LOGIN_CODE_TTL)
        return code

    @endpoint("sns/jscode2session", methods=("GET",), auth=False, envelope=False)
    def _jscode2session(self, incoming: Incoming) -> dict[str, Any]:
        q = incoming.query
        app_id = q.get("appid", "")
        if q.get("grant_type") != "authorization_code":
            raise Fail(40002)
        if app_id not in self._miniprograms:
            raise Fail(40013)
        if q.get("secret") != self._miniprograms[app_id]:
            raise Fail(40125)
        code = q.get("js_code", "")
        if code in self._used_codes:
            raise Fail(40163)
        issued = self._login_codes.pop(code, None)
        if issued is None or issued[0] != app_id or issued[3] < time.monotonic():
            raise Fail(40029)
        self._used_codes.add(code)
        _app, openid, unionid, _expiry = issued
        answer = {"openid": openid, "session_key": secrets.token_urlsafe(16)}
        if unionid:
            answer["unionid"] = unionid
        return answer

    @endpoint("devtools/login-code", methods=("POST",), auth=False, envelope=False, record=False)
    def _dev_login_code(self, incoming: Incoming) -> dict[str, Any]:
        body = self._body(incoming)
        app_id, openid = str(body.get("appid") or ""), str(body.get("openid") or "")
        if app_id not in self._miniprograms:
            raise Fail(40013)
        if not openid:
            raise Fail(40003)
        return {"code": self.login_code(app_id, openid), "appid": app_id, "openid": openid}
