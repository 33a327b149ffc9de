"""The stand-in's own routes (``devtools/...``) as the chat simulator and the commands call them."""

from __future__ import annotations

from typing import Any

import requests


class StandInError(Exception):
    """The stand-in could not be reached, or refused (its errcode and errmsg in the message)."""


class StandIn:
    """A running fake WeChat (``citybot fake-wechat`` or ``citybot demo``) at ``base_url``."""

    def __init__(self, base_url: str, *, timeout: float = 5.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._http = requests.Session()

    def _answer(self, response: requests.Response) -> dict[str, Any]:
        try:
            answer = response.json()
        except ValueError:
            raise StandInError(f"{response.url} answered HTTP {response.status_code}, not JSON") from None
        if not isinstance(answer, dict):
            raise StandInError(f"{response.url} answered {answer!r}")
        if answer.get("errcode"):
            raise StandInError(f"errcode {answer['errcode']}: {answer.get('errmsg', '')}")
        return answer

    def _get(self, path: str, **params: Any) -> dict[str, Any]:
        try:
            return self._answer(self._http.get(self.base_url + path, params=params, timeout=self.timeout))
        except requests.RequestException as exc:
            raise StandInError(f"cannot reach the WeChat stand-in at {self.base_url}: {exc}") from None

    def _post(self, path: str, **kwargs: Any) -> dict[str, Any]:
        try:
            return self._answer(self._http.post(self.base_url + path, timeout=self.timeout, **kwargs))
        except requests.RequestException as exc:
            raise StandInError(f"cannot reach the WeChat stand-in at {self.base_url}: {exc}") from None

    def is_running(self) -> bool:
        """Whether ``base_url`` is a running stand-in (and not, say, WeChat itself)."""
        try:
            return self._get("/").get("fake") == "wechat"
        except StandInError:
            return False

    def upload(self, data: bytes, content_type: str, filename: str = "photo.jpg") -> tuple[str, str]:
        """Store a photo as WeChat stores what a resident sends: (MediaId, PicUrl)."""
        answer = self._post("/devtools/upload", files={"media": (filename, data, content_type)})
        return str(answer["media_id"]), str(answer["pic_url"])

    def login_code(self, app_id: str, openid: str) -> str:
        """A mini program's ``wx.login`` code for ``openid``: it works once, for five minutes."""
        return str(self._post("/devtools/login-code", json={"appid": app_id, "openid": openid})["code"])

    def messages(self, openid: str, after: int = 0) -> tuple[list[dict[str, Any]], int]:
        """Customer-service and template messages to ``openid`` after sequence ``after``, and the
        newest sequence number (to ask after next time)."""
        answer = self._get("/devtools/messages", touser=openid, after=after)
        return list(answer["messages"]), int(answer["last"])
