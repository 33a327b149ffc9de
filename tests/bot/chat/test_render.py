"""Every field a reply writes is inside a CDATA section it cannot end: the XML parses back exactly."""

from __future__ import annotations

import pytest
from wechatpy.messages import UnknownMessage

from bot.chat.render import render
from bot.chat.replies import Image, News, Reply, Text
from bot.wechat.inbound import Inbound, parse_xml

pytestmark = pytest.mark.unit

HOSTILE = "a]]><MsgType>image</MsgType><![CDATA[b]]>]]"


def inbound(openid: str, account: str) -> Inbound:
    """A parsed message built directly: parsing would refuse these ids, rendering must not rely on it."""
    raw = {"FromUserName": openid, "ToUserName": account, "MsgType": "text", "CreateTime": "1"}
    return Inbound(
        openid=openid,
        account=account,
        msg_type="text",
        event=None,
        event_key=None,
        content="x",
        raw_content="x",
        msg_id=1,
        create_time=1,
        raw=raw,
        xml="<xml/>",
        message=UnknownMessage(raw),
    )


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (Text(f"内容{HOSTILE}"), {"MsgType": "text", "Content": f"内容{HOSTILE}"}),
        (Image(HOSTILE), {"MsgType": "image", "Image": {"MediaId": HOSTILE}}),
        (
            News(title=HOSTILE, description=f"说明{HOSTILE}", url=f"https://x/?q={HOSTILE}", picurl=HOSTILE),
            {
                "MsgType": "news",
                "ArticleCount": "1",
                "Articles": {
                    "item": {
                        "Title": HOSTILE,
                        "Description": f"说明{HOSTILE}",
                        "Url": f"https://x/?q={HOSTILE}",
                        "PicUrl": HOSTILE,
                    }
                },
            },
        ),
    ],
)
def test_rendered_reply_parses_back_to_the_exact_values(reply: Reply, expected: dict[str, object]) -> None:
    openid, account = f"o{HOSTILE}", f"gh_{HOSTILE}"
    fields = parse_xml(render(reply, inbound(openid, account)))
    assert fields["ToUserName"] == openid
    assert fields["FromUserName"] == account
    assert set(fields) == {"ToUserName", "FromUserName", "CreateTime", *expected}
    for name, value in expected.items():
        assert fields[name] == value
