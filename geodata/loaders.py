"""Reading facility files: CSV and GeoJSON, every row validated, every problem reported by its place.

CSV: UTF-8 with or without a BOM, or GB18030 (which includes GBK: what Excel on Chinese Windows
saves as "CSV"), detected before reading and named in the result; a header row with ``name``,
``lat``, ``lon`` and optionally
``address``, ``opening_hours``, ``season_start``, ``season_end``, ``capacity``, ``external_id``,
``notes``. Problems name the line (the header is line 1; a quoted field spanning lines counts from
its first line). GeoJSON (RFC 7946): a FeatureCollection of Point features whose properties carry
the same fields; problems name the feature as ``features[i]``.

Files are read twice, as streams: ``scan`` validates and keeps only compact arrays (coordinates,
name hashes), then ``rows`` reads again to produce the rows to insert. So a million-row file never
sits in memory as Python objects. Checks that span rows are vectorised: the datum conversion
(numpy), the service area and swap checks (numpy), and duplicates (a KD-tree, not all pairs).

Every problem is a code and the values its sentence needs (a :class:`DatasetRowError`, worded from the
catalogue under ``geodata.errors.row`` like any domain error); ``str()`` of it is English, for logs.

A duplicate is a row with the same name as an earlier row within ``duplicate_radius_m`` (the same
facility listed twice), or the same ``external_id``. Different facilities at one address (a
district office and a health centre sharing a building) are not duplicates.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import math
import operator
import re
import unicodedata
from array import array
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import IO, TYPE_CHECKING, Any, ClassVar

import numpy as np
import numpy.typing as npt
from scipy.spatial import cKDTree

from bot.core.errors import Codes, Label
from bot.core.geo import CANONICAL, Datum
from geodata import hours
from geodata.datums import FloatArray, convert_arrays
from geodata.errors import GeodataError
from geodata.models import ADDRESS_MAX, EXTERNAL_ID_MAX, HOURS_MAX, NAME_MAX, NOTES_MAX
from geodata.spatial import chord_for_metres, metres_between, to_xyz

if TYPE_CHECKING:
    from geodata.settings import GeoSettings

REQUIRED_COLUMNS = ("name", "lat", "lon")
OPTIONAL_COLUMNS = (
    "address",
    "opening_hours",
    "season_start",
    "season_end",
    "capacity",
    "external_id",
    "notes",
)
COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS

# progress(phase, done, total): phase is "validate" or "insert"; total may be None.
Progress = Callable[[str, int, "int | None"], None]
PROGRESS_EVERY = 20_000


class FileFormat(StrEnum):
    CSV = "csv"
    GEOJSON = "geojson"


class ErrorCode(StrEnum):
    FILE = "file"  # the file as a whole: encoding, JSON, header
    MISSING_NAME = "missing_name"
    NOT_A_NUMBER = "not_a_number"
    ZERO = "zero_coordinate"
    OUT_OF_RANGE = "out_of_range"
    SWAPPED = "swapped"
    OUTSIDE_AREA = "outside_area"
    DUPLICATE = "duplicate"
    INVALID_FIELD = "invalid_field"
    NOT_A_POINT = "not_a_point"
    HOURS = "opening_hours"  # warnings only: unparseable hours are shown as unknown


def place(where: int | None, unit: str) -> str:
    """How a problem names its place in English (logs): ``line 12``, ``features[3]`` or ``file``."""
    if where is None:
        return "file"
    return f"features[{where}]" if unit == "feature" else f"line {where}"


class Where(GeodataError):  # noqa: N818 (a sentence with values, never raised)
    """A problem's place, worded from the catalogue: 第 12 行, 第 4 个要素, 整个文件."""

    namespace = "geodata.errors.place"
    codes: ClassVar[Codes] = {"line": ("number",), "feature": ("number",), "file": ()}

    @classmethod
    def of(cls, where: int | None, unit: str) -> Where:
        if where is None:
            return cls("file", "file")
        if unit == "feature":
            return cls("feature", f"features[{where}]", number=where + 1)  # people count from 1
        return cls("line", f"line {where}", number=where)


