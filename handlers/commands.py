"""The registry, built explicitly at start-up: every chat command and scheduler job, listed once.

A new command: write it in its module with ``@command("词", roles=…, where=…)`` (a job: ``@job("kind")``),
then add the function to the list below. ``帮助`` shows the commands in this order. A word (or job
kind) declared twice fails here, at start-up.
"""

from __future__ import annotations

from handlers import (
    attendance, binding, daily_report, help, homework, inspection, leave, mine, morning_report, photos, qa, reminders,
    rollcall,
    spot_checks, stats, unbinding,
)
from handlers.registry import Registry


def build_registry() -> Registry:
    return Registry([
        attendance.check_in,
        attendance.check_out,
        binding.bind,
        binding.bind_group,
        help.help_,
        leave.ask,
        leave.approve,
        leave.reject,
        leave.pending,
        mine.mine,
        photos.photo,
        stats.stats,
        unbinding.unbind,
        rollcall.call,
        rollcall.show,
        rollcall.here,
        inspection.inspect,
        rollcall.scheduled,
        rollcall.closing,
        reminders.checkin_job,
        reminders.evening_job,
        reminders.spot_check_job,
        homework.post,
        homework.submit,
        homework.check_command,
        homework.listing,
        qa.start,
        qa.end,
        qa.ask,
        qa.answer,
        spot_checks.spot_check,
        daily_report.bind_supervision_group,
        morning_report.send_job,
    ])
