"""A fifth facility kind is one PoiKind member plus its data: nothing else lists the kinds.

A copy of the application whose geodata/kinds.py has one more member (and nothing else changed)
runs in a subprocess: the chat answers the new kind's keyword after a location and its menu button,
the API's /places/nearest accepts it, the OpenAPI document lists it, and the menu offers its key.
Any place that still lists the kinds by hand misses the new one and fails here.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from geodata.kinds import PoiKind
from tests.conftest import REPO, SECRET_KEY

pytestmark = pytest.mark.integration

MARKER = '    WATERMELON = ("watermelon", "4", "西瓜零售点", True, False, ("西瓜", "西瓜摊", "买西瓜"))\n'
NEW_MEMBER = '    KIOSK = ("kiosk", "5", "便民服务亭", False, False)\n'
PACKAGES = sorted(p.name for p in REPO.iterdir() if (p / "__init__.py").is_file() and p.name != "tests")

PROBE = textwrap.dedent(
    """
    import json, sys
    from datetime import datetime, timezone
    from pathlib import Path

    from click.testing import CliRunner

    here = Path.cwd()
    import geodata.kinds
    assert Path(geodata.kinds.__file__).is_relative_to(here), geodata.kinds.__file__

    from bot import create_app
    from bot.app import load_settings
    from bot.core.database import session_scope
    from bot.migrations import upgrade
    from devtools.simulator import WeChatSimulator
    from geodata.datasets import load_dataset
    from geodata.datums import Datum
    from geodata.kinds import PoiKind
    from cli.env import Env
    from cli.menu import menu
    from menu.errors import MenuError
    from menu.keys import known_keys, nearby_key
    from menu.loading import parse_menu
    from miniprogram_api.auth import issue_token

    kind = PoiKind("kiosk")
    overrides = json.loads(sys.argv[1])
    settings = load_settings(None, overrides, environ={})
    upgrade(settings)
    app = create_app(overrides)
    app.testing = True
    seen = {}

    csv = here / "kiosk.csv"
    csv.write_text(
        "name,lat,lon,address,opening_hours,season_start,season_end,capacity,external_id,notes\\n"
        "广场服务亭,31.2995,120.5858,广场路1号,,,,,,\\n"
        "车站服务亭,31.3010,120.5870,车站路2号,,,,,,\\n",
        encoding="utf-8",
    )
    with session_scope(app) as session:
        seen["loaded"] = str(load_dataset(session, kind, csv, Datum.GCJ02, dry_run=False).status)

    # the chat: a location, then the keyword; the menu button answers the same
    client = app.test_client()

    def post(path, body):
        response = client.post(path, data=body, content_type="text/xml")
        return response.status_code, response.data

    wechat = settings.wechat
    sim = WeChatSimulator(
        post, token=wechat.token, app_id=wechat.app_id, encoding_aes_key=wechat.encoding_aes_key
    )
    openid = "o_new_kind"
    seen["location_reply"] = sim.send(sim.location(openid, 31.2990, 120.5853, "广场")).text
    seen["keyword_reply"] = sim.send(sim.text(openid, kind.keyword)).text
    click = sim.event(openid, "CLICK", nearby_key(kind), create_time=1_700_000_000)
    seen["click_reply"] = sim.send(click).text

    # the mini-program API and its document
    program = settings.miniprogram.programs[0]
    token, _ = issue_token(settings, openid, program, datetime.now(timezone.utc))
    nearest = client.get(
        "/api/v1/places/nearest",
        query_string={"kind": kind.value, "lat": 31.2990, "lon": 120.5853},
        headers={"Authorization": f"Bearer {token}"},
    )
    seen["api_status"] = nearest.status_code
    seen["api"] = nearest.get_json()
    seen["openapi"] = client.get("/api/v1/openapi.json").get_json()

    # the menu: the key is known, a menu file may carry it, `citybot menu keys` lists it
    seen["known_keys"] = list(known_keys())
    button = '[[button]]\\nname = "服务亭"\\ntype = "click"\\nkey = "%s"\\n' % nearby_key(kind)
    try:
        seen["menu_payload"] = parse_menu(button).payload()
    except MenuError as exc:
        seen["menu_payload"] = str(exc)
    env = Env(None, lambda **_: app, lambda _: settings)
    seen["menu_keys"] = CliRunner().invoke(menu, ["keys"], obj=env).output
    print(json.dumps(seen, ensure_ascii=False))
    """
)


def _copy_with_new_kind(target: Path) -> None:
    for name in PACKAGES:
        shutil.copytree(REPO / name, target / name, ignore=shutil.ignore_patterns("__pycache__"))
    kinds = target / "geodata" / "kinds.py"
    source = kinds.read_text(encoding="utf-8")
    assert MARKER in source, "the last member of PoiKind has changed: update MARKER"
    kinds.write_text(source.replace(MARKER, MARKER + NEW_MEMBER), encoding="utf-8")


def _resolve(document: dict, node: dict) -> dict:  # type: ignore[type-arg]
    while "$ref" in node:
        node = document["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]]
    return node


def test_a_fifth_kind_is_one_enum_member(tmp_path: Path) -> None:
    assert "kiosk" not in {k.value for k in PoiKind}
    tree = tmp_path / "tree"
    _copy_with_new_kind(tree)
    overrides = {
        "secret_key": SECRET_KEY,
        "instance_path": str(tmp_path / "instance"),
        "database_url": f"sqlite:///{tmp_path / 'citybot.db'}",
        "redis_url": "",
        "wechat": {"app_id": "wx0000000000000000", "app_secret": "test-secret", "token": "testtoken"},
        "intake": {"recovery_interval": 0},
        "miniprogram": {"programs": [{"name": "report", "app_id": "wx1111111111111111", "app_secret": "s"}]},
    }
    (tree / "probe.py").write_text(PROBE, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "probe.py", json.dumps(overrides)],
        cwd=tree,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(tree), "CITYBOT_SECRET_KEY": SECRET_KEY},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])

    assert seen["loaded"] == "loaded"
    # chat: the location lists the new keyword; the keyword and the menu button answer with the kind
    assert "5" in seen["location_reply"]
    assert "便民服务亭" in seen["location_reply"]
    assert "离您最近的便民服务亭" in seen["keyword_reply"]
    assert "广场服务亭" in seen["keyword_reply"]
    assert seen["click_reply"] == seen["keyword_reply"]
    # API
    assert seen["api_status"] == 200, seen["api"]
    assert seen["api"]["kind"] == "kiosk"
    assert seen["api"]["label"] == "便民服务亭"
    assert [p["name"] for p in seen["api"]["places"]][:1] == ["广场服务亭"]
    # OpenAPI: the parameter and the answer
    document = seen["openapi"]
    nearest = document["paths"]["/places/nearest"]["get"]
    parameter = next(p for p in nearest["parameters"] if p["name"] == "kind")
    expected = [*(k.value for k in PoiKind), "kiosk"]
    assert _resolve(document, parameter["schema"])["enum"] == expected
    answer = _resolve(document, nearest["responses"]["200"]["content"]["application/json"]["schema"])
    assert _resolve(document, answer["properties"]["kind"])["enum"] == expected
    # menu
    assert "NEARBY_KIOSK" in seen["known_keys"]
    assert seen["menu_payload"] == {"button": [{"type": "click", "name": "服务亭", "key": "NEARBY_KIOSK"}]}
    assert "NEARBY_KIOSK\t一键查找 便民服务亭（kiosk）" in seen["menu_keys"]
