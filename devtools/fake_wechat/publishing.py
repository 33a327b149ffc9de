"""Publishing: the draft box (``draft/add``), ``freepublish/submit|delete`` and mass sends
(``message/mass/sendall|delete``).

A draft's cover is a permanent material (``media``); a mass send may go to a user tag (``tags``).

With a webhook, an accepted mass send is followed ``event_delay`` seconds later by its
MASSSENDJOBFINISH event, and a publication by its PUBLISHJOBFINISH event, each carrying the
address of the article, which the stand-in serves itself (``devtools/article``) as WeChat serves a
published article: what 最新发布 links to opens in a browser.
"""

from __future__ import annotations

import html
from typing import Any

from flask import Response

from devtools.fake_wechat.media import MediaEndpoints
from devtools.fake_wechat.server import Fail, Incoming, endpoint
from devtools.fake_wechat.tags import TagEndpoints


class PublishingEndpoints(MediaEndpoints, TagEndpoints):
    drafts: dict[str, list[dict[str, Any]]]  # draft box: media_id -> articles
    mass_quota: int | None  # mass sends left (None: unlimited); 0 answers 45028
    mass_messages: dict[int, dict[str, Any]]  # msg_id -> the accepted sendall body
    publishes: dict[str, str]  # publish_id -> draft media_id
    deleted_articles: list[str]  # freepublish/delete article ids
    followers: int  # how many followers a send to everyone reaches (the counts of its event)
    _clientmsgids: dict[str, int]  # clientmsgid -> msg_id of its send

    def _init_state(self) -> None:
        super()._init_state()
        self.drafts = {}
        self.mass_quota = None
        self.mass_messages = {}
        self.publishes = {}
        self.deleted_articles = []
        self.followers = 1
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
        self._mass_finished_later(msg_id, body)
        return {"msg_id": msg_id, "msg_data_id": msg_id * 10}

    def article_url(self, draft_media_id: str, index: int = 0) -> str:
        """Where the stand-in serves an article of the draft box once it is sent or published."""
        return f"{self.url}/devtools/article?media_id={draft_media_id}&idx={index}"

    def _mass_finished_later(self, msg_id: int, body: dict[str, Any]) -> None:
        target = body["filter"]
        reached = (
            self.followers if target.get("is_to_all") else len(self.tag_members.get(target["tag_id"], ()))
        )
        media_id = str(body["mpnews"]["media_id"])
        items = [
            {"ArticleIdx": index + 1, "ArticleUrl": self.article_url(media_id, index)}
            for index in range(len(self.drafts[media_id]))
        ]
        self.send_event(
            "MASSSENDJOBFINISH",
            {
                "MsgID": msg_id,
                "Status": "send success",
                "TotalCount": reached,
                "FilterCount": reached,
                "SentCount": reached,
                "ErrorCount": 0,
                "ArticleUrlResult": {"Count": len(items), "ResultList": {"item": items}},
            },
        )

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
        items = [
            {"idx": index + 1, "article_url": self.article_url(str(media_id), index)}
            for index in range(len(self.drafts[str(media_id)]))
        ]
        self.send_event(
            "PUBLISHJOBFINISH",
            {
                "PublishEventInfo": {
                    "publish_id": publish_id,
                    "publish_status": 0,
                    "article_id": f"ARTICLE_{publish_id}",
                    "article_detail": {"count": len(items), "item": items},
                }
            },
        )
        return {"publish_id": publish_id, "msg_data_id": int(publish_id) * 10}

    @endpoint("freepublish/delete", methods=("POST",))
    def _freepublish_delete(self, incoming: Incoming) -> dict[str, Any]:
        article_id = self._body(incoming).get("article_id")
        if not article_id:
            raise Fail(53600)
        self.deleted_articles.append(str(article_id))
        return {}

    @endpoint("devtools/article", methods=("GET",), auth=False, record=False)
    def _dev_article(self, incoming: Incoming) -> dict[str, Any] | Response:
        """An article of the draft box as a reader sees it: title, author, cover and the content."""
        articles = self.drafts.get(incoming.query.get("media_id", ""))
        try:
            article = (articles or [])[int(incoming.query.get("idx", "0"))]
        except (IndexError, ValueError):
            raise Fail(40007) from None
        cover = self.pic_url(str(article.get("thumb_media_id", "")))
        page = (
            '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{html.escape(str(article.get('title', '')))}</title></head>"
            '<body style="max-width:40rem;margin:2rem auto;padding:0 1rem;font-family:sans-serif">'
            f"<h1>{html.escape(str(article.get('title', '')))}</h1>"
            f"<p>{html.escape(str(article.get('author') or ''))}</p>"
            f'<img src="{html.escape(cover)}" alt="" style="max-width:100%">'
            # the account's own HTML, as WeChat shows it (citybot sanitises it before draft/add)
            f"<article>{article.get('content', '')}</article></body></html>"
        )
        return Response(page, content_type="text/html; charset=utf-8")
