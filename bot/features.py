"""The one list of features. Adding a feature is its package(s) plus one entry here.

Order matters twice: chat routers are tried in this order (after the conversation in progress and
the menu events; see bot.chat.routing), and each ``init_app`` runs in this order.
"""

from __future__ import annotations

from functools import partial
from importlib import resources

import broadcasts.services
import cases.jobs
import cases.models
import cases.services
import console
import console.answers
import geodata.models
import handlers.basics
import handlers.broadcasts
import handlers.cases
import handlers.menu
import handlers.nearby
import handlers.reports
import handlers.sorting
import miniprogram_api
import miniprogram_api.models
import open311
import reports.jobs
import reports.models
import reports.services
import staff.models
import waste.models
from bot.chat import conversation, journal
from bot.chat.engine import init_app as chat_init_app
from bot.chat.settings import ConversationSettings, IntakeSettings
from bot.core import audit, residents
from bot.core.feature import Feature
from bot.wechat import service as wechat_service
from bot.wechat.settings import WeChatSettings
from broadcasts import models as broadcast_models
from broadcasts.settings import BroadcastSettings
from cases.settings import CasesSettings
from cli import broadcasts as broadcast_commands
from cli import inbox, menu, messages, poi, report, rewards, sorting, worker
from cli import staff as staff_commands
from console.settings import ConsoleSettings
from geodata.settings import GeoSettings
from miniprogram_api.settings import MiniProgramSettings
from open311.settings import Open311Settings
from reports.settings import ReportsSettings
from waste.settings import WasteSettings

FEATURES: tuple[Feature, ...] = (
    # the kernel's own tables: residents and the one audit trail
    Feature("core", models=[residents, audit]),
    Feature("wechat", sections=[("wechat", WeChatSettings)], init_app=wechat_service.init_app),
    Feature(
        "chat",
        sections=[("intake", IntakeSettings), ("conversation", ConversationSettings)],
        models=[journal, conversation],
        init_app=chat_init_app,
        routers=[handlers.basics.router],
        commands=[messages.messages, worker.worker, worker.jobs_group],
        texts=resources.files("bot.chat") / "texts.toml",
    ),
    Feature(
        "staff",
        models=[staff.models],
        commands=[staff_commands.staff],
        texts=resources.files("staff") / "texts.toml",
    ),
    Feature(
        "reports",
        sections=[("reports", ReportsSettings)],
        models=[reports.models],
        init_app=partial(reports.services.init_app, wechat=wechat_service.api),
        routers=[handlers.reports.router],
        sweepers=[reports.jobs.run_due],
        commands=[report.report, rewards.rewards],
        texts=resources.files("reports") / "texts.toml",
    ),
    Feature(
        "cases",
        sections=[("cases", CasesSettings)],
        models=[cases.models],
        init_app=partial(cases.services.init_app, wechat=wechat_service.api),
        # before 一键查找: 1 / 2 / 3 answer a waiting satisfaction question first
        routers=[handlers.cases.router],
        sweepers=[cases.jobs.run_due],
        commands=[inbox.inbox],
        texts=resources.files("cases") / "texts.toml",
    ),
    Feature(
        "geodata",
        sections=[("geo", GeoSettings)],
        models=[geodata.models],
        routers=[handlers.nearby.router],
        commands=[poi.poi],
        texts=resources.files("geodata") / "texts.toml",
    ),
    Feature(
        "menu",
        routers=[handlers.menu.router],
        commands=[menu.menu],
        texts=resources.files("menu") / "texts.toml",
    ),
    Feature(
        "waste",
        sections=[("waste", WasteSettings)],
        models=[waste.models],
        routers=[handlers.sorting.router],
        commands=[sorting.sorting],
        texts=resources.files("waste") / "texts.toml",
    ),
    Feature(
        "broadcasts",
        sections=[("broadcasts", BroadcastSettings)],
        models=[broadcast_models],
        init_app=partial(broadcasts.services.init_app, wechat=wechat_service.api),
        routers=[handlers.broadcasts.router],
        commands=[broadcast_commands.broadcasts],
        texts=resources.files("broadcasts") / "texts.toml",
    ),
    Feature(
        "miniprogram",
        sections=[("miniprogram", MiniProgramSettings)],
        models=[miniprogram_api.models],
        init_app=miniprogram_api.init_app,
        texts=resources.files("miniprogram_api") / "texts.toml",
    ),
    Feature(
        "open311",
        sections=[("open311", Open311Settings)],
        init_app=open311.init_app,
        texts=resources.files("open311") / "texts.toml",
    ),
    # the page a template message's link opens: a resident reads the answer to their case
    Feature("answers", init_app=console.answers.init_app),
    Feature(
        "console",
        sections=[("console", ConsoleSettings)],
        init_app=console.init_app,
        texts=resources.files("console") / "texts.toml",
    ),
)

# The chat's last resort when no router took a message: 有问必答 makes it a case (help where asked).
FALLBACK = handlers.cases.fallback
