"""A fake WeChat API server on loopback, for tests and local development.

It behaves like WeChat where citybot depends on it:

- ``/cgi-bin/token`` issues a new token each call and the previous one stops working at once;
- ``/cgi-bin/stable_token`` (POST JSON) hands out the same token while it lives, a new one in the last
  ``stable_renew_window`` seconds (WeChat: five minutes) with the old one valid until its own expiry,
  and a new one at once with ``force_refresh``, which invalidates the previous stable token; the two
  endpoints' tokens are independent, as on WeChat;
- every other endpoint checks ``access_token`` (41001 missing, 40001 invalid, 42001 expired) and answers
  JSON ``errcode``/``errmsg``, errors included, with HTTP 200.

Tests inject faults (``fail_next``, ``latency``, ``expire_tokens``) and read the recorded calls
(``calls``, ``sent_messages``, ``token_fetches``). An endpoint is a method decorated with
``@endpoint("path/under/cgi-bin")``; paths outside ``/cgi-bin/`` are named by their full path
(``@endpoint("sns/jscode2session", auth=False)``).

    with FakeWeChat() as fake:
        settings = load_settings(overrides=fake.settings_overrides())
"""

from __future__ import annotations

import itertools
import json
import logging
import math
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, Response, request
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from bot.clock import epoch
from bot.wechat.errors import redact

log = logging.getLogger("citybot.fake_wechat")

ERRMSGS: dict[int, str] = {
    -1: "system error",
    40001: "invalid credential, access_token is invalid or not latest",
    40002: "invalid grant_type",
    40003: "invalid openid",
    40007: "invalid media_id",
    40008: "invalid message type",
    40013: "invalid appid",
    40016: "invalid button size",
    40018: "invalid button name size",
    40023: "invalid sub button size",
    40025: "invalid sub button name size",
    40029: "invalid code",
    40037: "invalid template_id",
    40125: "invalid appsecret",
    40163: "code been used",
    40226: "high risk user",
    41001: "access_token missing",
    42001: "access_token expired",
    43001: "require GET method",
    43002: "require POST method",
    44002: "empty post data",
    45008: "article size out of limit",
    45009: "reach max api daily quota limit",
    45011: "api minute-quota reach limit mustslower retry next minute",
    45015: "response out of time limit or subscription is canceled",
    45028: "has no masssend quota",
    45047: "out of response count limit",
    45065: "clientmsgid exist",
    45157: "invalid tag name",
    45159: "invalid tag id",
    46003: "menu no exist",
    47001: "data format error",
    53600: "article id invalid",
    65303: "there is no selfmenu, please create selfmenu first",
    65304: "match rule empty",
}

CUSTOM_MSGTYPES = frozenset(
    {
        "text",
        "image",
        "voice",
        "video",
        "music",
        "news",
        "mpnews",
        "mpnewsarticle",
        "msgmenu",
        "wxcard",
        "miniprogrampage",
    }
)


@dataclass(frozen=True)
class Call:
    """One request the fake received, and the errcode it answered (0: success)."""

    endpoint: str
    method: str
    query: dict[str, str]
    body: Any
    errcode: int
    status: int
    answer: dict[str, Any] | None  # the JSON answered; None for media bytes
    at: float = field(default_factory=epoch, compare=False)


@dataclass(frozen=True)
class _Spec:
    name: str
    methods: tuple[str, ...]
    auth: bool
    envelope: bool


@dataclass(frozen=True)
class Incoming:
    """What an endpoint handler sees."""

    method: str
    query: dict[str, str]
    body: Any  # parsed JSON (the form fields of a multipart upload), or None for an empty body
    files: dict[str, tuple[str, bytes, str]] = field(default_factory=dict)  # name -> (filename, data, type)


class Fail(Exception):  # noqa: N818 - a control-flow signal, not an error of the fake itself
    """Raised by a handler: answer ``errcode`` with WeChat's message for it."""

    def __init__(self, errcode: int, errmsg: str | None = None, **extra: Any) -> None:
        super().__init__(errcode)
        self.errcode = errcode
        self.errmsg = errmsg or ERRMSGS.get(errcode, "error")
        self.extra = extra  # more fields of the answer, as WeChat adds to some errors


