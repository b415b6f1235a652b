"""The shared chat-test helpers: classes from plan text, rosters, bound people, and a chat.

    chat = Chat(factory, tmp_path)
    assert chat.say("签到", when=at("08:20")) == ["签到成功 08:20（上午）"]
    say(factory, "签到", when=at("08:20", DAY1), sender="u1", group="cid-A")   # text only, no Chat

``at(hhmm, day)`` is a time in Asia/Shanghai (``day``: a date or "YYYY-MM-DD"); ``incoming(…)`` builds
the normalised message the bot would, ``say(…)`` dispatches one in its own unit of work.

``Chat.deliver()`` runs the real outbox sender against a fake DingTalk (pictures come from
``chat.blobs``), so photos go through the same download hook as in production.
"""

from __future__ import annotations

import csv
import io
import itertools
import random
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from PIL import Image, ImageDraw
from sqlalchemy import select

from bot.openapi import BatchResult
from bot.outbox import OutboxSender
from bot.stream import HANDLED_TYPES
from bot.samples.generate import trainees
from handlers import classes, roster
from handlers.commands import build_registry
from handlers.dispatch import Dispatcher
from handlers.messages import Incoming, JobEvent, MessageEvent
from handlers.plans import parse_plan
from storage import ledger
from storage.files import FileStore
from storage.models import DingTalkIdentity, Enrollment, Group, Klass, Person, Staff, StaffRole
from tests.commitment import sign_commitment

TZ = ZoneInfo("Asia/Shanghai")
TWO_SESSIONS = (("上午", "08:30", "11:30"), ("下午", "14:00", "17:00"))
MORNING_ONLY = (("上午", "08:30", "11:30"),)
_ids = itertools.count(1)


def at(hhmm: str, day: date | str = "2026-12-01") -> datetime:
    day = day.isoformat() if isinstance(day, date) else day
    return datetime.fromisoformat(f"{day}T{hhmm}:00").replace(tzinfo=TZ)


def incoming(text: str, *, when: datetime, sender: str = "u1", group: str | None = "cid-class",
             msg_id: str | None = None, msgtype: str = "text", codes: tuple[str, ...] = (),
             staff_user_id: str | None = None, title: str = "班级群") -> Incoming:
    """The message ``bot/stream.py`` would make: in ``group`` (None: the 1:1 chat with the bot)."""
    if codes and msgtype == "text":
        msgtype = "richText" if text else "picture"
    raw: dict = {"msgtype": msgtype, "conversationType": "2" if group else "1",
                 "sessionWebhook": f"http://127.0.0.1:1/hook/{group or sender}",
                 "sessionWebhookExpiredTime": int((when + timedelta(minutes=90)).timestamp() * 1000),
                 "robotCode": "bot"}
    if msgtype == "text":
        raw["text"] = {"content": text}
    elif msgtype == "picture":
        raw["content"] = {"downloadCode": codes[0]}
    elif msgtype == "richText":
        raw["content"] = {"richText": [{"text": text}] + [{"type": "picture", "downloadCode": c} for c in codes]}
    return Incoming(
        msg_id=msg_id or f"msg{next(_ids):05d}", conversation_id=group or f"private-{sender}",
        conversation_type="2" if group else "1", sender_id=sender, sender_staff_id=staff_user_id,
        sender_nick=sender, msgtype=msgtype, text=text, image_codes=tuple(codes), created_at=when,
        robot_code="bot", session_webhook=raw["sessionWebhook"],
        session_webhook_expires=when + timedelta(minutes=90), conversation_title=title,
        supported=msgtype in HANDLED_TYPES, raw=raw)


def say(factory, text: str, *, when: datetime, **message) -> list[str]:
    """One text message through a dispatcher, in its own unit of work; the replies (``Chat`` for pictures)."""
    with factory.begin() as s:
        outcome = Dispatcher(build_registry(), tz=TZ).dispatch(s, MessageEvent(incoming(text, when=when, **message)))
    return [r.text for r in outcome.replies]


