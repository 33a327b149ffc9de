"""Login, logout and the staff member's own password."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue

from bot.core.database import get_session
from console import access
from console.access import public, requires
from console.forms import ChangePasswordForm, LoginForm
from staff import models as staff_models
from staff.roles import Permission

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
@public
def login() -> ResponseReturnValue:
    next_path = access.safe_next(request.values.get("next"))
    if access.current_staff() is not None:
        return redirect(next_path or url_for("console.home.dashboard"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        db = get_session()
        outcome = access.log_in(db, form.username.data or "", form.password.data or "")
        db.commit()
        if outcome.staff is not None:
            return redirect(next_path or url_for("console.home.dashboard"))
        flash(outcome.message, "error")
        status = 401
    elif request.method == "POST":
        status = 400
    return render_template("console/login.html", form=form, next_path=next_path), status


@bp.post("/logout")
@requires(Permission.CONSOLE)
def logout() -> ResponseReturnValue:
    access.record("logout")
    get_session().commit()
    access.log_out()
    flash("您已安全退出。", "info")
    return redirect(url_for("console.auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@requires(Permission.CONSOLE)
def password() -> ResponseReturnValue:
    me = access.require_staff()
    form = ChangePasswordForm()
    if form.validate_on_submit():
        if not me.check_password(form.current.data or ""):
            form.current.errors = ["当前密码不正确"]
        else:
            db = get_session()
            staff_models.set_password(db, me.username, form.password.data or "")
            access.record("account.password", me.username)
            db.commit()
            # Other sessions of this account end with the password change; this one starts afresh.
            access.log_out()
            session[access.SESSION_KEY] = access.start_session(me)
            flash("密码已修改，其他设备上的登录已失效。", "success")
            return redirect(url_for("console.home.dashboard"))
    return render_template("console/password.html", form=form)
