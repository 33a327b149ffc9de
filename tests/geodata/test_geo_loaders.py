"""Loaders: every kind of row error, reported together and by line (or feature index)."""

from __future__ import annotations

import io
import json
from typing import Any

import numpy as np
import pytest
from geopy.distance import geodesic

from bot.app import load_texts
from bot.core.errors import render
from bot.core.geo import Datum, GeoPoint
from geodata.loaders import (
    Encoding,
    ErrorCode,
    FileFormat,
    Rules,
    Scan,
    ServiceArea,
    detect_format,
    rows,
    scan,
)

pytestmark = pytest.mark.unit

HEADER = "name,lat,lon,address,opening_hours,season_start,season_end,capacity,external_id,notes\n"
SUZHOU = ServiceArea(30.7, 119.9, 32.1, 121.4)


def check_csv(text: str | bytes, *, datum: Datum = Datum.WGS84, rules: Rules | None = None) -> Scan:
    data = text.encode("utf-8") if isinstance(text, str) else text
    stream = io.BytesIO(data)
    fmt = detect_format(stream)
    assert fmt == FileFormat.CSV
    return scan(stream, fmt, datum, rules or Rules())


def check_geojson(data: Any, *, datum: Datum = Datum.WGS84, rules: Rules | None = None) -> Scan:
    stream = io.BytesIO(json.dumps(data, ensure_ascii=False).encode("utf-8"))
    fmt = detect_format(stream)
    assert fmt == FileFormat.GEOJSON
    return scan(stream, fmt, datum, rules or Rules())


def codes(found: Scan) -> list[tuple[int | None, ErrorCode]]:
    return [(p.where, p.code) for p in found.errors]


def test_clean_file_converts_to_wgs84_and_keeps_fields() -> None:
    text = (
        "\ufeff"  # BOM
        + HEADER
        + "观前街站,31.3115,120.6290,观前街1号,06:00-22:00,,,30,S-1,东口\n"
        + "石路站,31.3140,120.6010,,,,,,,\n"
    )
    found = check_csv(text, datum=Datum.GCJ02, rules=Rules(area=SUZHOU))
    assert found.ok
    assert found.errors == []
    assert found.count == 2
    expected = GeoPoint(31.3115, 120.6290, Datum.GCJ02).to(Datum.WGS84)
    assert geodesic((found.lat[0], found.lon[0]), (expected.lat, expected.lon)).meters < 0.05
    produced = list(rows(io.BytesIO(text.encode()), found))
    assert [r["source_line"] for r in produced] == [2, 3]
    first = produced[0]
    assert first["name"] == "观前街站"
    assert first["address"] == "观前街1号"
    assert first["opening_hours"] == "06:00-22:00"
    assert first["capacity"] == 30
    assert first["external_id"] == "S-1"
    assert first["notes"] == "东口"
    assert (first["lat"], first["lon"]) == (found.lat[0], found.lon[0])
    assert produced[1]["capacity"] is None
    assert produced[1]["opening_hours"] is None


