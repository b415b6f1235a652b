"""The ``dingclass`` command line (PRODUCT.md "Public interface").

Every command is one unit of work; a refusal prints its Chinese reason and exits 1, an unexpected
error prints one line and leaves the traceback in the log — never a traceback on the terminal.

This module owns ``main``, ``App``, the failure handling, ``init``, the ledger commands and running (``run``,
``jobs``, ``demo``, ``simulate``: the composition root that starts the admin and the scheduler); the other command
groups live beside it (``cli_classes``, ``cli_people``, ``cli_supervision``, ``cli_records``,
``archive_cli``) and register themselves on ``main`` when imported at the end of this module.
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
from datetime import datetime
from functools import cached_property
from pathlib import Path

import click
from sqlalchemy.exc import DBAPIError

from bot import archive_cli, clickzh, texts
from bot.failures import database_failure, os_failure
from bot.settings import Settings, SettingsError, load
from handlers.texts import ledger_problem
from handlers.errors import Refusal
from storage import ledger_keys, ledger_verify
from storage.db import make_engine, make_session_factory
from storage.files import FileStore

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
        ledger_keys.register_key(s, signer)
    message = texts.KEY_CREATED if created else texts.KEY_IN_USE
    click.echo(message.format(path=app.settings.ledger_key, public=signer.public_hex, key_id=signer.key_id))


def ensure_ledger_key(app: App) -> tuple[ledger_keys.Signer, bool]:
    """The ledger signing key, created on first use; (signer, created)."""
    path = app.settings.require_ledger_key_outside_data_dir()
    if path.exists():
        return load_ledger_key(app), False
    return ledger_keys.create_key(path), True


def load_ledger_key(app: App, required: bool = True) -> ledger_keys.Signer | None:
    path = app.settings.require_ledger_key_outside_data_dir()
    if not path.exists():
        if required:
            raise Failure(texts.LEDGER_KEY_MISSING.format(path=path))
        return None
    try:
        return ledger_keys.load_key(path)
    except ledger_keys.LedgerKeyError as exc:
        raise Failure(texts.LEDGER_KEY_BAD.format(detail=exc)) from None


def optional_signer(app: App) -> ledger_keys.Signer | None:
    """The ledger key for the scheduler (it signs the heads the morning report carries, R11/R17), if it
    is usable here; without it the report carries the heads unsigned."""
    try:
        return load_ledger_key(app, required=False)
    except (Failure, SettingsError) as exc:
        log.warning("ledger key not usable, report heads go unsigned: %s", exc)
        return None


# --- ledger -------------------------------------------------------------------------------------


def echo_verify(app: App, anchor: dict | None = None, incremental: bool = False, workers: int | None = None) -> bool:
    """Verify with the key file's public key when it is here; store the result; after a clean run,
    sign the verified heads."""
    signer = load_ledger_key(app, required=False)
    report = ledger_verify.run_verification(app.factory, signer=signer, anchor=anchor,
                                     trusted_keys=[signer.public_hex] if signer is not None else [],
                                     incremental=incremental, workers=workers)
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
        click.echo(f"- {ledger_problem(problem)}", err=True)
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


@main.command()
@click.argument("archive_file", metavar="[ARCHIVE]", required=False)
@click.option("--anchor", "anchor_file", metavar="FILE", help="链头存证文件（dingclass ledger heads 写出、旗县区收到的那份）")
@click.option("--incremental", is_flag=True, help="只校验每条链上次校验并签署之后的新事件及其记录")
@click.option("--workers", type=click.IntRange(1, 64), default=None,
              help="同时校验的进程数（默认每个 CPU 核一个；1：在本进程内逐条链校验）")
@pass_app
def verify(app: App, archive_file: str | None, anchor_file: str | None, incremental: bool,
           workers: int | None) -> None:
    """校验台账：每条链完整、签名检查点相符，且每条记录与台账一致（R17）；给出 ARCHIVE 时离线校验归档 zip（R18，不用数据库）。有问题时退出码为 1。"""
    anchor = read_anchor(anchor_file) if anchor_file else None
    if archive_file is not None:
        if incremental or workers is not None:
            raise Failure(texts.VERIFY_ARCHIVE_OPTIONS)
        if not archive_cli.verify_archive(archive_file, anchor):
            sys.exit(1)
        return
    if not echo_verify(app, anchor, incremental, workers):
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
        made = ledger_keys.checkpoint(s, signer)
    click.echo(texts.CHECKPOINTS_SIGNED.format(count=len(made)))


@ledger_.command("heads")
@click.option("--out", "out", metavar="FILE", default="-", help="写到文件（默认输出到屏幕）")
@pass_app
def ledger_heads(app: App, out: str) -> None:
    """签署并写出每条链最新的签名链头（JSON），供旗县区保存，日后用 verify --anchor 核对。"""
    signer = load_ledger_key(app)
    with app.factory.begin() as s:
        ledger_keys.checkpoint(s, signer)
        heads = ledger_keys.signed_heads(s)
    body = json.dumps(heads, ensure_ascii=False, indent=1)
    if out == "-":
        click.echo(body)
        return
    Path(out).write_text(body + "\n", encoding="utf-8")
    click.echo(texts.HEADS_WRITTEN.format(count=len(heads["heads"]), path=out))


# --- running -------------------------------------------------------------------------------------


@main.command()
@click.option("--no-wait", is_flag=True, help="演示完即退出，不保持管理后台运行")
@click.option("--port", type=int, default=None, help="管理后台端口（默认 DINGCLASS_ADMIN_PORT；被占用时另选一个）")
@pass_app
def demo(app: App, no_wait: bool, port: int | None) -> None:
    """本机完整演示：模拟钉钉、机器人、示例班级的一天、管理后台；打印后台地址与登录账号。"""
    from bot.demo import run_demo

    run_demo(app, wait=not no_wait, port=port)


# --- scheduled jobs -----------------------------------------------------------------------------------


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


from bot import cli_classes, cli_people, cli_records, cli_supervision  # noqa: E402,F401  (register their commands)
