"""``dingclass certificates …`` (R20), ``export subsidy``, ``export attendance`` (the weekly 考勤台账, R06) and
``institution account`` (R19): the record-keeping commands, registered on the main command line.

Imported at the end of :mod:`bot.cli` (which owns ``main``, ``App`` and the failure handling). The PDF and
package modules are imported inside the commands, so every other command starts as fast as before.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from bot import texts
from bot.cli import Cli, Failure, main, pass_app, App
from handlers import classes, export_log, institutions, subsidy
from handlers.errors import Refusal
from handlers.texts import records as record_texts
from handlers.texts import reports as report_texts
from storage.db import read_only_factory


def write_file(path: Path, data: bytes) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    except OSError as exc:
        raise Failure(texts.CANNOT_WRITE.format(path=path, detail=exc.strerror or exc)) from None


@main.group("certificates", cls=Cli)
def certificates_() -> None:
    """结业证书编号与培训证明（R20）。"""


@certificates_.command("issue")
@click.argument("code")
@click.option("--out", "out", metavar="DIR", help="把每名学员的培训证明（PDF）和全班合订本写入这个文件夹")
@pass_app
def certificates_issue(app: App, code: str, out: str | None) -> None:
    """为班级的合格学员发放证书编号（市级操作；编号唯一，撤销后也不再使用）。"""
    from handlers import certificates

    tz = app.settings.timezone
    with app.factory.begin() as s:
        klass = classes.get_class(s, code)
        issued = certificates.issue(s, klass, actor=app.actor, source="cli", now=datetime.now(tz))
    with app.factory() as s:
        klass = classes.get_class(s, code)
        documents = certificates.files(s, klass, tz) if out else []
    if not issued.qualified:
        click.echo(record_texts.CERT_NONE.format(code=code))
    else:
        click.echo(record_texts.CERT_ISSUED.format(code=code, new=len(issued.new), kept=len(issued.kept),
                                                 qualified=issued.qualified))
    for line in issued.new:
        click.echo(record_texts.CERT_LINE.format(number=line.certificate.number, name=line.name))
    if issued.stale:
        click.echo(record_texts.CERT_STALE.format(names="、".join(f"{line.name}（{line.certificate.number}）"
                                                               for line in issued.stale)))
    if out:
        folder = Path(out)
        for name, data in documents:
            write_file(folder / name, data)
        click.echo(record_texts.CERT_WRITTEN.format(count=len(documents) - 1, path=folder))


@certificates_.command("revoke")
@click.argument("number", metavar="NUMBER")
@click.option("--reason", required=True, help="撤销理由（记入台账）")
@pass_app
def certificates_revoke(app: App, number: str, reason: str) -> None:
    """撤销一个证书编号，写明理由；这个编号不会再发放。"""
    from handlers import certificates

    with app.factory.begin() as s:
        line, klass = certificates.revoke(s, number, reason, actor=app.actor, source="cli",
                                          now=datetime.now(app.settings.timezone))
        message = record_texts.CERT_REVOKED.format(number=line.certificate.number, name=line.name, code=klass.code,
                                                 reason=line.certificate.revoked_reason)
    click.echo(message)


# --- the subsidy package and the bank account (R19) -----------------------------------------------------


@main.group("export", cls=Cli)
def export_() -> None:
    """导出申报材料。"""


@export_.command("subsidy")
@click.argument("code")
@click.option("--stage", required=True, type=click.Choice(subsidy.STAGES), help="pre 预拨、final 清算")
@click.option("--out", "out", metavar="F.zip", help="写入的文件（默认 <班级编号>-补贴申报-<阶段>.zip）")
@click.option("--publicity-start", "start_text", metavar="D", help="公示开始日期（默认今天）")
@pass_app
def export_subsidy(app: App, code: str, stage: str, out: str | None, start_text: str | None) -> None:
    """R19 补贴申报材料：工作簿（学员完成情况、每日签到签退、答疑、作业、照片索引、公示名单）、学习照片、银行账户与金额。"""
    from handlers import subsidy_package
    from handlers.dates import parse_day

    tz = app.settings.timezone
    now = datetime.now(tz)
    start = now.date()
    if start_text:
        start = parse_day(start_text, now.date())
        if start is None:
            raise Failure(record_texts.SUBSIDY_BAD_START.format(value=start_text))
    with read_only_factory(app.factory)() as s:  # a reader: the bot's 签到 never waits for an export
        klass = classes.get_class(s, code)
        path = Path(out or subsidy_package.file_name(klass, stage))
        try:
            written = subsidy_package.write_file(s, klass, stage, path, files=app.files, tz=tz, now=now,
                                                 publicity_start=start, full_ids=True, actor=app.actor)
        except OSError as exc:
            raise Failure(texts.CANNOT_WRITE.format(path=path, detail=exc.strerror or exc)) from None
    with app.factory.begin() as s:  # who took the package (full ID numbers) out, what, when
        export_log.record(s, classes.get_class(s, code), export_log.SUBSIDY, full_id_numbers=True, actor=app.actor,
                         source="cli", at=now, detail=stage)
    amount = written.amount
    click.echo(record_texts.SUBSIDY_WRITTEN.format(path=path, code=code, stage=record_texts.SUBSIDY_STAGE_NAMES[stage],
                                                 trainees=written.trainees, registered=amount.registered,
                                                 qualified=amount.qualified, photos=written.photos))
    click.echo(record_texts.SUBSIDY_AMOUNT_LINE.format(formula=subsidy.formula(amount))
               + (record_texts.SUBSIDY_REFUND if amount.amount < 0 else ""))
    period = written.publicity
    click.echo(record_texts.SUBSIDY_PUBLICITY_LINE.format(start=period.start, end=period.end, days=period.working_days))



@export_.command("attendance")
@click.argument("code")
@click.option("--out", "out", metavar="FILE", help="写入的文件（默认 <班级编号>-考勤台账.xlsx，给出 --pdf 时为 .pdf）")
@click.option("--pdf", is_flag=True, help="写成 PDF 打印版（与管理后台下载的 PDF 相同），而不是 xlsx")
@pass_app
def export_attendance(app: App, code: str, out: str | None, pdf: bool) -> None:
    """考勤台账（R06）：每周一张，每名学员每天的签到签退、学习分钟、照片与请假，附签字盖章栏；与管理后台下载的相同（身份证号部分隐藏）。"""
    from handlers import sheets

    tz = app.settings.timezone
    fmt = "pdf" if pdf else "xlsx"
    with read_only_factory(app.factory)() as s:  # a reader: the bot's 签到 never waits for an export
        klass = classes.get_class(s, code)
        register = sheets.attendance_sheets(s, klass, tz, datetime.now(tz))  # masked, as the admin's download
    if not register:
        raise Refusal(report_texts.ATTENDANCE_NO_DAYS.format(code=klass.code))
    if pdf:
        from handlers.sheet_pdf import write_pdf

        data = write_pdf(register)
    else:
        from storage.exports import write_xlsx

        data = write_xlsx(register)
    path = Path(out or f"{klass.code}-{report_texts.ATTENDANCE_SHEET_NAME}.{fmt}")
    write_file(path, data)
    click.echo(report_texts.ATTENDANCE_WRITTEN.format(path=path, code=klass.code, weeks=len(register),
                                                      format=report_texts.ATTENDANCE_FORMATS[fmt]))

@main.group("institution", cls=Cli)
def institution_() -> None:
    """培训机构。"""


@institution_.command("account")
@click.argument("name")
@click.option("--bank", required=True, help="开户银行")
@click.option("--account", "number", required=True, help="银行账号")
@pass_app
def institution_account(app: App, name: str, bank: str, number: str) -> None:
    """设置培训机构的开户银行账户（R19：补贴拨付到这个账户，申报材料附上它）；记入台账。"""
    with app.factory.begin() as s:
        row = institutions.set_account(s, institutions.by_name(s, name), bank, number, actor=app.actor, source="cli",
                                       now=datetime.now(app.settings.timezone))
        message = record_texts.ACCOUNT_SET.format(name=name.strip(), bank=row.bank, account=row.account)
    click.echo(message)