def test_every_row_error_is_reported_with_its_line() -> None:
    text = HEADER + "\n".join(
        [
            "好站,31.30,120.60,,,,,,,",  # 2 fine
            ",31.31,120.61,,,,,,,",  # 3 missing name
            "零站,0,120.62,,,,,,,",  # 4 zero
            "字站,abc,120.63,,,,,,,",  # 5 not a number
            "空站,,120.63,,,,,,,",  # 6 empty coordinate
            "反站,120.64,31.32,,,,,,,",  # 7 swapped (out of range as given)
            "远站,91.5,200,,,,,,,",  # 8 out of range either way
            "外站,39.9,116.4,,,,,,,",  # 9 outside the service area (Beijing)
            "反区站,120.65,31.33,,,,,,,",  # 10 swapped again
            "好站,31.30003,120.60003,,,,,,,",  # 11 same name as line 2, ~4 m away
            "容站,31.34,120.66,,,,,-3,,",  # 12 capacity
            "季站,31.35,120.67,,,06-01,,,,",  # 13 season without end
            "季二站,31.36,120.68,,,2025-13-01,2025-12-01,,,",  # 14 bad season date
            "编号站,31.37,120.69,,,,,,X1,",  # 15
            "编号二站,31.38,120.70,,,,,,X1,",  # 16 repeated external_id
            "多站,31.39,120.71,,,,,,,,extra",  # 17 too many fields
        ]
    )
    found = check_csv(text + "\n", rules=Rules(area=SUZHOU))
    assert not found.ok
    assert codes(found) == [
        (3, ErrorCode.MISSING_NAME),
        (4, ErrorCode.ZERO),
        (5, ErrorCode.NOT_A_NUMBER),
        (6, ErrorCode.NOT_A_NUMBER),
        (7, ErrorCode.SWAPPED),
        (8, ErrorCode.OUT_OF_RANGE),
        (9, ErrorCode.OUTSIDE_AREA),
        (10, ErrorCode.SWAPPED),
        (11, ErrorCode.DUPLICATE),
        (12, ErrorCode.INVALID_FIELD),
        (13, ErrorCode.INVALID_FIELD),
        (14, ErrorCode.INVALID_FIELD),
        (16, ErrorCode.DUPLICATE),
        (17, ErrorCode.INVALID_FIELD),
    ]
    assert found.error_count == len(found.errors)
    by_line = {p.where: str(p) for p in found.errors}
    assert by_line[11].startswith("line 11: same name as line 2")
    assert "repeats line 15" in by_line[16]
    assert "'abc'" in by_line[5]
    assert "lat is empty" in by_line[6]
    # Rows with errors have no position.
    assert np.isnan(found.lat[2])
    assert np.isnan(found.lat[7])
    assert not np.isnan(found.lat[0])


def test_swapped_inside_range_detected_only_with_an_area() -> None:
    # (31.3, 120.6) given as lat=120.6 is out of range anyway; a subtler case: both in range.
    text = HEADER + "换站,60.62,31.30,,,,,,,\n"
    assert check_csv(text).ok  # a valid place somewhere in Russia: nothing to say without an area
    found = check_csv(text, rules=Rules(area=ServiceArea(30.0, 60.0, 32.0, 61.0)))
    assert codes(found) == [(2, ErrorCode.SWAPPED)]
    far = check_csv(text, rules=SUZHOU_RULES)
    assert codes(far) == [(2, ErrorCode.OUTSIDE_AREA)]


SUZHOU_RULES = Rules(area=SUZHOU)


def test_swapped_without_area_when_only_swap_is_in_range() -> None:
    found = check_csv(HEADER + "反站,121.518102,25.054122,,,,,,,\n")
    assert codes(found) == [(2, ErrorCode.SWAPPED)]
    assert "121.518102" in str(found.errors[0])


def test_duplicates_need_the_same_name_and_closeness() -> None:
    base = HEADER + "甲,31.300000,120.600000,,,,,,,\n"
    # A different facility in the same building is not a duplicate.
    assert check_csv(base + "乙,31.300000,120.600000,,,,,,,\n").ok
    # The same name 50 m away is a different facility.
    assert check_csv(base + "甲,31.300450,120.600000,,,,,,,\n").ok
    # Same name, same place, written differently (full-width, spaces, case) is a duplicate.
    found = check_csv(base + "\uff03 甲 ,31.30000,120.60000,,,,,,,\n" + " 甲 ,31.300050,120.600000,,,,,,,\n")
    assert codes(found) == [(4, ErrorCode.DUPLICATE)]
    # The radius is a rule.
    assert check_csv(base + "甲,31.300050,120.600000,,,,,,,\n", rules=Rules(duplicate_radius_m=3)).ok


def test_every_duplicate_of_a_cluster_names_the_first_row() -> None:
    text = HEADER + "".join(f"甲,31.3000{i},120.6,,,,,,,\n" for i in range(4))
    found = check_csv(text)
    assert codes(found) == [(3, ErrorCode.DUPLICATE), (4, ErrorCode.DUPLICATE), (5, ErrorCode.DUPLICATE)]
    assert all("same name as line 2" in str(p) for p in found.errors)


