"""Test images made with Pillow: distinct patterns, optional EXIF time, GPS and orientation."""

from __future__ import annotations

import functools
import io
from datetime import datetime

import numpy as np
from PIL import ExifTags, Image, TiffImagePlugin


def pattern(seed: int, size: tuple[int, int] = (640, 480)) -> Image.Image:
    """Coarse random blocks: different seeds give perceptually different pictures."""
    rng = np.random.default_rng(seed)
    blocks = (rng.random((6, 8, 3)) * 255).astype("uint8")
    return Image.fromarray(blocks).resize(size, Image.Resampling.NEAREST)


def _dms(value: float) -> tuple[TiffImagePlugin.IFDRational, ...]:
    value = abs(value)
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    seconds = round((value - degrees - minutes / 60) * 3600 * 1000)
    rational = TiffImagePlugin.IFDRational
    return rational(degrees), rational(minutes), rational(seconds, 1000)


def exif_for(
    *, gps: tuple[float, float] | None = None, taken: datetime | None = None, orientation: int | None = None
) -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "TestCam"
    exif[ExifTags.Base.Model] = "Serial-12345"
    if orientation is not None:
        exif[ExifTags.Base.Orientation] = orientation
    if taken is not None:
        exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.DateTimeOriginal] = taken.strftime("%Y:%m:%d %H:%M:%S")
    if gps is not None:
        lat, lon = gps
        info = exif.get_ifd(ExifTags.IFD.GPSInfo)
        info[ExifTags.GPS.GPSLatitudeRef] = "N" if lat >= 0 else "S"
        info[ExifTags.GPS.GPSLatitude] = _dms(lat)
        info[ExifTags.GPS.GPSLongitudeRef] = "E" if lon >= 0 else "W"
        info[ExifTags.GPS.GPSLongitude] = _dms(lon)
    return exif


def jpeg(
    seed: int = 1,
    *,
    size: tuple[int, int] = (640, 480),
    gps: tuple[float, float] | None = None,
    taken: datetime | None = None,
    orientation: int | None = None,
    quality: int = 90,
) -> bytes:
    out = io.BytesIO()
    pattern(seed, size).save(
        out, format="JPEG", quality=quality, exif=exif_for(gps=gps, taken=taken, orientation=orientation)
    )
    return out.getvalue()


def png(seed: int = 1, size: tuple[int, int] = (320, 240), *, alpha: bool = False) -> bytes:
    image = pattern(seed, size)
    if alpha:
        image = image.convert("RGBA")
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def webp(seed: int = 1, size: tuple[int, int] = (320, 240)) -> bytes:
    out = io.BytesIO()
    pattern(seed, size).save(out, format="WEBP", quality=80)
    return out.getvalue()


def progressive_jpeg(seed: int = 1, size: tuple[int, int] = (320, 240)) -> bytes:
    out = io.BytesIO()
    pattern(seed, size).save(out, format="JPEG", quality=85, progressive=True, optimize=True)
    return out.getvalue()


def zip_archive(name: str = "payload.txt", content: bytes = b"hidden") -> bytes:
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(name, content)
    return out.getvalue()


# A file that is both a GIF image (by its header) and a line of JavaScript (GIF89a=...).
GIF_JS_POLYGLOT = (
    b"GIF89a/*\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00*/=1;alert(document.domain);//;"
)

# An executable (ELF header) that someone renamed photo.jpg.
ELF_EXECUTABLE = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + b"\x02\x00\x3e\x00" + b"\x00" * 200


def noise_png(megabytes: float) -> bytes:
    """An uncompressible PNG of roughly ``megabytes`` MB (random pixels, no compression)."""
    side = int((megabytes * 1024 * 1024 / 3) ** 0.5) + 1
    rng = np.random.default_rng(0)
    out = io.BytesIO()
    Image.fromarray(rng.integers(0, 256, (side, side, 3), dtype=np.uint8)).save(
        out, format="PNG", compress_level=0
    )
    return out.getvalue()


def with_jpeg_segment(data: bytes, marker: int, payload: bytes) -> bytes:
    """``data`` (a JPEG) with one more segment right after its start-of-image marker."""
    assert data.startswith(b"\xff\xd8")
    assert len(payload) <= 65533
    segment = bytes([0xFF, marker]) + (len(payload) + 2).to_bytes(2, "big") + payload
    return data[:2] + segment + data[2:]


def with_jpeg_comment(data: bytes, comment: bytes) -> bytes:
    """``data`` (a JPEG) with a COM segment holding ``comment``."""
    return with_jpeg_segment(data, 0xFE, comment)


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    import zlib

    return len(payload).to_bytes(4, "big") + kind + payload + zlib.crc32(kind + payload).to_bytes(4, "big")


def with_png_chunk(data: bytes, kind: bytes, payload: bytes) -> bytes:
    """``data`` (a PNG) with one more chunk just before IEND."""
    iend = data.rindex(b"IEND") - 4
    return data[:iend] + png_chunk(kind, payload) + data[iend:]


@functools.cache
def png_bomb(side: int = 6300) -> bytes:
    """A real, valid PNG of side x side black RGB pixels that is only ~120 KB on disk (zlib of zeros):
    decoding it costs seconds and hundreds of MB."""
    import zlib

    row = b"\x00" * (1 + side * 3)  # filter byte + pixels
    packer = zlib.compressobj(9)
    compressed = b"".join(packer.compress(row) for _ in range(side)) + packer.flush()
    header = side.to_bytes(4, "big") * 2 + bytes([8, 2, 0, 0, 0])  # 8-bit RGB, no interlace
    chunks = png_chunk(b"IHDR", header) + png_chunk(b"IDAT", compressed) + png_chunk(b"IEND", b"")
    return PNG_SIGNATURE + chunks


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def camera_jpeg(seed: int = 1, size: tuple[int, int] = (1024, 768)) -> bytes:
    """A JPEG as phones write them: EXIF with time and GPS, an ICC profile, XMP, a short comment."""
    from PIL import ImageCms

    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    out = io.BytesIO()
    pattern(seed, size).save(
        out,
        format="JPEG",
        quality=90,
        exif=exif_for(gps=(30.2614, 120.1431), taken=datetime(2026, 11, 27, 9, 30)),
        icc_profile=icc,
        comment=b"Taken with TestCam",
    )
    xmp = (
        b'http://ns.adobe.com/xap/1.0/\x00<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        b'</rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
    )
    return with_jpeg_segment(out.getvalue(), 0xE1, xmp)
