"""``dingclass demo``: the whole product on this machine, with no DingTalk account.

A fresh SQLite database under ``<data dir>/demo``, the local DingTalk simulator, the real bot (through
the official SDK) and the admin. The sample class starts today; its class teacher binds with a one-time
code and binds the group, 28 of the 30 trainees bind in their 1:1 chats, and the class goes through a
day on a simulated clock: leave asked and approved, check-ins (some late), study photos (one a copy of
another trainee's, which is flagged), check-outs, imported viewing minutes, 统计 and 我的. Then it
prints what the bot said, the admin's address and a login, and keeps serving until Ctrl-C.
"""

from __future__ import annotations

import io
import random
import secrets
import shutil
import socket
import time as wall
from dataclasses import replace
from datetime import datetime, time, timedelta

import click
from PIL import Image, ImageDraw
from sqlalchemy import func, select

from bot import texts
from bot.samples import COMMITMENT, ROSTER, sample_plan
from bot.samples.generate import trainees
from handlers import accounts, classes, hours, roster
from storage.db import sqlite_url
from storage.migrate import upgrade
from storage.models import OutboxMessage

CLASS_TEACHER = "王芳"
BOUND = 28  # trainees who bind; two never do
LATE = (5, 11, 17)  # trainees (0-based) who check in after 08:30
ON_LEAVE = 27


class DemoClock:
    """The simulated time: the simulator, the bot and the admin all read it; the script moves it."""

    def __init__(self, tz) -> None:
        self.tz = tz
        self.day = datetime.now(tz).date()
        self._now = datetime.combine(self.day, time(7, 40), tz)

    def at(self, hhmm: str) -> None:
        self._now = datetime.combine(self.day, time.fromisoformat(hhmm), self.tz)

    def tick(self, seconds: int = 20) -> None:
        self._now += timedelta(seconds=seconds)

    def __call__(self) -> datetime:
        return self._now


def study_photo(seed: int) -> bytes:
    """A made-up 'screen photo' of an online lesson: different for every seed."""
    rng = random.Random(seed)
    image = Image.new("RGB", (640, 480), tuple(rng.randrange(256) for _ in range(3)))
    draw = ImageDraw.Draw(image)
    for _ in range(12):
        x, y = rng.randrange(600), rng.randrange(440)
        draw.rectangle((x, y, x + rng.randrange(20, 200), y + rng.randrange(20, 120)),
                       fill=tuple(rng.randrange(256) for _ in range(3)))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def free_port(preferred: int) -> int:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", preferred))
        except OSError:
            s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_demo(app, *, wait: bool = True, port: int | None = None) -> None:
    from admin.serve import AdminServer
    from bot.cli import App, Running, echo_verify, ensure_ledger_key, run_until_signal
    from bot.service import BotService
    from bot.simulator import DingTalkSimulator, sdk_pointed_at

    demo_dir = app.settings.data_dir / "demo"
    shutil.rmtree(demo_dir, ignore_errors=True)
    demo_dir.mkdir(parents=True)
    clock = DemoClock(app.settings.timezone)
    click.echo(texts.DEMO_INTRO.format(data_dir=demo_dir.resolve()))
    with DingTalkSimulator(clock=clock) as sim, sdk_pointed_at(sim.endpoint):
        settings = replace(
            app.settings, data_dir=demo_dir, database_url=sqlite_url(demo_dir), client_id=sim.client_id,
            client_secret=sim.client_secret, robot_code=sim.robot_code, openapi_endpoint=sim.endpoint,
            secret_key=app.settings.secret_key or secrets.token_urlsafe(32),
            admin_port=free_port(app.settings.admin_port if port is None else port))
        demo = App(settings, "demo:机构管理员")
        try:
            upgrade(demo.engine)
            ensure_ledger_key(demo)  # signs the day's checkpoints after the demo's verify
            factory = demo.factory
            password, code = _set_up(demo, clock)
            # The script moves the clock on by minutes and hours: a lease on that clock must outlast them.
            bot = BotService(settings, factory, sender_options={"clock": clock, "lease": timedelta(hours=12)}).start()
            admin = AdminServer(settings, factory, host="127.0.0.1", config={"NOW": clock}).start()
            try:
                sim.wait_connected(1, timeout=30)
                _a_day(sim, demo, factory, clock, code)
                _show(sim)
                echo_verify(demo)
            finally:
                parts = [admin, bot]
                if wait:
                    click.echo(texts.DEMO_READY.format(url=admin.url, password=password))
                    click.echo(texts.DEMO_CHAT.format(url=sim.chat_url))
                    click.echo(texts.DEMO_WAIT)
                    run_until_signal([Running(p.stop) for p in parts])
                else:
                    for part in parts:
                        part.stop()
                    click.echo(texts.DEMO_STOPPED.format(data_dir=demo_dir.resolve()))
        finally:
            demo.close()


def _set_up(demo, clock: DemoClock) -> tuple[str, str]:
    plan = sample_plan(clock.day)
    commitment = (COMMITMENT.name, demo.files.put(COMMITMENT.read_bytes()))
    with demo.factory.begin() as s:
        klass = classes.create_class(s, plan, actor=demo.actor, source="demo", default_policy=demo.settings.policy,
                                     commitment=commitment)
        added = roster.import_roster(s, klass, ROSTER.read_bytes(), ROSTER.name, actor=demo.actor, today=clock.day)
        classes.change_status(s, klass, "approved", actor="demo:昆都仑区审核员", source="demo", reason="材料齐全",
                              now=clock())
        password = accounts.add_user(s, "admin", "admin")
        code = accounts.issue_bind_code(s, klass.code, "class_teacher", name=CLASS_TEACHER, actor=demo.actor).code
    click.echo(texts.CLASS_CREATED.format(code=plan.code, name=plan.name))
    click.echo(texts.ROSTER_IMPORTED.format(count=added, code=plan.code))
    return password, code


