"""Photos cannot starve a worker: budgets checked on the header before decoding, polyglots refused."""

from __future__ import annotations

import io
import zlib
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from PIL import Image

from reports import photos
from reports.imageformat import JPEG, PNG, ImageHeader, read_header
from reports.photos import PhotoRejectedError, prepare, screen
from reports.settings import ReportsSettings
from tests.support import images

pytestmark = pytest.mark.integration

SETTINGS = ReportsSettings()


@pytest.fixture
def no_decoding(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Fail any attempt to open an image with Pillow inside reports.photos; returns the calls."""
    calls: list[str] = []

    def refuse(*args: Any, **kwargs: Any) -> Image.Image:
        calls.append("open")
        raise AssertionError("the photo was handed to the decoder")

    monkeypatch.setattr(photos.Image, "open", refuse)
    return calls


def test_a_decompression_bomb_is_refused_by_its_header(no_decoding: list[str]) -> None:
    bomb = images.png_bomb()
    assert len(bomb) < 200_000  # 6300 x 6300 pixels in ~120 KB
    with pytest.raises(PhotoRejectedError, match=r"image too large: 6300x6300 pixels \(at most 25000000"):
        prepare(bomb, SETTINGS)
    assert no_decoding == []


def test_the_pixel_budget_is_a_setting(no_decoding: list[str]) -> None:
    small_budget = ReportsSettings(photo_max_pixels=200_000)
    with pytest.raises(PhotoRejectedError, match="640x480 pixels"):
        screen(images.jpeg(1), small_budget)
    with pytest.raises(PhotoRejectedError, match="image too large"):
        screen(images.webp(1, size=(640, 480)), small_budget)
    assert screen(images.jpeg(1, size=(400, 300)), small_budget).pixels == 120_000
    assert no_decoding == []


def test_pillows_own_guard_refuses_what_slipped_past_the_header(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", Image.MAX_IMAGE_PIXELS)
    photos.configure_pillow(ReportsSettings(photo_max_pixels=100_000))
    assert Image.MAX_IMAGE_PIXELS == 100_000
    data = images.png(1, size=(640, 480))  # 307,200 pixels: over twice the guard
    lying = ImageHeader(PNG, 640, 480, 0)  # as if the header check had been skipped
    with pytest.raises(PhotoRejectedError, match="image too large"):
        photos._open_checked(data, lying)
    between = images.png(2, size=(400, 300))  # 120,000 pixels: over the guard, under twice it
    with pytest.raises(PhotoRejectedError, match="image too large"):
        photos._open_checked(between, ImageHeader(PNG, 400, 300, 0))


def test_a_large_jpeg_decodes_at_a_reduced_scale() -> None:
    data = images.jpeg(3, size=(4000, 3000), quality=70)
    opened: list[tuple[int, int]] = []
    real_open = photos._open_checked

    def spy(*args: Any, **kwargs: Any) -> Image.Image:
        image = real_open(*args, **kwargs)
        opened.append(image.size)
        return image

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(photos, "_open_checked", spy)
        prepared = prepare(data, SETTINGS)
    assert opened == [(2000, 1500)]  # 1/2 scale still covers the 1600 px derivative
    assert (prepared.facts.width, prepared.facts.height) == (4000, 3000)
    assert Image.open(io.BytesIO(prepared.derivative)).size == (1600, 1200)


def test_an_upright_photo_reports_its_full_turned_size() -> None:
    data = images.jpeg(4, size=(4000, 3000), orientation=6, quality=70)
    facts, upright = photos.inspect_image(data, ZoneInfo("Asia/Shanghai"))
    assert (facts.width, facts.height) == (3000, 4000)
    assert upright.size == (1500, 2000)


def test_a_zip_in_a_jpeg_comment_is_refused(no_decoding: list[str]) -> None:
    data = images.with_jpeg_comment(images.jpeg(1), images.zip_archive())
    with pytest.raises(PhotoRejectedError, match=r"a ZIP archive hidden in a JPEG comment \(COM\) segment"):
        prepare(data, SETTINGS)
    assert no_decoding == []


@pytest.mark.parametrize(
    ("payload", "why"),
    [
        (b"Rar!\x1a\x07\x01\x00" + b"\x00" * 40, "RAR archive"),
        (b"7z\xbc\xaf\x27\x1c" + b"\x00" * 40, "7z archive"),
        (b"%PDF-1.7\n" + b"x" * 40, "PDF document"),
        (b"MZ\x90\x00" + b"\x00" * 60, "Windows executable"),
        (b"<SCRIPT>alert(1)</SCRIPT>", "script markup"),
    ],
)
def test_other_files_hidden_in_jpeg_segments_are_refused(payload: bytes, why: str) -> None:
    for marker in (0xFE, 0xE4, 0xEF):  # COM, an unknown APP4, APP15
        with pytest.raises(PhotoRejectedError, match=why):
            screen(images.with_jpeg_segment(images.jpeg(1), marker, payload), SETTINGS)


def test_a_zip_inside_exif_is_refused() -> None:
    exif = b"Exif\x00\x00" + b"MM\x00*" + b"\x00" * 20 + images.zip_archive()
    with pytest.raises(PhotoRejectedError, match="ZIP archive hidden in a JPEG APP1 segment"):
        screen(images.with_jpeg_segment(images.jpeg(1), 0xE1, exif), SETTINGS)


def test_a_zip_in_a_png_private_chunk_is_refused(no_decoding: list[str]) -> None:
    data = images.with_png_chunk(images.png(1), b"prVt", images.zip_archive())
    with pytest.raises(PhotoRejectedError, match="a ZIP archive hidden in a PNG 'prVt' chunk"):
        prepare(data, SETTINGS)
    in_text = images.with_png_chunk(images.png(1), b"tEXt", b"Comment\x00" + images.zip_archive())
    with pytest.raises(PhotoRejectedError, match="a ZIP archive hidden in a PNG 'tEXt' chunk"):
        prepare(in_text, SETTINGS)
    assert no_decoding == []


def test_opaque_data_beyond_the_budget_is_refused_whatever_it_is() -> None:
    noise = zlib.compress(b"".join(i.to_bytes(4, "big") for i in range(40_000)), 1)[:60_000]
    jpeg = images.jpeg(1)
    for _ in range(2):
        jpeg = images.with_jpeg_comment(jpeg, noise)
    with pytest.raises(PhotoRejectedError, match=r"bytes of non-image data .* \(at most 65536\)"):
        screen(jpeg, SETTINGS)
    png = images.with_png_chunk(images.png(1), b"prVt", noise * 2)
    with pytest.raises(PhotoRejectedError, match="non-image data"):
        screen(png, SETTINGS)
    assert screen(images.with_jpeg_comment(images.jpeg(1), noise), SETTINGS).extra_bytes == len(noise)


@pytest.mark.parametrize(
    "build",
    [
        images.camera_jpeg,
        lambda: images.jpeg(2, gps=(30.26, 120.14), orientation=6),
        images.progressive_jpeg,
        lambda: images.png(3, alpha=True),
        lambda: images.with_png_chunk(images.png(4), b"tEXt", b"Software\x00TestCam 1.0"),
        images.webp,
    ],
)
def test_ordinary_photos_with_their_metadata_are_accepted(build: Callable[[], bytes]) -> None:
    prepared = prepare(build(), SETTINGS)
    assert prepared.derivative


def test_the_camera_photo_keeps_its_exif_facts() -> None:
    data = images.camera_jpeg()
    header = read_header(data)
    assert (header.content_type, header.width, header.height) == (JPEG, 1024, 768)
    assert header.extra_bytes == len(b"Taken with TestCam")  # only the comment is budgeted
    prepared = prepare(data, SETTINGS)
    assert prepared.facts.lat == pytest.approx(30.2614, abs=1e-5)
    assert prepared.facts.taken_at is not None


def test_a_jpeg_with_thousands_of_scans_is_refused() -> None:
    data = images.progressive_jpeg(1)
    sos = data.index(b"\xff\xda")
    # Repeat the first scan (header and data) until there are more scans than the limit.
    end = data.index(b"\xff\xda", sos + 2)
    scans = data[sos:end] * 120
    with pytest.raises(PhotoRejectedError, match="more than 100 scans"):
        screen(data[:sos] + scans + data[sos:], SETTINGS)
