"""Publishing: the draft box (``draft/add``), ``freepublish/submit|delete`` and mass sends
(``message/mass/sendall|delete``).

A draft's cover is a permanent material (``media``); a mass send may go to a user tag (``tags``).
"""

from __future__ import annotations

from typing import Any

from devtools.fake_wechat.media import MediaEndpoints
from devtools.fake_wechat.server import Fail, Incoming, endpoint
from devtools.fake_wechat.tags import TagEndpoints


class PublishingEndpoints(MediaEndpoints, TagEndpoints):
    drafts: dict[str, list[dict[str, Any]]]  # draft box: media_id -> articles
    mass_quota: int | None  # mass sends left (None: unlimited); 0 answers 45028
    mass_messages: dict[int, dict[str, Any]]  # msg_id -> the accepted sendall body
    publishes: dict[str, str]  # publish_id -> draft media_id
    deleted_articles: list[str]  # freepublish/delete article ids
    _clientmsgids: dict[str, int]  # clientmsgid -> msg_id of its send

    def _init_state(self) -> None:
        super()._init_state()
        self.drafts = {}
        self.mass_quota = None
        self.mass_messages = {}
        self.publishes = {}
        self.deleted_articles = []
        self._clientmsgids = {}

    @property
    def mass_sends(self) -> list[dict[str, Any]]:
        """Bodies of mass sends WeChat accepted (a repeated clientmsgid is refused, not counted)."""
        return [c.body for c in self.calls("message/mass/sendall") if c.errcode == 0]

    @property
    def deleted_mass(self) -> list[dict[str, Any]]:
        return [c.body for c in self.calls("message/mass/delete") if c.errcode == 0]

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
