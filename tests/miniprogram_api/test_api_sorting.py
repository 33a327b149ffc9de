"""垃圾分类 over the API: ``GET /api/v1/sorting`` answers as the chat's ``分类 电池`` does."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask

from bot.core import services
from tests.support.api_fixtures import Resident, log_in
from tests.support.reports import unit
from tests.support.wechat import simulator_for
from waste.table import load_table, read_table, sample_path

pytestmark = pytest.mark.integration


def test_chat_and_api_answer_alike(make_api_app: Callable[..., Flask], mini_wechat: Any) -> None:
    sorting_app = make_api_app()
    with unit(sorting_app) as session:
        load_table(session, read_table(sample_path().read_bytes()))
    sim = simulator_for(sorting_app)
    reply = sim.send(sim.text("o-chat-1", "分类 废电池"))
    assert reply.status == 200
    text = reply.text or ""
    assert "“电池”属于【有害垃圾】" in text
    assert "投放要求：" in text
    usage = sim.send(sim.text("o-chat-1", "分类")).text or ""
    assert usage == services.texts(sorting_app)("waste.chat.usage")
    unknown = sim.send(sim.text("o-chat-1", "垃圾分类 宇宙飞船")).text or ""
    assert "宇宙飞船" in unknown
    assert unknown == services.texts(sorting_app)("waste.chat.not_found", query="宇宙飞船")

    resident: Resident = log_in(sorting_app.test_client(), mini_wechat, "o-mini-sort", "sorting")
    answer = resident.get("/sorting", query_string={"q": "废电池"}).get_json()
    assert answer["match"]["name"] == "电池"
    assert answer["match"]["category"]["code"] == "hazardous"
    assert answer["match"]["category"]["name"] == "有害垃圾"
    assert answer["match"]["category"]["guidance"] in text
    assert answer["match"]["exact"] is True
    nothing = resident.get("/sorting", query_string={"q": "宇宙飞船"}).get_json()
    assert nothing["match"] is None
    assert resident.get("/sorting").status_code == 422
