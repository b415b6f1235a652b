"""The ``dingclass`` command line (PRODUCT.md "Public interface").

Every command is one unit of work; a refusal prints its Chinese reason and exits 1, an unexpected
error prints one line and leaves the traceback in the log — never a traceback on the terminal.
"""

from __future__ import annotations

import getpass
import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction
from functools import cached_property
from pathlib import Path

import click
from sqlalchemy.exc import DBAPIError

from bot import archive_cli, clickzh, texts
from bot.failures import database_failure, os_failure
from handlers.texts import STATUS_NAMES
from bot.settings import Settings, SettingsError, load
from handlers import accounts, approval, classes, eligibility, hours, inspection, roster, unbinding
from handlers import rollcall as rollcall_rules
from handlers import texts as chat_texts
from handlers.errors import Refusal
from handlers.plans import parse_plan, read_commitment
from handlers.policy import format_percent
from storage import ledger
from storage.db import make_engine, make_session_factory, read_only_factory
from storage.files import FileStore
from storage.types import utcnow
from storage.models import Klass, RollCall

log = logging.getLogger("dingclass")
clickzh.install()


class Failure(click.ClickException):
    """A user-facing failure: the message alone, in Chinese, exit code 1."""

    def show(self, file=None) -> None:
        click.echo(self.message, err=True)


@dataclass
class App:
    settings: Settings
    actor: str

    @cached_property
    def engine(self):
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        return make_engine(self.settings.database_url)

    @cached_property
    def factory(self):
        return make_session_factory(self.engine)

    def close(self) -> None:
        if "engine" in self.__dict__:
            self.engine.dispose()

    @property
    def files(self) -> FileStore:
        return FileStore(self.settings.data_dir / "files")

    def today(self):
        return datetime.now(self.settings.timezone).date()


class UsageFailure(Failure):
    """The command line itself is wrong: one Chinese line, exit code 2 (as click's usage errors)."""

    exit_code = 2


class Cli(click.Group):
    """Turns every known kind of failure into a one-line Chinese message."""

    command_class = clickzh.Command
    group_class = type  # subgroups are Cli too

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("options_metavar", clickzh.OPTIONS_METAVAR)
        kwargs.setdefault("subcommand_metavar", clickzh.SUBCOMMAND_METAVAR)
        super().__init__(*args, **kwargs)

    def make_context(self, info_name, args, parent=None, **extra):
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except click.UsageError as exc:
            raise UsageFailure(clickzh.describe(exc)) from None

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (Refusal, SettingsError) as exc:
            raise Failure(str(exc)) from None
        except click.UsageError as exc:
            raise UsageFailure(clickzh.describe(exc)) from None
        except DBAPIError as exc:
            log.exception("database error")
            raise Failure(database_failure(exc, _setting(ctx, "database_url") or "")) from None
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except OSError as exc:
            log.exception("system error")
            message = os_failure(exc, _setting(ctx, "admin_port"))
            raise Failure(message or texts.INTERNAL_ERROR) from None
        except Exception:
            log.exception("unexpected error")
            raise Failure(texts.INTERNAL_ERROR) from None


def _setting(ctx: click.Context, name: str):
    app = ctx.find_object(App)
    return getattr(app.settings, name) if app is not None else None


def _setup_logging(settings: Settings) -> None:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(settings.data_dir / "dingclass.log", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)


