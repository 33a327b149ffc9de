"""Media: temporary media fetched with ``media/get`` and permanent ``material/add_material``."""

from __future__ import annotations

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
        return {"media_id": media_id, "url": f"http://mmbiz.qpic.cn/fake/{media_id}/0"}