class DatasetRowError(GeodataError):
    """What is wrong with one row (or feature), as a code and values; ``geodata.errors.row.<code>``."""

    namespace = "geodata.errors.row"
    codes: ClassVar[Codes] = {
        "missing_name": (),
        "too_long": ("column", "limit"),
        "bad_capacity": ("value",),
        "season_unpaired": (),
        "season_date": ("value",),
        "season_mixed": (),
        "season_reversed": ("start", "end"),
        "not_a_number": ("axis", "value"),
        "coordinate_empty": ("axis",),
        "zero": ("lat", "lon"),
        "out_of_range": ("lat", "lon"),
        "swapped": ("lat", "lon"),
        "outside_area": ("lat", "lon", "south", "west", "north", "east"),
        "too_many_fields": ("count", "width"),
        "duplicate_name": ("other", "distance"),
        "duplicate_external_id": ("other",),
        "not_a_feature": (),
        "not_a_point": ("geometry",),
        "point_coordinates": (),
        "hours_unknown": ("hours",),
        "no_rows": (),
    }


def _column(name: str) -> Label:
    """A column's name as staff read it (名称, 纬度, ...), from ``geodata.columns``."""
    return Label(f"geodata.columns.{name}")


@dataclass(frozen=True, slots=True)
class Problem:
    """An error (the load is refused) or a warning, at a line, a feature, or the whole file.

    ``code`` sorts problems into kinds (a table's 问题 column); ``reason`` says what exactly, with
    its values: a :class:`DatasetRowError`, or the :class:`FileError` that stopped the reading.
    """

    where: int | None
    code: ErrorCode
    reason: GeodataError
    unit: str = "line"

    @property
    def place(self) -> str:
        return place(self.where, self.unit)

    @property
    def location(self) -> Where:
        """The place, to be worded from the catalogue."""
        return Where.of(self.where, self.unit)

    @property
    def kind(self) -> Label:
        """The kind of problem, to be worded from the catalogue (``geodata.problem_kinds``)."""
        return Label(f"geodata.problem_kinds.{self.code.value}")

    @property
    def message(self) -> str:
        return str(self.reason)

    def __str__(self) -> str:
        return f"{self.place}: {self.message}"


@dataclass(frozen=True, slots=True)
class ServiceArea:
    """A WGS-84 box: [south, west, north, east]."""

    south: float
    west: float
    north: float
    east: float

    @classmethod
    def from_bounds(cls, bounds: Sequence[float] | None) -> ServiceArea | None:
        return None if bounds is None else cls(*(float(b) for b in bounds))

    def contains(self, lat: float, lon: float) -> bool:
        return self.south <= lat <= self.north and self.west <= lon <= self.east

    def mask(self, lat: FloatArray, lon: FloatArray) -> npt.NDArray[np.bool_]:
        return (lat >= self.south) & (lat <= self.north) & (lon >= self.west) & (lon <= self.east)

    def __str__(self) -> str:
        return f"[{self.south}, {self.west}, {self.north}, {self.east}]"


@dataclass(frozen=True, slots=True)
class Rules:
    area: ServiceArea | None = None
    outside_area: str = "refuse"  # or "warn": rows outside the area are loaded, with a warning
    duplicate_radius_m: float = 10.0
    max_errors: int = 1000  # problems kept for the report; all are counted
    # A load that drops more than this share of the active version's rows needs a confirmation.
    max_drop_share: float = 0.5

    @classmethod
    def from_settings(cls, geo: GeoSettings) -> Rules:
        return cls(
            area=ServiceArea.from_bounds(geo.service_area),
            outside_area=geo.outside_area,
            duplicate_radius_m=geo.duplicate_radius_m,
            max_drop_share=geo.max_drop_share,
        )


class FileError(GeodataError):
    """The file cannot be read at all."""

    codes: ClassVar[Codes] = {
        "empty_file": (),
        "missing_columns": ("columns", "has"),
        "repeated_columns": ("columns",),
        "unknown_encoding": ("line",),
        "csv_invalid": ("line",),
        "json_invalid": ("line", "column"),
        "not_feature_collection": (),
        "features_not_array": (),
    }


