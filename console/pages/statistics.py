"""Statistics with date ranges, drawn as inline SVG charts."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue

from bot.core import services
from bot.core.database import get_session
from console import charts, localtime, stats
from console.access import requires
from console.pages import cases
from reports.settings import ReportsSettings
from staff.roles import Permission

bp = Blueprint("statistics", __name__, url_prefix="/stats")

PRESETS = (7, 30, 90, 365)


def _day_chart(range_: stats.DayRange, series: list[stats.Series], title: str) -> charts.Markup:
    labels = [day.isoformat() for day in range_.days]
    ticks = [day.strftime("%m-%d") for day in range_.days]
    return charts.bar_chart(
        labels, [charts.ChartSeries(s.name, s.values) for s in series], title=title, tick_labels=ticks
    )


def _duration(value: timedelta | None) -> str:
    """A wait as staff read it: 3 小时 20 分, 2 天 4 小时, or — when there is nothing to measure."""
    if value is None:
        return "—"
    minutes = int(value.total_seconds() // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days} 天 {hours} 小时"
    if hours:
        return f"{hours} 小时 {minutes} 分"
    return f"{minutes} 分钟"


@bp.get("/")
@requires(Permission.STATS_VIEW)
def index() -> ResponseReturnValue:
    zone = localtime.zone()
    today = localtime.today()
    error = ""
    try:
        range_ = stats.DayRange.parse(
            request.args.get("start", "").strip(), request.args.get("end", "").strip(), zone, today
        )
    except stats.RangeError as exc:
        error = str(exc)
        range_ = stats.DayRange.last(30, zone, today)
    db = get_session()
    figures = stats.daily(db, range_, store=services.store(), today=today)
    messages, active, follows, unfollows = (
        figures.messages,
        figures.active,
        figures.follows,
        figures.unfollows,
    )
    summary = {
        "messages": messages.total,
        "active": stats.active_residents(db, range_, store=services.store()),
        "follows": follows.total,
        "unfollows": unfollows.total,
        "followers": stats.followers_now(db),
    }
    reports = stats.reports_per_day(db, range_)
    by_status = stats.reports_by_status(db, range_)
    by_category = stats.reports_by_category(db, range_)
    paid = stats.rewards_paid(db, range_)
    points_per_yuan = services.settings().section(ReportsSettings).points_per_yuan
    report_summary = {
        "reports": reports.total,
        "first_review": _duration(stats.median_first_review(db, range_, store=services.store())),
        "paid_points": paid.points,
        "paid_yuan": f"{paid.points / points_per_yuan:.2f}",
        "paid_residents": paid.residents,
    }
    rows = list(
        zip(
            range_.days,
            messages.values,
            active.values,
            follows.values,
            unfollows.values,
            reports.values,
            strict=True,
        )
    )
    return render_template(
        "console/statistics.html",
        range=range_,
        error=error,
        presets=[(n, stats.DayRange.last(n, zone, today)) for n in PRESETS],
        summary=summary,
        report_summary=report_summary,
        case_figures=cases.figure_rows(db, range_.start, range_.end),
        rows=rows,
        charts={
            "messages": _day_chart(range_, [messages], "每日消息数"),
            "active": _day_chart(range_, [active], "每日活跃居民"),
            "follows": _day_chart(range_, [follows, unfollows], "每日关注与取消关注"),
            "reports": _day_chart(range_, [reports], "每日举报数"),
            "by_status": charts.hbar_chart(
                [(services.texts()(f"reports.status.{status}"), n) for status, n in by_status.items()],
                title="举报按状态",
            ),
            "by_category": charts.hbar_chart(by_category, title="举报按类别"),
        },
    ), (400 if error else 200)
