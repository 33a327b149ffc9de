"""Which bytes are an acceptable photo file: JPEG, PNG or WebP by their magic bytes, and nothing else
inside or after the image. Everything here reads the file's structure only; nothing is decoded.

A polyglot is a file that is valid as two formats at once: a JPEG with a ZIP archive appended (image
viewers read the JPEG, unzip finds the archive at the end), a ZIP hidden in a JPEG comment segment or
a PNG private chunk, a PNG with a script after its last chunk, a GIF whose header is also a line of
JavaScript. We refuse, and say why:

- every format other than JPEG, PNG and WebP by its magic bytes (GIF, BMP, SVG, HTML, executables,
  archives), whatever the file name or declared content type says;
- any byte after the image's own end: after the JPEG end-of-image marker that closes the last scan,
  after PNG's IEND chunk, beyond the length a WebP's RIFF header declares. A well-formed photo has
  none, so an appended payload has nowhere to hide;
- an archive, executable, PDF or script signature inside any metadata segment or chunk (JPEG APPn
  and COM segments, PNG ancillary and private chunks, WebP chunks other than the bitstream);
- more than a small budget (``max_extra_bytes``) of data that is neither image nor known metadata:
  JPEG comments and application segments of unknown kind, PNG text and private chunks, unknown WebP
  chunks. EXIF, XMP, ICC profiles and the like are known metadata and only scanned;
- a structure that does not parse (a segment or chunk that runs past the end of the file), a
  JPEG with more than one frame or more than ``MAX_JPEG_SCANS`` scans (decoding time grows with
  them), and more pixels than ``max_pixels`` by the header: the decoder never sees such a file.

Multi-picture JPEGs (MPO, a second image after the first one's end) count as trailing data.
Pillow then decodes the image within the budget (``reports.photos``), so a file that only looks
right is refused too.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

JPEG, PNG, WEBP = "image/jpeg", "image/png", "image/webp"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Progressive JPEGs from cameras and encoders have about 10 scans; thousands make decoding crawl.
MAX_JPEG_SCANS = 100
DEFAULT_MAX_EXTRA_BYTES = 64 * 1024

# Signatures of files that must not hide inside a photo, found anywhere in a metadata segment.
SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"PK\x03\x04", "ZIP archive"),
    (b"PK\x05\x06", "ZIP archive"),
    (b"PK\x07\x08", "ZIP archive"),
    (b"Rar!\x1a\x07", "RAR archive"),
    (b"7z\xbc\xaf\x27\x1c", "7z archive"),
    (b"\xfd7zXZ\x00", "XZ archive"),
    (b"%PDF-", "PDF document"),
    (b"\x7fELF", "ELF executable"),
    (b"\xca\xfe\xba\xbe", "Mach-O executable"),
    (b"\xcf\xfa\xed\xfe", "Mach-O executable"),
    (b"\x89PNG\r\n\x1a\n", "second image"),
    (b"GIF8", "GIF image"),
)
# Too short to look for anywhere: only at the very start of a segment's payload.
LEADING_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"MZ", "Windows executable"),
    (b"\x1f\x8b\x08", "gzip archive"),
    (b"BZh", "bzip2 archive"),
    (b"#!", "script"),
)
# Markup that browsers or interpreters run, looked for case-insensitively.
SCRIPT_MARKERS = (b"<script", b"<?php", b"<html", b"<iframe", b"javascript:")

# JPEG APPn segments identified by the start of their payload: known metadata, scanned, not budgeted.
JPEG_KNOWN_APP = (
    b"JFIF\x00",
    b"JFXX\x00",
    b"Exif\x00",
    b"http://ns.adobe.com/xap/1.0/\x00",
    b"http://ns.adobe.com/xmp/extension/\x00",
    b"ICC_PROFILE\x00",
    b"MPF\x00",
    b"FPXR\x00",
    b"Ducky",
    b"Photoshop 3.0\x00",
    b"Adobe",
)
# PNG chunks: image data, known ancillary metadata (scanned), text (scanned and budgeted).
PNG_IMAGE_CHUNKS = {b"IHDR", b"PLTE", b"IDAT", b"IEND", b"fdAT"}
PNG_KNOWN_CHUNKS = {
    b"tRNS", b"cHRM", b"gAMA", b"iCCP", b"sBIT", b"sRGB", b"cICP", b"mDCV", b"mDCv", b"cLLI", b"cLLi",
    b"bKGD", b"hIST", b"pHYs", b"sPLT", b"eXIf", b"tIME", b"acTL", b"fcTL",
}  # fmt: skip
WEBP_IMAGE_CHUNKS = {b"VP8 ", b"VP8L", b"VP8X", b"ALPH", b"ANIM", b"ANMF"}
WEBP_KNOWN_CHUNKS = {b"ICCP", b"EXIF", b"XMP "}


class ImageFormatError(ValueError):
    """Not an acceptable image file, or one with something besides the image in it."""


class ImageTooLargeError(ImageFormatError):
    """More pixels than allowed, by the header."""


@dataclass(frozen=True)
class ImageHeader:
    """What the structure says, before any decoding."""

    content_type: str
    width: int
    height: int
    extra_bytes: int  # non-image data outside known metadata (comments, unknown segments, text)

    @property
    def pixels(self) -> int:
        return self.width * self.height


def sniff(data: bytes) -> str | None:
    """Content type from magic bytes: JPEG, PNG or WebP; None for anything else."""
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith(PNG_SIGNATURE):
        return PNG
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return WEBP
    return None


@dataclass
class _Walk:
    end: int = 0
    width: int = 0
    height: int = 0
    extra: int = 0


def _walk(data: bytes, content_type: str) -> _Walk:
    if content_type == JPEG:
        return _jpeg_walk(data)
    if content_type == PNG:
        return _png_walk(data)
    if content_type == WEBP:
        return _webp_walk(data)
    raise ImageFormatError(f"unsupported content type {content_type}")


def image_end(data: bytes, content_type: str) -> int:
    """Offset just past the image's last byte, by walking its structure."""
    return _walk(data, content_type).end


