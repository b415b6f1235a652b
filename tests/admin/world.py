"""A small world for the admin's tests, made honestly: classes through ``create_class``, rosters through
``import_roster``, punches through the dispatcher (the chat's unit of work), and study minutes,
photos, leave and removals as rows with their ledger events — so ``ledger_verify.verify`` stays clean.

Three classes, two districts, two institutions:

* ``A`` = BT-2026-001, 鹿城 institution in 昆都仑区: the sample plan (2026-12-01..12, rest days 12-05 and
  12-06, 2 + 2 online lessons of 45 min → 180 planned minutes a class day, R09 threshold 144), approved at 12-01 08:10, six trainees — one of
  them named ``<script>alert(1)</script>``, one removed (R16). Its punches, minutes, photos and leave
  are the SCHEDULE below; tests compute what they expect from it themselves.
* ``B`` = BT-2026-002, 青山 institution in 青山区: submitted only (never approved), three trainees, one
  punch (recorded, not counted — R02).
* ``C`` = BT-2026-003, 鹿城 again, other teachers, later dates (7 days: online hours spread evenly), two
  trainees.

Users (one per role and scope): admin, city, district 昆都仑区 and 青山区, institution 鹿城 and 青山,
teachers 王芳 (A's class teacher), 刘建国 (one of A's teachers), both assigned class A, and 路人甲
(assigned nothing).
"""

from __future__ import annotations

import hashlib
import io
import tempfile
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from fractions import Fraction
from pathlib import Path
from zoneinfo import ZoneInfo

from PIL import Image
from sqlalchemy import select

from bot.samples import sample_plan_text
from bot.samples.generate import write_roster
from handlers import accounts, classes, inspection, rollcall, roster
from handlers.idcard import make_id_number
from handlers.plans import parse_plan
from storage import ledger, ledger_verify
from storage.files import FileStore
from storage.models import (
    DingTalkIdentity,
    Enrollment,
    Group,
    ImportFile,
    Klass,
    LeaveRequest,
    OutboxMessage,
    Person,
    Photo,
    StudyMinutes,
)
from tests.handlers.chat import at, say

TZ = ZoneInfo("Asia/Shanghai")
SAMPLES = Path(__file__).resolve().parents[2] / "bot" / "samples"
PLAN = (SAMPLES / "plan.toml").read_text(encoding="utf-8")
XSS = "<script>alert(1)</script>"
NOW = datetime(2026, 12, 1, 18, 0, tzinfo=TZ)  # "today" in the admin's tests
DAY1, DAY2 = date(2026, 12, 1), date(2026, 12, 2)
APPROVED_AT = datetime(2026, 12, 1, 8, 10, tzinfo=TZ)

A, B, C = "BT-2026-001", "BT-2026-002", "BT-2026-003"

# Class A's roster: (name, gender, birth, region) → a valid ID number each.
A_TRAINEES = [
    ("王秀英", "女", date(1985, 3, 7), "150203"),
    ("李建国", "男", date(1979, 11, 2), "150204"),
    (XSS, "男", date(1990, 1, 15), "150205"),
    ("张丽", "女", date(1992, 6, 30), "150206"),
    ("刘强", "男", date(1988, 8, 8), "150207"),
    ("陈静", "女", date(1995, 2, 14), "150203"),
]
REMOVED = "陈静"
REMOVED_REASON = "线上学习时长不足80%，从补贴名单删除"
B_TRAINEES = [("赵敏", "女", date(1991, 4, 1), "150202"), ("钱进", "男", date(1983, 9, 9), "150202"),
              ("孙悦", "女", date(1996, 12, 12), "150202")]
C_TRAINEES = [("周杰", "男", date(1987, 7, 7), "150205"), ("吴倩", "女", date(1993, 3, 3), "150205")]

