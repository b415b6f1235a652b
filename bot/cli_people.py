"""``dingclass user …``, ``unbind …``, ``bind-code`` and ``trainee mark`` (R15, R22): the people — back-office
users, DingTalk bindings and trainee marks — registered on the main command line.

Imported at the end of :mod:`bot.cli` (which owns ``main``, ``App`` and the failure handling).
"""

from __future__ import annotations

from datetime import datetime

import click

from bot import texts
from bot.cli import App, Cli, UsageFailure, main, pass_app
from handlers import accounts, classes, eligibility, unbinding
from handlers.texts import supervision as supervision_texts
from storage.db import read_only_factory
from storage.types import utcnow


# --- users and binding codes --------------------------------------------------------------------


@main.group(cls=Cli)
def user() -> None:
    """管理后台与接口用户。"""


@user.command("add")
@click.argument("name")
@click.option("--role", required=True, help="admin、city、district、institution 或 teacher")
@click.option("--institution", help="机构名称（institution、teacher 角色必填）")
@click.option("--district", help="旗县区名称（district 角色必填）")
@click.option("--class", "class_codes", multiple=True, metavar="CODE", help="teacher 角色可查看的班级（可多次给出）")
@pass_app
def user_add(app: App, name: str, role: str, institution: str | None, district: str | None,
             class_codes: tuple[str, ...]) -> None:
    """添加用户并显示一次性生成的密码。"""
    with app.factory.begin() as s:
        password = accounts.add_user(s, name, role, institution=institution, district=district, actor=app.actor)
        if class_codes:
            accounts.teacher_classes(s, name, add=class_codes, actor=app.actor)
    click.echo(texts.USER_ADDED.format(name=name, role=role, password=password))


@user.command("classes")
@click.argument("name")
@click.option("--add", multiple=True, metavar="CODE", help="分配班级（可多次给出）")
@click.option("--remove", multiple=True, metavar="CODE", help="取消分配（可多次给出）")
@pass_app
def user_classes(app: App, name: str, add: tuple[str, ...], remove: tuple[str, ...]) -> None:
    """授课教师（teacher）登录后可查看的班级：分配、取消并列出。"""
    with app.factory.begin() as s:
        codes = accounts.teacher_classes(s, name, add=add, remove=remove, actor=app.actor)
    click.echo(texts.TEACHER_CLASSES.format(name=name, codes="、".join(codes) or texts.NONE))


@user.command("list")
@pass_app
def user_list(app: App) -> None:
    """列出全部后台/接口用户：角色、范围、是否停用、有效令牌数、最近登录。"""
    with read_only_factory(app.factory)() as s:
        lines = accounts.list_users(s)
    click.echo(texts.USER_LIST_HEAD)
    for u in lines:
        click.echo(texts.USER_LIST_LINE.format(
            name=u.name, role=u.role, scope=u.scope or "—", state=texts.USER_ACTIVE if u.active else texts.USER_DISABLED,
            tokens=u.tokens, last=f"{u.last_login.astimezone(app.settings.timezone):%Y-%m-%d %H:%M}" if u.last_login else "—"))


@user.command("disable")
@click.argument("name")
@pass_app
def user_disable(app: App, name: str) -> None:
    """停用用户：立即结束其全部登录会话，令牌随之失效（记入台账）。"""
    with app.factory.begin() as s:
        accounts.set_active(s, name, False, actor=app.actor)
    click.echo(texts.USER_DISABLED_DONE.format(name=name))


@user.command("enable")
@click.argument("name")
@pass_app
def user_enable(app: App, name: str) -> None:
    """重新启用用户（记入台账）。"""
    with app.factory.begin() as s:
        accounts.set_active(s, name, True, actor=app.actor)
    click.echo(texts.USER_ENABLED_DONE.format(name=name))


@user.command("reset-password")
@click.argument("name")
@pass_app
def user_reset_password(app: App, name: str) -> None:
    """生成新密码（只显示这一次），结束其全部登录会话（记入台账）。"""
    with app.factory.begin() as s:
        password = accounts.set_password(s, name, actor=app.actor)
    click.echo(texts.USER_PASSWORD_RESET.format(name=name, password=password))


@user.command("unlock")
@click.argument("name")
@pass_app
def user_unlock(app: App, name: str) -> None:
    """解除登录锁定（多次输错密码后）：清除该用户名的失败记录（清除了多少、来自哪些地址记入台账）。"""
    with app.factory.begin() as s:
        cleared = accounts.unlock(s, name, actor=app.actor)
    click.echo(texts.USER_UNLOCKED.format(name=name, count=cleared))


