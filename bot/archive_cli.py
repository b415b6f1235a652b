"""``dingclass archive CODE [--out DIR] [--upload]`` and ``dingclass verify ARCHIVE`` (R18).

Registered on the command group by ``bot.cli``; the archive itself is ``handlers.archive``, the offline
check ``storage.archive_check``.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import click

from bot import clickzh, texts
from handlers import archive as archives
from handlers.errors import Refusal
from storage.archive_check import Finding, check
from storage.models import OutboxMessage


def archive_dir(app) -> Path:
    return app.settings.data_dir / "archives"


@click.command("archive", cls=clickzh.Command)
@click.argument("code")
@click.option("--out", "out_dir", metavar="DIR", help="写入的文件夹（默认：数据目录下的 archives）")
@click.option("--upload", is_flag=True, help="写完后上传到钉盘（DINGCLASS_DRIVE_SPACE_ID、DINGCLASS_DRIVE_UNION_ID）；"
                                              "上次上传未完成且班级数据没有变化时，从中断处继续")
@click.pass_obj
def archive(app, code: str, out_dir: str | None, upload: bool) -> None:
    """把一个班的全部数据归档为一个 zip（R18 一班一卷）：记录、消息、照片、台账片段、考勤台账与合格名单、清单与 index.html。"""
    from bot.cli import load_ledger_key

    drive = archives.Drive(*app.settings.require_drive()) if upload else None
    if upload:
        app.settings.require_dingtalk()
        with app.factory() as s:
            pending = archives.unfinished_upload(s, code)
        if pending is not None:
            click.echo(texts.ARCHIVE_RESUMING.format(path=json.loads(pending.body)["path"]))
            deliver_upload(app, pending.id)
            return
    tz = app.settings.timezone
    made = archives.archive_class(app.factory, code, store=app.files,
                                  out_dir=Path(out_dir) if out_dir else archive_dir(app), tz=tz, now=datetime.now(tz),
                                  drive=drive, signer=load_ledger_key(app, required=False))
    m = made.manifest
    counts = m["counts"]
    rows = sum(n for path, n in counts.items() if path in m["tables"])
    click.echo(texts.ARCHIVE_WRITTEN.format(
        path=made.path, files=len(m["files"]), photos=counts.get("photos", 0), rows=rows,
        events=counts.get("ledger/events.jsonl", 0), seq=m["ledger"]["seq"],
        signed=texts.ARCHIVE_SIGNED if m["ledger"]["signed"]["heads"] else texts.ARCHIVE_UNSIGNED,
        digest=m["data_digest"]))
    if m["missing_files"]:
        click.echo(texts.ARCHIVE_MISSING_FILES.format(count=len(m["missing_files"])))
    if m["absent"]:
        click.echo(texts.ARCHIVE_ABSENT.format(kinds="、".join(m["absent"])))
    if made.upload_id is not None:
        deliver_upload(app, made.upload_id)


def deliver_upload(app, row_id: int) -> None:
    """The three Drive calls now, through the outbox sender (progress saved on the row after each)."""
    from bot.openapi import OpenApi
    from bot.outbox import OutboxSender

    with OpenApi.from_settings(app.settings) as api:
        OutboxSender(app.factory, api, app.files).deliver_now(row_id)
    with app.factory() as s:
        row = s.get(OutboxMessage, row_id)
        body = json.loads(row.body)
    if row.status == "sent":
        dentry = (body.get("progress") or {}).get("dentry") or {}
        click.echo(texts.ARCHIVE_UPLOADED.format(name=dentry.get("name", body["name"]), id=dentry.get("id", ""),
                                                 space=body["space_id"]))
        return
    reason = texts.ARCHIVE_UPLOAD_BUSY if row.status == "sending" else row.last_error or ""
    raise Refusal(texts.ARCHIVE_UPLOAD_FAILED.format(reason=reason, code=body["class"]))


def describe(finding: Finding) -> str:
    return texts.ARCHIVE_FINDINGS[finding.kind].format(
        path=finding.path, line=finding.line, seq=finding.seq, table=finding.table, row_id=finding.row_id,
        columns="、".join(finding.columns))


def verify_archive(path: str, anchor: dict | None) -> bool:
    """Check the zip offline (no database); one line per finding; True when everything holds."""
    trusted = tuple(anchor.get("public_keys", [])) if anchor else ()
    result = check(Path(path), trusted, anchor.get("heads", []) if anchor else ())
    if result.ok:
        click.echo(texts.ARCHIVE_VERIFY_OK.format(
            path=path, files=result.files, events=result.events, rows=result.rows,
            seq=result.signed_seq if result.signed_seq is not None else texts.ARCHIVE_VERIFY_UNSIGNED,
            keys=texts.ARCHIVE_KEYS["anchor" if trusted else "archive"]))
        if anchor is not None:
            click.echo(texts.ARCHIVE_ANCHORED.format(count=result.anchored))
        for head in result.later_heads:  # R17: told, not failed — the class may have gone on after archiving
            click.echo(texts.ARCHIVE_ANCHOR_LATER.format(seq=head["seq"], at=head["at"], events=result.events))
        return True
    click.echo(texts.ARCHIVE_VERIFY_FAILED.format(path=path, count=len(result.findings)), err=True)
    for finding in result.findings:
        click.echo(f"- {describe(finding)}", err=True)
    return False
