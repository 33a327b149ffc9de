"""The dashboard: today's figures and the sections this staff member may open."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue

from bot.core.clock import utcnow
from bot.core.database import get_session
from console import access, localtime, navigation, queue, stats
from console.access import requires
from staff.roles import Permission

bp = Blueprint("home", __name__)


@bp.get("/")
@requires(Permission.CONSOLE)
def dashboard() -> ResponseReturnValue:
    me = access.require_staff()
    zone = localtime.zone()
    figures = None
    if me.can(Permission.STATS_VIEW):
        db = get_session()
        today = localtime.today()
        day = stats.DayRange(today, today, zone)
        week = stats.DayRange.last(7, zone, today)
        figures = {
            "messages_today": stats.daily(db, day).messages.total,
            "active_week": stats.active_residents(db, week),
            "followers": stats.followers_now(db),
        }
    queue_counts = None
    if me.can(Permission.REPORTS_VIEW):
        queue_counts = queue.counts(get_session(), now=utcnow())
    sections = [item for item in navigation.items_for(me) if item.endpoint != "console.home.dashboard"]
    return render_template(
        "console/dashboard.html", figures=figures, queue_counts=queue_counts, sections=sections
    )
