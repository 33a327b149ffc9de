"""The WeChat API client: the one adapter over wechatpy's ``WeChatClient``.

wechatpy's API wrappers build the requests; this module owns everything around them:

- the access token comes from ``TokenManager`` (one owner per app id, shared through the Store);
  wechatpy's own token cache and its unbounded ``auto_retry`` are not used;
- a token rejected with 40001/42001/40014 is renewed once and the call retried once, never more;
- every failure becomes a typed ``WeChatAPIError`` (see ``bot.wechat.errors``); network failures,
  timeouts and HTTP errors become ``WeChatUnavailableError``;
- the base URL is configurable (``wechat.api_base_url``), so tests and local development talk to
  ``devtools.fake_wechat.FakeWeChat`` on loopback.

Other code calls the methods of ``WeChatAPI``; an API not covered yet is reached through
``WeChatAPI.call(lambda client: client.tag.create("staff"))`` or ``WeChatAPI.post("draft/add", {...})``,
which get the same token handling and errors.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import requests
from wechatpy import WeChatClient
from wechatpy.exceptions import WeChatClientException

from bot.core.config import ConfigError, Settings
from bot.core.store import Store
from bot.wechat.errors import (
    TOKEN_ERRCODES,
    WeChatAPIError,
    WeChatUnavailableError,
    checked_json,
    error_for,
    redact,
)
from bot.wechat.settings import WeChatSettings
from bot.wechat.token import TokenManager

log = logging.getLogger("citybot.wechat.api")

T = TypeVar("T")

_BINARY_TYPES = ("image/", "audio/", "video/", "application/octet-stream")


@dataclass(frozen=True)
class MiniProgramSession:
    """What ``sns/jscode2session`` tells about a mini-program user. ``session_key`` is a secret that
    must never leave the server (it is left out of the repr, so it cannot reach a log by accident)."""

    openid: str
    session_key: str = field(repr=False)
    unionid: str | None = None


def code_to_session(
    http: requests.Session, base_url: str, app_id: str, app_secret: str, js_code: str, *, timeout: float
) -> MiniProgramSession:
    """Exchange a mini program's ``wx.login`` code for the user's openid (``sns/jscode2session``).

    The call is made with the mini program's own app id and secret; it needs no access token.
    Errors: 40029 invalid code, 40163 code already used, 45011 too frequent, 40226 high-risk user,
    -1 busy, all as typed ``WeChatAPIError``; an unreachable WeChat is ``WeChatUnavailableError``.
    """
    url = f"{base_url.rstrip('/')}/sns/jscode2session"
    params = {"appid": app_id, "secret": app_secret, "js_code": js_code, "grant_type": "authorization_code"}
    try:
        response = http.get(url, params=params, timeout=timeout)
    except requests.RequestException as exc:
        raise WeChatUnavailableError(f"{type(exc).__name__}: {redact(str(exc))}") from None
    data = checked_json(response, "jscode2session")
    openid, session_key = data.get("openid"), data.get("session_key")
    if not isinstance(openid, str) or not openid or not isinstance(session_key, str):
        raise WeChatUnavailableError("jscode2session answered without openid or session_key")
    unionid = data.get("unionid")
    return MiniProgramSession(openid, session_key, unionid if isinstance(unionid, str) and unionid else None)


class CitybotWeChatClient(WeChatClient):  # type: ignore[misc]  # wechatpy ships no types: its client is Any
    """wechatpy's client with our token owner, our base URL and at most one retry per call."""

    _http: requests.Session

    def __init__(
        self, tokens: TokenManager, app_secret: str, base_url: str, http: requests.Session, timeout: float
    ) -> None:
        super().__init__(tokens.app_id, app_secret, timeout=timeout, auto_retry=False)
        self.tokens = tokens
        self._http.close()  # wechatpy's own session, never used
        self._http = http
        self.API_BASE_URL = f"{base_url.rstrip('/')}/cgi-bin/"

    @property
    def access_token(self) -> str:
        return self.tokens.get()

    def fetch_access_token(self) -> dict[str, Any]:
        raise RuntimeError("the access token is owned by TokenManager; wechatpy never fetches it")

    def _request(self, method: str, url_or_endpoint: str, **kwargs: Any) -> Any:
        params = dict(kwargs.pop("params", None) or {})
        token = self.tokens.get()
        try:
            return self._attempt(method, url_or_endpoint, token, params, kwargs)
        except WeChatClientException as exc:
            if exc.errcode not in TOKEN_ERRCODES:
                raise
            log.info(
                "WeChat rejected the access token of app %s on %s (errcode %s); renewing it, retrying once",
                self.appid,
                url_or_endpoint,
                exc.errcode,
            )
        fresh = self.tokens.renew(token)
        for file in (kwargs.get("files") or {}).values():
            if hasattr(file, "seek"):
                file.seek(0)
        return self._attempt(method, url_or_endpoint, fresh, params, kwargs)

    def _attempt(
        self, method: str, url_or_endpoint: str, token: str, params: dict[str, Any], kwargs: dict[str, Any]
    ) -> Any:
        return super()._request(method, url_or_endpoint, params={**params, "access_token": token}, **kwargs)

    def _decode_result(self, res: requests.Response) -> Any:
        # Media downloads: hand back the response itself rather than trying to parse bytes as JSON.
        if res.headers.get("Content-Type", "").lower().startswith(_BINARY_TYPES):
            return res
        return super()._decode_result(res)


