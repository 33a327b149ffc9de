"""A demo photo for the chat simulator's ``/image`` without a file: a street scene drawn with Pillow.

Each ``seed`` gives a different picture (so successive demo reports are not taken for duplicates),
with the EXIF time it was "taken" (now, in the bureau's time zone), as a phone's camera writes it.
"""

from __future__ import annotations

import io
import random
from datetime import datetime
from zoneinfo import ZoneInfo

from PIL import ExifTags, Image, ImageDraw

from bot.core.clock import utcnow

SIZE = (960, 720)

_SIGNATURES = ((b"\xff\xd8\xff", "image/jpeg"), (b"\x89PNG\r\n\x1a\n", "image/png"), (b"GIF8", "image/gif"))


def content_type_of(data: bytes) -> str:
    """The image type of ``data`` by its magic bytes, as WeChat serves a medium (else octet-stream)."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return next((kind for magic, kind in _SIGNATURES if data.startswith(magic)), "application/octet-stream")


def demo_photo(seed: int = 1, *, taken: datetime | None = None, zone: str = "Asia/Shanghai") -> bytes:
    """A JPEG of a street with litter on the pavement, different for each ``seed``."""
    rng = random.Random(seed)
    width, height = SIZE
    image = Image.new("RGB", SIZE, (135 + rng.randrange(40), 190 + rng.randrange(30), 235))
    draw = ImageDraw.Draw(image)
    horizon = height // 2 + rng.randrange(-40, 40)
    for _ in range(5 + rng.randrange(4)):  # buildings
        left = rng.randrange(-50, width)
        top = horizon - rng.randrange(80, 300)
        shade = rng.randrange(120, 200)
        draw.rectangle(
            (left, top, left + rng.randrange(90, 220), horizon), fill=(shade, shade - 10, shade - 25)
        )
    draw.rectangle((0, horizon, width, height), fill=(92, 92, 96))  # the road
    draw.rectangle((0, horizon, width, horizon + 60), fill=(170, 160, 150))  # the pavement
    for x in range(0, width, 120):  # lane markings
        draw.rectangle((x, height - 160, x + 60, height - 150), fill=(235, 235, 225))
    for _ in range(6 + rng.randrange(6)):  # litter
        x, y = rng.randrange(40, width - 40), horizon + rng.randrange(10, 55)
        colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
        draw.ellipse((x, y, x + rng.randrange(12, 40), y + rng.randrange(8, 20)), fill=colour)
    moment = taken or utcnow().astimezone(ZoneInfo(zone))
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "citybot"
    exif[ExifTags.Base.Model] = "demo camera"
    exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.DateTimeOriginal] = moment.strftime("%Y:%m:%d %H:%M:%S")
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=85, exif=exif)
    return out.getvalue()