# Class A's chat, in order: (trainee, day, HH:MM, command). 王秀英's 08:05 check-in comes before the
# approval at 08:10 and so is recorded but does not count (R02).
SCHEDULE = [
    ("王秀英", DAY1, "08:05", "签到"),
    ("李建国", DAY1, "08:20", "签到"),
    (XSS, DAY1, "08:40", "签到"),  # late
    ("张丽", DAY1, "08:25", "签到"),
    ("李建国", DAY1, "11:35", "签退"),
    (XSS, DAY1, "11:20", "签退"),  # early
    ("张丽", DAY1, "11:31", "签退"),
    ("王秀英", DAY1, "11:40", "签退"),
    ("李建国", DAY1, "13:50", "签到"),
    ("张丽", DAY1, "13:55", "签到"),
    ("李建国", DAY1, "17:05", "签退"),
    ("王秀英", DAY2, "08:20", "签到"),
    ("李建国", DAY2, "08:29", "签到"),
    ("王秀英", DAY2, "11:30", "签退"),
    ("李建国", DAY2, "11:30", "签退"),
]
# Study minutes (trainee, day, live, replay, source file): two exports of the same viewing do not add up.
MINUTES = [
    ("王秀英", DAY1, 124, 20, "live-1201.xlsx"),  # 144 = exactly 80% of 180: ok
    ("王秀英", DAY1, 90, 0, "platform-1201.csv"),  # a second source, smaller: the day stays 144
    ("李建国", DAY1, 134, 9, "live-1201.xlsx"),  # 143: not ok
    (XSS, DAY1, 180, 0, "live-1201.xlsx"),
    (REMOVED, DAY1, 200, 0, "live-1201.xlsx"),  # removed: not in the day's tallies
    ("王秀英", DAY2, 180, 0, "live-1202.xlsx"),
    ("李建国", DAY2, 54, 90, "live-1202.xlsx"),  # 144: ok
]
# Photos (trainee, day, status, counted, duplicate of trainee's photo)
PHOTOS = [
    ("王秀英", DAY1, "ok", True, None),
    ("李建国", DAY1, "ok", True, None),
    (XSS, DAY1, "duplicate", False, "李建国"),
]
LEAVE = [("刘强", DAY1, "approved", "家中有事"), ("张丽", DAY2, "pending", "身体不适")]

USERS = [
    ("admin", "admin", None, None),
    ("city", "city", None, None),
    ("dist_k", "district", None, "昆都仑区"),
    ("dist_q", "district", None, "青山区"),
    ("inst_lc", "institution", "包头市鹿城职业培训学校", None),
    ("inst_qs", "institution", "包头市青山技工学校", None),
    ("王芳", "teacher", "包头市鹿城职业培训学校", None),
    ("刘建国", "teacher", "包头市鹿城职业培训学校", None),
    ("路人甲", "teacher", "包头市鹿城职业培训学校", None),
]
# Which classes each user sees (the scope rules, written out).
SEES = {
    "admin": {A, B, C}, "city": {A, B, C}, "dist_k": {A, C}, "dist_q": {B}, "inst_lc": {A, C}, "inst_qs": {B},
    "王芳": {A}, "刘建国": {A}, "路人甲": set(),
}


@dataclass
class World:
    factory: object
    files: FileStore
    passwords: dict[str, str] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    enrollments: dict[str, int] = field(default_factory=dict)  # trainee name → enrollment id (all classes)
    id_numbers: dict[str, str] = field(default_factory=dict)
    phones: dict[str, str] = field(default_factory=dict)
    photos: dict[str, int] = field(default_factory=dict)  # trainee name → photo id (class A)
    rollcall: int | None = None  # the id of class A's roll call


def plan_text(code: str, *, institution: str, district: str, teachers: str, class_teacher: str,
              start: str = "2026-12-01", end: str = "2026-12-12", extra: str = "") -> str:
    text = sample_plan_text(date.fromisoformat(start), date.fromisoformat(end))
    text = text.replace('code = "BT-2026-001"', f'code = "{code}"')
    text = text.replace('institution = "包头市鹿城职业培训学校"', f'institution = "{institution}"')
    text = text.replace('district = "昆都仑区"', f'district = "{district}"')
    text = text.replace('teachers = ["张丽华", "刘建国"]', f"teachers = {teachers}")
    text = text.replace('class_teacher = "王芳"', f'class_teacher = "{class_teacher}"')
    text = text.replace('commitment_file = "commitment.pdf"\n', "")
    return text.replace('name = "育婴员线上培训 2026 第1期"', f'name = "育婴员线上培训 {code}"') + extra


