"""Development tools: stand-ins for WeChat used by the tests, the demo and the ``citybot chat`` and
``citybot fake-wechat`` commands. Nothing in the shipped application imports them.

- ``devtools.fake_wechat``: a fake WeChat API server on loopback (``FakeWeChat``);
- ``devtools.simulator``: acting as WeChat towards a citybot webhook (``WeChatSimulator``).
"""
