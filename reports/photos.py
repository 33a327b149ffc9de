"""Report photos: download within the media's validity, check, hash, read EXIF, store, strip.

Residents' photos carry EXIF (time, GPS, device). We read it for checks, keep the original
privately, and serve only a re-encoded derivative without any metadata. A failed download is
recorded on the photo (attempts, last error, next attempt) and retried with exponential backoff
until the media's validity (3 days on WeChat) runs out; nothing is dropped silently.
"""

from __future__ import annotations

import hashlib
import io
import logging
import math
import uuid
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import SupportsFloat, SupportsIndex
from zoneinfo import ZoneInfo

import imagehash
from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from bot.core.clock import utcnow
from reports.imageformat import ImageFormatError, ImageHeader, read_header
from reports.imageformat import sniff as sniff  # re-exported: callers sniff before they prepare
from reports.models import Photo, PhotoStatus
from reports.retry import backoff
from reports.settings import ReportsSettings
from reports.storage import Storage

log = logging.getLogger("citybot.reports.photos")

Fetch = Callable[[str], tuple[bytes, str]]

# Sniffed content type -> the format Pillow must agree on, and the original's file extension.
FORMATS: dict[str, tuple[str, str]] = {
    "image/jpeg": ("JPEG", ".jpg"),
    "image/png": ("PNG", ".png"),
    "image/webp": ("WEBP", ".webp"),
}
FINAL = (PhotoStatus.STORED, PhotoStatus.FAILED, PhotoStatus.EXPIRED, PhotoStatus.INVALID)
# Never plan a retry closer than this to the end of the media's validity.
EXPIRY_MARGIN = timedelta(minutes=5)


class PhotoRejectedError(ValueError):
    """The bytes are not an acceptable image; retrying will not help."""


class PhotoTooLargeError(PhotoRejectedError):
    """More bytes than ``reports.photo_max_bytes``."""


@dataclass(frozen=True)
class ImageFacts:
    content_type: str
    width: int
    height: int
    sha256: str
    phash: str
    taken_at: datetime | None
    lat: float | None
    lon: float | None


def configure_pillow(settings: ReportsSettings) -> None:
    """Pillow's own decompression-bomb guard at the configured budget (warns above it, refuses 2x).

    ``screen`` refuses such files by their header before Pillow opens them; this is the second line,
    and the guard's warning is an error in this process (set once at import below, never toggled
    per call: ``warnings.catch_warnings`` is not thread-safe).
    """
    Image.MAX_IMAGE_PIXELS = settings.photo_max_pixels


warnings.filterwarnings("error", category=Image.DecompressionBombWarning)


def screen(data: bytes, settings: ReportsSettings) -> ImageHeader:
    """Everything that can be refused without decoding: size, format, hidden data, pixel count.

    Reads the file's structure only (``reports.imageformat``); a photo refused here never reaches
    the decoder. Raises PhotoTooLargeError or PhotoRejectedError.
    """
    if len(data) > settings.photo_max_bytes:
        raise PhotoTooLargeError(f"{len(data)} bytes exceeds the limit of {settings.photo_max_bytes}")
    try:
        return read_header(
            data, max_pixels=settings.photo_max_pixels, max_extra_bytes=settings.photo_max_extra_bytes
        )
    except ImageFormatError as exc:
        raise PhotoRejectedError(str(exc)) from exc


def _draft_box(header: ImageHeader, max_px: int) -> tuple[int, int] | None:
    """The smallest size a JPEG may be decoded at and still give the derivative all its pixels."""
    longest = max(header.width, header.height)
    if longest <= max_px:
        return None
    scale = max_px / longest
    return max(1, math.ceil(header.width * scale)), max(1, math.ceil(header.height * scale))


def _open_checked(data: bytes, header: ImageHeader, max_px: int | None = None) -> Image.Image:
    """Decode within the budget: the header was screened; JPEGs decode at a reduced scale (draft)."""
    expected_format = FORMATS[header.content_type][0]
    try:
        with Image.open(io.BytesIO(data), formats=[expected_format]) as probe:
            probe.verify()
        image = Image.open(io.BytesIO(data), formats=[expected_format])
        if image.size != (header.width, header.height):
            raise PhotoRejectedError(
                f"header says {header.width}x{header.height}, decoder says {image.width}x{image.height}"
            )
        box = _draft_box(header, max_px) if max_px is not None else None
        if box is not None and expected_format == "JPEG":
            image.draft(image.mode, box)  # DCT scaling: 1/2, 1/4 or 1/8 of the memory and time
        image.load()
    except PhotoRejectedError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise PhotoRejectedError(f"image too large: {exc}") from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise PhotoRejectedError(f"not a readable {expected_format} image: {exc}") from exc
    if image.format != expected_format:
        raise PhotoRejectedError(f"content is {image.format}, magic bytes say {expected_format}")
    return image


def _ratio(value: object) -> float:
    # IFDRational and ints both convert; anything float() refuses is a TypeError, as float() would raise
    if isinstance(value, SupportsFloat | SupportsIndex | str | bytes | bytearray):
        return float(value)
    raise TypeError(f"not a number: {value!r}")


