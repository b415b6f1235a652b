"""``dingclass report daily`` (R11), ``rollcall …`` (R13) and ``inspect`` (R14): supervision, registered on the
main command line.

Imported at the end of :mod:`bot.cli` (which owns ``main``, ``App`` and the failure handling).
"""

from __future__ import annotations

import sys
from datetime import datetime, timedelta
from fractions import Fraction
from pathlib import Path

import click

from bot import texts
from bot.cli import App, Cli, Failure, main, optional_signer, pass_app, read_file
from handlers import classes, inspection
from handlers import rollcall as rollcall_rules
from handlers.texts import reports as report_texts
from handlers.texts import supervision as supervision_texts
from handlers.errors import Refusal
from handlers.policy import format_percent
from storage import file_refs
from storage.db import read_only_factory
from storage.models import Klass, RollCall


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
        click.echo(report_texts.REPORT_SENT.format(day=day, sent=len(outcome.sent), already=len(outcome.already)))
        if outcome.unreachable:
            click.echo(report_texts.REPORT_UNREACHABLE.format(names="、".join(outcome.unreachable)))
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
    click.echo(report_texts.REPORT_WRITTEN.format(
        path=path, day=day, districts=len(result.districts),
        classes=sum(len(d.classes) for d in result.districts),
        trainees=sum(d.total("trainees") for d in result.districts)))


# --- roll calls and inspections (R13, R14) -------------------------------------------------------


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
        line = supervision_texts.ROLLCALL_STARTED.format(code=code, number=rc.number, size=len(rollcall_rules.samples(s, rc)),
                                                  roster=rc.roster_size, deadline=rc.deadline.astimezone(now.tzinfo))
        raised = started.raised_from
        minimum = Fraction(rc.ratio)
    if raised is not None:
        click.echo(supervision_texts.ROLLCALL_RAISED.format(asked=format_percent(raised), minimum=format_percent(minimum)))
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
            inspection.add_evidence(s, row, file_refs.put_kept(s, app.files, data), name, at=now, actor=app.actor, source="cli")
        line = inspection.summary_line(klass, row, now.tzinfo)
    click.echo(line)
    if shots:
        click.echo(supervision_texts.INSPECTION_EVIDENCE_SAVED.format(count=len(shots), number=row.id, code=code))
