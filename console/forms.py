"""Console forms. CSRF is checked for every console POST in ``access.before_request``, so the forms
themselves only validate their fields."""

from __future__ import annotations

from flask_wtf import FlaskForm

# types-wtforms describes WTForms 3.2; SelectChoice and invalid_choice_message are WTForms 3.3.
from wtforms import PasswordField, SelectChoice, SelectMultipleField, StringField, widgets  # type: ignore[attr-defined]
from wtforms.validators import DataRequired, EqualTo, Length, Optional, Regexp

from bot.core import services
from staff.models import MIN_PASSWORD, USERNAME
from staff.roles import Role, role_name


class ConsoleForm(FlaskForm):
    class Meta:
        csrf = False


class LoginForm(ConsoleForm):
    username = StringField(
        "用户名",
        validators=[
            DataRequired("请输入用户名"),
            Length(max=64),
            Regexp(r"^[^\x00-\x1f\x7f]*$", message="用户名含有无效字符"),
        ],
    )
    password = PasswordField("密码", validators=[DataRequired("请输入密码"), Length(max=256)])


class CheckboxesField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


def _role_choices() -> list[SelectChoice]:
    """The roles by their names from the catalogue (read when a form is rendered, not at import)."""
    texts = services.texts()
    return [SelectChoice(role.value, role_name(texts, role)) for role in Role]


def _password_rules() -> list[object]:
    return [
        DataRequired("请输入密码"),
        Length(min=MIN_PASSWORD, max=256, message=f"密码至少 {MIN_PASSWORD} 个字符"),
    ]


class StaffAddForm(ConsoleForm):
    username = StringField(
        "用户名",
        validators=[
            DataRequired("请输入用户名"),
            Regexp(USERNAME.pattern, message="3–32 位小写字母、数字或 _ . -，以字母开头"),
        ],
    )
    display_name = StringField("姓名", validators=[Optional(), Length(max=64, message="姓名最长 64 个字符")])
    password = PasswordField("初始密码", validators=_password_rules())
    roles = CheckboxesField(
        "角色",
        choices=_role_choices,
        invalid_choice_message="无效的角色：%(value)s",  # type: ignore[call-arg]  # WTForms 3.3
    )


class RolesForm(ConsoleForm):
    roles = CheckboxesField(
        "角色",
        choices=_role_choices,
        invalid_choice_message="无效的角色：%(value)s",  # type: ignore[call-arg]  # WTForms 3.3
    )


class ResetPasswordForm(ConsoleForm):
    password = PasswordField("新密码", validators=_password_rules())


class ChangePasswordForm(ConsoleForm):
    current = PasswordField("当前密码", validators=[DataRequired("请输入当前密码")])
    password = PasswordField("新密码", validators=_password_rules())
    confirm = PasswordField("确认新密码", validators=[EqualTo("password", message="两次输入的新密码不一致")])