def _gps_coordinate(parts: object, ref: object, negative: str) -> float | None:
    if not isinstance(parts, tuple) or len(parts) != 3:
        return None
    try:
        degrees, minutes, seconds = (_ratio(part) for part in parts)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    value = degrees + minutes / 60 + seconds / 3600
    if isinstance(ref, bytes):
        ref = ref.decode("ascii", "ignore")
    if str(ref).strip().upper() == negative:
        value = -value
    return value


def _exif_time(raw: object, offset: object, zone: ZoneInfo) -> datetime | None:
    if not isinstance(raw, str):
        return None
    try:
        naive = datetime.strptime(raw.strip().rstrip("\x00"), "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    if isinstance(offset, str):
        try:
            return datetime.fromisoformat(naive.isoformat() + offset.strip())
        except ValueError:
            pass
    return naive.replace(tzinfo=zone)  # EXIF time is the camera's local time


def read_exif(image: Image.Image, zone: ZoneInfo) -> tuple[datetime | None, float | None, float | None]:
    """(time taken, latitude, longitude); GPS in EXIF is WGS-84."""
    exif = image.getexif()
    details = exif.get_ifd(ExifTags.IFD.Exif)
    taken = _exif_time(
        details.get(ExifTags.Base.DateTimeOriginal) or exif.get(ExifTags.Base.DateTime),
        details.get(ExifTags.Base.OffsetTimeOriginal),
        zone,
    )
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    lat = _gps_coordinate(gps.get(ExifTags.GPS.GPSLatitude), gps.get(ExifTags.GPS.GPSLatitudeRef), "S")
    lon = _gps_coordinate(gps.get(ExifTags.GPS.GPSLongitude), gps.get(ExifTags.GPS.GPSLongitudeRef), "W")
    if lat is None or lon is None or not (-90 <= lat <= 90 and -180 <= lon <= 180) or (lat == lon == 0):
        lat = lon = None
    return taken, lat, lon


def inspect_image(
    data: bytes,
    zone: ZoneInfo,
    *,
    settings: ReportsSettings | None = None,
    header: ImageHeader | None = None,
) -> tuple[ImageFacts, Image.Image]:
    """Check the bytes and gather the facts; returns the upright image (EXIF orientation applied).

    The facts give the photo's full size; the returned image may be smaller (a JPEG larger than
    the derivative is decoded at a reduced scale), never smaller than the derivative needs.
    """
    settings = settings or ReportsSettings()
    if header is None:
        header = screen(data, settings)
    image = _open_checked(data, header, settings.derivative_max_px)
    taken, lat, lon = read_exif(image, zone)
    orientation = image.getexif().get(ExifTags.Base.Orientation)
    turned = orientation in (5, 6, 7, 8)  # a quarter turn: width and height swap
    upright = image
    if orientation in (2, 3, 4, 5, 6, 7, 8):
        upright = ImageOps.exif_transpose(image)
        image.close()
    width, height = (header.height, header.width) if turned else (header.width, header.height)
    facts = ImageFacts(
        content_type=header.content_type,
        width=width,
        height=height,
        sha256=hashlib.sha256(data).hexdigest(),
        phash=str(imagehash.phash(upright)),
        taken_at=taken,
        lat=lat,
        lon=lon,
    )
    return facts, upright


def stripped_derivative(upright: Image.Image, max_px: int) -> bytes:
    """A JPEG rebuilt from pixels only: no EXIF, no GPS, no ICC or comments.

    Scaled down first, so the conversions below copy the small image, not the original.
    """
    image = upright
    if max(image.size) > max_px:
        scale = max_px / max(image.size)
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        image = image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        image = background
    elif image.mode != "RGB":
        image = image.convert("RGB")
    clean = Image.frombytes("RGB", image.size, image.tobytes())
    out = io.BytesIO()
    clean.save(out, format="JPEG", quality=85, optimize=True)
    return out.getvalue()


@dataclass(frozen=True)
class PreparedPhoto:
    """A checked photo, ready to store: the original bytes, their facts, the stripped derivative."""

    data: bytes = field(repr=False)
    facts: ImageFacts
    derivative: bytes = field(repr=False)


def prepare(data: bytes, settings: ReportsSettings, header: ImageHeader | None = None) -> PreparedPhoto:
    """Check size, format and content; read EXIF; build the stripped derivative. Writes nothing.

    ``screen`` runs first (unless its ``header`` is given): nothing is decoded before the byte,
    structure and pixel budgets hold. Raises PhotoTooLargeError or PhotoRejectedError. Chat photos
    (downloaded from WeChat, in a job) and uploaded photos (the mini-program API) both pass here.
    """
    if header is None:
        header = screen(data, settings)
    facts, upright = inspect_image(data, ZoneInfo(settings.timezone), settings=settings, header=header)
    try:
        derivative = stripped_derivative(upright, settings.derivative_max_px)
    except (OSError, ValueError) as exc:
        raise PhotoRejectedError(f"cannot re-encode the image: {exc}") from exc
    finally:
        upright.close()
    return PreparedPhoto(data, facts, derivative)


def store_prepared(
    session: Session,
    storage: Storage,
    photo: Photo,
    prepared: PreparedPhoto,
    settings: ReportsSettings,
    now: datetime,
) -> Photo:
    """Write the private original and the public derivative, and record the facts on the row.

    Raises OSError when the storage fails (the row is left unchanged).
    """
    facts = prepared.facts
    extension = FORMATS[facts.content_type][1]
    original_key = f"originals/{photo.report.number}/{photo.id}-{facts.sha256[:16]}{extension}"
    derivative_key = f"{uuid.uuid4().hex}.jpg"
    storage.put(original_key, prepared.data, public=False)
    storage.put(derivative_key, prepared.derivative, public=True)
    photo.status = PhotoStatus.STORED
    photo.processed_at = now
    photo.last_error = None
    photo.next_attempt_at = None
    photo.original_key = original_key
    photo.derivative_key = derivative_key
    photo.content_type = facts.content_type
    photo.size_bytes = len(prepared.data)
    photo.width, photo.height = facts.width, facts.height
    photo.sha256 = facts.sha256
    photo.phash = facts.phash
    photo.exif_taken_at = facts.taken_at
    photo.exif_lat, photo.exif_lon = facts.lat, facts.lon
    photo.exif_too_old = facts.taken_at is not None and facts.taken_at < photo.received_at - timedelta(
        hours=settings.exif_max_age_hours
    )
    session.flush()
    return photo


def hamming(a: str, b: str) -> int:
    """Bits that differ between two hex perceptual hashes."""
    return (int(a, 16) ^ int(b, 16)).bit_count()


def media_expires_at(photo: Photo, settings: ReportsSettings) -> datetime:
    return photo.received_at + timedelta(hours=settings.media_validity_hours)


def _record_failure(photo: Photo, error: str, now: datetime, settings: ReportsSettings) -> None:
    photo.last_error = error[:1000]
    expires = media_expires_at(photo, settings)
    if photo.attempts >= settings.download_max_attempts:
        photo.status = PhotoStatus.FAILED
        photo.next_attempt_at = None
        return
    next_at = min(now + backoff(photo.attempts, settings), expires - EXPIRY_MARGIN)
    if next_at <= now:
        photo.status = PhotoStatus.EXPIRED
        photo.next_attempt_at = None
        photo.last_error = f"{photo.last_error} (media validity ends before another attempt)"[:1000]
        return
    photo.status = PhotoStatus.RETRYING
    photo.next_attempt_at = next_at


def process_photo(
    session: Session,
    storage: Storage,
    photo_id: int,
    fetch: Fetch,
    *,
    settings: ReportsSettings | None = None,
    now: datetime | None = None,
) -> Photo | None:
    """Download, check and store one photo; every outcome is recorded on the row.

    Returns the photo (None if it does not exist). A photo already in a final state is left as is,
    so running this twice (a retried job, the sweeper) does no harm.
    """
    settings = settings or ReportsSettings()
    now = now or utcnow()
    photo = session.get(Photo, photo_id, with_for_update=True, populate_existing=True)
    if photo is None or photo.status in FINAL:
        return photo
    if now >= media_expires_at(photo, settings):
        photo.status = PhotoStatus.EXPIRED
        photo.next_attempt_at = None
        photo.last_error = "media validity ended before it could be downloaded"
        session.flush()
        return photo

    photo.attempts += 1
    try:
        data, _declared_type = fetch(photo.media_id)
    except Exception as exc:
        log.warning("photo %s: download attempt %s failed: %s", photo.id, photo.attempts, type(exc).__name__)
        _record_failure(photo, f"{type(exc).__name__}: {exc}", now, settings)
        session.flush()
        return photo

    try:
        prepared = prepare(data, settings)
    except PhotoRejectedError as exc:
        photo.status = PhotoStatus.INVALID
        photo.last_error = str(exc)[:1000]
        photo.next_attempt_at = None
        photo.size_bytes = len(data)
        session.flush()
        return photo

    try:
        return store_prepared(session, storage, photo, prepared, settings, now)
    except OSError as exc:
        log.error("photo %s: storage failed: %s", photo.id, exc)
        _record_failure(photo, f"storage: {exc}", now, settings)
        session.flush()
        return photo


def due_photos(session: Session, *, now: datetime | None = None, limit: int = 100) -> list[int]:
    """Photos to (re)try now: retries that are due, and pending ones no job took within a minute."""
    now = now or utcnow()
    query = (
        select(Photo.id)
        .where(
            or_(
                (Photo.status == PhotoStatus.RETRYING) & (Photo.next_attempt_at <= now),
                (Photo.status == PhotoStatus.PENDING) & (Photo.received_at <= now - timedelta(minutes=1)),
            )
        )
        .order_by(Photo.id)
        .limit(limit)
    )
    return list(session.scalars(query))
