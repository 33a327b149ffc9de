"""The ``/wechat`` endpoint: verify -> decrypt -> parse -> accept (dedupe, journal, dispatch) -> reply.

Every refusal is one log line and a 4xx, never a traceback; WeChat never sees a 500.
"""

from __future__ import annotations

import logging
import time

from flask import Blueprint, Flask, Response, current_app, request

from bot.chat import inbox, recovery
from bot.chat.render import SUCCESS, render
from bot.chat.services import ChatServices
from bot.core import services
from bot.wechat.crypto import DecryptError, MessageCrypto
from bot.wechat.inbound import BadMessageError, parse_inbound, parse_xml
from bot.wechat.settings import WeChatSettings
from bot.wechat.signature import SignatureError, verify

log = logging.getLogger("citybot.webhook")
bp = Blueprint("wechat", __name__)


class RefusedError(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def init_app(app: Flask) -> None:
    wechat = services.settings(app).section(WeChatSettings)
    if wechat.safe_mode:
        services.of(app).get(ChatServices).crypto = MessageCrypto(
            wechat.token, wechat.encoding_aes_key, wechat.app_id
        )
    if not wechat.token:
        log.warning("wechat.token is empty: every request to /wechat will be refused")
    app.register_blueprint(bp)


def _crypto() -> MessageCrypto | None:
    return services.of().get(ChatServices).crypto


@bp.errorhandler(RefusedError)
def _refused(exc: RefusedError) -> Response:
    log.warning("refused %s %s from %s: %s", request.method, request.path, request.remote_addr, exc.reason)
    return Response(exc.reason, status=exc.status, mimetype="text/plain")


@bp.errorhandler(Exception)
def _unexpected(exc: Exception) -> Response:
    log.exception("unexpected error on /wechat")
    return Response(SUCCESS, mimetype="text/plain")


def _verify_request(extra: str | None = None) -> None:
    wechat = services.settings().section(WeChatSettings)
    if not wechat.token:
        raise RefusedError(403, "no token configured")
    args = request.args
    try:
        verify(
            wechat.token,
            args.get("signature", ""),
            args.get("timestamp", ""),
            args.get("nonce", ""),
            window=wechat.timestamp_window,
        )
    except SignatureError as exc:
        raise RefusedError(403, f"bad signature: {exc}") from None


@bp.get("/wechat")
def verify_url() -> Response:
    _verify_request()
    return Response(request.args.get("echostr", ""), mimetype="text/plain")


def _read_body(limit: int) -> bytes:
    if request.content_length is not None and request.content_length > limit:
        raise RefusedError(413, f"body of {request.content_length} bytes exceeds {limit}")
    body = request.stream.read(limit + 1)
    if len(body) > limit:
        raise RefusedError(413, f"body exceeds {limit} bytes")
    return body


def _plaintext(body: bytes, encrypted: bool) -> str:
    wechat = services.settings().section(WeChatSettings)
    if not encrypted:
        if wechat.encrypted_only:
            raise RefusedError(403, "plain-mode message refused: encrypted_only is on")
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError:
            raise RefusedError(400, "body is not UTF-8") from None
    crypto = _crypto()
    if crypto is None:
        raise RefusedError(400, "encrypted message but no encoding_aes_key configured")
    try:
        envelope = parse_xml(body)
    except BadMessageError as exc:
        raise RefusedError(400, str(exc)) from None
    encrypt = envelope.get("Encrypt")
    if not isinstance(encrypt, str) or not encrypt:
        raise RefusedError(400, "Encrypt element missing")
    args = request.args
    try:
        return crypto.decrypt(
            encrypt,
            args.get("msg_signature", ""),
            args.get("timestamp", ""),
            args.get("nonce", ""),
            window=wechat.timestamp_window,
        )
    except SignatureError as exc:
        raise RefusedError(403, f"bad msg_signature: {exc}") from None
    except DecryptError as exc:
        raise RefusedError(400, f"cannot decrypt: {exc}") from None


@bp.post("/wechat")
def receive() -> Response:
    started = time.monotonic()
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    recovery.ensure_started(app)
    body = _read_body(services.settings().section(WeChatSettings).max_body_bytes)
    _verify_request()
    encrypted = request.args.get("encrypt_type", "raw").lower() == "aes"
    xml = _plaintext(body, encrypted)
    try:
        inbound = parse_inbound(xml)
    except BadMessageError as exc:
        raise RefusedError(400, str(exc)) from None
    try:
        reply = inbox.accept(app, inbound, started=started, sent_at=int(request.args["timestamp"]))
    except OSError as exc:
        # Neither the database nor the spool could keep it: make WeChat try again rather than lose it.
        log.error("cannot keep message %s: %s", inbound.dedupe_key, exc)
        raise RefusedError(503, "message could not be kept; retry") from None
    text = render(reply, inbound, truncation_marker=services.texts()("common.truncated"))
    if text == SUCCESS:
        return Response(SUCCESS, mimetype="text/plain")
    crypto = _crypto()
    if encrypted and crypto is not None:
        text = crypto.encrypt_reply(text, request.args.get("nonce", ""))
    return Response(text, mimetype="application/xml")
