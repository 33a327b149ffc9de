"""The WeChat API calls 城管发布 makes, as a Protocol: the domain depends on this, not on a client.

``bot.wechat.api.WeChatAPI`` implements it; its errors carry ``errcode`` (and ``answer``, WeChat's JSON).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

# WeChat error codes this package handles.
NO_MASS_QUOTA = 45028  # 群发配额已用完
CLIENTMSGID_USED = 45065  # 相同 clientmsgid 已群发过: the earlier send stands
OUT_OF_WINDOW = 45015  # customer-service message outside the 48 h window
CS_QUOTA = 45047  # customer-service messages over quota


def errcode_of(exc: BaseException) -> int | None:
    """The WeChat errcode an API exception carries, if any."""
    code = getattr(exc, "errcode", None)
    try:
        return None if code is None else int(code)
    except (TypeError, ValueError):
        return None


class BroadcastAPI(Protocol):
    def send_text(self, openid: str, content: str) -> Any: ...

    def upload_image_material(self, data: bytes, filename: str, content_type: str) -> tuple[str, str]:
        """material/add_material?type=image: (permanent media_id, url)."""
        ...

    def download_media(self, media_id: str) -> tuple[bytes, str]:
        """media/get: (bytes, content type) of a temporary media id."""
        ...

    def add_draft(self, articles: Sequence[Mapping[str, Any]]) -> str:
        """draft/add: the draft's media_id."""
        ...

    def mass_send_all(
        self, media_id: str, *, tag_id: int | None, clientmsgid: str, send_ignore_reprint: bool
    ) -> dict[str, Any]:
        """message/mass/sendall of an mpnews: {"msg_id": ..., "msg_data_id": ...}."""
        ...

    def delete_mass(self, msg_id: int, article_idx: int = 0) -> Any: ...

    def submit_publish(self, media_id: str) -> str:
        """freepublish/submit: the publish_id."""
        ...

    def delete_publish(self, article_id: str, index: int = 0) -> Any: ...