def roster_bytes(people) -> tuple[bytes, dict[str, str], dict[str, str]]:
    rows, ids, phones = [], {}, {}
    for n, (name, gender, birth, region) in enumerate(people):
        seq = 100 + 2 * n + (1 if gender == "男" else 0)
        number = make_id_number(region, birth, seq)
        phone = f"139{birth:%m%d}{n:04d}"
        rows.append((name, gender, number, phone, "下岗失业人员"))
        ids[name], phones[name] = number, phone
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "roster.xlsx"
        write_roster(path, rows)
        return path.read_bytes(), ids, phones


def png(seed: int) -> bytes:
    image = Image.new("RGB", (64, 48), ((seed * 70) % 256, (seed * 130) % 256, 180))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def _class(s, text: str, people, world: World, group_id: str) -> Klass:
    klass = classes.create_class(s, parse_plan(text), actor="test", source="test", default_policy="baotou-2020",
                                 now=datetime(2026, 11, 20, 9, 0, tzinfo=TZ))
    data, ids, phones = roster_bytes(people)
    roster.import_roster(s, klass, data, "roster.xlsx", actor="test", today=klass.start_date)
    world.id_numbers.update(ids)
    world.phones.update(phones)
    group = Group(open_conversation_id=group_id, title=klass.name, class_id=klass.id, bound_by="test",
                  bound_at=datetime(2026, 11, 25, tzinfo=timezone.utc))
    s.add(group)
    ledger.append(s, "group.bound", actor="test", source="test", subject=group, class_code=klass.code)
    for name, *_ in people:
        person = s.scalar(select(Person).where(Person.id_number == ids[name]))
        enrollment = s.scalar(select(Enrollment).where(Enrollment.class_id == klass.id,
                                                       Enrollment.person_id == person.id))
        world.enrollments[name] = enrollment.id
        ident = DingTalkIdentity(sender_id=f"ding-{person.id}", nick=name, person_id=person.id)
        s.add(ident)
        ledger.append(s, "identity.bound", actor="test", source="test", subject=ident)
    return klass


def sender(world: World, factory, name: str) -> str:
    with factory() as s:
        return f"ding-{s.get(Enrollment, world.enrollments[name]).person_id}"