# -- reading records -------------------------------------------------------------------------------


@dataclass(slots=True)
class Record:
    where: int
    values: dict[str, Any]
    problems: list[tuple[ErrorCode, DatasetRowError]] | None = None  # found while reading (rare)

    def problem(self, code: ErrorCode, reason: DatasetRowError) -> None:
        if self.problems is None:
            self.problems = []
        self.problems.append((code, reason))


def detect_format(stream: IO[bytes]) -> FileFormat:
    """GeoJSON when the first character (after a BOM and blanks) is ``{``, else CSV."""
    start = stream.tell()
    head = stream.read(4096)
    stream.seek(start)
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    return FileFormat.GEOJSON if text.startswith(b"{") else FileFormat.CSV


class Encoding(StrEnum):
    """How a file's text was read. GB18030 is a superset of GBK (and of GB2312)."""

    UTF8 = "utf-8"
    UTF8_BOM = "utf-8-sig"
    GB18030 = "gb18030"

    @property
    def label(self) -> Label:
        return Label(f"geodata.encodings.{self.value}")


_BOM = b"\xef\xbb\xbf"


def _decodes(stream: IO[bytes], encoding: str) -> int | None:
    """None if the whole stream decodes as ``encoding``, else the line (from 1) of the first bad byte."""
    start = stream.tell()
    decoder = codecs.getincrementaldecoder(encoding)()
    lines = 1
    try:
        while chunk := stream.read(1 << 20):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                return lines + chunk.count(b"\n", 0, exc.start)
            lines += chunk.count(b"\n")
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return lines
        return None
    finally:
        stream.seek(start)


def detect_encoding(stream: IO[bytes]) -> Encoding:
    """UTF-8 (with or without a BOM), else GB18030; FileError (naming the line, saying the fix) if neither.

    Each candidate must decode the whole file: a file that is UTF-8 but for one stray byte is not
    taken for GB18030 unless every byte of it is valid GB18030 too.
    """
    start = stream.tell()
    bom = stream.read(3) == _BOM
    stream.seek(start)
    utf8_line = _decodes(stream, "utf-8-sig")
    if utf8_line is None:
        return Encoding.UTF8_BOM if bom else Encoding.UTF8
    if not bom and _decodes(stream, "gb18030") is None:
        return Encoding.GB18030
    raise FileError("unknown_encoding", f"neither UTF-8 nor GB18030 near line {utf8_line}", line=utf8_line)


def count_lines(stream: IO[bytes]) -> int:
    start = stream.tell()
    lines = 0
    last = b"\n"
    while chunk := stream.read(1 << 20):
        lines += chunk.count(b"\n")
        last = chunk[-1:]
    stream.seek(start)
    return lines + (0 if last == b"\n" else 1)


def _csv_records(stream: IO[bytes], encoding: Encoding) -> Iterator[Record]:
    # utf-8-sig also reads UTF-8 without a BOM; a BOM is never a part of the first column's name.
    codec = "utf-8-sig" if encoding is not Encoding.GB18030 else "gb18030"
    text = io.TextIOWrapper(stream, encoding=codec, newline="")
    try:
        reader = csv.reader(text)
        try:
            header = next(reader)
        except StopIteration:
            raise FileError("empty_file", "the file is empty") from None
        names = [unicodedata.normalize("NFKC", h).strip().lower() for h in header]
        missing = [c for c in REQUIRED_COLUMNS if c not in names]
        if missing:
            has = ", ".join(names)
            raise FileError(
                "missing_columns",
                f"the header lacks the column(s) {', '.join(missing)} (it has: {has})",
                columns=", ".join(missing),
                has=has,
            )
        duplicated = sorted({n for n in names if n and names.count(n) > 1})
        if duplicated:
            raise FileError(
                "repeated_columns",
                f"the header repeats the column(s) {', '.join(duplicated)}",
                columns=", ".join(duplicated),
            )
        positions = [(i, n) for i, n in enumerate(names) if n in COLUMNS]
        keys = [n for _, n in positions]
        pick = operator.itemgetter(*(i for i, _ in positions))
        width = len(names)
        previous_end = reader.line_num
        for cells in reader:
            where = previous_end + 1
            previous_end = reader.line_num
            if not any(cells):  # a blank line (or only commas)
                continue
            if len(cells) >= width:
                values = dict(zip(keys, pick(cells), strict=True))
            else:
                values = {n: (cells[i] if i < len(cells) else "") for i, n in positions}
            record = Record(where, values)
            if len(cells) > width:
                record.problem(
                    ErrorCode.INVALID_FIELD,
                    DatasetRowError(
                        "too_many_fields",
                        f"{len(cells)} fields but the header has {width}",
                        count=len(cells),
                        width=width,
                    ),
                )
            yield record
    except UnicodeDecodeError:  # the detection read the whole file, so only if it changed meanwhile
        line = reader.line_num + 1
        raise FileError("unknown_encoding", f"cannot decode near line {line}", line=line) from None
    except csv.Error as exc:
        raise FileError(
            "csv_invalid", f"CSV error near line {reader.line_num}: {exc}", line=reader.line_num
        ) from None
    finally:
        text.detach()


