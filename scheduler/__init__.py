"""The scheduler: APScheduler 3.x running ``scheduler.jobs`` with claims in the database.

Each run of a job is claimed first as ``(job, "*", <fire time>)``: a second scheduler process firing
the same moment, or ``dingclass jobs run-due`` at that minute, finds the claim and does nothing. On
start, a job whose last fire time passed while nothing ran is caught up once (``catch_up``) or
recorded as missed. APScheduler itself coalesces piled-up runs and gives each a misfire grace.
"""

from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy.orm import Session, sessionmaker

from handlers import claims
from handlers.commands import build_registry
from handlers.dispatch import Dispatcher
from scheduler.jobs import JOBS, ArchiveSetup, Job, Run
from storage.files import FileStore

log = logging.getLogger("dingclass.scheduler")
MISFIRE_GRACE = 120  # seconds


def process_name() -> str:
    return f"scheduler:{socket.gethostname()}:{os.getpid()}"


def _minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


def dispatcher_for(tz, files: FileStore | None = None, signer=None) -> Dispatcher:
    """The scheduler's dispatcher; ``files`` (the workbooks of the morning report) and ``signer`` (the
    ledger key, to sign the heads the report carries) come from the settings."""
    return Dispatcher(build_registry(), tz=tz, files=files, signer=signer)


def run_job(factory: sessionmaker[Session], job: Job, now: datetime, by: str, *, fire: datetime | None = None,
            dispatcher: Dispatcher | None = None, archive: ArchiveSetup | None = None) -> str | None:
    """Run ``job`` once for the fire time ``fire`` (default: ``now``'s minute); None if already claimed."""
    period = _minute(fire or now).isoformat(timespec="minutes")
    with factory.begin() as s:
        if not claims.claim(s, job.id, claims.EVERY, period, by=by, outcome=claims.RUNNING):
            return None
    try:
        detail = job.body(Run(factory, now, by, dispatcher or dispatcher_for(now.tzinfo), archive))
        outcome = claims.DONE
    except Exception as exc:  # noqa: BLE001 - recorded on the claim and logged with its traceback
        log.exception("job %s failed", job.id)
        detail, outcome = f"{type(exc).__name__}: {exc}", claims.FAILED
    with factory.begin() as s:
        claims.finish(s, job.id, period, outcome, detail)
    return detail


def run_due(factory: sessionmaker[Session], now: datetime, by: str, *, files: FileStore | None = None,
            signer=None, archive: ArchiveSetup | None = None) -> dict[str, str | None]:
    """Every job once at ``now`` (for cron, tests, a supervisor who wants it now); each job's summary."""
    dispatcher = dispatcher_for(now.tzinfo, files, signer)
    return {job.id: run_job(factory, job, now, by, dispatcher=dispatcher, archive=archive) for job in JOBS}


def previous_fire(job: Job, now: datetime) -> datetime | None:
    """The latest fire time of ``job`` at or before ``now`` (looking back a week at most)."""
    trigger = job.trigger(now.tzinfo)
    moment, last = trigger.get_next_fire_time(None, now - timedelta(days=7)), None
    while moment is not None and moment <= now:
        last = moment
        moment = trigger.get_next_fire_time(moment, moment + timedelta(seconds=1))
    return last


def catch_up(factory: sessionmaker[Session], now: datetime, by: str,
             dispatcher: Dispatcher | None = None, archive: ArchiveSetup | None = None) -> dict[str, str]:
    """On start: a job whose last fire time has no run is run once now, or recorded as missed."""
    with factory.begin() as s:
        last = {job_id: row.period for job_id, row in claims.last_runs(s).items()}
    done = {}
    for job in JOBS:
        fire = previous_fire(job, now)
        if fire is None or last.get(job.id, "") >= fire.isoformat(timespec="minutes"):
            continue
        if job.catch_up:
            done[job.id] = run_job(factory, job, now, by, fire=fire, dispatcher=dispatcher, archive=archive) or ""
        else:
            with factory.begin() as s:
                claims.claim(s, job.id, claims.EVERY, fire.isoformat(timespec="minutes"), by=by,
                             outcome=claims.MISSED, detail="scheduler was not running")
            done[job.id] = claims.MISSED
    return done


@dataclass(frozen=True)
class JobLine:
    id: str
    title: str
    next_run: datetime | None
    last_run: datetime | None
    last_outcome: str
    last_detail: str


def job_table(factory: sessionmaker[Session], now: datetime) -> list[JobLine]:
    with factory() as s:
        last = claims.last_runs(s)
    lines = []
    for job in JOBS:
        row = last.get(job.id)
        lines.append(JobLine(job.id, job.title, job.trigger(now.tzinfo).get_next_fire_time(None, now),
                             datetime.fromisoformat(row.period) if row else None,
                             row.outcome if row else "", row.detail if row else ""))
    return lines


class SchedulerService:
    """The scheduler part of ``dingclass run``: catch up, then APScheduler in a background thread."""

    def __init__(self, factory: sessionmaker[Session], tz, clock=None, *, files: FileStore | None = None,
                 signer=None, archive: ArchiveSetup | None = None) -> None:
        self.factory = factory
        self.archive = archive
        self.tz = tz
        self.clock = clock or (lambda: datetime.now(tz))
        self.by = process_name()
        self.dispatcher = dispatcher_for(tz, files, signer)
        self.scheduler = BackgroundScheduler(timezone=tz, job_defaults={"coalesce": True,
                                                                        "misfire_grace_time": MISFIRE_GRACE,
                                                                        "max_instances": 1})
        for job in JOBS:
            self.scheduler.add_job(self._fire, job.trigger(tz), args=(job,), id=job.id, name=job.id)

    def _fire(self, job: Job) -> None:
        now = self.clock()
        run_job(self.factory, job, now, self.by, dispatcher=self.dispatcher, archive=self.archive)

    def start(self) -> SchedulerService:
        catch_up(self.factory, self.clock(), self.by, self.dispatcher, self.archive)
        self.scheduler.start()
        log.info("scheduler started with %d jobs", len(JOBS))
        return self

    def stop(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)
        log.info("scheduler stopped")
