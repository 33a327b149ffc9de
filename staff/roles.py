"""Roles and the permissions they grant: the one place that says who may do what.

A staff member holds one or more roles; a check is always for a permission string, never for a role,
so reshaping roles never touches the code that checks.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from bot.core.texts import Texts
from staff.errors import StaffError


class Role(StrEnum):
    REVIEWER = "reviewer"  # reviews 随手拍 reports
    REWARDS_OFFICER = "rewards_officer"  # pays out points
    DATA_ADMIN = "data_admin"  # facility datasets
    EDITOR = "editor"  # drafts broadcasts, 初审
    SECTION_CHIEF = "section_chief"  # 复审 of every grade (the responsible section)
    DEPUTY_LEADER = "deputy_leader"  # 复审 of important and major items (分管领导)
    HEAD = "head"  # 复审 of major items (主要领导)
    CHIEF_EDITOR = "chief_editor"  # 终审 and publishing
    CASE_OFFICER = "case_officer"  # answers residents' messages (有问必答)
    ADMIN = "admin"  # staff accounts, everything


def role_name(texts: Texts, role: Role | str) -> str:
    """A role as staff read it (审核员), from ``staff.roles`` in the catalogue; an unknown code as is."""
    key = f"staff.roles.{role}"
    return texts(key) if key in texts else str(role)


def role_names(texts: Texts, roles: Iterable[Role | str]) -> str:
    """Several roles, in the order of this module, joined with 、; 无 when there are none."""
    order = {role.value: i for i, role in enumerate(Role)}
    codes = sorted({str(role) for role in roles}, key=lambda code: (order.get(code, len(order)), code))
    return "、".join(role_name(texts, code) for code in codes) or texts("staff.roles.none")


class Permission(StrEnum):
    CONSOLE = "console.access"
    STATS_VIEW = "stats.view"
    REPORTS_VIEW = "reports.view"
    REPORTS_REVIEW = "reports.review"  # decide on reports: accept, reject, duplicate, resolve, revoke
    # move a report along without judging it: take it into review, close an accepted one (the
    # system's automatic acts hold only this)
    REPORTS_ADVANCE = "reports.advance"
    REWARDS_VIEW = "rewards.view"
    REWARDS_PAYOUT = "rewards.payout"
    REWARDS_FULL_PHONES = "rewards.phones.full"  # full phone numbers in a payout export, to pay them
    DATASETS_VIEW = "datasets.view"
    DATASETS_PUBLISH = "datasets.publish"
    BROADCASTS_VIEW = "broadcasts.view"
    DRAFTS_WRITE = "drafts.write"
    DRAFTS_FIRST_REVIEW = "drafts.review.first"
    DRAFTS_SECOND_REVIEW = "drafts.review.second"
    # 复审 sign-offs: which reviewer a graded item needs (see broadcasts.review.SIGN_OFFS)
    DRAFTS_SIGN_SECTION = "drafts.review.second.section"
    DRAFTS_SIGN_DEPUTY = "drafts.review.second.deputy"
    DRAFTS_SIGN_HEAD = "drafts.review.second.head"
    DRAFTS_FINAL_REVIEW = "drafts.review.final"
    BROADCAST_PUBLISH = "broadcast.publish"
    MENU_MANAGE = "menu.manage"
    STAFF_MANAGE = "staff.manage"
    AUDIT_VIEW = "audit.view"
    # 有问必答: read the inbox; reply, note, answer, close, convert, publish; assign; canned replies,
    # the calendar and the duty roster; residents' openids and phone numbers in full; being told of
    # overdue cases (first the section chief, then the 分管领导).
    CASES_VIEW = "cases.view"
    CASES_REPLY = "cases.reply"
    CASES_ASSIGN = "cases.assign"
    CASES_MANAGE = "cases.manage"
    CASES_CONTACT = "cases.contact"
    CASES_ESCALATION_SECTION = "cases.escalation.section"
    CASES_ESCALATION_DEPUTY = "cases.escalation.deputy"


_BASE = {Permission.CONSOLE, Permission.STATS_VIEW}

GRANTS: dict[Role, frozenset[Permission]] = {
    Role.REVIEWER: frozenset(
        _BASE | {Permission.REPORTS_VIEW, Permission.REPORTS_REVIEW, Permission.REPORTS_ADVANCE}
    ),
    Role.REWARDS_OFFICER: frozenset(
        _BASE
        | {
            Permission.REPORTS_VIEW,
            Permission.REWARDS_VIEW,
            Permission.REWARDS_PAYOUT,
            Permission.REWARDS_FULL_PHONES,
        }
    ),
    Role.DATA_ADMIN: frozenset(_BASE | {Permission.DATASETS_VIEW, Permission.DATASETS_PUBLISH}),
    Role.EDITOR: frozenset(
        _BASE | {Permission.BROADCASTS_VIEW, Permission.DRAFTS_WRITE, Permission.DRAFTS_FIRST_REVIEW}
    ),
    Role.SECTION_CHIEF: frozenset(
        _BASE
        | {
            Permission.BROADCASTS_VIEW,
            Permission.DRAFTS_WRITE,
            Permission.DRAFTS_SECOND_REVIEW,
            Permission.DRAFTS_SIGN_SECTION,
            Permission.CASES_VIEW,
            Permission.CASES_REPLY,
            Permission.CASES_ASSIGN,
            Permission.CASES_ESCALATION_SECTION,
        }
    ),
    Role.DEPUTY_LEADER: frozenset(
        _BASE
        | {
            Permission.BROADCASTS_VIEW,
            Permission.DRAFTS_SECOND_REVIEW,
            Permission.DRAFTS_SIGN_DEPUTY,
            Permission.CASES_VIEW,
            Permission.CASES_ASSIGN,
            Permission.CASES_ESCALATION_DEPUTY,
        }
    ),
    Role.HEAD: frozenset(
        _BASE | {Permission.BROADCASTS_VIEW, Permission.DRAFTS_SECOND_REVIEW, Permission.DRAFTS_SIGN_HEAD}
    ),
    Role.CHIEF_EDITOR: frozenset(
        _BASE
        | {
            Permission.BROADCASTS_VIEW,
            Permission.DRAFTS_WRITE,
            Permission.DRAFTS_FINAL_REVIEW,
            Permission.BROADCAST_PUBLISH,
            Permission.MENU_MANAGE,
        }
    ),
    Role.CASE_OFFICER: frozenset(_BASE | {Permission.CASES_VIEW, Permission.CASES_REPLY}),
    # Everything, except residents' full phone numbers: only whoever pays them sees those.
    Role.ADMIN: frozenset(Permission) - {Permission.REWARDS_FULL_PHONES},
}


def permissions_of(roles: frozenset[Role] | set[Role]) -> frozenset[Permission]:
    granted: set[Permission] = set()
    for role in roles:
        granted |= GRANTS[role]
    return frozenset(granted)


def parse_roles(values: str | list[str] | tuple[str, ...]) -> frozenset[Role]:
    """Roles from 'a,b' or a list; raises StaffError (a ValueError) naming an unknown role."""
    items = values.split(",") if isinstance(values, str) else list(values)
    roles: set[Role] = set()
    for item in (v.strip() for v in items):
        if not item:
            continue
        try:
            roles.add(Role(item))
        except ValueError:
            known = ", ".join(r.value for r in Role)
            raise StaffError(
                "unknown_role", f"unknown role {item!r}; known roles: {known}", role=item, known=known
            ) from None
    return frozenset(roles)
