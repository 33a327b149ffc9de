"""Baseline for the webhook benchmark: the smallest correct Flask + wechatpy webhook.

It verifies the signature, parses the message and echoes a text reply: what any wechatpy webhook
pays per message before doing anything useful. ``gunicorn 'bench.echo_app:app'``.
"""

from __future__ import annotations

import os

from flask import Flask, Response, request
from wechatpy import parse_message
from wechatpy.exceptions import InvalidSignatureException
from wechatpy.replies import TextReply
from wechatpy.utils import check_signature

TOKEN = os.environ.get("ECHO_TOKEN", "bench-token")
app = Flask(__name__)


@app.post("/wechat")
def echo() -> Response:
    args = request.args
    try:
        check_signature(TOKEN, args.get("signature", ""), args.get("timestamp", ""), args.get("nonce", ""))
    except InvalidSignatureException:
        return Response("forbidden", status=403)
    message = parse_message(request.get_data())
    reply = TextReply(content=getattr(message, "content", "") or "ok", message=message)
    return Response(reply.render(), mimetype="application/xml")
