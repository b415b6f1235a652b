"""The scheduled jobs: module-level bodies with explicit ids, each a few lines calling ``handlers``.

A body gets a :class:`Run` (the session factory, ``now`` in the deployment's time zone, the
scheduler's name, the dispatcher) and returns a one-line summary for ``dingclass jobs list``. A body
finds what is due and sends one ``JobEvent`` per class through the dispatcher — the one way in, with
the same role check, savepoint and counting as a message; the ``@job`` handlers in ``handlers`` act.
Every action is claimed first (``handlers.claims``, or a unique row such as a reminder's): two
scheduler processes, a restart or ``jobs run-due`` at the same moment never act twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from handlers import archive as archives
from handlers import claims, downloads, morning_report, reminders, rollcall
from handlers.dispatch import Dispatcher
from handlers.messages import JobEvent
from storage.files import FileStore
from storage.models import RollCall

log = logging.getLogger("dingclass.scheduler")


@dataclass(frozen=True)
class ArchiveSetup:
    """Where the archive job writes each finished class's dossier (R18), and the Drive (钉盘) it is
    uploaded to when one is configured (the bot's outbox sender does the upload)."""

    store: FileStore
    out_dir: Path
    drive: archives.Drive | None = None


@dataclass(frozen=True)
class Run:
    factory: sessionmaker[Session]
    now: datetime  # aware, in the deployment's time zone
    by: str  # who claims the run: "scheduler:<host>:<pid>" or "cli:<user>"
    dispatcher: Dispatcher
    archive: ArchiveSetup | None = None  # None: the archive job has nothing to write to


@dataclass(frozen=True)
class Job:
    id: str
    title: str  # Chinese, shown by ``jobs list``
    cron: dict  # CronTrigger fields
    catch_up: bool  # a run missed while everything was down: run once on start (True) or record it missed
    body: Callable[[Run], str]

    def trigger(self, tz) -> CronTrigger:
        return CronTrigger(timezone=tz, **self.cron)


def _events(run: Run, kind: str, targets: list[tuple[str | None, str]]) -> int:
    """One JobEvent per (class code or None, slot), each in its own unit of work, through the dispatcher."""
    for code, slot in targets:
        with run.factory.begin() as s:
            run.dispatcher.dispatch(s, JobEvent(kind, code, slot, run.now))
    return len(targets)


def close_rollcalls(run: Run) -> str:
    """R13: close every roll call whose answer window has ended; post the results."""
    with run.factory.begin() as s:
        due = [(code, str(number)) for code, number in rollcall.due_to_close(s, run.now)]
    return f"closed {_events(run, rollcall.CLOSE_JOB, due)}"


def start_rollcalls(run: Run) -> str:
    """R13: the roll calls that are due (the drawn moment has come, or the window ended without one)."""
    with run.factory.begin() as s:
        due = [(d.klass.code, d.period) for d in rollcall.due_scheduled(s, run.now)]
    _events(run, rollcall.START_JOB, due)
    with run.factory.begin() as s:
        started = s.scalar(select(func.count()).select_from(RollCall).where(
            RollCall.trigger == rollcall.SCHEDULE, RollCall.started_at == run.now))
    return f"due {len(due)}, started {started}"


def remind_checkin(run: Run) -> str:
    """R21: a group reminder as each session's check-in window opens."""
    with run.factory.begin() as s:
        codes = [k.code for k in reminders.running(s, run.now.date())]
    return f"classes {_events(run, reminders.CHECKIN_JOB, [(c, run.now.isoformat(timespec='minutes')) for c in codes])}"


def remind_evening(run: Run) -> str:
    """R21: the evening 1:1 reminders (short days, make-up for leave days)."""
    with run.factory.begin() as s:
        codes = [k.code for k in reminders.running(s, run.now.date())]
    return f"classes {_events(run, reminders.EVENING_JOB, [(c, run.now.date().isoformat()) for c in codes])}"


def remind_spot_checks(run: Run) -> str:
    """R10/R21: near the end of class time, remind the class teacher of the day's missing spot checks."""
    with run.factory.begin() as s:
        codes = [k.code for k in reminders.spot_checks_due(s, run.now)]
    return f"classes {_events(run, reminders.SPOT_CHECK_JOB, [(c, run.now.date().isoformat()) for c in codes])}"


def send_daily_reports(run: Run) -> str:
    """R11: each district whose morning time has come gets the previous day's report, once."""
    with run.factory.begin() as s:
        due = [(None, morning_report.slot(d.id, day)) for d, day in morning_report.due_districts(s, run.now)]
    return f"districts {_events(run, morning_report.SEND_JOB, due)}"


ARCHIVES_PER_RUN = 10  # a city switching this on archives its old classes over several runs


def archive_finished(run: Run) -> str:
    """R18: archive each approved class that has ended (its group is left as it is, never dissolved), and
    queue the upload to Drive when configured. Each class is claimed first, so it is archived once; an
    archive that fails gives its claim back and is tried at the next run. Archiving reads one snapshot
    in a read-only session: the bot's writes go on meanwhile (it is not a dispatched unit of work)."""
    if run.archive is None:
        return "no archive directory configured"
    with run.factory.begin() as s:
        codes = archives.due(s, run.now.date(), ARCHIVES_PER_RUN)
    made, failed = 0, 0
    for code in codes:
        with run.factory.begin() as s:
            if not claims.claim(s, archives.ARCHIVE_JOB, code, "end", by=run.by):
                continue
        try:
            archives.archive_class(run.factory, code, store=run.archive.store, out_dir=run.archive.out_dir,
                                   tz=run.now.tzinfo, now=run.now, drive=run.archive.drive,
                                   signer=run.dispatcher.services.signer)
            made += 1
        except Exception:  # noqa: BLE001 - logged with its traceback; the next run tries again
            log.exception("archiving %s failed", code)
            failed += 1
            with run.factory.begin() as s:
                claims.release(s, archives.ARCHIVE_JOB, code, "end")
    return f"due {len(codes)}, archived {made}, failed {failed}"


def dead_downloads(run: Run) -> str:
    """R08: ask again for the pictures whose download died (``handlers.downloads``)."""
    with run.factory.begin() as s:
        return f"answered {downloads.answer_dead_downloads(s, run.now)}"


JOBS: tuple[Job, ...] = (
    Job("close_rollcalls", "关闭到时的点名并公布结果（R13）", {"minute": "*"}, True, close_rollcalls),
    Job("start_rollcalls", "按时发起随机点名（R13）", {"minute": "*/5"}, True, start_rollcalls),
    Job("remind_checkin", "签到时间开始时在群里提醒（R21）", {"minute": "*"}, False, remind_checkin),
    Job("remind_evening", "晚间提醒当天未完成的学员、请假学员补学（R21）", {"minute": "*/10", "hour": "17-23"}, True,
        remind_evening),
    Job("remind_spot_checks", "上课时间结束前提醒班主任完成当天的抽查（R10、R21）", {"minute": "*/5"}, True,
        remind_spot_checks),
    Job("send_daily_reports", "早上把前一天的日报发给各旗县区（R11）", {"minute": "*/5"}, True, send_daily_reports),
    Job("archive_finished", "归档已结束的班级，配置了钉盘时上传（R18）", {"minute": "15", "hour": "1-5"}, True,
        archive_finished),
    Job("dead_downloads", "请学员重新发送下载失败的图片（R08）", {"minute": "*"}, True, dead_downloads),
)


def by_id(job_id: str) -> Job:
    return next(job for job in JOBS if job.id == job_id)