def plan_text(code: str = "BT-2026-001", *, sessions=TWO_SESSIONS, policy: str = "baotou-2020", mode: str = "live",
              start: str = "2026-12-01", end: str = "2026-12-12", total_hours: int = 100, online_hours: int = 40,
              lesson_minutes: int | None = None, district: str = "昆都仑区", live_ids=(), timetable: str = "",
              institution: str = "包头市鹿城职业培训学校") -> str:
    """A plan; ``timetable``: top-level lines added before the sessions (R01), and a session may carry a 4th
    item, lines added to its table (``online_lessons = 2``)."""
    lines = [
        f'code = "{code}"', f'name = "{code} 育婴员线上培训"', 'occupation = "育婴员"',
        f'institution = "{institution}"', f'district = "{district}"', f'mode = "{mode}"',
        f"start_date = {start}", f"end_date = {end}", f"total_hours = {total_hours}",
        f"online_hours = {online_hours}", f'policy = "{policy}"',
        'platform = { name = "钉钉直播", url = "https://www.dingtalk.com" }', 'teachers = ["张丽华"]',
        'class_teacher = "王芳"',
    ]
    if lesson_minutes is not None:
        lines.append(f"lesson_minutes = {lesson_minutes}")
    if live_ids:
        lines.append("live_ids = [" + ", ".join(f'"{x}"' for x in live_ids) + "]")
    if timetable:
        lines.append(timetable.strip())
    for name, first, last, *more in sessions:
        lines += ["", "[[sessions]]", f'name = "{name}"', f'start = "{first}"', f'end = "{last}"', *more]
    return "\n".join(lines) + "\n"


def roster_csv(rows) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["姓名", "性别", "身份证号", "手机号", "身份类别"])
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def people(size: int, seed: int = 2026):
    """``size`` fictitious trainees with distinct names (name, gender, id number, phone, category)."""
    seen, result = set(), []
    for row in trainees(size * 3, seed=seed):
        if row[0] not in seen:
            seen.add(row[0])
            result.append(row)
        if len(result) == size:
            return result
    raise AssertionError("not enough distinct names")


def create_class(s, *, size: int = 5, seed: int = 2026, approve: bool = True, rows=None, **plan) -> Klass:
    klass = classes.create_class(s, parse_plan(plan_text(**plan)), actor="test", source="test",
                                 default_policy="baotou-2020")
    rows = rows if rows is not None else people(size, seed)
    roster.import_roster(s, klass, roster_csv(rows), "roster.csv", actor="test", today=klass.start_date)
    if approve:
        sign_commitment(s, klass)
        classes.change_status(s, klass, "approved", actor="district:test", source="test",
                              now=datetime.combine(klass.start_date - timedelta(days=1), datetime.min.time(), TZ))
    return klass


def roster_of(s, klass: Klass) -> list[Person]:
    return list(s.scalars(select(Person).join(Enrollment, Enrollment.person_id == Person.id)
                          .where(Enrollment.class_id == klass.id).order_by(Enrollment.id)))


def bind_person(s, person: Person, sender: str, staff_user_id: str | None = None) -> DingTalkIdentity:
    ident = DingTalkIdentity(sender_id=sender, staff_user_id=staff_user_id, nick=person.name, person_id=person.id,
                             bound_at=datetime.now(timezone.utc))
    s.add(ident)
    ledger.append(s, "identity.bound", actor="test", source="test", subject=ident)
    return ident


def bind_group(s, klass: Klass, conversation_id: str) -> Group:
    group = Group(open_conversation_id=conversation_id, title=klass.name, class_id=klass.id, bound_by="test",
                  bound_at=datetime.now(timezone.utc))
    s.add(group)
    ledger.append(s, "group.bound", actor="test", source="test", subject=group)
    return group


def add_staff(s, sender: str, role: str, klass: Klass | None = None, *, name: str = "王芳",
              district_id: int | None = None) -> Staff:
    staff = Staff(name=name)
    s.add(staff)
    ledger.append(s, "staff.created", actor="test", source="test", subject=staff)
    grant = StaffRole(staff_id=staff.id, role=role, class_id=klass.id if klass else None,
                      district_id=district_id if district_id is not None else (klass.district_id if klass else None))
    s.add(grant)
    ledger.append(s, "staff_role.granted", actor="test", source="test", subject=grant)
    ident = DingTalkIdentity(sender_id=sender, nick=name, staff_id=staff.id, bound_at=datetime.now(timezone.utc))
    s.add(ident)
    ledger.append(s, "identity.bound", actor="test", source="test", subject=ident)
    return staff


def picture(seed: int, size=(640, 480), *, exif: bytes | None = None, fmt: str = "JPEG") -> bytes:
    """A photo-like picture: random shapes on a random background, different for every seed."""
    rng = random.Random(seed)
    image = Image.new("RGB", size, tuple(rng.randrange(256) for _ in range(3)))
    draw = ImageDraw.Draw(image)
    for _ in range(12):
        x0, y0 = rng.randrange(size[0]), rng.randrange(size[1])
        box = [x0, y0, x0 + rng.randrange(40, 300), y0 + rng.randrange(40, 300)]
        fill = tuple(rng.randrange(256) for _ in range(3))
        (draw.rectangle if rng.random() < 0.5 else draw.ellipse)(box, fill=fill)
    out = io.BytesIO()
    if exif is not None:
        image.save(out, fmt, quality=92, exif=exif)
    else:
        image.save(out, fmt, quality=92)
    return out.getvalue()


