"""A fake WeChat API server on loopback, for tests and local development (see ``server``)."""

from devtools.fake_wechat.server import ERRMSGS, Call, Fail, FakeWeChat, Incoming, endpoint

__all__ = ["ERRMSGS", "Call", "Fail", "FakeWeChat", "Incoming", "endpoint"]
