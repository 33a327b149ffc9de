"""The fake WeChat API server: HTTP on loopback, the endpoint registry, faults, latency, recorded calls.

It behaves like WeChat where citybot depends on it: every endpoint but the token ones checks
``access_token`` (41001 missing, 40001 invalid, 42001 expired) and answers JSON
``errcode``/``errmsg``, errors included, with HTTP 200.

Tests inject faults (``fail_next``, ``latency``, ``expire_tokens``) and read the recorded calls
(``calls``, ``sent_messages``, ``token_fetches``). Given a ``Webhook``, the fake also acts as WeChat
towards citybot: it posts the events WeChat sends on its own (a mass send's or a publication's
job-finished event), signed (and encrypted in safe mode) like WeChat, and records each delivery.
Routes under ``devtools/`` are the stand-in's own, for the demo and the chat simulator (upload a
photo as a resident's phone would, mint a mini-program login code, read the messages sent to a
resident, open a published article); they need no token and are not recorded as calls.

An endpoint is a method decorated with ``@endpoint("path/under/cgi-bin")``; paths outside
``/cgi-bin/`` are named by their full path (``@endpoint("sns/jscode2session", auth=False)``). The
endpoints live in the sibling modules, one per family, each a subclass of ``FakeWeChatServer``
that sets up its own state in ``_init_state``; ``devtools.fake_wechat.FakeWeChat`` combines them.

    with FakeWeChat() as fake:
        settings = load_settings(overrides=fake.settings_overrides())
"""

from __future__ import annotations

import itertools
import json
import logging
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Self

import requests
from flask import Flask, Response, request
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from bot.core.clock import epoch
from bot.wechat.errors import redact
from devtools.simulator import WeChatSimulator

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
    record: bool = True


@dataclass(frozen=True)
class Webhook:
    """citybot's webhook as WeChat calls it: where events go and how they are signed."""

    url: str  # e.g. http://127.0.0.1:8000/wechat
    token: str
    encoding_aes_key: str = ""  # set: events are encrypted (safe mode), as WeChat does then
    app_id: str = ""
    account: str = "gh_citybot"  # ToUserName: the service account's original id


@dataclass(frozen=True)
class EventDelivery:
    """One event the fake posted to the webhook: the HTTP status of its last attempt (None: no answer)."""

    event: str
    fields: dict[str, Any]
    status: int | None
    attempts: int
    at: float = field(default_factory=epoch, compare=False)

    @property
    def delivered(self) -> bool:
        return self.status == 200