def _geojson_records(stream: IO[bytes], encoding: Encoding) -> Iterator[Record]:
    codec = "utf-8-sig" if encoding is not Encoding.GB18030 else "gb18030"
    try:
        data = json.loads(stream.read().decode(codec))
    except UnicodeDecodeError:
        raise FileError("unknown_encoding", "cannot decode the file", line=1) from None
    except json.JSONDecodeError as exc:
        raise FileError("json_invalid", f"not valid JSON: {exc}", line=exc.lineno, column=exc.colno) from None
    if isinstance(data, dict) and data.get("type") == "Feature":
        features: Any = [data]
    elif isinstance(data, dict) and data.get("type") == "FeatureCollection":
        features = data.get("features")
    else:
        raise FileError("not_feature_collection", "GeoJSON must be a FeatureCollection (or a single Feature)")
    if not isinstance(features, list):
        raise FileError("features_not_array", "GeoJSON features must be an array")
    for index, feature in enumerate(features):
        record = Record(index, {})
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            record.problem(ErrorCode.NOT_A_POINT, DatasetRowError("not_a_feature", "not a Feature"))
            yield record
            continue
        properties = feature.get("properties") or {}
        if isinstance(properties, dict):
            wanted = set(OPTIONAL_COLUMNS) | {"name"}
            record.values.update({k: v for k, v in properties.items() if k in wanted})
        geometry = feature.get("geometry")
        coords = geometry.get("coordinates") if isinstance(geometry, dict) else None
        if not isinstance(geometry, dict) or geometry.get("type") != "Point":
            kind = str(geometry.get("type")) if isinstance(geometry, dict) else ""
            message = f"{kind or 'no'} geometry; only Point features are facilities"
            record.problem(
                ErrorCode.NOT_A_POINT, DatasetRowError("not_a_point", message, geometry=kind or "—")
            )
        elif not isinstance(coords, list) or len(coords) < 2:
            message = "a Point needs [longitude, latitude]"
            record.problem(ErrorCode.NOT_A_POINT, DatasetRowError("point_coordinates", message))
        else:
            record.values["lon"], record.values["lat"] = coords[0], coords[1]  # RFC 7946 order
        yield record


def records(stream: IO[bytes], fmt: FileFormat, encoding: Encoding = Encoding.UTF8) -> Iterator[Record]:
    return _csv_records(stream, encoding) if fmt == FileFormat.CSV else _geojson_records(stream, encoding)


# -- one record ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CleanFields:
    name: str
    address: str
    opening_hours: str | None
    season_start: str | None
    season_end: str | None
    capacity: int | None
    external_id: str | None
    notes: str | None


def _text(value: Any) -> str:
    if value.__class__ is str:
        return value.strip()
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).strip()


def name_key(name: str) -> str:
    """How names are compared for duplicates: NFKC, case-folded, without whitespace."""
    return "".join(unicodedata.normalize("NFKC", name).split()).casefold()


_NO_NAME = hash(name_key(""))  # rows without a name are reported as such, not as duplicates

