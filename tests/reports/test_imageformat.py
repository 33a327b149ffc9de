"""Acceptable photo files: one JPEG, PNG or WebP image and nothing else (polyglots refused)."""

from __future__ import annotations

import struct
from zoneinfo import ZoneInfo

import pytest

from reports.imageformat import ImageFormatError, check_single_image, image_end
from reports.photos import PhotoRejectedError, inspect_image
from tests.support import images

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        (images.jpeg(1), "image/jpeg"),
        (images.jpeg(2, gps=(30.26, 120.14), orientation=6), "image/jpeg"),  # EXIF segment
        (images.progressive_jpeg(3), "image/jpeg"),  # several scans
        (images.png(4), "image/png"),
        (images.png(5, alpha=True), "image/png"),
        (images.webp(6), "image/webp"),
    ],
)
def test_a_plain_image_ends_where_the_file_ends(data: bytes, content_type: str) -> None:
    assert check_single_image(data) == content_type
    assert image_end(data, content_type) == len(data)


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (images.jpeg(1) + images.zip_archive(), "bytes after the end"),  # JPEG + ZIP: unzip finds it
        (images.jpeg(1) + b"\xff\xd9", "bytes after the end"),
        (images.png(1) + b"<script>alert(1)</script>", "bytes after the end"),
        (images.png(1)[:-20], "runs past the end"),
        (images.jpeg(1)[:-100], "JPEG"),
        (images.GIF_JS_POLYGLOT, "not a JPEG, PNG or WebP"),
        (images.ELF_EXECUTABLE, "not a JPEG, PNG or WebP"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "not a JPEG, PNG or WebP"),
    ],
)
def test_anything_besides_one_image_is_refused(data: bytes, why: str) -> None:
    with pytest.raises(ImageFormatError, match=why):
        check_single_image(data)


def test_webp_longer_than_its_header_says_is_refused() -> None:
    data = images.webp(1)
    with pytest.raises(ImageFormatError, match="after the end"):
        check_single_image(data + images.zip_archive())
    shrunk = data[:4] + struct.pack("<I", len(data) - 8 + 10) + data[8:]
    with pytest.raises(ImageFormatError, match="shorter"):
        check_single_image(shrunk)


def test_the_photo_check_refuses_polyglots_too() -> None:
    with pytest.raises(PhotoRejectedError, match="after the end"):
        inspect_image(images.jpeg(1) + images.zip_archive(), ZoneInfo("Asia/Shanghai"))
