"""Staff accounts for admins: list, add, roles, disable and enable, password reset, unlock."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue

from bot.core.database import get_session
from console import access
from console.access import requires
from console.forms import ResetPasswordForm, RolesForm, StaffAddForm
from console.refusals import explain
from staff import models as staff_models
from staff.models import STAFF, STAFF_DISABLE, Staff, StaffError
from staff.roles import Permission, Role, parse_roles

bp = Blueprint("staff", __name__, url_prefix="/staff")


def _member(username: str) -> Staff:
    member = staff_models.by_username(get_session(), username)
    if member is None:
        abort(404)
    return member


def _detail(
    member: Staff, roles_form: RolesForm | None = None, password_form: ResetPasswordForm | None = None
) -> str:
    if roles_form is None:
        roles_form = RolesForm(formdata=None, roles=sorted(role.value for role in member.roles))
    return render_template(
        "console/staff_detail.html",
        member=member,
        roles_form=roles_form,
        password_form=password_form or ResetPasswordForm(formdata=None),
    )


@bp.get("/")
@requires(Permission.STAFF_MANAGE)
def index() -> ResponseReturnValue:
    return render_template("console/staff_list.html", members=staff_models.all_staff(get_session()))


@bp.route("/new", methods=["GET", "POST"])
@requires(Permission.STAFF_MANAGE)
def add() -> ResponseReturnValue:
    form = StaffAddForm()
    if form.validate_on_submit():
        db = get_session()
        roles = parse_roles(form.roles.data or [])
        try:
            member = staff_models.add(
                db, form.username.data or "", form.password.data or "", roles, form.display_name.data or ""
            )
        except StaffError as exc:
            db.rollback()
            form.username.errors = [explain(exc)]
        else:
            access.record(
                "staff.add", member.username, **_target(member), roles=sorted(r.value for r in roles)
            )
            db.commit()
            flash(f"已添加工作人员 {member.display_name}（{member.username}）。", "success")
            return redirect(url_for(".detail", username=member.username))
    return render_template("console/staff_add.html", form=form), (400 if form.errors else 200)


def _target(member: Staff) -> dict[str, Any]:
    return {"kind": STAFF, "target_id": member.id}


@bp.get("/<username>")
@requires(Permission.STAFF_MANAGE)
def detail(username: str) -> ResponseReturnValue:
    return _detail(_member(username))


@bp.post("/<username>/roles")
@requires(Permission.STAFF_MANAGE)
def roles(username: str) -> ResponseReturnValue:
    member = _member(username)
    form = RolesForm()
    if not form.validate():
        return _detail(member, roles_form=form), 400
    new_roles = parse_roles(form.roles.data or [])
    me = access.require_staff()
    if member.id == me.id and Role.ADMIN in member.roles and Role.ADMIN not in new_roles:
        flash("不能取消自己的系统管理员角色，以免无人可管理账号。", "error")
        return _detail(member, roles_form=form), 409
    before = sorted(role.value for role in member.roles)
    db = get_session()
    staff_models.set_roles(db, member.username, new_roles)
    access.record(
        "staff.roles",
        member.username,
        **_target(member),
        before=before,
        after=sorted(role.value for role in new_roles),
    )
    db.commit()
    flash("角色已更新。", "success")
    return redirect(url_for(".detail", username=member.username))


@bp.post("/<username>/disable")
@requires(Permission.STAFF_MANAGE)
def disable(username: str) -> ResponseReturnValue:
    member = _member(username)
    if member.id == access.require_staff().id:
        flash("不能停用自己的账号。", "error")
        return _detail(member), 409
    db = get_session()
    staff_models.set_active(db, member.username, False)
    access.record(STAFF_DISABLE, member.username, **_target(member))
    db.commit()
    flash(f"已停用 {member.username}，其登录会话立即失效。", "success")
    return redirect(url_for(".detail", username=member.username))


@bp.post("/<username>/enable")
@requires(Permission.STAFF_MANAGE)
def enable(username: str) -> ResponseReturnValue:
    member = _member(username)
    db = get_session()
    staff_models.set_active(db, member.username, True)
    access.record("staff.enable", member.username, **_target(member))
    db.commit()
    flash(f"已启用 {member.username}。", "success")
    return redirect(url_for(".detail", username=member.username))


@bp.post("/<username>/password")
@requires(Permission.STAFF_MANAGE)
def reset_password(username: str) -> ResponseReturnValue:
    member = _member(username)
    form = ResetPasswordForm()
    if not form.validate():
        return _detail(member, password_form=form), 400
    db = get_session()
    staff_models.set_password(db, member.username, form.password.data or "")
    access.record("staff.password", member.username, **_target(member))
    db.commit()
    flash(f"已重置 {member.username} 的密码，其登录会话已失效。", "success")
    return redirect(url_for(".detail", username=member.username))


@bp.post("/<username>/unlock")
@requires(Permission.STAFF_MANAGE)
def unlock(username: str) -> ResponseReturnValue:
    member = _member(username)
    access.unlock(member.username)
    access.record("staff.unlock", member.username, **_target(member))
    get_session().commit()
    flash(f"已解除 {member.username} 的登录锁定。", "success")
    return redirect(url_for(".detail", username=member.username))