def build_world(factory, files_dir: Path) -> World:
    world = World(factory=factory, files=FileStore(files_dir))
    with factory() as s:
        _class(s, PLAN.replace('commitment_file = "commitment.pdf"\n', ""), A_TRAINEES, world, "cid-A")
        _class(s, plan_text(B, institution="包头市青山技工学校", district="青山区", teachers='["马老师"]',
                            class_teacher="牛老师"), B_TRAINEES, world, "cid-B")
        _class(s, plan_text(C, institution="包头市鹿城职业培训学校", district="昆都仑区", teachers='["赵老师"]',
                            class_teacher="孙老师", start="2026-12-14", end="2026-12-20"), C_TRAINEES, world, "cid-C")
        klass_a = classes.get_class(s, A)
        commitment = world.files.put(b"%PDF-1.4 signed commitment")
        klass_a.commitment_name, klass_a.commitment_sha256 = "承诺书.pdf", commitment
        ledger.append(s, "class.commitment", actor="test", source="test", subject=klass_a, class_code=A)
        for name, role, institution, district in USERS:
            world.passwords[name] = accounts.add_user(s, name, role, institution=institution, district=district)
            world.tokens[name] = accounts.issue_token(s, name)
        for teacher in ("王芳", "刘建国"):  # A's class teacher and one of its teachers; 路人甲 gets nothing
            accounts.teacher_classes(s, teacher, add=[A], actor="test")
        s.commit()
    senders = {name: sender(world, factory, name) for name, *_ in A_TRAINEES + B_TRAINEES}
    approved = False
    for name, day, hhmm, text in SCHEDULE:
        when = at(hhmm, day)
        if not approved and when > APPROVED_AT:
            approve(factory, A, APPROVED_AT)
            approved = True
        say(factory, text, when=when, sender=senders[name], group="cid-A")
    say(factory, "签到", when=at("08:20", DAY1), sender=senders["赵敏"], group="cid-B")  # class B is not approved: not counted
    with factory() as s:
        files: dict[str, ImportFile] = {}
        for name, day, live, replay, filename in MINUTES:
            if filename not in files:
                sha = hashlib.sha256(filename.encode()).hexdigest()
                files[filename] = ImportFile(kind="minutes", class_id=s.get(Enrollment, world.enrollments[name]).class_id,
                                             filename=filename, sha256=sha, rows=0, imported_by="test")
                s.add(files[filename])
                ledger.append(s, "import.minutes", actor="test", source=f"file:{sha}", subject=files[filename],
                              class_code=A)
            row = StudyMinutes(enrollment_id=world.enrollments[name], day=day, live_minutes=live,
                               replay_minutes=replay, source=f"file:{files[filename].sha256}",
                               recorded_at=at("20:00", day))
            s.add(row)
            ledger.append(s, "minutes.imported", actor="test", source=row.source, subject=row, class_code=A)
        by_name: dict[str, Photo] = {}
        for n, (name, day, status, counted, dup_of) in enumerate(PHOTOS):
            data = png(n if dup_of is None else PHOTOS.index(next(p for p in PHOTOS if p[0] == dup_of)))
            sha = world.files.put(data)
            photo = Photo(enrollment_id=world.enrollments[name], day=day, sha256=sha, phash=None, status=status,
                          counted=counted, duplicate_of_id=by_name[dup_of].id if dup_of else None,
                          received_at=at("09:0" + str(n), day), source=f"msg:photo{n}")
            s.add(photo)
            ledger.append(s, "photo.received", actor="bot", source=photo.source, subject=photo, class_code=A)
            by_name[name] = photo
            world.photos[name] = photo.id
        for n, (name, day, status, reason) in enumerate(LEAVE):
            leave = LeaveRequest(enrollment_id=world.enrollments[name], day=day, reason=reason, status=status,
                                 requested_at=at("20:00", day - timedelta(days=1)), source=f"msg:leave{n}",
                                 decided_by="staff:1:王芳" if status != "pending" else None,
                                 decided_at=at("21:00", day - timedelta(days=1)) if status != "pending" else None)
            s.add(leave)
            ledger.append(s, "leave.requested", actor="bot", source=leave.source, subject=leave, class_code=A)
        removed = s.get(Enrollment, world.enrollments[REMOVED])
        removed.removed, removed.removed_reason = True, REMOVED_REASON
        removed.removed_by, removed.removed_at = "user:admin", at("17:00", DAY1)
        ledger.append(s, "enrollment.removed", actor="user:admin", source="test", subject=removed, class_code=A,
                      reason=REMOVED_REASON)
        s.add(OutboxMessage(kind="reply", dedupe_key="dead-1", conversation_id="cid-A", body="{}", status="dead"))
        s.add(OutboxMessage(kind="reply", dedupe_key="dead-2", conversation_id="cid-B", body="{}", status="dead"))
        s.commit()
    rollcall_of_a(factory, world)
    return world


def rollcall_of_a(factory, world: World) -> None:
    """R13, R14: one closed roll call of class A on day 1 (everyone sampled answers but the first) and a
    district's video check (4 of 5, passed)."""
    with factory() as s:
        klass = classes.get_class(s, A)
        origin = rollcall.Origin(trigger=rollcall.CLI, actor="cli:admin", nonce="cli:world", source="cli")
        rc = rollcall.start(s, klass, origin, at("10:00", DAY1), ratio=Fraction(1, 2)).rollcall
        for row, _ in rollcall.samples(s, rc)[1:]:
            row.answered_at, row.answer_source = at("10:03", DAY1), "test"
            ledger.append(s, "rollcall.answered", actor="test", source="test", subject=row, class_code=A)
        rollcall.close(s, rc, at("10:10", DAY1), actor="test", source="test")
        world.rollcall = rc.id
        inspection.record(s, klass, level="district", kind="video", expected=5, found=4, by="user:dist_k",
                          at=at("15:00", DAY1), source="test")
        s.commit()


def approve(factory, code: str, when: datetime) -> None:
    with factory() as s:
        klass = classes.get_class(s, code)
        classes.change_status(s, klass, "approved", actor="district:昆都仑区", source="test", reason="材料齐全",
                              now=when)
        s.commit()