def near_copy(data: bytes, scale: float = 0.8, quality: int = 60) -> bytes:
    """The same picture, resized and re-encoded: different bytes, nearly the same content."""
    image = Image.open(io.BytesIO(data))
    image = image.resize((int(image.width * scale), int(image.height * scale)))
    out = io.BytesIO()
    image.convert("RGB").save(out, "JPEG", quality=quality)
    return out.getvalue()


class FakeDingTalk:
    """What the outbox sender talks to: records what it sends, serves pictures by download code."""

    app_key = "bot"

    def __init__(self, blobs: dict[str, bytes]) -> None:
        self.blobs = blobs
        self.sent: list[tuple[str, str]] = []  # (conversation or channel, text)
        self.rich: list[tuple] = []  # (conversation or user ids, msgKey, msgParam): markdown and files
        self.media: dict[str, tuple[str, bytes]] = {}  # media_id → (file name, bytes)

    def download(self, robot_code: str, code: str) -> bytes:
        return self.blobs[code]

    def webhook_allowed(self, url: str) -> bool:
        return url.startswith("http://127.0.0.1:1/")  # where Chat.say's messages say to answer

    def reply_webhook(self, url: str, text: str, at_user_ids=()) -> None:
        self.sent.append((url, text))

    def send_group(self, robot_code: str, conversation_id: str, text: str) -> str:
        self.sent.append((conversation_id, text))
        return "pqk"

    def batch_send(self, robot_code, user_ids, text):
        self.sent.extend((f"oto:{user_id}", text) for user_id in user_ids)
        return BatchResult()

    def upload_media(self, data: bytes, file_name: str, kind: str = "file") -> str:
        media_id = f"@media{len(self.media)}"
        self.media[media_id] = (file_name, data)
        return media_id

    def send_group_message(self, robot_code: str, conversation_id: str, msg_key: str, param: dict) -> str:
        self.rich.append((conversation_id, msg_key, param))
        return "pqk"

    def batch_send_message(self, robot_code: str, user_ids, msg_key: str, param: dict):
        from bot.openapi import BatchResult

        self.rich.append((tuple(user_ids), msg_key, param))
        return BatchResult()


class Chat:
    """Messages into the dispatcher (one unit of work each); the outbox delivered on demand."""

    def __init__(self, factory, tmp_path: Path, registry=None) -> None:
        self.factory = factory
        self.files = FileStore(tmp_path / "files")
        self.blobs: dict[str, bytes] = {}
        self.api = FakeDingTalk(self.blobs)
        self.dispatcher = Dispatcher(registry or build_registry(), tz=TZ, files=self.files)
        self.last = datetime(2026, 1, 1, tzinfo=timezone.utc)

    def say(self, text: str, *, when: datetime, sender: str = "u1", group: str | None = "cid-class",
            msg_id: str | None = None, msgtype: str = "text", images: tuple[bytes, ...] = (),
            staff_user_id: str | None = None, title: str = "班级群") -> list[str]:
        codes = []
        for data in images:
            code = f"code{next(_ids)}"
            self.blobs[code] = data
            codes.append(code)
        msg = incoming(text, when=when, sender=sender, group=group, msg_id=msg_id, msgtype=msgtype,
                       codes=tuple(codes), staff_user_id=staff_user_id, title=title)
        with self.factory.begin() as s:
            outcome = self.dispatcher.dispatch(s, MessageEvent(msg))
        self.last = when
        return [r.text for r in outcome.replies]

    def job(self, kind: str, class_code: str | None, slot: str, *, when: datetime) -> None:
        """A scheduler job's event, in its own unit of work; ``deliver()`` then shows what it posted."""
        with self.factory.begin() as s:
            self.dispatcher.dispatch(s, JobEvent(kind, class_code, slot, when))
        self.last = when

    def deliver(self) -> list[str]:
        """Run the outbox (downloads run the photo hook); the texts sent, in order."""
        before = len(self.api.sent)
        sender = OutboxSender(
            self.factory, self.api, self.files, clock=lambda: self.last, per_group_per_minute=10_000,
            on_download=self.dispatcher.download_finished, digest=False)  # each reply alone, as written
        sender.run_once(limit=10_000)
        return [text for _, text in self.api.sent[before:]]

    def photo(self, data: bytes, *, when: datetime, sender: str = "u1", group: str | None = "cid-class",
              text: str = "") -> str:
        """Send a picture and deliver: the outcome the trainee is told."""
        self.deliver()
        assert self.say(text, when=when, sender=sender, group=group, images=(data,)) == []
        (outcome,) = self.deliver()
        return outcome


def today(day: str = "2026-12-01") -> date:
    return date.fromisoformat(day)
