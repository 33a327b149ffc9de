"""Staff accounts act on reports in one of their roles, or as admin."""

from __future__ import annotations

import pytest

from reports.roles import Actor, PermissionDeniedError, Role, actor_for_staff
from staff.models import Staff


def member(roles: str, *, active: bool = True, openid: str | None = None) -> Staff:
    return Staff(
        username="zhang",
        display_name="张",
        password_hash="x",
        roles_text=roles,
        active=active,
        wechat_openid=openid,
    )


def test_the_role_asked_for_wins_over_admin() -> None:
    actor = actor_for_staff(member("admin,reviewer", openid="o-zhang"), Role.REVIEWER)
    assert actor == Actor("zhang", Role.REVIEWER, openid="o-zhang")


def test_admin_acts_where_the_role_is_missing() -> None:
    assert actor_for_staff(member("admin"), Role.REWARDS_OFFICER).role == Role.ADMIN


@pytest.mark.parametrize(("roles", "active"), [("editor", True), ("reviewer", False), ("", True)])
def test_others_are_refused(roles: str, active: bool) -> None:
    with pytest.raises(PermissionDeniedError, match="cannot act as reviewer"):
        actor_for_staff(member(roles, active=active), Role.REVIEWER)


def test_require_names_the_act_and_the_roles() -> None:
    with pytest.raises(PermissionDeniedError, match="accept needs one of the roles reviewer"):
        Actor("li", Role.REWARDS_OFFICER).require((Role.REVIEWER,), "accept")
    Actor("root", Role.ADMIN).require((Role.REVIEWER,), "accept")  # admin may do everything
