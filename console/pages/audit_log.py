"""The console's audit log, newest first, filtered by actor, action and target."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue

from bot.core.database import get_session
from console import audit
from console.access import requires
from staff.roles import Permission

bp = Blueprint("audit_log", __name__, url_prefix="/audit")

ACTION_LABELS = {
    "login": "登录",
    "login.failed": "登录失败",
    "login.locked": "登录被锁定",
    "login.disabled": "停用账号尝试登录",
    "logout": "退出",
    "account.password": "修改本人密码",
    "staff.add": "添加人员",
    "staff.roles": "设置角色",
    "staff.disable": "停用人员",
    "staff.enable": "启用人员",
    "staff.password": "重置密码",
    "staff.unlock": "解除锁定",
    "report.review": "开始审核举报",
    "report.accept": "采纳举报",
    "report.reject": "不采纳举报",
    "report.duplicate": "标记重复举报",
    "report.resolve": "举报已处理",
    "report.close": "办结举报",
    "report.revoke": "撤销采纳",
    "rewards.batch": "生成兑付批次",
    "rewards.export": "导出兑付批次",
    "rewards.confirm": "确认兑付结果",
    "dataset.check": "检查设施数据",
    "dataset.publish": "发布设施数据",
    "dataset.rollback": "回退设施数据",
}


@bp.get("/")
@requires(Permission.AUDIT_VIEW)
def index() -> ResponseReturnValue:
    db = get_session()
    filters = {key: request.args.get(key, "").strip()[:64] for key in ("actor", "action", "target")}
    page = request.args.get("page", "1")
    result = audit.search(
        db,
        actor=filters["actor"],
        action=filters["action"],
        target=filters["target"],
        page=int(page) if page.isdigit() else 1,
    )
    return render_template(
        "console/audit_log.html",
        result=result,
        filters=filters,
        actions=audit.actions(db),
        labels=ACTION_LABELS,
    )