def _a_day(sim, demo, factory, clock: DemoClock, code: str) -> None:
    people = trainees(30)
    users = [sim.add_user(name, in_org=i % 4 != 0) for i, (name, *_rest) in enumerate(people)]
    teacher = sim.add_user(CLASS_TEACHER)
    group = sim.add_group("育婴员线上培训 2026 第1期 班级群", members=[*users, teacher], admins=[teacher])
    click.echo(texts.DEMO_STEP.format(step="07:40 班主任绑定身份并绑定班级群；学员在单聊中绑定"))
    _acked(sim, sim.say(teacher, f"绑定 {code}"))
    _acked(sim, sim.say(teacher, f"绑定班级 {sample_plan().code}", group))
    for user, (name, _gender, id_number, *_rest) in list(zip(users, people))[:BOUND]:
        clock.tick()
        _acked(sim, sim.say(user, f"绑定 {name} {id_number[-6:]}"))
    _settle(factory, clock)
    clock.at("08:00")
    click.echo(texts.DEMO_STEP.format(step="08:00 一名学员请假，班主任准假"))
    _acked(sim, sim.say(users[ON_LEAVE], "请假 家中老人住院，需要陪护", group))
    _acked(sim, sim.say(teacher, "准假 1", group))
    _settle(factory, clock)
    click.echo(texts.DEMO_STEP.format(step="08:10 上午签到（有人迟到）、上传学习照片（有一张是别人的照片）"))
    _punch(sim, clock, users, group, "签到", start="08:10", late="08:36")
    _settle(factory, clock)
    clock.at("09:10")
    for i, user in enumerate(users[:24]):
        clock.tick()
        _acked(sim, sim.send_picture(user, study_photo(i), group if i % 2 else None))
    _acked(sim, sim.send_picture(users[24], study_photo(3), group))  # the same picture as trainee 4's
    _settle(factory, clock)
    click.echo(texts.DEMO_STEP.format(step="11:30 上午签退；下午签到、签退"))
    for word, start in (("签退", "11:30"), ("签到", "13:40"), ("签退", "17:00")):
        _punch(sim, clock, users, group, word, start=start)
        _settle(factory, clock)
    clock.at("17:40")
    click.echo(texts.DEMO_STEP.format(step="17:40 导入当天直播观看统计；班主任查看统计，学员查看“我的”"))
    with factory.begin() as s:
        klass = classes.get_class(s, sample_plan().code)
        hours.import_hours(s, klass, _viewing_csv(people, clock.day), "直播观看统计.csv", actor=demo.actor)
    _acked(sim, sim.say(teacher, "统计", group))
    _acked(sim, sim.say(users[0], "我的"))
    _settle(factory, clock)


def _acked(sim, msg_id: str) -> None:
    """Wait until the bot has acknowledged the message (stored and handled it), as a person waits for the
    reply before typing on: the next message may depend on this one."""
    sim.wait_until(lambda: any(a.msg_id == msg_id for a in sim.acks), timeout=30, what="the bot's ACK")


def _punch(sim, clock: DemoClock, users, group, word: str, start: str, late: str | None = None) -> None:
    clock.at(start)
    for i, user in enumerate(users[:BOUND]):
        if i == ON_LEAVE:
            continue
        if late and i in LATE:
            continue
        clock.tick()
        _acked(sim, sim.say(user, word, group))
    if late:
        clock.at(late)
        for i in LATE:
            clock.tick()
            _acked(sim, sim.say(users[i], word, group))


def _viewing_csv(people, day) -> bytes:
    rng = random.Random(7)
    lines = ["姓名,日期,直播时长（分钟）,回看时长（分钟）"]
    for i, (name, *_rest) in enumerate(people[:BOUND]):
        live = 0 if i == ON_LEAVE else rng.randrange(90, 150)
        lines.append(f"{name},{day.isoformat()},{live},{rng.randrange(0, 40)}")
    return ("\n".join(lines) + "\n").encode("utf-8-sig")


def _settle(factory, clock: DemoClock, limit_minutes: int = 30) -> None:
    """Let the outbox catch up before the script moves the clock on: rows due now go out; rows waiting
    for the group's send budget (20 a minute) go out as the simulated minutes pass."""
    for _ in range(limit_minutes):
        deadline = wall.monotonic() + 20
        while _waiting(factory, clock(), due_only=True) and wall.monotonic() < deadline:
            wall.sleep(0.05)
        if not _waiting(factory, clock(), due_only=False):
            return
        clock.tick(60)


def _waiting(factory, now: datetime, *, due_only: bool) -> int:
    query = select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status.in_(("queued", "sending")))
    if due_only:  # due, or being sent right now (its lease must not run out on a clock jump)
        query = query.where((OutboxMessage.next_attempt_at <= now) | (OutboxMessage.status == "sending"))
    with factory() as s:
        return s.scalar(query)


def _show(sim) -> None:
    """A few lines of what the bot said: a check-in, a flagged photo, the class teacher's 统计, 我的."""
    sent = sim.sent()
    firsts = ("签到成功", "这张照片与之前", "育婴员线上培训", "学员")
    picks = [next((m for m in sent if m.text.startswith(p) or p in m.text.splitlines()[0]), None) for p in firsts]
    click.echo(texts.DEMO_TRANSCRIPT.format(count=len(sent)))
    for message in filter(None, picks):
        click.echo("  · " + message.text.replace("\n", "\n    "))