def read_header(
    data: bytes, *, max_pixels: int | None = None, max_extra_bytes: int = DEFAULT_MAX_EXTRA_BYTES
) -> ImageHeader:
    """Check ``data`` is exactly one JPEG, PNG or WebP image and nothing else, by its structure only.

    Raises ImageTooLargeError beyond ``max_pixels``, ImageFormatError for anything else refused.
    """
    content_type = sniff(data)
    if content_type is None:
        raise ImageFormatError("not a JPEG, PNG or WebP image")
    walk = _walk(data, content_type)
    if walk.end != len(data):
        raise ImageFormatError(f"{len(data) - walk.end} bytes after the end of the image")
    if walk.width <= 0 or walk.height <= 0:
        raise ImageFormatError("the image header gives no size")
    if max_pixels is not None and walk.width * walk.height > max_pixels:
        raise ImageTooLargeError(
            f"image too large: {walk.width}x{walk.height} pixels (at most {max_pixels} pixels)"
        )
    if walk.extra > max_extra_bytes:
        raise ImageFormatError(
            f"{walk.extra} bytes of non-image data in comments or unknown segments"
            f" (at most {max_extra_bytes})"
        )
    return ImageHeader(content_type, walk.width, walk.height, walk.extra)


def check_single_image(data: bytes) -> str:
    """The content type of ``data`` if it is exactly one JPEG, PNG or WebP image and nothing else."""
    return read_header(data).content_type


def _scan(payload: bytes, where: str) -> None:
    """Refuse a payload that carries another file's signature or runnable markup."""
    for signature, what in LEADING_SIGNATURES:
        if payload.startswith(signature):
            raise ImageFormatError(f"a {what} hidden in {where}")
    for signature, what in SIGNATURES:
        if signature in payload:
            raise ImageFormatError(f"a {what} hidden in {where}")
    lowered = payload.lower()
    for marker in SCRIPT_MARKERS:
        if marker in lowered:
            raise ImageFormatError(f"script markup ({marker.decode()}) hidden in {where}")


# JPEG markers without a length field: TEM and RST0-7 (SOI and EOI are handled apart).
_STANDALONE = {0x01, *range(0xD0, 0xD8)}
# Start-of-frame markers (baseline, progressive, lossless, arithmetic ...): not DHT, JPG, DAC.
_SOF = {*range(0xC0, 0xD0)} - {0xC4, 0xC8, 0xCC}
# Table and restart-interval segments: part of the image, neither metadata nor budgeted.
_JPEG_TABLES = {0xC4, 0xCC, 0xDB, 0xDD, 0xDC, 0xDE, 0xDF}


