"""The WeChat API calls the menu makes, as a Protocol: the domain depends on this, not on a client.

``bot.wechat.api.WeChatAPI`` implements it; its errors carry ``errcode``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

TAG_NAME_EXISTS = 45157  # WeChat error code: a tag of that name exists already


class MenuAPI(Protocol):
    def create_menu(self, menu: Mapping[str, Any]) -> Any: ...

    def create_conditional_menu(self, menu: Mapping[str, Any]) -> str: ...

    def delete_conditional_menu(self, menu_id: str) -> Any: ...

    def create_tag(self, name: str) -> int: ...

    def list_tags(self) -> list[dict[str, Any]]: ...

    def tag_users(self, tag_id: int, openids: Sequence[str]) -> Any: ...
