"""``dingclass archive CODE [--out DIR]`` and ``dingclass verify ARCHIVE`` (R18).

Registered on the command group by ``bot.cli``; the archive itself is ``handlers.archive``, the offline
check ``storage.archive_check``.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from bot import clickzh, texts
from handlers import archive as archives
from handlers import classes
from storage import ledger
from storage.archive import snapshot_factory
from storage.archive_check import Finding, check


def archive_dir(app) -> Path:
    return app.settings.data_dir / "archives"


@click.command("archive", cls=clickzh.Command)
@click.argument("code")
@click.option("--out", "out_dir", metavar="DIR", help="写入的文件夹（默认：数据目录下的 archives）")
@click.pass_obj
def archive(app, code: str, out_dir: str | None) -> None:
    """把一个班的全部数据归档为一个 zip（R18 一班一卷）：记录、消息、照片、台账片段、考勤台账与合格名单、清单与 index.html。"""
    from bot.cli import load_ledger_key

    signer = load_ledger_key(app, required=False)
    if signer is not None:  # sign the class's head first, so the manifest carries it
        with app.factory.begin() as s:
            ledger.checkpoint(s, signer, chains=[classes.get_class(s, code).id])
    tz = app.settings.timezone
    with snapshot_factory(app.factory)() as s:
        made = archives.make(s, code, store=app.files, out_dir=Path(out_dir) if out_dir else archive_dir(app),
                             tz=tz, now=datetime.now(tz))
        s.rollback()
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


def describe(finding: Finding) -> str:
    return texts.ARCHIVE_FINDINGS[finding.kind].format(
        path=finding.path, line=finding.line, seq=finding.seq, table=finding.table, row_id=finding.row_id,
        columns="、".join(finding.columns))


def verify_archive(path: str, anchor: dict | None) -> bool:
    """Check the zip offline (no database); one line per finding; True when everything holds."""
    trusted = tuple(anchor.get("public_keys", [])) if anchor else ()
    result = check(Path(path), trusted)
    if result.ok:
        click.echo(texts.ARCHIVE_VERIFY_OK.format(
            path=path, files=result.files, events=result.events, rows=result.rows,
            seq=result.signed_seq if result.signed_seq is not None else texts.ARCHIVE_VERIFY_UNSIGNED,
            keys=texts.ARCHIVE_KEYS["anchor" if trusted else "archive"]))
        return True
    click.echo(texts.ARCHIVE_VERIFY_FAILED.format(path=path, count=len(result.findings)), err=True)
    for finding in result.findings:
        click.echo(f"- {describe(finding)}", err=True)
    return False
