"""``dingclass class …`` (R01, R02), ``roster …`` and ``hours …`` (R09, R16): a class, its plan, its roster and
its trainees' study minutes, registered on the main command line.

Imported at the end of :mod:`bot.cli` (which owns ``main``, ``App`` and the failure handling).
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import click

from bot import texts
from bot.cli import App, Cli, Failure, main, pass_app, read_file
from handlers import approval, classes, hours, roster
from handlers.texts import chat as chat_texts
from handlers.texts import classes as class_texts
from handlers.errors import Refusal
from handlers.commitment import read_commitment
from handlers.plans import parse_plan
from handlers.texts.classes import STATUS_NAMES
from storage.types import utcnow


# --- classes ------------------------------------------------------------------------------------


@main.group("class", cls=Cli)
def class_() -> None:
    """培训班：创建、列表、审核、退回、重新提交、备案、计划变更。"""


@class_.command("create")
@click.argument("plan_file", metavar="PLAN.toml")
@click.option("--roster", "roster_file", metavar="FILE", help="同时导入实名制花名册（xlsx 或 csv）")
@pass_app
def class_create(app: App, plan_file: str, roster_file: str | None) -> None:
    """按培训计划创建班级并提交审核；给出 --roster 时同时导入花名册（全部成功或全部不写入）。"""
    try:
        text = read_file(plan_file).decode("utf-8")
    except UnicodeDecodeError:
        raise Refusal(texts.PLAN_NOT_UTF8.format(path=plan_file)) from None
    plan = parse_plan(text)
    commitment = None
    if plan.commitment_file:
        name, data = read_commitment(Path(plan_file).parent, plan.commitment_file)
        commitment = (name, app.files.put(data))
    roster_data = read_file(roster_file) if roster_file else None
    with app.factory.begin() as s:
        klass = classes.create_class(s, plan, actor=app.actor, source=f"cli:{Path(plan_file).name}",
                                     default_policy=app.settings.policy, commitment=commitment)
        added = None
        if roster_data is not None:
            added = roster.import_roster(s, klass, roster_data, Path(roster_file).name, actor=app.actor,
                                         today=app.today())
    if roster_data is not None:
        app.files.put(roster_data)  # the import file itself, for the archive (R18)
    click.echo(texts.CLASS_CREATED.format(code=klass.code, name=klass.name))
    if commitment is None:
        click.echo(texts.NO_COMMITMENT)
    if added is not None:
        click.echo(texts.ROSTER_IMPORTED.format(count=added, code=klass.code))


@class_.command("list")
@pass_app
def class_list(app: App) -> None:
    """列出所有班级及其状态。"""
    echo_class_list(app)


def echo_class_list(app: App) -> None:
    with app.factory.begin() as s:
        lines = classes.list_classes(s)
    if not lines:
        click.echo(texts.NO_CLASSES)
        return
    click.echo(texts.CLASS_LIST_HEADER)
    for line in lines:
        click.echo(texts.CLASS_LIST_LINE.format(
            line=line, status=STATUS_NAMES[line.status],
            group=texts.GROUP_BOUND if line.group_bound else texts.GROUP_UNBOUND))


def _transition(app: App, code: str, to: str, reason: str) -> None:
    with app.factory.begin() as s:
        klass = classes.get_class(s, code)
        classes.change_status(s, klass, to, actor=app.actor, source="cli", reason=reason)
        missing_commitment = klass.commitment_sha256 is None
    click.echo(texts.CLASS_STATUS_CHANGED.format(code=code, status=STATUS_NAMES[to], actor=app.actor))
    if missing_commitment:
        click.echo(texts.NO_COMMITMENT)


@class_.command("approve")
@click.argument("code")
@click.option("--reason", default="", help="审核意见")
@pass_app
def class_approve(app: App, code: str, reason: str) -> None:
    """旗县区审核通过（R02）：此后考勤计入补贴。"""
    _transition(app, code, "approved", reason)


@class_.command("return")
@click.argument("code")
@click.option("--reason", required=True, help="退回理由：机构据此改正")
@pass_app
def class_return(app: App, code: str, reason: str) -> None:
    """旗县区把已提交的培训计划退回机构（R02），写明理由。"""
    _transition(app, code, "returned", reason)


@class_.command("submit")
@click.argument("code")
@click.option("--reason", default="", help="说明（如改正了什么）")
@pass_app
def class_submit(app: App, code: str, reason: str) -> None:
    """机构改正后重新提交被退回的培训计划（R02）。"""
    _transition(app, code, "submitted", reason)


@class_.command("file")
@click.argument("code")
@click.option("--reason", default="", help="备案意见")
@pass_app
def class_file(app: App, code: str, reason: str) -> None:
    """市局备案（R02）。"""
    _transition(app, code, "filed", reason)


@class_.command("change")
@click.argument("code")
@click.argument("plan_file", metavar="PLAN.toml")
@click.option("--from", "effective_text", metavar="YYYY-MM-DD", help="生效日期（审核通过的班级：至少提前 3 天；默认最早的一天）")
@click.option("--reason", default="", help="变更原因")
@pass_app
def class_change(app: App, code: str, plan_file: str, effective_text: str | None, reason: str) -> None:
    """变更培训计划或课程表（R01）：审核前直接更新；审核后提前申请，旗县区同意后生效。"""
    from handlers import plan_changes
    from handlers.dates import parse_day

    try:
        text = read_file(plan_file).decode("utf-8")
    except UnicodeDecodeError:
        raise Refusal(texts.PLAN_NOT_UTF8.format(path=plan_file)) from None
    effective = parse_day(effective_text, app.today()) if effective_text else None
    if effective_text and effective is None:
        raise Failure(texts.BAD_DATE.format(value=effective_text))
    plan = parse_plan(text)
    commitment = None
    if plan.commitment_file:
        name, data = read_commitment(Path(plan_file).parent, plan.commitment_file)
        commitment = (name, app.files.put(data))
    with app.factory.begin() as s:
        row = plan_changes.request_change(s, classes.get_class(s, code), text, effective_from=effective, reason=reason,
                                          actor=app.actor, source=f"cli:{Path(plan_file).name}",
                                          now=datetime.now(app.settings.timezone), commitment=commitment)
        lines = json.loads(row.summary)
    head = texts.CHANGE_APPLIED if row.status == plan_changes.APPLIED else texts.CHANGE_REQUESTED
    click.echo(head.format(code=code, number=row.number, effective=row.effective_from))
    for line in lines:
        click.echo(f"- {line}")


@class_.command("change-approve")
@click.argument("code")
@click.option("--reason", default="", help="审核意见")
@pass_app
def class_change_approve(app: App, code: str, reason: str) -> None:
    """旗县区同意待审核的计划变更（R01）：变更即时生效，记下同意人（教师变更也如此）。"""
    _decide_change(app, code, True, reason)


@class_.command("change-refuse")
@click.argument("code")
@click.option("--reason", required=True, help="不同意的理由")
@pass_app
def class_change_refuse(app: App, code: str, reason: str) -> None:
    """旗县区不同意待审核的计划变更（R01），写明理由。"""
    _decide_change(app, code, False, reason)


def _decide_change(app: App, code: str, approve: bool, reason: str) -> None:
    from handlers import plan_changes

    with app.factory.begin() as s:
        row = plan_changes.decide(s, classes.get_class(s, code), approve=approve, note=reason, actor=app.actor,
                                  source="cli", now=datetime.now(app.settings.timezone))
    click.echo(texts.CHANGE_DECIDED.format(code=code, number=row.number, status=class_texts.CHANGE_STATUS[row.status],
                                           actor=app.actor))


# --- roster -------------------------------------------------------------------------------------


@main.group("roster", cls=Cli)
def roster_() -> None:
    """实名制花名册。"""




@roster_.command("import")
@click.argument("code")
@click.argument("file", metavar="FILE")
@click.option("--add-only", is_flag=True, help="只添加新学员：已在本班花名册中的学员跳过（信息须一致）")
@pass_app
def roster_import(app: App, code: str, file: str, add_only: bool) -> None:
    """导入花名册（姓名、性别、身份证号、手机号、身份类别）；任何一行有错则整个文件不导入。"""
    data = read_file(file)
    with app.factory.begin() as s:
        klass = classes.get_class(s, code)
        added = roster.import_roster(s, klass, data, Path(file).name, actor=app.actor, today=app.today(),
                                     add_only=add_only)
        pending = approval.after_approval(klass) and added > 0
    app.files.put(data)  # the import file itself, for the archive (R18)
    click.echo(texts.ROSTER_IMPORTED.format(count=added, code=code)
               + (texts.ROSTER_ADD_ONLY_NOTE if add_only else "") + (texts.ROSTER_CHANGE_TO_NOTE.format(code=code) if pending else ""))


@roster_.command("remove")
@click.argument("code")
@click.argument("name")
@click.option("--reason", required=True, help="移出理由（记入台账）")
@pass_app
def roster_remove(app: App, code: str, name: str, reason: str) -> None:
    """把学员移出花名册（标记移出并写明理由，记录保留）；班级已审核时作为花名册变更，待旗县区确认（R02）。"""
    with app.factory.begin() as s:
        change = approval.remove_trainee(s, classes.get_class(s, code), name, reason=reason, actor=app.actor,
                                         source="cli", now=utcnow())
    click.echo(texts.ROSTER_REMOVED.format(code=code, name=name) + (texts.ROSTER_CHANGE_TO_NOTE.format(code=code) if change else ""))


@roster_.command("note")
@click.argument("code")
@click.option("--note", default="", help="确认意见")
@pass_app
def roster_note(app: App, code: str, note: str) -> None:
    """旗县区确认审核通过后的花名册变更（R02）：确认后新增的学员才计入补贴。"""
    with app.factory.begin() as s:
        noted = approval.note_roster_changes(s, classes.get_class(s, code), note=note, actor=app.actor, source="cli",
                                             now=utcnow())
    click.echo(texts.ROSTER_NOTED.format(code=code, count=len(noted), actor=app.actor))


# --- study minutes ----------------------------------------------------------------------------------


@main.group("hours", cls=Cli)
def hours_() -> None:
    """学习时长（观看统计）。"""




@hours_.command("import")
@click.argument("code")
@click.argument("file", metavar="FILE")
@click.option("--replace", is_flag=True, help="文件没有“场次”列时，以它替换文件中学员这些日期原有的文件数据")
@pass_app
def hours_import(app: App, code: str, file: str, replace: bool) -> None:
    """导入观看统计（姓名或钉钉用户ID、日期、直播时长、回看时长，可选场次）为学习时长（R09）；不同场次相加，同一场次取较大者；任何一行有错则整个文件不导入。"""
    data = read_file(file)
    with app.factory.begin() as s:
        klass = classes.get_class(s, code)
        result = hours.import_hours(s, klass, data, Path(file).name, actor=app.actor, replace=replace)
    app.files.put(data)  # the import file itself, for the archive (R18)
    click.echo(chat_texts.HOURS_IMPORTED.format(code=code, rows=result.rows, trainees=result.trainees,
                                                days=result.days))
    if result.below:
        click.echo(chat_texts.HOURS_IMPORTED_BELOW.format(below=result.below, threshold=result.threshold))


@hours_.command("pull")
@click.argument("code")
@click.option("--union-id", required=True, help="钉钉要求的 unionId（直播主播或管理员的）")
@pass_app
def hours_pull(app: App, code: str, union_id: str) -> None:
    """从钉钉直播观看数据（watchUsers）拉取本班各场直播的学习时长（R09）。"""
    from bot.openapi import OpenApi
    from bot.service import pull_live_minutes

    client_id, secret = app.settings.require_dingtalk()
    with OpenApi(app.settings.openapi_endpoint, client_id, secret) as api:
        pulled = pull_live_minutes(app.factory, api, code, union_id, actor=app.actor,
                                   tz=app.settings.timezone)
    click.echo(chat_texts.HOURS_PULLED.format(code=code, written=pulled.written, unchanged=pulled.unchanged))
    if pulled.unmatched:
        click.echo(chat_texts.HOURS_PULL_UNMATCHED.format(count=len(pulled.unmatched),
                                                          names="、".join(pulled.unmatched)))


@hours_.command("remove-unqualified")
@click.argument("code")
@pass_app
def hours_remove_unqualified(app: App, code: str) -> None:
    """培训结束后，把学习时长不足的学员从补贴名单中标记移除（R16；只标记并写明原因，不删除）。"""
    with app.factory.begin() as s:
        removed = hours.remove_unqualified(s, classes.get_class(s, code), actor=app.actor, source="cli",
                                           now=datetime.now(app.settings.timezone))
    if not removed:
        click.echo(chat_texts.HOURS_REMOVED_NONE.format(code=code))
        return
    click.echo(chat_texts.HOURS_REMOVED.format(code=code, count=len(removed)))
    for trainee in removed:
        click.echo(f"- {trainee.name}：{trainee.reason}")
