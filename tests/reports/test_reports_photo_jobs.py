"""Chat photos are decoded by jobs, never inside the webhook's request; a bomb is refused by its header."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask, has_request_context
from sqlalchemy import select

from devtools.fake_wechat import FakeWeChat
from reports import photos
from reports.models import Photo, PhotoStatus
from tests.support import images
from tests.support.reports import drain, unit
from tests.support.wechat import simulator_for

pytestmark = pytest.mark.integration

OPENID = "oResidentChatDecode00000001"
WEST_LAKE_GCJ = (30.2590, 120.1480)


@pytest.fixture
def decoder_calls(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """For each photo handed to Pillow: whether it happened inside an HTTP request."""
    calls: list[bool] = []
    real_open = photos.Image.open

    def opening(*args: Any, **kwargs: Any) -> Any:
        calls.append(has_request_context())
        return real_open(*args, **kwargs)

    monkeypatch.setattr(photos.Image, "open", opening)
    return calls


def submit(app: Flask, fake: FakeWeChat, media: dict[str, bytes]) -> None:
    sim = simulator_for(app)
    for media_id, data in media.items():
        fake.add_media(media_id, data)
        assert sim.send(sim.image(OPENID, f"http://mmbiz.qpic.cn/{media_id}", media_id)).status == 200
    steps = (
        sim.location(OPENID, *WEST_LAKE_GCJ, "北山街"),
        sim.text(OPENID, "2"),
        sim.text(OPENID, "跳过"),
        sim.text(OPENID, "确认"),
    )
    for xml in steps:
        assert sim.send(xml).status == 200
    drain(app)


def test_chat_photos_are_decoded_outside_the_request(
    make_app: Callable[..., Flask], fake_wechat: FakeWeChat, decoder_calls: list[bool]
) -> None:
    app = make_app(**fake_wechat.settings_overrides())
    submit(app, fake_wechat, {"MEDIA-OK": images.camera_jpeg(), "MEDIA-BOMB": images.png_bomb()})
    with unit(app) as session:
        stored = {p.media_id: (p.status, p.last_error) for p in session.scalars(select(Photo))}
    assert stored["MEDIA-OK"][0] == PhotoStatus.STORED
    bomb_status, bomb_error = stored["MEDIA-BOMB"]
    assert bomb_status == PhotoStatus.INVALID
    assert "image too large: 6300x6300 pixels" in (bomb_error or "")
    # Pillow saw the good photo twice (verify, then decode), in a job; the bomb never.
    assert decoder_calls == [False, False]
