"""R11: every morning, at the profile's ``report.morning``, the scheduler sends each district the
previous day's report (``handlers.daily_report.send_reports``: the summary and the workbook to its
supervision group and 1:1 to its inspectors), once per district per day.

The job (``scheduler.jobs.send_daily_reports``) finds the districts whose time has come — the earliest
``report.morning`` of the classes it supervised that day (a class's overrides apply) — that have not
been sent and have somebody to receive it, and dispatches one ``JobEvent`` per district. The handler
claims (job, district, day) in ``job_claims`` before it sends, in the same unit of work as the
``daily_report_sends`` row unique per district and day: a re-run, ``jobs run-due`` or a second
scheduler sends nothing twice, and ``report daily --send`` on the same day finds it sent.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from handlers.texts import reports as texts
from handlers.claims import claim
from handlers.classes import profile_of
from handlers.daily_report import recipients, running_classes, send_reports
from handlers.errors import Refusal
from handlers.registry import Ctx, job
from storage.models import DailyReportSend, District, Klass

log = logging.getLogger(__name__)
SEND_JOB = "report.daily"


def _morning(klass: Klass) -> time | None:
    try:
        return time.fromisoformat(profile_of(klass).report.morning)
    except ValueError:
        log.warning("class %s: report.morning is not HH:MM", klass.code)
        return None


def slot(district_id: int, day: date) -> str:
    return f"{day.isoformat()}|{district_id}"


def due_districts(s: Session, now: datetime) -> list[tuple[District, date]]:
    """The districts due to be sent yesterday's report at ``now``: their morning time has come, nothing
    was sent for that day yet, and somebody can receive it (a district with nobody is left for later)."""
    day = now.date() - timedelta(days=1)
    times: dict[int, time] = {}
    for klass in running_classes(s, day):
        at = _morning(klass)
        if at is not None:
            times[klass.district_id] = min(at, times.get(klass.district_id, at))
    sent = set(s.scalars(select(DailyReportSend.district_id).where(DailyReportSend.day == day)))
    due = [d for d, at in times.items() if d not in sent and now.time() >= at]
    districts = s.scalars(select(District).where(District.id.in_(due)).order_by(District.name)) if due else []
    result = []
    for district in districts:
        to = recipients(s, district)
        if to.groups or to.users:
            result.append((district, day))
    return result


@job(SEND_JOB)
def send_job(ctx: Ctx) -> list[str]:
    """R11: send district ``ctx.args`` (``YYYY-MM-DD|<district id>``) its report of that day, claimed first."""
    day_text, _, district_text = ctx.args.partition("|")
    day, district_id = date.fromisoformat(day_text), int(district_text)
    services = ctx.services
    if services is None or services.files is None:
        raise RuntimeError("the morning report needs the file store (Dispatcher(files=...))")
    if not claim(ctx.session, SEND_JOB, f"district:{district_id}", day_text, by=ctx.actor.label):
        return []
    outcome = send_reports(ctx.session, day, now=ctx.now, files=services.files, robot_code=None, tz=services.tz,
                           actor=ctx.actor.label, district_ids={district_id}, signer=services.signer)
    if outcome.unreachable:  # nobody to send to after all: no claim, tried again at the next run
        raise Refusal(texts.REPORT_UNREACHABLE.format(names="、".join(outcome.unreachable)))
    return []
