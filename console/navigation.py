"""The console's navigation: each entry names its endpoint and the permission that shows it."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from staff.models import Staff
from staff.roles import Permission


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: str
    permission: Permission
    # Endpoints (prefixes) that highlight this entry.
    section: str


NAV: tuple[NavItem, ...] = (
    NavItem("console.home.dashboard", "工作台", Permission.CONSOLE, "console.home."),
    NavItem("console.reviews.index", "举报审核", Permission.REPORTS_VIEW, "console.reviews."),
    NavItem("console.cases.index", "留言办理", Permission.CASES_VIEW, "console.cases."),
    NavItem("console.rewards.index", "积分兑付", Permission.REWARDS_VIEW, "console.rewards."),
    NavItem("console.broadcasts.index", "城管发布", Permission.BROADCASTS_VIEW, "console.broadcasts."),
    NavItem("console.datasets.index", "设施数据", Permission.DATASETS_VIEW, "console.datasets."),
    NavItem("console.statistics.index", "数据统计", Permission.STATS_VIEW, "console.statistics."),
    NavItem("console.staff.index", "人员管理", Permission.STAFF_MANAGE, "console.staff."),
    NavItem("console.audit_log.index", "操作日志", Permission.AUDIT_VIEW, "console.audit_log."),
)


def items_for(staff: Staff | None) -> list[NavItem]:
    """The entries this staff member may open, among those this app serves."""
    if staff is None:
        return []
    served = current_app.view_functions
    return [item for item in NAV if item.endpoint in served and staff.can(item.permission)]