def test_multiline_quoted_field_keeps_line_numbers_right() -> None:
    text = HEADER + '"两行\n名字",31.30,120.60,,,,,,,\n\n零站,0,0,,,,,,,\n'
    found = check_csv(text)
    assert codes(found) == [(5, ErrorCode.ZERO)]


def test_header_problems_are_file_errors() -> None:
    found = check_csv("name,latitude,lon\n甲,31.3,120.6\n")
    assert codes(found) == [(None, ErrorCode.FILE)]
    assert "lat" in str(found.errors[0])
    assert str(found.errors[0]).startswith("file: ")
    assert codes(check_csv("")) == [(None, ErrorCode.FILE)]
    assert codes(check_csv(HEADER)) == [(None, ErrorCode.FILE)]  # no rows
    assert codes(check_csv("name,lat,lat,lon\n")) == [(None, ErrorCode.FILE)]


def chinese(problem: Any) -> str:
    """A problem as staff read it: its place and its sentence from the catalogue."""
    texts = load_texts()
    return f"{render(texts, problem.location)}：{render(texts, problem.reason)}"


def test_a_gbk_file_from_excel_is_read_and_says_so() -> None:
    body = HEADER + "观前街公厕,31.3080,120.6200,观前街1号（东口）,,,,,,\n"
    found = check_csv(body.encode("gbk"))
    assert found.ok, [str(p) for p in found.errors]
    assert found.encoding is Encoding.GB18030
    (row,) = rows(io.BytesIO(body.encode("gbk")), found)
    assert (row["name"], row["address"]) == ("观前街公厕", "观前街1号（东口）")
    assert check_csv(body).encoding is Encoding.UTF8
    assert check_csv("\ufeff" + body).encoding is Encoding.UTF8_BOM
    geojson = {"type": "FeatureCollection", "features": [feature("甲站", [120.6, 31.3])]}
    gbk_json = io.BytesIO(json.dumps(geojson, ensure_ascii=False).encode("gb18030"))
    read = scan(gbk_json, FileFormat.GEOJSON, Datum.WGS84, Rules())
    assert (read.ok, read.encoding) == (True, Encoding.GB18030)


def test_a_file_in_neither_encoding_is_refused_with_the_line_and_the_fix() -> None:
    found = check_csv(HEADER.encode() + "甲,31.3,120.6,,,,,,,\n".encode() + b"\xff\xfe,31.3,120.6,,,,,,,\n")
    assert [p.code for p in found.errors] == [ErrorCode.FILE]
    assert found.encoding is None
    said = chinese(found.errors[0])
    assert said.startswith("整个文件：文件第 3 行附近的文字既不是 UTF-8 编码，也不是 GBK/GB18030 编码")
    assert "请在 Excel 中用“另存为”选择“CSV UTF-8（逗号分隔）”保存后重新上传" in said
    # A UTF-8 file with a BOM is not reread as GB18030 when one byte is broken.
    broken = check_csv(b"\xef\xbb\xbf" + HEADER.encode() + b"\xa1,31.3,120.6,,,,,,,\n")
    assert [p.code for p in broken.errors] == [ErrorCode.FILE]