_SEASON = re.compile(r"^(?:(\d{4})-)?(\d{2})-(\d{2})$")


def parse_season(text: str) -> tuple[bool, date] | None:
    """(recurring, date) for "MM-DD" (every year; year 2000 stands in) or "YYYY-MM-DD"; None if invalid."""
    match = _SEASON.match(text)
    if not match:
        return None
    year, month, day = match.groups()
    try:
        return (year is None, date(int(year or 2000), int(month), int(day)))
    except ValueError:
        return None


def _capacity(raw: Any) -> int | None:
    """A whole number ≥ 0 from a CSV string or a JSON integer; ValueError otherwise."""
    if raw.__class__ is str and raw.strip().isdecimal():
        value = int(raw)
    elif isinstance(raw, int) and not isinstance(raw, bool):
        value = raw
    else:
        raise ValueError(raw)
    if not 0 <= value <= 1_000_000:
        raise ValueError(raw)
    return value


def _season_problem(start: str, end: str) -> DatasetRowError | None:
    if not (start and end):
        return DatasetRowError("season_unpaired", "season_start and season_end go together")
    first, last = parse_season(start), parse_season(end)
    if first is None or last is None:
        value = start if first is None else end
        return DatasetRowError(
            "season_date", f"season date {value!r} is not MM-DD or YYYY-MM-DD", value=value
        )
    if first[0] != last[0]:
        return DatasetRowError("season_mixed", "season_start and season_end mix MM-DD and YYYY-MM-DD")
    if not first[0] and first[1] > last[1]:
        return DatasetRowError(
            "season_reversed", f"season ends ({end}) before it starts ({start})", start=start, end=end
        )
    return None


def extract(values: Mapping[str, Any]) -> CleanFields:
    """The fields of one record, stripped; no checks (``check_fields`` does them)."""
    get = values.get
    raw_capacity = get("capacity")
    try:
        capacity = None if raw_capacity is None or raw_capacity == "" else _capacity(raw_capacity)
    except ValueError:
        capacity = None
    return CleanFields(
        name=_text(get("name")),
        address=_text(get("address")),
        opening_hours=_text(get("opening_hours")) or None,
        season_start=_text(get("season_start")) or None,
        season_end=_text(get("season_end")) or None,
        capacity=capacity,
        external_id=_text(get("external_id")) or None,
        notes=_text(get("notes")) or None,
    )


def check_fields(clean: CleanFields, values: Mapping[str, Any]) -> list[tuple[ErrorCode, DatasetRowError]]:
    """What is wrong with a record's fields other than its coordinates."""
    problems: list[tuple[ErrorCode, DatasetRowError]] = []
    if not clean.name:
        problems.append((ErrorCode.MISSING_NAME, DatasetRowError("missing_name", "name is empty")))
    for column, text, limit in (
        ("name", clean.name, NAME_MAX),
        ("address", clean.address, ADDRESS_MAX),
        ("opening_hours", clean.opening_hours, HOURS_MAX),
        ("external_id", clean.external_id, EXTERNAL_ID_MAX),
        ("notes", clean.notes, NOTES_MAX),
    ):
        if text and len(text) > limit:
            message = f"{column} is longer than {limit} characters"
            reason = DatasetRowError("too_long", message, column=_column(column), limit=limit)
            problems.append((ErrorCode.INVALID_FIELD, reason))
    raw_capacity = values.get("capacity")
    if clean.capacity is None and raw_capacity is not None and raw_capacity != "":
        message = f"capacity {raw_capacity!r} is not a whole number ≥ 0"
        problems.append(
            (ErrorCode.INVALID_FIELD, DatasetRowError("bad_capacity", message, value=raw_capacity))
        )
    if clean.season_start or clean.season_end:
        season_problem = _season_problem(clean.season_start or "", clean.season_end or "")
        if season_problem:
            problems.append((ErrorCode.INVALID_FIELD, season_problem))
    return problems


def clean_fields(values: Mapping[str, Any]) -> tuple[CleanFields, list[tuple[ErrorCode, DatasetRowError]]]:
    clean = extract(values)
    return clean, check_fields(clean, values)