#: The FromUserName of the events WeChat sends on its own (job-finished events).
SYSTEM_OPENID = "o_fake_wechat_system"


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
    name: str,
    *,
    methods: tuple[str, ...] = ("GET", "POST"),
    auth: bool = True,
    envelope: bool = True,
    record: bool = True,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare a method of a FakeWeChatServer subclass as the handler of ``name`` (the path below /cgi-bin/).

    ``auth``: the call needs a valid ``access_token``. ``envelope``: a success carries
    ``"errcode": 0, "errmsg": "ok"`` (WeChat omits them on token, menu/get, jscode2session).
    ``record``: the call is kept in ``calls()`` (the stand-in's own ``devtools/`` routes are not).
    """

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        fn._fake_endpoint = _Spec(name, methods, auth, envelope, record)  # type: ignore[attr-defined]
        return fn

    return decorate


@dataclass
class _Fault:
    errcode: int
    errmsg: str
    status: int


class FakeWeChatServer:
    """WeChat's API on 127.0.0.1, served from a daemon thread: the endpoints of its subclasses."""

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
        webhook: Webhook | None = None,
        event_delay: float = 2.0,
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
        self.webhook = webhook
        self.event_delay = event_delay  # seconds between an accepted send and its job-finished event
        self.deliveries: list[EventDelivery] = []
        self._timers: list[threading.Timer] = []
        self._last_event_time = 0
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._tokens: dict[str, float] = {}  # token -> expiry (time.monotonic)
        self._faults: dict[str, deque[_Fault]] = {}
        self._latency: dict[str, float] = {}
        self._calls: list[Call] = []
        self._ids = itertools.count(1000)
        self._init_state()
        self._routes: dict[str, tuple[_Spec, Handler]] = {}
        for attr in dir(type(self)):
            spec = getattr(getattr(type(self), attr), "_fake_endpoint", None)
            if isinstance(spec, _Spec):
                self._routes[spec.name] = (spec, getattr(self, attr))
        self.app = self._build_app()
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    def _init_state(self) -> None:
        """Set up the state of an endpoint family; each family extends it and calls super()."""

    # -- lifecycle --------------------------------------------------------------------------------

    def start(self) -> Self:
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
        with self._lock:
            timers, self._timers = self._timers, []
        for timer in timers:
            timer.cancel()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> Self:
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

    # -- events WeChat sends on its own -----------------------------------------------------------

    def send_event(self, event: str, fields: dict[str, Any], *, delay: float | None = None) -> None:
        """Post ``event`` to the webhook ``delay`` seconds from now (default ``event_delay``), from a
        timer thread; WeChat's retries: three attempts a second apart until one is answered 200."""
        if self.webhook is None:
            return
        timer = threading.Timer(
            self.event_delay if delay is None else delay, self._post_event, (event, fields)
        )
        timer.daemon = True
        with self._lock:
            self._timers = [t for t in self._timers if t.is_alive()]
            self._timers.append(timer)
        timer.start()

    def _post_event(self, event: str, fields: dict[str, Any]) -> None:
        webhook = self.webhook
        if webhook is None:
            return
        sim = WeChatSimulator.over_http(
            webhook.url,
            token=webhook.token,
            app_id=webhook.app_id,
            encoding_aes_key=webhook.encoding_aes_key,
            mode="safe" if webhook.encoding_aes_key else "plain",
            account=webhook.account,
        )
        with self._lock:
            # one event per second and sender is what WeChat's dedupe key (sender, CreateTime) allows
            self._last_event_time = max(int(epoch()), self._last_event_time + 1)
            created = self._last_event_time
        xml = sim.event(SYSTEM_OPENID, event, create_time=created, **fields)
        status: int | None = None
        attempts = 0
        while attempts < 3 and not self._stopping.is_set():
            attempts += 1
            try:
                status = sim.send(xml).status
            except requests.RequestException as exc:
                log.warning("could not post %s to %s: %s", event, webhook.url, exc)
                status = None
            if status == 200:
                break
            self._stopping.wait(1.0)
        with self._lock:
            self.deliveries.append(EventDelivery(event, fields, status, attempts))
        if not self.quiet:
            log.info("%s posted to %s: HTTP %s", event, webhook.url, status)

    def wait_for_deliveries(self, count: int, timeout: float = 10.0) -> list[EventDelivery]:
        """Block until ``count`` events were posted (or ``timeout``); the deliveries so far."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.deliveries) >= count:
                    return list(self.deliveries)
            time.sleep(0.05)
        with self._lock:
            return list(self.deliveries)

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

    def valid_tokens(self) -> set[str]:
        now = time.monotonic()
        with self._lock:
            return {token for token, expiry in self._tokens.items() if expiry > now}

    # -- recorded calls ---------------------------------------------------------------------------

    def calls(self, endpoint: str | None = None) -> list[Call]:
        with self._lock:
            return [c for c in self._calls if endpoint is None or c.endpoint == endpoint]

    # -- access tokens: issued by the token endpoints, checked here for every other ---------------

    def _issue(self) -> str:
        token = f"FAKE_{secrets.token_urlsafe(32)}"
        self._tokens[token] = time.monotonic() + self.expires_in
        return token

    def _remaining(self, token: str) -> float:
        return self._tokens.get(token, 0.0) - time.monotonic()

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
                if spec.record:
                    self._calls.append(Call(name, request.method, query, body, 0, status, None))
                return result
            errcode = int(result.get("errcode", 0))
            answer = {"errcode": 0, "errmsg": "ok", **result} if errcode == 0 and spec.envelope else result
            if spec.record:
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