def test_every_problem_is_a_chinese_sentence_from_the_catalogue() -> None:
    text = HEADER + "\n".join(
        [
            "好站,31.30,120.60,,,,,,,",  # 2
            ",31.31,120.61,,,,,,,",  # 3 missing name
            "字站,abc,,,,,,,,",  # 4 lat not a number, lon empty
            "外站,39.9,116.4,,,,,,,",  # 5 outside the area
            "好站,31.30003,120.60003,,,,,,,",  # 6 duplicate of 2
            "容站,31.34,120.66,,,,,-3,,",  # 7 capacity
            "季站,31.35,120.67,,,09-01,06-01,,,",  # 8 season reversed? (recurring: allowed over new year)
            "季二站,31.36,120.68,,,2025-09-01,2025-06-01,,,",  # 9 reversed
            "时站,31.37,120.69,,早6点到晚10点,,,,,",  # 10 hours: a warning
        ]
    )
    found = check_csv(text + "\n", rules=Rules(area=SUZHOU))
    said = [chinese(p) for p in found.errors]
    assert said == [
        "第 3 行：名称为空。",
        "第 4 行：纬度“abc”不是数字。",
        "第 4 行：经度为空。",
        "第 5 行：坐标（纬度 39.9，经度 116.4）不在服务区域内（纬度 30.7–32.1，经度 119.9–121.4）。",
        "第 6 行：与第 2 行同名，相距 4.4 米，疑似重复。",
        "第 7 行：容量“-3”不是大于等于 0 的整数。",
        "第 9 行：经营季节的结束日期（2025-06-01）早于开始日期（2025-09-01）。",
    ]
    assert [chinese(p) for p in found.warnings] == [
        "第 10 行：开放时间“早6点到晚10点”无法识别，将显示为“开放时间不详”。"
    ]
    texts = load_texts()
    assert [texts(p.kind.key) for p in found.errors[:2]] == ["缺少名称", "坐标不是数字"]
    for sentence in said:
        assert not any(word in sentence for word in ("line", "name", "empty", "not a", "None"))


def test_geojson_problems_name_the_feature_counted_from_one() -> None:
    data = {"type": "FeatureCollection", "features": [feature("甲", [120.6, 31.3], "LineString")]}
    (problem,) = check_geojson(data).errors
    assert chinese(problem) == "第 1 个要素：几何类型为“LineString”，只有点（Point）要素才是设施。"
    (broken,) = scan(io.BytesIO(b'{"type": '), FileFormat.GEOJSON, Datum.WGS84, Rules()).errors
    assert chinese(broken) == "整个文件：文件不是有效的 JSON（第 1 行第 10 个字符附近有误）。"


def test_rows_outside_the_area_are_warned_and_loaded_when_the_rules_say_warn() -> None:
    text = HEADER + "苏站,31.30,120.60,,,,,,,\n京站,39.9,116.4,,,,,,,\n反站,120.61,31.31,,,,,,,\n"
    refused = check_csv(text, rules=Rules(area=SUZHOU))
    assert codes(refused) == [(3, ErrorCode.OUTSIDE_AREA), (4, ErrorCode.SWAPPED)]
    warned = check_csv(text, rules=Rules(area=SUZHOU, outside_area="warn"))
    assert codes(warned) == [(4, ErrorCode.SWAPPED)]  # swapped into the area: still an error
    assert [(p.where, p.code) for p in warned.warnings] == [(3, ErrorCode.OUTSIDE_AREA)]
    assert (warned.lat[1], warned.lon[1]) == (39.9, 116.4)
    only_outside = check_csv(
        HEADER + "京站,39.9,116.4,,,,,,,\n", rules=Rules(area=SUZHOU, outside_area="warn")
    )
    assert only_outside.ok


def test_header_names_are_forgiving_and_extra_columns_ignored() -> None:
    found = check_csv(" Name ,LAT,Lon,remark\n甲,31.3,120.6,whatever\n")
    assert found.ok
    assert found.count == 1


def test_unparseable_hours_are_a_warning_not_an_error() -> None:
    found = check_csv(
        HEADER + "甲,31.3,120.6,,早6点到晚10点,,,,,\n乙,31.4,120.6,,０６：００～２２：００,,,,,\n"
    )
    assert found.ok
    assert [(p.where, p.code) for p in found.warnings] == [(2, ErrorCode.HOURS)]


def test_seasons() -> None:
    good = check_csv(HEADER + "甲,31.3,120.6,,,11-15,02-15,,,\n乙,31.4,120.6,,,2025-06-01,2025-09-30,,,\n")
    assert good.ok
    bad = check_csv(
        HEADER
        + "甲,31.3,120.6,,,06-01,2025-09-30,,,\n"  # mixed forms
        + "乙,31.4,120.6,,,02-30,03-01,,,\n"  # no such day
        + "丙,31.5,120.6,,,,09-30,,,\n"  # end without start
    )
    assert codes(bad) == [
        (2, ErrorCode.INVALID_FIELD),
        (3, ErrorCode.INVALID_FIELD),
        (4, ErrorCode.INVALID_FIELD),
    ]


