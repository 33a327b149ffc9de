"""POST /api/v1/reports under abuse: limits and header budgets come before any decoding."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask

from miniprogram_api import uploads
from reports import photos
from tests.miniprogram_api.test_api_reports import count_reports, upload
from tests.support import images
from tests.support.api_fixtures import Resident, error_of, log_in

pytestmark = pytest.mark.integration


@pytest.fixture
def decodes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record every photo that reaches the decoder (Pillow's open) and every call to prepare."""
    seen: list[str] = []
    real_open, real_prepare = photos.Image.open, uploads.prepare

    def opening(*args: Any, **kwargs: Any) -> Any:
        seen.append("Image.open")
        return real_open(*args, **kwargs)

    def preparing(*args: Any, **kwargs: Any) -> Any:
        seen.append("prepare")
        return real_prepare(*args, **kwargs)

    monkeypatch.setattr(photos.Image, "open", opening)
    monkeypatch.setattr(uploads, "prepare", preparing)
    return seen


def test_a_decompression_bomb_is_refused_before_decoding(
    api_app: Flask, login: Callable[..., Resident], decodes: list[str]
) -> None:
    resident = login("o-mini-bomb")
    refused = upload(resident, images.jpeg(1), images.png_bomb())
    assert (refused.status_code, error_of(refused)["code"]) == (422, "invalid_photo")
    assert error_of(refused)["details"]["photo"] == 1
    assert "6300x6300 pixels" in error_of(refused)["details"]["problem"]
    assert decodes == []  # not even the harmless first photo was decoded
    assert count_reports(api_app) == 0


def test_archives_hidden_in_segments_are_refused(
    api_app: Flask, login: Callable[..., Resident], decodes: list[str]
) -> None:
    resident = login("o-mini-zip")
    in_comment = upload(resident, images.with_jpeg_comment(images.jpeg(1), images.zip_archive()))
    assert (in_comment.status_code, error_of(in_comment)["code"]) == (422, "invalid_photo")
    assert "ZIP archive hidden in a JPEG comment" in error_of(in_comment)["details"]["problem"]
    in_chunk = upload(resident, images.with_png_chunk(images.png(1), b"prVt", images.zip_archive()))
    assert (in_chunk.status_code, error_of(in_chunk)["code"]) == (422, "invalid_photo")
    assert "ZIP archive hidden in a PNG 'prVt' chunk" in error_of(in_chunk)["details"]["problem"]
    assert decodes == []
    accepted = upload(resident, images.camera_jpeg())
    assert accepted.status_code == 201, accepted.get_json()


def test_a_resident_past_the_report_limit_costs_no_decoding(
    make_api_app: Callable[..., Flask], mini_wechat: Any, decodes: list[str]
) -> None:
    app = make_api_app(reports={"reports_per_hour": 1})
    resident = log_in(app.test_client(), mini_wechat, "o-mini-busy")
    assert upload(resident, images.jpeg(11)).status_code == 201
    decodes.clear()
    limited = upload(resident, images.jpeg(12), images.png_bomb())
    assert (limited.status_code, error_of(limited)["code"]) == (429, "report_limit_hour")
    assert int(limited.headers["Retry-After"]) >= 1
    assert decodes == []
    assert count_reports(app) == 1