def _jpeg_walk(data: bytes) -> _Walk:
    n = len(data)
    walk = _Walk()
    pos = 2  # after SOI
    frames = scans = 0
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
            if frames == 0 or scans == 0:
                raise ImageFormatError("JPEG without a frame or scan")
            walk.end = pos
            return walk
        if marker in _STANDALONE:
            continue
        if pos + 2 > n:
            raise ImageFormatError("JPEG segment length missing")
        (length,) = struct.unpack(">H", data[pos : pos + 2])
        if length < 2 or pos + length > n:
            raise ImageFormatError(f"JPEG segment at offset {pos - 2} runs past the end")
        payload = data[pos + 2 : pos + length]
        if marker in _SOF:
            frames += 1
            if frames > 1:
                raise ImageFormatError("JPEG with more than one frame")
            if len(payload) < 6:
                raise ImageFormatError("JPEG frame header too short")
            walk.height, walk.width = struct.unpack(">HH", payload[1:5])
        elif marker == 0xDA:
            scans += 1
            if frames == 0:
                raise ImageFormatError("JPEG scan before its frame header")
            if scans > MAX_JPEG_SCANS:
                raise ImageFormatError(f"JPEG with more than {MAX_JPEG_SCANS} scans")
        elif marker not in _JPEG_TABLES:
            _jpeg_metadata(walk, marker, payload)
        pos += length
        if marker == 0xDA:  # start of scan: entropy-coded data up to the next real marker
            pos = _after_scan(data, pos)


def _jpeg_metadata(walk: _Walk, marker: int, payload: bytes) -> None:
    if marker == 0xFE:
        where, known = "a JPEG comment (COM) segment", False
    elif 0xE0 <= marker <= 0xEF:
        where = f"a JPEG APP{marker - 0xE0} segment"
        known = payload.startswith(JPEG_KNOWN_APP)
    else:
        where, known = f"a JPEG segment of unknown kind (0xFF{marker:02X})", False
    _scan(payload, where)
    if not known:
        walk.extra += len(payload)


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


def _png_walk(data: bytes) -> _Walk:
    n = len(data)
    walk = _Walk()
    pos = len(PNG_SIGNATURE)
    first = True
    while True:
        if pos + 8 > n:
            raise ImageFormatError("PNG ends without an IEND chunk")
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        end = pos + 12 + length
        if end > n:
            raise ImageFormatError(f"PNG chunk {kind!r} at offset {pos} runs past the end")
        payload = data[pos + 8 : pos + 8 + length]
        if first:
            if kind != b"IHDR" or length != 13:
                raise ImageFormatError("PNG does not start with its header chunk")
            walk.width, walk.height = struct.unpack(">II", payload[:8])
            first = False
        elif kind not in PNG_IMAGE_CHUNKS:
            where = f"a PNG {kind.decode('latin-1')!r} chunk"
            _scan(payload, where)
            if kind not in PNG_KNOWN_CHUNKS:  # text (tEXt, zTXt, iTXt) and private chunks
                walk.extra += length
        if kind == b"IEND":
            walk.end = end
            return walk
        pos = end


def _webp_walk(data: bytes) -> _Walk:
    (size,) = struct.unpack("<I", data[4:8])
    walk = _Walk(end=8 + size)
    if walk.end > len(data):
        raise ImageFormatError("WebP is shorter than its RIFF header says")
    pos = 12
    while pos + 8 <= walk.end:
        kind, length = struct.unpack("<4sI", data[pos : pos + 8])
        start, stop = pos + 8, pos + 8 + length
        if stop > walk.end:
            raise ImageFormatError(f"WebP chunk {kind!r} at offset {pos} runs past the end")
        payload = data[start:stop]
        if pos == 12:
            walk.width, walk.height = _webp_size(kind, payload)
        if kind not in WEBP_IMAGE_CHUNKS:
            _scan(payload, f"a WebP {kind.decode('latin-1')!r} chunk")
            if kind not in WEBP_KNOWN_CHUNKS:
                walk.extra += length
        pos = stop + (length & 1)  # chunks are padded to an even length
    if pos != walk.end:
        raise ImageFormatError("WebP chunks do not fill the file")
    return walk


def _webp_size(kind: bytes, payload: bytes) -> tuple[int, int]:
    if kind == b"VP8X" and len(payload) >= 10:
        width = int.from_bytes(payload[4:7], "little") + 1
        height = int.from_bytes(payload[7:10], "little") + 1
        return width, height
    if kind == b"VP8 " and len(payload) >= 10 and payload[3:6] == b"\x9d\x01\x2a":
        width, height = struct.unpack("<HH", payload[6:10])
        return width & 0x3FFF, height & 0x3FFF
    if kind == b"VP8L" and len(payload) >= 5 and payload[0] == 0x2F:
        bits = int.from_bytes(payload[1:5], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    raise ImageFormatError("WebP does not start with an image chunk")
