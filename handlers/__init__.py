"""Chat handlers, one module per feature. ROUTERS is the routing policy: its order is the order in
which stateless routes are tried (see bot.chat.routing for the full dispatch order)."""

from __future__ import annotations

from bot.chat.routing import Router
from handlers import basics, broadcasts, menu, nearby, reports, sorting

ROUTERS: tuple[Router, ...] = (
    basics.router,
    reports.router,
    nearby.router,
    menu.router,
    sorting.router,
    broadcasts.router,
)

FALLBACK = basics.fallback