def read_file(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        raise Refusal(texts.FILE_NOT_FOUND.format(path=path)) from None
    except OSError as exc:
        raise Refusal(texts.FILE_UNREADABLE.format(path=path, detail=exc.strerror)) from None


@click.group(cls=Cli)
@click.option("--by", "actor", envvar="DINGCLASS_ACTOR", metavar="NAME",
              help="记入台账的操作人（默认：cli:<系统用户名>）")
@click.pass_context
def main(ctx: click.Context, actor: str | None) -> None:
    """dingclass：钉钉班级群线上职业培训监管。"""
    try:
        settings = load()
    except SettingsError as exc:
        raise Failure(str(exc)) from None
    _setup_logging(settings)
    ctx.obj = App(settings, actor or f"cli:{getpass.getuser()}")
    ctx.call_on_close(ctx.obj.close)


pass_app = click.make_pass_decorator(App)


@main.command()
@pass_app
def init(app: App) -> None:
    """创建或升级数据库；没有台账签名密钥时创建一个（DINGCLASS_LEDGER_KEY，数据目录之外）。"""
    from storage.migrate import upgrade  # alembic: only this command needs it (every other one starts faster)

    app.settings.require_ledger_key_outside_data_dir()
    upgrade(app.engine)
    click.echo(texts.INIT_DONE.format(url=app.engine.url.render_as_string(hide_password=True)))
    signer, created = ensure_ledger_key(app)
    with app.factory.begin() as s:
        ledger.register_key(s, signer)
    message = texts.KEY_CREATED if created else texts.KEY_IN_USE
    click.echo(message.format(path=app.settings.ledger_key, public=signer.public_hex, key_id=signer.key_id))


def ensure_ledger_key(app: App) -> tuple[ledger.Signer, bool]:
    """The ledger signing key, created on first use; (signer, created)."""
    path = app.settings.require_ledger_key_outside_data_dir()
    if path.exists():
        return load_ledger_key(app), False
    return ledger.create_key(path), True


def load_ledger_key(app: App, required: bool = True) -> ledger.Signer | None:
    path = app.settings.require_ledger_key_outside_data_dir()
    if not path.exists():
        if required:
            raise Failure(texts.LEDGER_KEY_MISSING.format(path=path))
        return None
    try:
        return ledger.load_key(path)
    except ledger.LedgerKeyError as exc:
        raise Failure(texts.LEDGER_KEY_BAD.format(detail=exc)) from None


def optional_signer(app: App) -> ledger.Signer | None:
    """The ledger key for the scheduler (it signs the heads the morning report carries, R11/R17), if it
    is usable here; without it the report carries the heads unsigned."""
    try:
        return load_ledger_key(app, required=False)
    except (Failure, SettingsError) as exc:
        log.warning("ledger key not usable, report heads go unsigned: %s", exc)
        return None


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


def echo_verify(app: App, anchor: dict | None = None, incremental: bool = False) -> bool:
    """Verify with the key file's public key when it is here; store the result; after a clean run,
    sign the verified heads."""
    signer = load_ledger_key(app, required=False)
    report = ledger.run_verification(app.factory, signer=signer, anchor=anchor,
                                     trusted_keys=[signer.public_hex] if signer is not None else [],
                                     incremental=incremental)
    keys = texts.KEY_SOURCES[report.key_source]
    if report.ok:
        click.echo(texts.VERIFY_OK.format(events=report.events, chains=report.chains, head=report.head,
                                          checkpoints=report.checkpoints, keys=keys))
        if incremental:
            click.echo(texts.VERIFY_INCREMENTAL.format(walked=report.walked))
        return True
    click.echo(texts.VERIFY_FAILED.format(count=len(report.problems), events=report.events, chains=report.chains,
                                          keys=keys), err=True)
    for problem in report.problems:
        click.echo(f"- {chat_texts.ledger_problem(problem)}", err=True)
    return False


def read_anchor(path: str) -> dict:
    try:
        anchor = json.loads(read_file(path).decode("utf-8"))
        heads = anchor["heads"]
        if not isinstance(heads, list) or not all({"chain", "seq", "hash", "at", "signature"} <= set(h) for h in heads):
            raise ValueError("heads")
    except (UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
        raise Failure(texts.ANCHOR_BAD.format(path=path, detail=exc)) from None
    return anchor


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
    click.echo(texts.CHANGE_DECIDED.format(code=code, number=row.number, status=chat_texts.CHANGE_STATUS[row.status],
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


# --- reports ------------------------------------------------------------------------------------


@main.group(cls=Cli)
def report() -> None:
    """报表。"""


@report.command("daily")
@click.option("--date", "day_text", metavar="D", help="日期，如 2026-12-01（默认昨天）")
@click.option("--district", metavar="X", help="只要这个旗县区")
@click.option("--out", "out", metavar="FILE.xlsx", help="写入的文件（默认 daily-日期.xlsx）")
@click.option("--send", is_flag=True, help="不写文件：把日报发给各旗县区（督查群与督查人员单聊；每区每天只发一次）")
@pass_app
def report_daily(app: App, day_text: str | None, district: str | None, out: str | None, send: bool) -> None:
    """R11 日报：每个旗县区一个工作表（每班一行），每个班一个工作表（每名学员一行）。"""
    from handlers import daily_report
    from handlers.dates import parse_day

    today = app.today()
    day = parse_day(day_text, today) if day_text else today - timedelta(days=1)
    if day is None:
        raise Failure(texts.BAD_DATE.format(value=day_text))
    if send:
        with app.factory.begin() as s:
            outcome = daily_report.send_reports(s, day, now=datetime.now(app.settings.timezone), files=app.files,
                                                robot_code=app.settings.robot_code, tz=app.settings.timezone,
                                                actor=app.actor, signer=optional_signer(app))
        click.echo(chat_texts.REPORT_SENT.format(day=day, sent=len(outcome.sent), already=len(outcome.already)))
        if outcome.unreachable:
            click.echo(chat_texts.REPORT_UNREACHABLE.format(names="、".join(outcome.unreachable)))
        return
    signer = optional_signer(app)
    if signer is not None:  # R17: each class's head at the end of the day, signed once
        with app.factory.begin() as s:
            daily_report.sign_heads(s, signer, day, app.settings.timezone, district=district)
    with read_only_factory(app.factory)() as s:  # a reader: never takes SQLite's write lock
        result = daily_report.build(s, day, district=district, tz=app.settings.timezone)
        data = daily_report.workbook(result)
    path = Path(out or f"daily-{day:%Y-%m-%d}.xlsx")
    try:
        path.write_bytes(data)
    except OSError as exc:
        raise Failure(texts.CANNOT_WRITE.format(path=path, detail=exc.strerror or exc)) from None
    click.echo(chat_texts.REPORT_WRITTEN.format(
        path=path, day=day, districts=len(result.districts),
        classes=sum(len(d.classes) for d in result.districts),
        trainees=sum(d.total("trainees") for d in result.districts)))


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


# --- ledger -------------------------------------------------------------------------------------


@main.command()
@click.argument("archive_file", metavar="[ARCHIVE]", required=False)
@click.option("--anchor", "anchor_file", metavar="FILE", help="链头存证文件（dingclass ledger heads 写出、旗县区收到的那份）")
@click.option("--incremental", is_flag=True, help="只校验每条链上次校验并签署之后的新事件及其记录")
@pass_app
def verify(app: App, archive_file: str | None, anchor_file: str | None, incremental: bool) -> None:
    """校验台账：每条链完整、签名检查点相符，且每条记录与台账一致（R17）；给出 ARCHIVE 时离线校验归档 zip（R18，不用数据库）。有问题时退出码为 1。"""
    anchor = read_anchor(anchor_file) if anchor_file else None
    if archive_file is not None:
        if not archive_cli.verify_archive(archive_file, anchor):
            sys.exit(1)
        return
    if not echo_verify(app, anchor, incremental):
        sys.exit(1)


main.add_command(archive_cli.archive)


@main.group("ledger", cls=Cli)
def ledger_() -> None:
    """台账签名检查点与链头存证。"""


@ledger_.command("checkpoint")
@pass_app
def ledger_checkpoint(app: App) -> None:
    """用台账签名密钥签署每条有新事件的链的链头（每天结束时、归档时）。"""
    signer = load_ledger_key(app)
    with app.factory.begin() as s:
        made = ledger.checkpoint(s, signer)
    click.echo(texts.CHECKPOINTS_SIGNED.format(count=len(made)))


@ledger_.command("heads")
@click.option("--out", "out", metavar="FILE", default="-", help="写到文件（默认输出到屏幕）")
@pass_app
def ledger_heads(app: App, out: str) -> None:
    """签署并写出每条链最新的签名链头（JSON），供旗县区保存，日后用 verify --anchor 核对。"""
    signer = load_ledger_key(app)
    with app.factory.begin() as s:
        ledger.checkpoint(s, signer)
        heads = ledger.signed_heads(s)
    body = json.dumps(heads, ensure_ascii=False, indent=1)
    if out == "-":
        click.echo(body)
        return
    Path(out).write_text(body + "\n", encoding="utf-8")
    click.echo(texts.HEADS_WRITTEN.format(count=len(heads["heads"]), path=out))


@main.command()
@click.option("--no-wait", is_flag=True, help="演示完即退出，不保持管理后台运行")
@click.option("--port", type=int, default=None, help="管理后台端口（默认 DINGCLASS_ADMIN_PORT；被占用时另选一个）")
@pass_app
def demo(app: App, no_wait: bool, port: int | None) -> None:
    """本机完整演示：模拟钉钉、机器人、示例班级的一天、管理后台；打印后台地址与登录账号。"""
    from bot.demo import run_demo

    run_demo(app, wait=not no_wait, port=port)


# --- supervision: jobs, roll calls, marks (R13, R15) ----------------------------------------------


@main.group(cls=Cli)
def jobs() -> None:
    """定时任务。"""


def _now(app: App, value: str | None) -> datetime:
    if not value:
        return datetime.now(app.settings.timezone)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise Refusal(texts.BAD_NOW.format(value=value)) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=app.settings.timezone)
    return moment.astimezone(app.settings.timezone)


def archive_setup(app: App):
    """What the scheduler's archive job (R18) writes to, and the Drive it uploads to when configured."""
    from scheduler.jobs import ArchiveSetup

    drive = archive_cli.archives.Drive(*app.settings.require_drive()) if app.settings.drive_configured else None
    return ArchiveSetup(app.files, archive_cli.archive_dir(app), drive)


@jobs.command("list")
@pass_app
def jobs_list(app: App) -> None:
    """列出定时任务及其下次、上次运行时间。"""
    from scheduler import job_table

    tz = app.settings.timezone
    click.echo(texts.JOBS_HEADER)
    for line in job_table(app.factory, datetime.now(tz)):
        click.echo(texts.JOBS_LINE.format(
            line=line, next=f"{line.next_run.astimezone(tz):%Y-%m-%d %H:%M}" if line.next_run else texts.JOBS_NEVER,
            last=f"{line.last_run.astimezone(tz):%Y-%m-%d %H:%M}" if line.last_run else texts.JOBS_NEVER,
            outcome=texts.JOB_OUTCOMES.get(line.last_outcome, line.last_outcome)))


@jobs.command("run-due")
@click.option("--now", "now_text", metavar="ISO-8601", help="按这一时刻运行（默认现在）")
@pass_app
def jobs_run_due(app: App, now_text: str | None) -> None:
    """把此刻到期的任务各运行一次后退出（认领记录保证重复运行或另一进程同时运行都不会重复执行）。"""
    from scheduler import run_due

    results = run_due(app.factory, _now(app, now_text), app.actor, files=app.files,
                      signer=optional_signer(app), archive=archive_setup(app))
    for job, detail in results.items():
        click.echo(texts.JOBS_ALREADY.format(job=job) if detail is None else texts.JOBS_RAN.format(job=job, detail=detail))


@main.group(cls=Cli)
def rollcall() -> None:
    """随机点名（R13）。"""


@rollcall.command("start")
@click.argument("code")
@click.option("--ratio", type=click.IntRange(1, 100), help="抽查比例（百分数，默认按政策配置）")
@click.option("--minutes", type=click.IntRange(1, rollcall_rules.MAX_MINUTES), help="应答时限（分钟，默认按政策配置）")
@pass_app
def rollcall_start(app: App, code: str, ratio: int | None, minutes: int | None) -> None:
    """立即在班级群里发起一次随机点名。"""
    now = datetime.now(app.settings.timezone)
    origin = rollcall_rules.Origin(trigger=rollcall_rules.CLI, actor=app.actor,
                                   nonce=f"cli:{now.isoformat()}", source="cli")
    with app.factory.begin() as s:
        klass = classes.get_class(s, code)
        started = rollcall_rules.start(s, klass, origin, now, minutes=minutes,
                                       ratio=Fraction(ratio, 100) if ratio else None)
        rc = started.rollcall
        line = chat_texts.ROLLCALL_STARTED.format(code=code, number=rc.number, size=len(rollcall_rules.samples(s, rc)),
                                                  roster=rc.roster_size, deadline=rc.deadline.astimezone(now.tzinfo))
        raised = started.raised_from
        minimum = Fraction(rc.ratio)
    if raised is not None:
        click.echo(chat_texts.ROLLCALL_RAISED.format(asked=format_percent(raised), minimum=format_percent(minimum)))
    click.echo(line)


@rollcall.command("verify")
@click.argument("rollcall_id", metavar="ID", type=int)
@pass_app
def rollcall_verify(app: App, rollcall_id: int) -> None:
    """由记录的种子与花名册快照重新算出抽取名单；一致时退出码 0，否则 1。"""
    with app.factory() as s:
        rc = s.get(RollCall, rollcall_id)
        if rc is None:
            raise Refusal(texts.ROLLCALL_NO_SUCH_ID.format(id=rollcall_id))
        check = rollcall_rules.verify(s, rc)
        code = s.get(Klass, rc.class_id).code
    names = dict(id=rollcall_id, code=code, number=rc.number)
    if check.ok:
        click.echo(texts.ROLLCALL_VERIFY_OK.format(size=len(check.recorded), **names))
        return
    click.echo(texts.ROLLCALL_VERIFY_FAILED.format(**names), err=True)
    if not check.seed_ok:
        click.echo(texts.ROLLCALL_VERIFY_SEED, err=True)
    if not check.commitment_ok:
        click.echo(texts.ROLLCALL_VERIFY_COMMITMENT, err=True)
    if check.expected != check.recorded:
        click.echo(texts.ROLLCALL_VERIFY_SAMPLE.format(expected=check.expected, recorded=check.recorded), err=True)
    sys.exit(1)


@main.command("inspect")
@click.argument("code")
@click.option("--kind", required=True, type=click.Choice(inspection.KINDS), help="video 视频、live 直播统计、phone 电话")
@click.option("--expected", required=True, type=int, help="应到人数")
@click.option("--found", required=True, type=int, help="实到人数")
@click.option("--evidence", multiple=True, metavar="FILE", help="证据截图（可多次给出）")
@click.option("--level", type=click.Choice([inspection.CITY, inspection.DISTRICT]), default=inspection.DISTRICT,
              show_default=True, help="检查单位：city 市、district 旗县区")
@click.option("--note", default="", help="检查发现")
@pass_app
def inspect_(app: App, code: str, kind: str, expected: int, found: int, evidence: tuple[str, ...], level: str,
             note: str) -> None:
    """记录一次班级检查（R14），附截图作证据；达标率低于要求时计入 R15。"""
    shots = [(Path(path).name, read_file(path)) for path in evidence]
    now = datetime.now(app.settings.timezone)
    with app.factory.begin() as s:
        klass = classes.get_class(s, code)
        row = inspection.record(s, klass, level=level, kind=kind, expected=expected, found=found, by=app.actor,
                                at=now, source="cli", note=note)
        for name, data in shots:
            inspection.add_evidence(s, row, app.files.put(data), name, at=now, actor=app.actor, source="cli")
        line = inspection.summary_line(klass, row, now.tzinfo)
    click.echo(line)
    if shots:
        click.echo(chat_texts.INSPECTION_EVIDENCE_SAVED.format(count=len(shots), number=row.id, code=code))


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
    click.echo(chat_texts.MARKED.format(code=code, name=name, kind=chat_texts.MARK_KINDS[kind], reason=reason.strip()))


# --- running --------------------------------------------------------------------------------------


@main.command()
@click.option("--only", type=click.Choice(["bot", "scheduler", "admin"]), help="只运行其中一部分")
@pass_app
def run(app: App, only: str | None) -> None:
    """连接钉钉运行：默认机器人、调度器与管理后台同在一个进程。SIGTERM 时不再接收消息、处理完手头的消息，
    在 DINGCLASS_STOP_SECONDS（默认 20 秒）内尽量发出发件箱，其余保留到下次启动，以 0 退出。"""
    factory = app.factory
    parts: list[tuple[object, Callable[[], str]]] = []
    if only in (None, "admin"):
        from admin import AdminConfigError
        from admin.serve import AdminServer

        try:
            admin = AdminServer(app.settings, factory)
        except AdminConfigError as exc:
            raise Refusal(str(exc)) from None
        parts.append((admin, lambda: texts.ADMIN_RUNNING.format(url=admin.url)))
    bot = None
    if only in (None, "bot"):
        from bot.service import BotService

        bot = BotService(app.settings, factory)
        parts.append((bot, lambda: texts.BOT_RUNNING.format(endpoint=app.settings.openapi_endpoint)))
    if only in (None, "scheduler"):
        from scheduler import SchedulerService
        from scheduler.jobs import JOBS

        scheduler = SchedulerService(factory, app.settings.timezone, files=app.files, signer=optional_signer(app),
                                     archive=archive_setup(app))
        parts.append((scheduler, lambda: texts.SCHEDULER_RUNNING.format(jobs=len(JOBS))))
    code = run_until_signal(parts, app.settings.stop_seconds)
    if bot is not None:
        click.echo(texts.BOT_STOPPED.format(left=bot.left) if bot.left else texts.BOT_STOPPED_EMPTY)
    sys.exit(code)


def run_until_signal(parts: list, stop_seconds: float | None = None) -> int:
    """Start every part — a part, or (part, what to say once it runs: the bot says so once it is
    connected); on SIGTERM or SIGINT stop them in reverse order (each finishes its work). A part that
    fails to start stops those started before it. With ``stop_seconds``, stopping never takes much
    longer: past it plus a grace, the process says so and exits (the outbox keeps what was not sent)."""
    stopping = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopping.set())
    started = []
    try:
        for entry in parts:
            part, running = entry if isinstance(entry, tuple) else (entry, None)
            part.start()
            started.append(part)
            if running is not None:
                click.echo(running())
    except BaseException:
        for part in reversed(started):
            part.stop()
        raise
    stopping.wait()
    watchdog = None
    if stop_seconds is not None:
        watchdog = threading.Timer(stop_seconds + STOP_GRACE, _give_up, args=(stop_seconds + STOP_GRACE,))
        watchdog.daemon = True
        watchdog.start()
    for part in reversed(started):
        part.stop()
    if watchdog is not None:
        watchdog.cancel()
    return 0


STOP_GRACE = 3.0


def _give_up(seconds: float) -> None:
    click.echo(texts.BOT_STOP_TIMEOUT.format(seconds=f"{seconds:.0f}"), err=True)
    os._exit(0)


class Running:
    """A part already started: ``run_until_signal`` only has to stop it."""

    def __init__(self, stop) -> None:
        self.stop = stop

    def start(self) -> None:
        pass


@main.command()
@click.option("--port", default=8300, show_default=True, type=click.IntRange(1, 65534),
              help="开放接口与聊天页面的端口（Stream 网关用下一个端口）")
def simulate(port: int) -> None:
    """启动本地模拟钉钉（开放接口、Stream 网关和聊天页面），供演示和测试使用。"""
    from bot.simulator import DingTalkSimulator

    sim = DingTalkSimulator(port=port, ws_port=port + 1).start()
    click.echo(texts.SIMULATOR_READY.format(endpoint=sim.endpoint, client_id=sim.client_id,
                                            client_secret=sim.client_secret, robot_code=sim.robot_code,
                                            chat=sim.chat_url))
    sys.exit(run_until_signal([Running(sim.close)]))  # SIGTERM or Ctrl-C, even when started in the background


from bot import cli_records  # noqa: E402,F401  (registers certificates, export subsidy, institution account)
