"""A class in the simulator: the sample plan, approved, its group bound, N trainees bound to users.

The class starts 30 days from today, so its sessionWebhooks (timed by the simulator's clock) are still
valid by the real clock the outbox sender uses, whatever day the tests run.
"""

from __future__ import annotations

import re
import tempfile
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo
from pathlib import Path

from sqlalchemy import select

from bot.samples import sample_plan_text
from bot.samples.generate import trainees, write_roster
from handlers import classes, roster
from handlers.plans import parse_plan
from storage import ledger
from storage.models import DingTalkIdentity, Enrollment, Group
from tests.commitment import sign_commitment

TZ = ZoneInfo("Asia/Shanghai")
CLASS_DAY = datetime.now(TZ).date() + timedelta(days=30)


def class_time(hhmm: str, day: date = CLASS_DAY) -> datetime:
    """A moment of a class day, in UTC as the simulator's clock gives it."""
    return datetime.combine(day, time.fromisoformat(hhmm), TZ).astimezone(timezone.utc)


def build_classroom(sim, factory, size: int = 30, *, code: str | None = None, title: str = "育婴员1期",
                    seed: int = 2026):
    """The class (the sample plan; ``code`` instead of its own), its group ``title`` in the simulator, and
    ``size`` users there, the n-th bound to the n-th trainee of the roster (``trainees(size, seed)``)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "roster.xlsx"
        write_roster(path, trainees(size, seed))
        roster_bytes = path.read_bytes()
    plan_text = sample_plan_text(CLASS_DAY)
    if code is not None:
        plan_text = re.sub(r'^code = ".*"$', f'code = "{code}"', plan_text, count=1, flags=re.M)
    with factory() as s:
        klass = classes.create_class(s, parse_plan(plan_text), actor="test", source="test",
                                     default_policy="baotou-2020")
        roster.import_roster(s, klass, roster_bytes, "roster.xlsx", actor="test", today=klass.start_date)
        sign_commitment(s, klass)
        classes.change_status(s, klass, "approved", actor="district:test", source="test")
        users = [sim.add_user(f"学员{i}", in_org=i % 3 != 0) for i in range(1, size + 1)]
        group = sim.add_group(title, members=users)
        row = Group(open_conversation_id=group.open_conversation_id, title=group.title, class_id=klass.id,
                    bound_by="test", bound_at=datetime.now(timezone.utc))
        s.add(row)
        ledger.append(s, "group.bound", actor="test", source="test", subject=row)
        people = s.scalars(select(Enrollment.person_id).where(Enrollment.class_id == klass.id)
                           .order_by(Enrollment.id)).all()
        for person_id, user in zip(people, users):
            ident = DingTalkIdentity(sender_id=user.sender_id, staff_user_id=user.staff_id, nick=user.name,
                                     person_id=person_id)
            s.add(ident)
            ledger.append(s, "identity.bound", actor="test", source="test", subject=ident)
        s.commit()
    return group, users
