"""A livelier world for the README's screenshots: two approved classes (30 and 16 trainees) four days into
their training, every punch sent through the dispatcher like a chat message, minutes, photos and
leave recorded with their ledger events. Deterministic (a seeded random generator)."""

from __future__ import annotations

import hashlib
import random
from datetime import date, datetime, timedelta

from sqlalchemy import select

from bot.samples.generate import trainees
from handlers import accounts, classes, roster
from handlers.plans import parse_plan
from storage import ledger
from storage.files import FileStore
from storage.models import DingTalkIdentity, Enrollment, Group, ImportFile, LeaveRequest, Person, Photo, StudyMinutes
from tests.admin.world import PLAN, TZ, plan_text, png
from tests.handlers.chat import at, say
from tests.commitment import sign_commitment

NOW = datetime(2026, 12, 4, 20, 0, tzinfo=TZ)
DAYS = [date(2026, 12, d) for d in (1, 2, 3, 4)]


def _roster(people) -> bytes:
    import tempfile
    from pathlib import Path

    from bot.samples.generate import write_roster

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "r.xlsx"
        write_roster(path, people)
        return path.read_bytes()


def _class(s, text: str, people, group_id: str, files: FileStore) -> tuple[object, list[tuple[int, str]]]:
    klass = classes.create_class(s, parse_plan(text), actor="cli:机构管理员", source="cli:plan.toml",
                                 default_policy="baotou-2020", now=datetime(2026, 11, 24, 9, 30, tzinfo=TZ))
    roster.import_roster(s, klass, _roster(people), "花名册.xlsx", actor="cli:机构管理员", today=klass.start_date)
    sign_commitment(s, klass, files=files)
    classes.change_status(s, klass, "approved", actor="user:昆都仑区审核员", source="admin", reason="材料齐全，同意开班",
                          now=datetime(2026, 11, 27, 15, 12, tzinfo=TZ))
    group = Group(open_conversation_id=group_id, title=klass.name, class_id=klass.id, bound_by="staff:王芳",
                  bound_at=datetime(2026, 11, 28, 10, 0, tzinfo=TZ))
    s.add(group)
    ledger.append(s, "group.bound", actor="staff:王芳", source="test", subject=group, class_code=klass.code)
    members = []
    for enrollment, person in s.execute(select(Enrollment, Person).join(Person)
                                        .where(Enrollment.class_id == klass.id).order_by(Enrollment.id)).all():
        ident = DingTalkIdentity(sender_id=f"show-{person.id}", nick=person.name, person_id=person.id)
        s.add(ident)
        ledger.append(s, "identity.bound", actor="bot", source="test", subject=ident)
        members.append((enrollment.id, ident.sender_id))
    return klass, members


def _hhmm(base: str, minutes: int) -> str:
    t = datetime.strptime(base, "%H:%M") + timedelta(minutes=minutes)
    return t.strftime("%H:%M")


def build_showcase(factory, files: FileStore) -> dict[str, str]:
    """Build the world; return the passwords of its users (city, district, institution)."""
    rng = random.Random(20261204)
    with factory() as s:
        big = _class(s, PLAN.replace('commitment_file = "commitment.pdf"\n', ""), trainees(30), "show-1", files)
        small = _class(s, plan_text("BT-2026-007", institution="包头市青山技工学校", district="青山区",
                                    teachers='["马志强"]', class_teacher="牛丽"), trainees(16, seed=7), "show-2", files)
        passwords = {
            "市监督核查": accounts.add_user(s, "市监督核查", "city"),
            "昆都仑区审核员": accounts.add_user(s, "昆都仑区审核员", "district", district="昆都仑区"),
        }
        s.commit()
    plan = []  # (group, sender, day, time, text) in time order per day
    absent: list[tuple[int, date]] = []
    minutes: list[tuple[int, date, int, int]] = []
    photos: list[tuple[int, date, bool]] = []
    for (klass, members), group in ((big, "show-1"), (small, "show-2")):
        diligence = {eid: rng.uniform(0.55, 1.0) for eid, _ in members}
        for day in DAYS:
            for eid, sender in members:
                if rng.random() > 0.55 + 0.45 * diligence[eid]:
                    absent.append((eid, day))
                    minutes.append((eid, day, rng.randrange(0, 40), rng.randrange(0, 60)))
                    continue
                late = rng.random() < 0.07
                plan.append((group, sender, day, _hhmm("08:31" if late else "08:05", rng.randrange(0, 20)), "签到"))
                plan.append((group, sender, day, _hhmm("11:20" if rng.random() < 0.04 else "11:30", rng.randrange(0, 9)),
                             "签退"))
                if rng.random() < 0.93:
                    plan.append((group, sender, day, _hhmm("13:40", rng.randrange(0, 25)), "签到"))
                    plan.append((group, sender, day, _hhmm("17:00", rng.randrange(0, 15)), "签退"))
                minutes.append((eid, day, rng.randrange(100, 175), rng.randrange(0, 40)))  # 180 planned a day
                photos.append((eid, day, rng.random() < 0.9))
    for group, sender, day, hhmm, text in sorted(plan, key=lambda p: (p[2], p[3])):
        say(factory, text, when=at(hhmm, day), sender=sender, group=group)
    with factory() as s:
        sha = hashlib.sha256(b"watch statistics").hexdigest()
        record = ImportFile(kind="minutes", class_id=big[0].id, filename="直播观看统计.xlsx", sha256=sha, rows=len(minutes),
                            imported_by="cli:机构管理员")
        s.add(record)
        ledger.append(s, "import.minutes", actor="cli:机构管理员", source=f"file:{sha}", subject=record)
        for eid, day, live, replay in minutes:
            row = StudyMinutes(enrollment_id=eid, day=day, live_minutes=live, replay_minutes=replay,
                               source=f"file:{sha}", recorded_at=at("21:00", day))
            s.add(row)
            ledger.append(s, "minutes.imported", actor="cli:机构管理员", source=row.source, subject=row)
        first = None
        for n, (eid, day, counted) in enumerate(photos):
            data = png(n % 97)
            row = Photo(enrollment_id=eid, day=day, sha256=files.put(data), status="ok" if counted else "duplicate",
                        counted=counted, duplicate_of_id=None if counted or first is None else first,
                        received_at=at("10:15", day), source=f"msg:photo-{n}")
            s.add(row)
            ledger.append(s, "photo.received", actor="bot", source=row.source, subject=row)
            first = first or row.id
        for n, (eid, day) in enumerate(absent[:8]):
            leave = LeaveRequest(enrollment_id=eid, day=day, reason="家中有事", status="approved" if n % 3 else "pending",
                                 requested_at=at("07:30", day), source=f"msg:leave-{n}",
                                 decided_by="staff:王芳" if n % 3 else None, decided_at=at("07:50", day) if n % 3 else None)
            s.add(leave)
            ledger.append(s, "leave.requested", actor="bot", source=leave.source, subject=leave)
        s.commit()
    return passwords