@user.command("revoke-token")
@click.argument("name")
@pass_app
def user_revoke_token(app: App, name: str) -> None:
    """吊销用户的全部接口令牌（记入台账）。"""
    with app.factory.begin() as s:
        count = accounts.revoke_tokens(s, name, actor=app.actor)
    click.echo(texts.USER_TOKENS_REVOKED.format(name=name, count=count))


@user.command("token")
@click.argument("name")
@pass_app
def user_token(app: App, name: str) -> None:
    """为用户签发接口令牌（只显示这一次）。"""
    with app.factory.begin() as s:
        token = accounts.issue_token(s, name)
    click.echo(token)


@main.group("unbind", cls=Cli)
def unbind_() -> None:
    """解除绑定错误的班级群或学员钉钉账号（写明理由，记入台账，并在钉钉中告知相关的人）。"""


@unbind_.command("group")
@click.argument("code")
@click.option("--reason", required=True, help="理由（记入台账）")
@pass_app
def unbind_group(app: App, code: str, reason: str) -> None:
    """解除班级 CODE 与其班级群的绑定；之后可重新绑定正确的群。"""
    with app.factory.begin() as s:
        done = unbinding.unbind_group(s, classes.get_class(s, code), reason=reason, actor=app.actor, source="cli",
                                      robot_code=app.settings.robot_code, now=utcnow())
    click.echo(texts.UNBOUND_GROUP.format(code=code, title=done.what))


@unbind_.command("person")
@click.argument("name")
@click.option("--class", "code", required=True, metavar="CODE", help="学员所在班级的编号")
@click.option("--reason", required=True, help="理由（记入台账）")
@pass_app
def unbind_person(app: App, name: str, code: str, reason: str) -> None:
    """解除学员 NAME 的钉钉账号绑定；本人随后用自己的账号重新绑定。"""
    with app.factory.begin() as s:
        done = unbinding.unbind_person(s, classes.get_class(s, code), name, reason=reason, actor=app.actor,
                                       source="cli", robot_code=app.settings.robot_code, now=utcnow())
    click.echo(texts.UNBOUND_PERSON.format(name=name, told=done.told)
               + (texts.UNBOUND_NOT_REACHABLE.format(count=done.not_reachable) if done.not_reachable else ""))


@main.command("bind-code")
@click.argument("code")
@click.option("--role", required=True, help="teacher、class_teacher 或 inspector")
@click.option("--name", help="该工作人员的姓名")
@click.option("--days", default=7, show_default=True, type=click.IntRange(1, 90), help="有效天数")
@pass_app
def bind_code(app: App, code: str, role: str, name: str | None, days: int) -> None:
    """生成一次性绑定码：工作人员在与机器人的单聊中发送“绑定 <绑定码>”。CODE 为班级编号（督查人员也可为旗县区名称）。"""
    with app.factory.begin() as s:
        issued = accounts.issue_bind_code(s, code, role, name=name, actor=app.actor, days=days)
    expires = issued.expires_at.astimezone(app.settings.timezone).strftime("%Y-%m-%d %H:%M")
    click.echo(texts.BIND_CODE_ISSUED.format(code=issued.code, expires=expires))


@main.group(cls=Cli)
def trainee() -> None:
    """学员标记。"""


@trainee.command("mark")
@click.argument("code")
@click.argument("name")
@click.option("--ineligible", "kind", flag_value=eligibility.INELIGIBLE, help="不符合培训条件（R22，培训前复核）")
@click.option("--disqualified", "kind", flag_value=eligibility.DISQUALIFIED, help="数据异常，取消资格（R15）")
@click.option("--reason", required=True, help="理由（记入台账）")
@pass_app
def trainee_mark(app: App, code: str, name: str, kind: str | None, reason: str) -> None:
    """标记学员：--ineligible 不符合培训条件（R22）或 --disqualified 数据异常取消资格（R15），写明理由，记入台账。"""
    if kind is None:
        raise UsageFailure(texts.MARK_KIND_REQUIRED)
    with app.factory.begin() as s:
        eligibility.mark_trainee(s, classes.get_class(s, code), name, kind, reason,
                                 actor=app.actor, source="cli", now=datetime.now(app.settings.timezone))
    click.echo(supervision_texts.MARKED.format(code=code, name=name, kind=supervision_texts.MARK_KINDS[kind], reason=reason.strip()))
