"""Which bytes are an acceptable photo file: JPEG, PNG or WebP by their magic bytes, and nothing else
inside or after the image.

A polyglot is a file that is valid as two formats at once: a JPEG with a ZIP archive appended (image
viewers read the JPEG, unzip finds the archive at the end), a PNG with a script after its last chunk,
a GIF whose header is also a line of JavaScript. We refuse, and say why:

- every format other than JPEG, PNG and WebP by its magic bytes (GIF, BMP, SVG, HTML, executables,
  archives), whatever the file name or declared content type says;
- any byte after the image's own end: after the JPEG end-of-image marker that closes the last scan,
  after PNG's IEND chunk, beyond the length a WebP's RIFF header declares. A well-formed photo has
  none, so an appended payload has nowhere to hide;
- a structure that does not parse (a segment or chunk that runs past the end of the file).

Multi-picture JPEGs (MPO, a second image after the first one's end) count as trailing data.
Pillow then decodes the image (``reports.photos``), so a file that only looks right is refused too.
"""

from __future__ import annotations

import struct

JPEG, PNG, WEBP = "image/jpeg", "image/png", "image/webp"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class ImageFormatError(ValueError):
    """Not an acceptable image file, or one with something besides the image in it."""


def sniff(data: bytes) -> str | None:
    """Content type from magic bytes: JPEG, PNG or WebP; None for anything else."""
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith(PNG_SIGNATURE):
        return PNG
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return WEBP
    return None


def image_end(data: bytes, content_type: str) -> int:
    """Offset just past the image's last byte, by walking its structure."""
    if content_type == JPEG:
        return _jpeg_end(data)
    if content_type == PNG:
        return _png_end(data)
    if content_type == WEBP:
        return _webp_end(data)
    raise ImageFormatError(f"unsupported content type {content_type}")


def check_single_image(data: bytes) -> str:
    """The content type of ``data`` if it is exactly one JPEG, PNG or WebP image and nothing else."""
    content_type = sniff(data)
    if content_type is None:
        raise ImageFormatError("not a JPEG, PNG or WebP image")
    end = image_end(data, content_type)
    if end != len(data):
        raise ImageFormatError(f"{len(data) - end} bytes after the end of the image")
    return content_type


# JPEG markers without a length field: TEM and RST0-7 (SOI and EOI are handled apart).
_STANDALONE = {0x01, *range(0xD0, 0xD8)}


def _jpeg_end(data: bytes) -> int:
    n = len(data)
    pos = 2  # after SOI
    while True:
        if pos >= n:
            raise ImageFormatError("JPEG ends without an end-of-image marker")
        if data[pos] != 0xFF:
            raise ImageFormatError(f"JPEG marker expected at offset {pos}")
        while pos < n and data[pos] == 0xFF:  # fill bytes
            pos += 1
        if pos >= n:
            raise ImageFormatError("JPEG ends inside a marker")
        marker = data[pos]
        pos += 1
        if marker == 0xD9:  # EOI
            return pos
        if marker in _STANDALONE:
            continue
        if pos + 2 > n:
            raise ImageFormatError("JPEG segment length missing")
        (length,) = struct.unpack(">H", data[pos : pos + 2])
        if length < 2 or pos + length > n:
            raise ImageFormatError(f"JPEG segment at offset {pos - 2} runs past the end")
        pos += length
        if marker == 0xDA:  # start of scan: entropy-coded data up to the next real marker
            pos = _after_scan(data, pos)


def _after_scan(data: bytes, pos: int) -> int:
    """Offset of the first marker after entropy-coded data (0xFF00 is a stuffed byte, RSTn continue)."""
    n = len(data)
    while True:
        found = data.find(b"\xff", pos)
        if found < 0 or found + 1 >= n:
            raise ImageFormatError("JPEG scan data runs to the end of the file")
        following = data[found + 1]
        if following == 0x00 or 0xD0 <= following <= 0xD7 or following == 0xFF:
            pos = found + 1 if following == 0xFF else found + 2
            continue
        return found


def _png_end(data: bytes) -> int:
    n = len(data)
    pos = len(PNG_SIGNATURE)
    while True:
        if pos + 8 > n:
            raise ImageFormatError("PNG ends without an IEND chunk")
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        end = pos + 12 + length
        if end > n:
            raise ImageFormatError(f"PNG chunk {kind!r} at offset {pos} runs past the end")
        if kind == b"IEND":
            return end
        pos = end


def _webp_end(data: bytes) -> int:
    (size,) = struct.unpack("<I", data[4:8])
    end = 8 + size
    if end > len(data):
        raise ImageFormatError("WebP is shorter than its RIFF header says")
    return end