def test_long_fields_are_refused() -> None:
    found = check_csv(HEADER + f"{'长' * 101},31.3,120.6,{'址' * 201},,,,,,\n")
    assert codes(found) == [(2, ErrorCode.INVALID_FIELD), (2, ErrorCode.INVALID_FIELD)]


def test_errors_are_all_counted_but_the_report_is_capped() -> None:
    text = HEADER + "".join(f"站{i},0,0,,,,,,,\n" for i in range(30))
    found = check_csv(text, rules=Rules(max_errors=10))
    assert found.error_count == 30
    assert len(found.errors) == 10
    assert found.errors[0].where == 2


def feature(name: Any, coords: Any, geometry_type: str = "Point", **props: Any) -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": {"type": geometry_type, "coordinates": coords},
        "properties": {"name": name, **props},
    }


def test_geojson_points_with_errors_by_feature_index() -> None:
    data = {
        "type": "FeatureCollection",
        "features": [
            feature("甲", [120.6, 31.3], opening_hours="24/7", capacity=12),  # 0 fine (lon, lat)
            feature("乙", [31.31, 120.61]),  # 1 [lat, lon]: swapped
            feature("丙", [[120.6, 31.3], [120.7, 31.4]], "LineString"),  # 2 not a point
            feature("", [120.62, 31.32]),  # 3 missing name
            feature("丁", ["x", 31.33]),  # 4 not a number
            {"type": "Feature", "geometry": None, "properties": {"name": "戊"}},  # 5 no geometry
            feature("己", [0, 0]),  # 6 zero
            feature("甲", [120.60001, 31.30001]),  # 7 duplicate of 0
        ],
    }
    found = check_geojson(data, rules=Rules(area=SUZHOU))
    assert codes(found) == [
        (1, ErrorCode.SWAPPED),
        (2, ErrorCode.NOT_A_POINT),
        (3, ErrorCode.MISSING_NAME),
        (4, ErrorCode.NOT_A_NUMBER),
        (5, ErrorCode.NOT_A_POINT),
        (6, ErrorCode.ZERO),
        (7, ErrorCode.DUPLICATE),
    ]
    assert str(found.errors[0]).startswith("features[1]: ")
    assert "features[0]" in str(found.errors[-1])


def test_geojson_clean_rows() -> None:
    data = {"type": "FeatureCollection", "features": [feature("甲", [120.6, 31.3, 12.0], capacity=12)]}
    found = check_geojson(data)
    assert found.ok
    (row,) = rows(io.BytesIO(json.dumps(data).encode()), found)
    assert (row["lat"], row["lon"], row["capacity"], row["source_line"]) == (31.3, 120.6, 12, 0)


def test_geojson_file_errors() -> None:
    assert codes(check_geojson({"type": "Point", "coordinates": [1, 2]})) == [(None, ErrorCode.FILE)]
    stream = io.BytesIO(b'{"type": "FeatureCollection", "features": [')
    assert [p.code for p in scan(stream, FileFormat.GEOJSON, Datum.WGS84, Rules()).errors] == [ErrorCode.FILE]
    single = check_geojson(feature("甲", [120.6, 31.3]))
    assert single.ok
    assert single.count == 1


@pytest.mark.parametrize("datum", list(Datum))
def test_declared_datum_is_converted_once(datum: Datum) -> None:
    place = GeoPoint(31.3115, 120.6290, Datum.WGS84)
    given = place.to(datum)
    found = check_csv(HEADER + f"甲,{given.lat:.9f},{given.lon:.9f},,,,,,,\n", datum=datum)
    assert geodesic((found.lat[0], found.lon[0]), (place.lat, place.lon)).meters < 0.1