def _number(value: Any) -> float | None:
    if value.__class__ is str or (isinstance(value, int | float) and not isinstance(value, bool)):
        try:
            number = float(value)  # float() ignores surrounding whitespace itself
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None


def _in_range(lat: float, lon: float) -> bool:
    return -90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0


# Coordinate states kept per row during the scan.
_OK, _BAD, _SWAP_IF_IN_AREA = 0, 1, 2


# -- the scan --------------------------------------------------------------------------------------


@dataclass
class Scan:
    """What the first read found: canonical coordinates per record (NaN where invalid) and problems."""

    fmt: FileFormat
    count: int
    lat: FloatArray
    lon: FloatArray
    errors: list[Problem]
    error_count: int
    warnings: list[Problem]
    encoding: Encoding | None = None  # None: the file could not be read as text

    @property
    def ok(self) -> bool:
        return self.error_count == 0


class _Problems:
    def __init__(self, unit: str) -> None:
        self.unit = unit
        self.items: list[Problem] = []

    def add(self, where: int | None, code: ErrorCode, reason: GeodataError) -> None:
        self.items.append(Problem(where, code, reason, self.unit))

    def at(self, where: int | None) -> Where:
        return Where.of(where, self.unit)

    def sorted(self) -> list[Problem]:
        return sorted(self.items, key=lambda p: (-1 if p.where is None else p.where, p.code))


def scan(
    stream: IO[bytes],
    fmt: FileFormat,
    datum: Datum,
    rules: Rules,
    progress: Progress | None = None,
) -> Scan:
    """Read every record once, validate it, and convert the coordinates to WGS-84."""
    unit = "line" if fmt == FileFormat.CSV else "feature"
    errors, warnings = _Problems(unit), _Problems(unit)
    total = count_lines(stream) if (progress and fmt == FileFormat.CSV) else None
    wheres = array("q")
    raw_lat, raw_lon = array("d"), array("d")
    state = bytearray()
    names, externals = array("q"), array("q")
    encoding: Encoding | None = None
    try:
        encoding = detect_encoding(stream)
        for record in records(stream, fmt, encoding):
            where = record.where
            for code, reason in record.problems or ():
                errors.add(where, code, reason)
            clean, problems = clean_fields(record.values)
            for code, reason in problems:
                errors.add(where, code, reason)
            if clean.opening_hours and not hours.is_valid(clean.opening_hours):
                message = f"opening_hours {clean.opening_hours!r} will show as unknown"
                reason = DatasetRowError("hours_unknown", message, hours=clean.opening_hours)
                warnings.add(where, ErrorCode.HOURS, reason)
            externals.append(hash(clean.external_id) if clean.external_id else 0)
            row_lat, row_lon, row_state = _check_coordinates(record, errors)
            wheres.append(where)
            raw_lat.append(row_lat)
            raw_lon.append(row_lon)
            state.append(row_state)
            names.append(hash(name_key(clean.name)))
            if progress and len(wheres) % PROGRESS_EVERY == 0:
                progress("validate", len(wheres), total)
    except FileError as exc:
        errors.add(None, ErrorCode.FILE, exc)
    count = len(wheres)
    if count == 0 and not errors.items:
        errors.add(None, ErrorCode.FILE, DatasetRowError("no_rows", "no rows"))
    if progress:
        progress("validate", count, count)
    lat, lon = _place(
        np.frombuffer(wheres, dtype=np.int64) if count else np.zeros(0, np.int64),
        np.frombuffer(raw_lat, dtype=np.float64) if count else np.zeros(0),
        np.frombuffer(raw_lon, dtype=np.float64) if count else np.zeros(0),
        np.frombuffer(bytes(state), dtype=np.uint8),
        np.frombuffer(names, dtype=np.int64) if count else np.zeros(0, np.int64),
        datum,
        rules,
        errors,
        warnings,
    )
    _repeated_external_ids(
        np.frombuffer(wheres, dtype=np.int64) if count else np.zeros(0, np.int64),
        np.frombuffer(externals, dtype=np.int64) if count else np.zeros(0, np.int64),
        errors,
    )
    found = errors.sorted()
    return Scan(
        fmt=fmt,
        count=count,
        lat=lat,
        lon=lon,
        errors=found[: rules.max_errors],
        error_count=len(found),
        warnings=warnings.sorted()[: rules.max_errors],
        encoding=encoding,
    )


