"""Media: temporary media fetched with ``media/get`` and permanent ``material/add_material``.

The stand-in's own routes: ``devtools/upload`` takes a photo as a resident's phone hands it to
WeChat (the chat simulator's ``/image``) and answers its MediaId and PicUrl; ``devtools/pic``
serves a temporary medium or a material by id, so a PicUrl or a material's url opens in a browser.
"""

from __future__ import annotations

import secrets
from typing import Any

from flask import Response

from devtools.fake_wechat.server import Fail, FakeWeChatServer, Incoming, endpoint


class MediaEndpoints(FakeWeChatServer):
    _media: dict[str, tuple[bytes, str]]  # temporary media: media_id -> (data, type)
    materials: dict[str, tuple[bytes, str]]  # permanent media: media_id -> (data, type)

    def _init_state(self) -> None:
        super()._init_state()
        self._media = {}
        self.materials = {}

    def add_media(self, media_id: str, data: bytes, content_type: str = "image/jpeg") -> None:
        with self._lock:
            self._media[media_id] = (data, content_type)

    def upload_media(self, data: bytes, content_type: str = "image/jpeg") -> str:
        """A new temporary medium, as WeChat stores a photo a resident sends: its MediaId."""
        media_id = f"MEDIA_{secrets.token_urlsafe(18)}"
        self.add_media(media_id, data, content_type)
        return media_id

    def pic_url(self, media_id: str) -> str:
        """Where the stand-in serves a medium or material (a message's PicUrl, a material's url)."""
        return f"{self.url}/devtools/pic?media_id={media_id}"

    @endpoint("media/get", methods=("GET",))
    def _media_get(self, incoming: Incoming) -> dict[str, Any] | Response:
        media_id = incoming.query.get("media_id", "")
        if media_id not in self._media:
            raise Fail(40007)
        data, content_type = self._media[media_id]
        extension = content_type.split("/")[-1].split(";")[0]
        return Response(
            data,
            content_type=content_type,
            headers={"Content-disposition": f'attachment; filename="{media_id}.{extension}"'},
        )

    @endpoint("material/add_material", methods=("POST",))
    def _add_material(self, incoming: Incoming) -> dict[str, Any]:
        if incoming.query.get("type") not in ("image", "thumb", "voice", "video"):
            raise Fail(40004, "invalid media type")
        if "media" not in incoming.files:
            raise Fail(41005, "media data missing")
        _name, data, content_type = incoming.files["media"]
        media_id = f"MATERIAL_{next(self._ids)}"
        self.materials[media_id] = (data, content_type)
        return {"media_id": media_id, "url": self.pic_url(media_id)}

    @endpoint("devtools/upload", methods=("POST",), auth=False, envelope=False, record=False)
    def _dev_upload(self, incoming: Incoming) -> dict[str, Any]:
        if "media" not in incoming.files:
            raise Fail(41005, "media data missing")
        _name, data, content_type = incoming.files["media"]
        if not data:
            raise Fail(41005, "media data missing")
        media_id = self.upload_media(data, content_type or "application/octet-stream")
        return {"media_id": media_id, "pic_url": self.pic_url(media_id)}

    @endpoint("devtools/pic", methods=("GET",), auth=False, record=False)
    def _dev_pic(self, incoming: Incoming) -> dict[str, Any] | Response:
        media_id = incoming.query.get("media_id", "")
        found = self._media.get(media_id) or self.materials.get(media_id)
        if found is None:
            raise Fail(40007)
        data, content_type = found
        return Response(data, content_type=content_type, headers={"Cache-Control": "max-age=3600"})