class WeChatAPI:
    """The calls citybot makes to WeChat. Thread-safe; one instance per process is enough."""

    def __init__(
        self,
        tokens: TokenManager,
        app_secret: str,
        base_url: str,
        *,
        http: requests.Session | None = None,
        timeout: float = 5.0,
    ) -> None:
        self.tokens = tokens
        self.http = http or tokens.http
        self.timeout = timeout
        self.base_url = base_url.rstrip("/")
        self.client = CitybotWeChatClient(tokens, app_secret, base_url, self.http, timeout)

    @classmethod
    def from_settings(
        cls, settings: Settings, store: Store, *, http: requests.Session | None = None
    ) -> WeChatAPI:
        wechat = settings.section(WeChatSettings)
        if not wechat.app_id or not wechat.app_secret:
            raise ConfigError("wechat.app_id and wechat.app_secret are needed to call the WeChat API")
        http = http or requests.Session()
        tokens = TokenManager(
            store,
            wechat.app_id,
            wechat.app_secret,
            wechat.api_base_url,
            http,
            refresh_margin=wechat.token_refresh_margin,
            endpoint=wechat.token_endpoint,
            timeout=wechat.api_timeout,
        )
        return cls(tokens, wechat.app_secret, wechat.api_base_url, http=http, timeout=wechat.api_timeout)

    def __repr__(self) -> str:
        return f"WeChatAPI(app_id={self.tokens.app_id!r}, base_url={self.client.API_BASE_URL!r})"

    def close(self) -> None:
        self.http.close()

    # -- generic access ---------------------------------------------------------------------------

    def call(self, fn: Callable[[WeChatClient], T]) -> T:
        """Run a wechatpy API wrapper with citybot's token handling and typed errors."""
        with _translated():
            return fn(self.client)

    def get(self, endpoint: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """GET ``/cgi-bin/<endpoint>``; the JSON answer (errcode 0) or a WeChatAPIError."""
        return self._json(self.call(lambda c: c.get(endpoint, params=dict(params or {}))))

    def post(
        self, endpoint: str, data: Mapping[str, Any], params: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """POST JSON to ``/cgi-bin/<endpoint>``; the JSON answer (errcode 0) or a WeChatAPIError."""
        return self._json(self.call(lambda c: c.post(endpoint, data=dict(data), params=dict(params or {}))))

    # -- messages ---------------------------------------------------------------------------------

    def send_text(self, openid: str, content: str) -> dict[str, Any]:
        """Customer-service text message (within 48 h of the resident's last message)."""
        return self._json(self.call(lambda c: c.message.send_text(openid, content)))

    def send_news(self, openid: str, articles: Sequence[Mapping[str, str]]) -> dict[str, Any]:
        """Customer-service news message: one article of title, description, url, picurl.

        WeChat shows a single article in customer-service news (more is rejected with 45008).
        """
        if len(articles) != 1:
            raise ValueError("a customer-service news message carries exactly one article")
        normalised = [
            {
                "title": article["title"],
                "description": article.get("description", ""),
                "url": article["url"],
                "picurl": article.get("picurl", ""),
            }
            for article in articles
        ]
        return self._json(self.call(lambda c: c.message.send_articles(openid, normalised)))

    def send_template(
        self,
        openid: str,
        template_id: str,
        data: Mapping[str, Any],
        url: str | None = None,
        miniprogram: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """Template message; the answer carries ``msgid``."""
        return self._json(
            self.call(
                lambda c: c.message.send_template(
                    openid,
                    template_id,
                    dict(data),
                    url=url,
                    mini_program=dict(miniprogram) if miniprogram else None,
                )
            )
        )

    # -- media ------------------------------------------------------------------------------------

    def download_media(self, media_id: str) -> tuple[bytes, str]:
        """A temporary media file: its bytes and Content-Type.

        WeChat answers errors as JSON even with HTTP 200; those raise. A video's answer is JSON
        holding ``video_url``; it is returned as JSON bytes with content type application/json.
        """
        result = self.call(lambda c: c.media.download(media_id))
        if isinstance(result, requests.Response):
            content_type = result.headers.get("Content-Type", "application/octet-stream")
            return result.content, content_type.split(";")[0].strip()
        if isinstance(result, dict):
            return json.dumps(result, ensure_ascii=False).encode("utf-8"), "application/json"
        raise WeChatUnavailableError("media download answered neither media nor JSON")

    # -- mini programs ----------------------------------------------------------------------------

    def code_to_session(self, app_id: str, app_secret: str, js_code: str) -> MiniProgramSession:
        """``sns/jscode2session`` for one of the bureau's mini programs (its own app id and secret)."""
        return code_to_session(self.http, self.base_url, app_id, app_secret, js_code, timeout=self.timeout)

    # -- menus ------------------------------------------------------------------------------------

    def create_menu(self, menu: Mapping[str, Any]) -> dict[str, Any]:
        """Replace the default menu; ``menu`` is ``{"button": [...]}``."""
        return self._json(self.call(lambda c: c.menu.create(dict(menu))))

    def create_conditional_menu(self, menu: Mapping[str, Any]) -> str:
        """Add a conditional (personalised) menu with its ``matchrule``; return its menuid."""
        result = self._json(self.call(lambda c: c.menu.add_conditional(dict(menu))))
        return str(result.get("menuid", ""))

    def get_menu(self) -> dict[str, Any] | None:
        """The menus as WeChat stores them, or None when no menu exists (46003)."""
        result = self.call(lambda c: c.menu.get())
        return None if result is None else self._json(result)

    def delete_menu(self) -> dict[str, Any]:
        """Delete the default menu and every conditional menu."""
        return self._json(self.call(lambda c: c.menu.delete()))

    def delete_conditional_menu(self, menu_id: str) -> dict[str, Any]:
        return self.post("menu/delconditional", {"menuid": str(menu_id)})

    # -- user tags --------------------------------------------------------------------------------

    def create_tag(self, name: str) -> int:
        """Create a user tag (at most 30 characters); its id. 45157: the name exists already."""
        return int(self.post("tags/create", {"tag": {"name": name}})["tag"]["id"])

    def list_tags(self) -> list[dict[str, Any]]:
        """Every tag: ``{"id", "name", "count"}``."""
        return list(self.get("tags/get").get("tags", []))

    def tag_users(self, tag_id: int, openids: Sequence[str]) -> dict[str, Any]:
        """Tag up to 50 followers."""
        return self.post("tags/members/batchtagging", {"openid_list": list(openids), "tagid": int(tag_id)})

    # -- materials, drafts, publishing, mass sends ------------------------------------------------

    def upload_image_material(self, data: bytes, filename: str, content_type: str) -> tuple[str, str]:
        """A permanent image material (covers need one): its (media_id, url)."""
        result = self._json(
            self.call(
                lambda c: c.post(
                    "material/add_material",
                    params={"type": "image"},
                    files={"media": (filename, data, content_type)},
                )
            )
        )
        return str(result["media_id"]), str(result.get("url", ""))

    def add_draft(self, articles: Sequence[Mapping[str, Any]]) -> str:
        """Add articles to the draft box (draft/add); the draft's media_id."""
        return str(self.post("draft/add", {"articles": [dict(a) for a in articles]})["media_id"])

    def mass_send_all(
        self, media_id: str, *, tag_id: int | None, clientmsgid: str, send_ignore_reprint: bool
    ) -> dict[str, Any]:
        """Mass-send a draft (mpnews) to every follower or to one tag; ``msg_id`` and ``msg_data_id``.

        45065: this ``clientmsgid`` was sent already; 45028 (MassSendQuotaError): no quota left.
        """
        target: dict[str, Any] = (
            {"is_to_all": True} if tag_id is None else {"is_to_all": False, "tag_id": tag_id}
        )
        return self.post(
            "message/mass/sendall",
            {
                "filter": target,
                "mpnews": {"media_id": media_id},
                "msgtype": "mpnews",
                "send_ignore_reprint": 1 if send_ignore_reprint else 0,
                "clientmsgid": clientmsgid,
            },
        )

    def delete_mass(self, msg_id: int, article_idx: int = 0) -> dict[str, Any]:
        """Delete a mass-sent article (0: every article of the message)."""
        return self.post("message/mass/delete", {"msg_id": int(msg_id), "article_idx": int(article_idx)})

    def submit_publish(self, media_id: str) -> str:
        """Publish a draft without notifying followers (freepublish/submit); the publish_id."""
        return str(self.post("freepublish/submit", {"media_id": media_id})["publish_id"])

    def delete_publish(self, article_id: str, index: int = 0) -> dict[str, Any]:
        """Delete a published article (0: every article of it)."""
        return self.post("freepublish/delete", {"article_id": article_id, "index": int(index)})

    # -- helpers ----------------------------------------------------------------------------------

    @staticmethod
    def _json(result: Any) -> dict[str, Any]:
        if not isinstance(result, dict):
            raise WeChatUnavailableError("WeChat answered with something other than a JSON object")
        return result


@contextmanager
def _translated() -> Iterator[None]:
    """wechatpy and requests exceptions in, citybot's typed errors out (tokens redacted)."""
    try:
        yield
    except WeChatAPIError:
        raise
    except WeChatClientException as exc:
        if exc.errcode is None:
            status = exc.response.status_code if exc.response is not None else "error"
            raise WeChatUnavailableError(f"WeChat answered HTTP {status}") from None
        error = error_for(int(exc.errcode), str(exc.errmsg or ""))
        error.answer = _answer(exc)
        raise error from None
    except requests.RequestException as exc:
        raise WeChatUnavailableError(f"{type(exc).__name__}: {redact(str(exc))}") from None


def _answer(exc: WeChatClientException) -> dict[str, Any]:
    try:
        data = exc.response.json() if exc.response is not None else {}
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