def _check_coordinates(record: Record, errors: _Problems) -> tuple[float, float, int]:
    """Per-row checks that need no other row: presence, numbers, zero, range (or swapped)."""
    where, values = record.where, record.values
    if "lat" not in values and "lon" not in values:
        return math.nan, math.nan, _BAD  # no geometry: already reported
    raw_lat, raw_lon = values.get("lat"), values.get("lon")
    lat, lon = _number(raw_lat), _number(raw_lon)
    if lat is None or lon is None:
        for axis, raw, number in (("lat", raw_lat, lat), ("lon", raw_lon, lon)):
            if number is not None:
                continue
            if _text(raw):
                reason = DatasetRowError(
                    "not_a_number", f"{axis} {raw!r} is not a number", axis=_column(axis), value=raw
                )
            else:
                reason = DatasetRowError("coordinate_empty", f"{axis} is empty", axis=_column(axis))
            errors.add(where, ErrorCode.NOT_A_NUMBER, reason)
        return math.nan, math.nan, _BAD
    if lat == 0 or lon == 0:
        errors.add(
            where,
            ErrorCode.ZERO,
            DatasetRowError("zero", f"zero coordinate ({lat}, {lon})", lat=lat, lon=lon),
        )
        return lat, lon, _BAD
    if not _in_range(lat, lon):
        if _in_range(lon, lat):
            return lat, lon, _SWAP_IF_IN_AREA
        message = f"coordinates out of range ({lat}, {lon})"
        errors.add(where, ErrorCode.OUT_OF_RANGE, DatasetRowError("out_of_range", message, lat=lat, lon=lon))
        return lat, lon, _BAD
    return lat, lon, _OK


def _place(
    wheres: npt.NDArray[np.int64],
    raw_lat: FloatArray,
    raw_lon: FloatArray,
    state: npt.NDArray[np.uint8],
    names: npt.NDArray[np.int64],
    datum: Datum,
    rules: Rules,
    errors: _Problems,
    warnings: _Problems,
) -> tuple[FloatArray, FloatArray]:
    """Vectorised checks: convert to WGS-84, the service area, swapped axes, duplicates.

    A row outside the service area is an error, or a warning (and loaded) when the rules say
    ``outside_area = "warn"``; a row whose axes, swapped, fall inside the area is always an error.
    """
    lat = np.full(len(wheres), np.nan)
    lon = np.full(len(wheres), np.nan)
    good = state == _OK
    lat[good], lon[good] = convert_arrays(raw_lat[good], raw_lon[good], datum, CANONICAL)
    area = rules.area
    swap_candidates = state == _SWAP_IF_IN_AREA
    if area is not None:
        outside = good & ~area.mask(lat, lon)
        swap_candidates = swap_candidates | outside
    candidates = np.flatnonzero(swap_candidates)
    if len(candidates):
        # Swap the axes back and see whether that is a valid place (inside the area when there is one).
        s_lat, s_lon = raw_lon[candidates], raw_lat[candidates]
        valid = (np.abs(s_lat) <= 90) & (np.abs(s_lon) <= 180)
        c_lat, c_lon = convert_arrays(np.where(valid, s_lat, 0), np.where(valid, s_lon, 0), datum, CANONICAL)
        swapped_ok = valid & (area.mask(c_lat, c_lon) if area is not None else True)
        kept: list[int] = []
        for j, i in enumerate(candidates):
            where = int(wheres[i])
            given_lat, given_lon = float(raw_lat[i]), float(raw_lon[i])
            shown = f"({given_lat}, {given_lon})"
            if swapped_ok[j]:
                message = f"latitude and longitude look swapped {shown}"
                errors.add(
                    where,
                    ErrorCode.SWAPPED,
                    DatasetRowError("swapped", message, lat=given_lat, lon=given_lon),
                )
            elif state[i] == _SWAP_IF_IN_AREA:
                message = f"coordinates out of range {shown}"
                errors.add(
                    where,
                    ErrorCode.OUT_OF_RANGE,
                    DatasetRowError("out_of_range", message, lat=given_lat, lon=given_lon),
                )
            else:
                assert area is not None  # only the area makes an in-range row a candidate
                message = f"outside the service area {area} {shown}"
                reason = DatasetRowError(
                    "outside_area",
                    message,
                    lat=given_lat,
                    lon=given_lon,
                    south=area.south,
                    west=area.west,
                    north=area.north,
                    east=area.east,
                )
                if rules.outside_area == "warn":
                    warnings.add(where, ErrorCode.OUTSIDE_AREA, reason)
                    kept.append(int(i))
                else:
                    errors.add(where, ErrorCode.OUTSIDE_AREA, reason)
        dropped = np.setdiff1d(candidates, np.array(kept, dtype=candidates.dtype))
        lat[dropped] = np.nan
        lon[dropped] = np.nan
    _duplicates(wheres, lat, lon, names, rules.duplicate_radius_m, errors)
    return lat, lon


