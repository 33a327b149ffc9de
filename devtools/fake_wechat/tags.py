"""User tags: ``tags/create``, ``tags/get`` and ``tags/members/batchtagging``."""

from __future__ import annotations

from typing import Any

from devtools.fake_wechat.server import Fail, FakeWeChatServer, Incoming, endpoint


class TagEndpoints(FakeWeChatServer):
    tags: dict[int, str]  # tag id -> name
    tag_members: dict[int, set[str]]  # tag id -> openids

    def _init_state(self) -> None:
        super()._init_state()
        self.tags = {}
        self.tag_members = {}

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
