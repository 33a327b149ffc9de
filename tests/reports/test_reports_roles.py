"""Staff accounts act on reports with the permissions of their roles (staff/roles.py); the audit
trail records the role that grants what they do."""

from __future__ import annotations

import pytest

from reports.roles import RESIDENT, SYSTEM, Actor, PermissionDeniedError, actor_for_staff, staff_actor
from staff.models import Staff
from staff.roles import Permission, Role, permissions_of

pytestmark = pytest.mark.unit


def member(roles: str, *, active: bool = True, openid: str | None = None) -> Staff:
    return Staff(
        username="zhang",
        display_name="张",
        password_hash="x",
        roles_text=roles,
        active=active,
        wechat_openid=openid,
    )


def test_a_staff_actor_carries_the_permissions_of_their_roles() -> None:
    actor = actor_for_staff(member("admin,reviewer", openid="o-zhang"), Permission.REPORTS_REVIEW)
    held = permissions_of({Role.ADMIN, Role.REVIEWER})
    assert actor == Actor("zhang", held, "reviewer", openid="o-zhang")  # recorded under the role asked for


def test_admin_is_recorded_where_no_other_role_grants_the_act() -> None:
    actor = actor_for_staff(member("admin,rewards_officer"), Permission.REPORTS_REVIEW)
    assert actor.role == "admin"
    assert actor.can(Permission.REWARDS_FULL_PHONES)  # from rewards_officer


@pytest.mark.parametrize(("roles", "active"), [("editor", True), ("reviewer", False), ("", True)])
def test_others_are_refused(roles: str, active: bool) -> None:
    with pytest.raises(PermissionDeniedError, match=r"zhang lacks the permission reports\.review") as refused:
        actor_for_staff(member(roles, active=active), Permission.REPORTS_REVIEW)
    assert refused.value.code == "not_permitted"


def test_require_names_the_act_and_the_permission() -> None:
    with pytest.raises(
        PermissionDeniedError, match=r"accept needs the permission reports\.review"
    ) as refused:
        staff_actor("li", Role.REWARDS_OFFICER).require(Permission.REPORTS_REVIEW, "accept")
    assert refused.value.code == "not_permitted"
    staff_actor("root", Role.ADMIN).require(Permission.REPORTS_REVIEW, "accept")


def test_the_system_only_moves_reports_along_and_residents_decide_nothing() -> None:
    assert SYSTEM.permissions == {Permission.REPORTS_ADVANCE}
    assert SYSTEM.role == "system"
    assert RESIDENT.permissions == frozenset()
    assert RESIDENT.role == "resident"