def _repeated_external_ids(
    wheres: npt.NDArray[np.int64], ids: npt.NDArray[np.int64], errors: _Problems
) -> None:
    """Rows whose external_id (compared by hash) an earlier row already has."""
    given = np.flatnonzero(ids != 0)
    if len(given) < 2:
        return
    order = given[np.argsort(ids[given], kind="stable")]  # equal ids stay in file order
    same = ids[order][1:] == ids[order][:-1]
    first = order[0]
    for position, repeat in enumerate(same, start=1):
        row = order[position]
        if not repeat:
            first = row
            continue
        earlier = int(wheres[first])
        message = f"external_id repeats {place(earlier, errors.unit)}"
        reason = DatasetRowError("duplicate_external_id", message, other=errors.at(earlier))
        errors.add(int(wheres[row]), ErrorCode.DUPLICATE, reason)


def _duplicates(
    wheres: npt.NDArray[np.int64],
    lat: FloatArray,
    lon: FloatArray,
    names: npt.NDArray[np.int64],
    radius_m: float,
    errors: _Problems,
) -> None:
    placed = np.flatnonzero(~np.isnan(lat))
    if len(placed) < 2 or radius_m <= 0:
        return
    tree = cKDTree(to_xyz(lat[placed], lon[placed]))
    pairs = tree.query_pairs(chord_for_metres(radius_m), output_type="ndarray")
    if len(pairs) == 0:
        return
    a, b = placed[pairs[:, 0]], placed[pairs[:, 1]]
    same = (names[a] == names[b]) & (names[a] != _NO_NAME)
    first: dict[int, int] = {}
    for i, j in zip(a[same], b[same], strict=True):
        early, late = (int(i), int(j)) if i < j else (int(j), int(i))
        if late not in first or early < first[late]:
            first[late] = early
    for late, early in sorted(first.items()):
        apart = metres_between(lat[early], lon[early], lat[late], lon[late])
        earlier = int(wheres[early])
        message = f"same name as {place(earlier, errors.unit)}, {apart:.1f} m away"
        reason = DatasetRowError("duplicate_name", message, other=errors.at(earlier), distance=f"{apart:.1f}")
        errors.add(int(wheres[late]), ErrorCode.DUPLICATE, reason)


# -- the second read -------------------------------------------------------------------------------


def rows(stream: IO[bytes], found: Scan) -> Iterator[dict[str, Any]]:
    """The rows to insert, in file order, with the coordinates the scan converted."""
    lats, lons = found.lat.tolist(), found.lon.tolist()
    for i, record in enumerate(records(stream, found.fmt, found.encoding or Encoding.UTF8)):
        clean = extract(record.values)
        yield {
            "name": clean.name,
            "address": clean.address,
            "lat": lats[i],
            "lon": lons[i],
            "opening_hours": clean.opening_hours,
            "season_start": clean.season_start,
            "season_end": clean.season_end,
            "capacity": clean.capacity,
            "external_id": clean.external_id,
            "notes": clean.notes,
            "source_line": record.where,
        }