Handler = Callable[[Incoming], "dict[str, Any] | Response"]


def endpoint(
    name: str, *, methods: tuple[str, ...] = ("GET", "POST"), auth: bool = True, envelope: bool = True
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare a method of FakeWeChat as the handler of ``name`` (the path below /cgi-bin/).

    ``auth``: the call needs a valid ``access_token``. ``envelope``: a success carries
    ``"errcode": 0, "errmsg": "ok"`` (WeChat omits them on token, menu/get, jscode2session).
    """

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        fn._fake_endpoint = _Spec(name, methods, auth, envelope)  # type: ignore[attr-defined]
        return fn

    return decorate


@dataclass
class _Fault:
    errcode: int
    errmsg: str
    status: int


class FakeWeChat:
    """WeChat's API on 127.0.0.1, served from a daemon thread."""

    def __init__(
        self,
        app_id: str = "wxfake00000000001",
        app_secret: str = "fake-app-secret",
        *,
        expires_in: int = 7200,
        stable_renew_window: float | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        quiet: bool = True,
    ) -> None:
        self.app_id = app_id
        self.app_secret = app_secret
        self.expires_in = expires_in
        self.stable_renew_window = (
            min(300.0, expires_in / 2) if stable_renew_window is None else stable_renew_window
        )
        self.host = host
        self.port = port
        self.quiet = quiet
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._tokens: dict[str, float] = {}  # token -> expiry (time.monotonic)
        self._classic: str | None = None
        self._stable: str | None = None
        self._faults: dict[str, deque[_Fault]] = {}
        self._latency: dict[str, float] = {}
        self._calls: list[Call] = []
        self._media: dict[str, tuple[bytes, str]] = {}
        self._miniprograms: dict[str, str] = {}  # mini-program app id -> secret
        self._login_codes: dict[str, tuple[str, str, str | None]] = {}  # code -> (app id, openid, unionid)
        self._used_codes: set[str] = set()
        self.menu: dict[str, Any] | None = None
        self.conditional_menus: list[dict[str, Any]] = []
        self.materials: dict[str, tuple[bytes, str]] = {}  # permanent media: media_id -> (data, type)
        self.drafts: dict[str, list[dict[str, Any]]] = {}  # draft box: media_id -> articles
        self.mass_quota: int | None = None  # mass sends left (None: unlimited); 0 answers 45028
        self.mass_messages: dict[int, dict[str, Any]] = {}  # msg_id -> the accepted sendall body
        self.publishes: dict[str, str] = {}  # publish_id -> draft media_id
        self.deleted_articles: list[str] = []  # freepublish/delete article ids
        self.tags: dict[int, str] = {}
        self.tag_members: dict[int, set[str]] = {}
        self._clientmsgids: dict[str, int] = {}  # clientmsgid -> msg_id of its send
        self._ids = itertools.count(1000)
        self._routes: dict[str, tuple[_Spec, Handler]] = {}
        for attr in dir(type(self)):
            spec = getattr(getattr(type(self), attr), "_fake_endpoint", None)
            if isinstance(spec, _Spec):
                self._routes[spec.name] = (spec, getattr(self, attr))
        self.app = self._build_app()
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle --------------------------------------------------------------------------------

    def start(self) -> FakeWeChat:
        if self._server is not None:
            return self
        self._stopping.clear()
        self._server = make_server(
            self.host, self.port, self.app, threaded=True, request_handler=self._handler_class()
        )
        self.port = self._server.server_port
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name=f"fake-wechat:{self.port}", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._stopping.set()  # wakes handlers sleeping in an injected latency
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> FakeWeChat:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the fake WeChat server is not started")
        return f"http://{self.host}:{self.port}"

    def settings_overrides(self) -> dict[str, Any]:
        """Settings overrides that point citybot at this fake."""
        return {"wechat": {"api_base_url": self.url, "app_id": self.app_id, "app_secret": self.app_secret}}

    # -- test controls ----------------------------------------------------------------------------

    def fail_next(
        self, endpoint: str, errcode: int, times: int = 1, *, errmsg: str | None = None, status: int = 200
    ) -> None:
        """The next ``times`` calls to ``endpoint`` answer ``errcode`` (with HTTP ``status``)."""
        fault = _Fault(errcode, errmsg or ERRMSGS.get(errcode, "error"), status)
        with self._lock:
            self._faults.setdefault(endpoint, deque()).extend([fault] * times)

    def latency(self, endpoint: str, seconds: float) -> None:
        """Every call to ``endpoint`` waits ``seconds`` before it is answered (0 to stop)."""
        with self._lock:
            if seconds > 0:
                self._latency[endpoint] = seconds
            else:
                self._latency.pop(endpoint, None)

    def expire_tokens(self) -> None:
        """Invalidate every token issued so far, as when another system rotates the token."""
        with self._lock:
            self._tokens.clear()
            self._classic = None
            self._stable = None

    def add_media(self, media_id: str, data: bytes, content_type: str = "image/jpeg") -> None:
        with self._lock:
            self._media[media_id] = (data, content_type)

    def add_miniprogram(self, app_id: str, app_secret: str) -> None:
        """A mini program whose codes ``sns/jscode2session`` exchanges."""
        with self._lock:
            self._miniprograms[app_id] = app_secret

    def login_code(self, app_id: str, openid: str, *, unionid: str | None = None) -> str:
        """A ``wx.login`` code of ``openid`` in the mini program ``app_id``; it works once."""
        code = secrets.token_urlsafe(24)
        with self._lock:
            self._login_codes[code] = (app_id, openid, unionid)
        return code

    def valid_tokens(self) -> set[str]:
        now = time.monotonic()
        with self._lock:
            return {token for token, expiry in self._tokens.items() if expiry > now}

    # -- recorded calls ---------------------------------------------------------------------------

    def calls(self, endpoint: str | None = None) -> list[Call]:
        with self._lock:
            return [c for c in self._calls if endpoint is None or c.endpoint == endpoint]

    @property
    def token_fetches(self) -> list[Call]:
        """Successful calls to /cgi-bin/token and /cgi-bin/stable_token."""
        return [c for c in self.calls() if c.endpoint in ("token", "stable_token") and c.errcode == 0]

    @property
    def sent_messages(self) -> list[dict[str, Any]]:
        """Bodies of customer-service messages WeChat accepted."""
        return [c.body for c in self.calls("message/custom/send") if c.errcode == 0]

    @property
    def sent_templates(self) -> list[dict[str, Any]]:
        """Bodies of template messages WeChat accepted."""
        return [c.body for c in self.calls("message/template/send") if c.errcode == 0]

    @property
    def mass_sends(self) -> list[dict[str, Any]]:
        """Bodies of mass sends WeChat accepted (a repeated clientmsgid is refused, not counted)."""
        return [c.body for c in self.calls("message/mass/sendall") if c.errcode == 0]

    @property
    def deleted_mass(self) -> list[dict[str, Any]]:
        return [c.body for c in self.calls("message/mass/delete") if c.errcode == 0]

    # -- tokens -----------------------------------------------------------------------------------

    def _issue(self) -> str:
        token = f"FAKE_{secrets.token_urlsafe(32)}"
        self._tokens[token] = time.monotonic() + self.expires_in
        return token

    def _remaining(self, token: str) -> float:
        return self._tokens.get(token, 0.0) - time.monotonic()

    def _check_credentials(self, grant_type: Any, appid: Any, secret: Any) -> None:
        if grant_type != "client_credential":
            raise Fail(40002)
        if appid != self.app_id:
            raise Fail(40013)
        if secret != self.app_secret:
            raise Fail(40125)

    def _check_token(self, query: dict[str, str]) -> None:
        token = query.get("access_token")
        if not token:
            raise Fail(41001)
        if token not in self._tokens:
            raise Fail(40001)
        if self._remaining(token) <= 0:
            raise Fail(42001)

    @staticmethod
    def _body(incoming: Incoming) -> dict[str, Any]:
        if incoming.body is None:
            raise Fail(44002)
        if not isinstance(incoming.body, dict):
            raise Fail(47001)
        return incoming.body

    # -- endpoints --------------------------------------------------------------------------------

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

    @endpoint("message/custom/send", methods=("POST",))
    def _custom_send(self, incoming: Incoming) -> dict[str, Any]:
        body = self._body(incoming)
        if not body.get("touser"):
            raise Fail(40003)
        msgtype = body.get("msgtype")
        if msgtype not in CUSTOM_MSGTYPES or not isinstance(body.get(msgtype), dict):
            raise Fail(40008)
        if msgtype == "news" and len(body["news"].get("articles") or []) != 1:
            raise Fail(45008)
        return {}

    @endpoint("message/template/send", methods=("POST",))
    def _template_send(self, incoming: Incoming) -> dict[str, Any]:
        body = self._body(incoming)
        if not body.get("touser"):
            raise Fail(40003)
        if not body.get("template_id"):
            raise Fail(40037)
        return {"msgid": next(self._ids)}

    @endpoint("media/get", methods=("GET",))
    def _media_get(self, incoming: Incoming) -> dict[str, Any] | Response:
        media_id = incoming.query.get("media_id", "")
        if media_id not in self._media:
            raise Fail(40007)
        data, content_type = self._media[media_id]
        extension = content_type.split("/")[-1].split(";")[0]
        return Response(
            data,
            content_type=content_type,
            headers={"Content-disposition": f'attachment; filename="{media_id}.{extension}"'},
        )

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
        if issued is None or issued[0] != app_id:
            raise Fail(40029)
        self._used_codes.add(code)
        _app, openid, unionid = issued
        answer = {"openid": openid, "session_key": secrets.token_urlsafe(16)}
        if unionid:
            answer["unionid"] = unionid
        return answer

    @endpoint("menu/create", methods=("POST",))
    def _menu_create(self, incoming: Incoming) -> dict[str, Any]:
        body = self._body(incoming)
        self._validate_menu(body)
        self.menu = {"button": body["button"], "menuid": next(self._ids)}
        return {}

    @endpoint("menu/addconditional", methods=("POST",))
    def _menu_addconditional(self, incoming: Incoming) -> dict[str, Any]:
        body = self._body(incoming)
        if self.menu is None:
            raise Fail(65303)
        if not body.get("matchrule"):
            raise Fail(65304)
        self._validate_menu(body)
        menuid = str(next(self._ids))
        self.conditional_menus.append(
            {"button": body["button"], "matchrule": body["matchrule"], "menuid": menuid}
        )
        return {"menuid": menuid}

    @endpoint("menu/get", methods=("GET",), envelope=False)
    def _menu_get(self, incoming: Incoming) -> dict[str, Any]:
        if self.menu is None:
            raise Fail(46003)
        answer: dict[str, Any] = {"menu": self.menu}
        if self.conditional_menus:
            answer["conditionalmenu"] = self.conditional_menus
        return answer

    @endpoint("menu/delete", methods=("GET",))
    def _menu_delete(self, incoming: Incoming) -> dict[str, Any]:
        self.menu = None
        self.conditional_menus = []
        return {}

    # -- materials, drafts, publishing, mass sends ------------------------------------------------

    @endpoint("material/add_material", methods=("POST",))
    def _add_material(self, incoming: Incoming) -> dict[str, Any]:
        if incoming.query.get("type") not in ("image", "thumb", "voice", "video"):
            raise Fail(40004, "invalid media type")
        if "media" not in incoming.files:
            raise Fail(41005, "media data missing")
        _name, data, content_type = incoming.files["media"]
        media_id = f"MATERIAL_{next(self._ids)}"
        self.materials[media_id] = (data, content_type)
        return {"media_id": media_id, "url": f"http://mmbiz.qpic.cn/fake/{media_id}/0"}

    @endpoint("draft/add", methods=("POST",))
    def _draft_add(self, incoming: Incoming) -> dict[str, Any]:
        articles = self._body(incoming).get("articles")
        if not isinstance(articles, list) or not articles:
            raise Fail(47001)
        for article in articles:
            if not article.get("title") or not article.get("content"):
                raise Fail(47001)
            if article.get("thumb_media_id") not in self.materials:
                raise Fail(40007)
        media_id = f"DRAFT_{next(self._ids)}"
        self.drafts[media_id] = articles
        return {"media_id": media_id}

    @endpoint("message/mass/sendall", methods=("POST",))
    def _mass_sendall(self, incoming: Incoming) -> dict[str, Any]:
        body = self._body(incoming)
        target = body.get("filter")
        if not isinstance(target, dict) or (not target.get("is_to_all") and target.get("tag_id") is None):
            raise Fail(47001)
        if (
            target.get("tag_id") is not None
            and not target.get("is_to_all")
            and target["tag_id"] not in self.tags
        ):
            raise Fail(45159)
        if body.get("msgtype") != "mpnews" or (body.get("mpnews") or {}).get("media_id") not in self.drafts:
            raise Fail(40007)
        clientmsgid = body.get("clientmsgid")
        if clientmsgid and clientmsgid in self._clientmsgids:
            raise Fail(45065, msg_id=self._clientmsgids[clientmsgid])
        if self.mass_quota is not None:
            if self.mass_quota <= 0:
                raise Fail(45028)
            self.mass_quota -= 1
        msg_id = next(self._ids)
        if clientmsgid:
            self._clientmsgids[clientmsgid] = msg_id
        self.mass_messages[msg_id] = body
        return {"msg_id": msg_id, "msg_data_id": msg_id * 10}

    @endpoint("message/mass/delete", methods=("POST",))
    def _mass_delete(self, incoming: Incoming) -> dict[str, Any]:
        body = self._body(incoming)
        if body.get("msg_id") not in self.mass_messages:
            raise Fail(40003, "invalid msg_id")
        return {}

    @endpoint("freepublish/submit", methods=("POST",))
    def _freepublish_submit(self, incoming: Incoming) -> dict[str, Any]:
        media_id = self._body(incoming).get("media_id")
        if media_id not in self.drafts:
            raise Fail(40007)
        publish_id = str(next(self._ids))
        self.publishes[publish_id] = str(media_id)
        return {"publish_id": publish_id, "msg_data_id": int(publish_id) * 10}

    @endpoint("freepublish/delete", methods=("POST",))
    def _freepublish_delete(self, incoming: Incoming) -> dict[str, Any]:
        article_id = self._body(incoming).get("article_id")
        if not article_id:
            raise Fail(53600)
        self.deleted_articles.append(str(article_id))
        return {}

    # -- user tags --------------------------------------------------------------------------------

    @endpoint("tags/create", methods=("POST",), envelope=False)
    def _tags_create(self, incoming: Incoming) -> dict[str, Any]:
        name = (self._body(incoming).get("tag") or {}).get("name")
        if not name or len(name) > 30:
            raise Fail(45158, "tag name too long")
        if name in self.tags.values():
            raise Fail(45157)
        tag_id = 100 + len(self.tags)
        self.tags[tag_id] = name
        self.tag_members[tag_id] = set()
        return {"tag": {"id": tag_id, "name": name}}

    @endpoint("tags/get", methods=("GET",), envelope=False)
    def _tags_get(self, incoming: Incoming) -> dict[str, Any]:
        return {
            "tags": [
                {"id": tag_id, "name": name, "count": len(self.tag_members[tag_id])}
                for tag_id, name in sorted(self.tags.items())
            ]
        }

    @endpoint("tags/members/batchtagging", methods=("POST",))
    def _tags_batchtagging(self, incoming: Incoming) -> dict[str, Any]:
        body = self._body(incoming)
        openids = body.get("openid_list")
        if not isinstance(openids, list) or not openids or len(openids) > 50:
            raise Fail(40032, "invalid openid list size")
        if body.get("tagid") not in self.tags:
            raise Fail(45159)
        self.tag_members[body["tagid"]].update(openids)
        return {}

    @endpoint("menu/delconditional", methods=("POST",))
    def _menu_delconditional(self, incoming: Incoming) -> dict[str, Any]:
        menuid = str(self._body(incoming).get("menuid"))
        remaining = [m for m in self.conditional_menus if m["menuid"] != menuid]
        if len(remaining) == len(self.conditional_menus):
            raise Fail(46003)
        self.conditional_menus = remaining
        return {}

    @staticmethod
    def _validate_menu(body: dict[str, Any]) -> None:
        buttons = body.get("button")
        if not isinstance(buttons, list) or not 1 <= len(buttons) <= 3:
            raise Fail(40016)
        for button in buttons:
            if len(str(button.get("name", "")).encode("utf-8")) > 16 or not button.get("name"):
                raise Fail(40018)
            subs = button.get("sub_button")
            if subs is None:
                continue
            if not isinstance(subs, list) or len(subs) > 5:
                raise Fail(40023)
            for sub in subs:
                if len(str(sub.get("name", "")).encode("utf-8")) > 60 or not sub.get("name"):
                    raise Fail(40025)

    # -- plumbing ---------------------------------------------------------------------------------

    def _build_app(self) -> Flask:
        app = Flask("devtools.fake_wechat")

        @app.route("/", methods=["GET"])
        def index() -> Response:
            return _json({"fake": "wechat", "endpoints": sorted(self._routes)})

        @app.route("/<path:path>", methods=["GET", "POST"])
        def dispatch(path: str) -> Response:
            return self._dispatch(path.removeprefix("cgi-bin/"))

        return app

    def _dispatch(self, name: str) -> Response:
        route = self._routes.get(name)
        if route is None:
            return _json({"errcode": 404, "errmsg": f"the fake has no endpoint {name!r}"}, status=404)
        spec, handler = route
        query = request.args.to_dict()
        body: Any = None
        body_error = False
        files: dict[str, tuple[str, bytes, str]] = {}
        if request.mimetype == "multipart/form-data":
            files = {name: (f.filename or "", f.read(), f.mimetype) for name, f in request.files.items()}
            body = {**request.form.to_dict(), "files": {n: (f[0], len(f[1]), f[2]) for n, f in files.items()}}
        elif raw := request.get_data():
            try:
                body = json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, ValueError):
                body, body_error = raw.decode("utf-8", "replace"), True
        with self._lock:
            delay = self._latency.get(name, 0.0)
        if delay and self._stopping.wait(delay):
            return _json({"errcode": -1, "errmsg": "shutting down"}, status=503)

        status = 200
        with self._lock:
            faults = self._faults.get(name)
            try:
                if faults:
                    fault = faults.popleft()
                    status = fault.status
                    raise Fail(fault.errcode, fault.errmsg)
                if request.method not in spec.methods:
                    raise Fail(43002 if "POST" in spec.methods else 43001)
                if body_error:
                    raise Fail(47001)
                if spec.auth:
                    self._check_token(query)
                result = handler(Incoming(request.method, query, body, files))
            except Fail as fail:
                result = {
                    "errcode": fail.errcode,
                    "errmsg": f"{fail.errmsg} rid: {secrets.token_hex(6)}",
                    **fail.extra,
                }
            if isinstance(result, Response):
                self._calls.append(Call(name, request.method, query, body, 0, status, None))
                return result
            errcode = int(result.get("errcode", 0))
            answer = {"errcode": 0, "errmsg": "ok", **result} if errcode == 0 and spec.envelope else result
            self._calls.append(Call(name, request.method, query, body, errcode, status, answer))
        return _json(answer, status=status)

    def _handler_class(self) -> type[WSGIRequestHandler]:
        quiet = self.quiet

        class _Handler(WSGIRequestHandler):
            def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
                if not quiet:
                    log.info("%s %s", redact(self.requestline), code)

        return _Handler


def _json(payload: dict[str, Any], status: int = 200) -> Response:
    return Response(
        json.dumps(payload, ensure_ascii=False),
        status=status,
        content_type="application/json; encoding=utf-8",
    )
