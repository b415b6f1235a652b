"""Random roll calls (R13): a committed seed, a reproducible sample, 到 inside the window, the result.

The draw (a committed seed, a reproducible sample): ``handlers.rollcall_draw``; the admin's listing:
``handlers.rollcall_listing``. Trainees on approved leave that day are sampled but excused: they are named as
such and left out of the pass-rate denominator. One roll call per class is open at a time. A roll call passes when the
answered share of the non-excused sample reaches ``eligibility.check_pass`` (80%); a failed one counts
toward R15 (``handlers.eligibility``).

Scheduled roll calls: every approved class gets one within every ``roll_call.every_days`` class days.
After a roll call on class day *d* (or from the class's start), the next is due in the window of the
following ``every_days`` class days, at a moment inside a session drawn from the previous roll call's
seed (reproducible, recorded as ``slot``). A roll call by command counts: it starts the next window.
A window that ended without a roll call (everything was down) is overdue: the next due run inside a
session starts one at once.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from fractions import Fraction

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from handlers import eligibility, outbox, timetable
from handlers.texts import chat as chat_texts
from handlers.texts import supervision as texts
from handlers.classes import profile_of
from handlers.errors import Refusal
from handlers.claims import claim
from handlers.rollcall_draw import ALGORITHM, commitment, derive_seed, draw, sha256_hex
from handlers.registry import IN_GROUP, INSPECTOR, STAFF, TRAINEE, Ctx, command, job
from handlers.policy import as_fraction, format_percent, meets_ratio, min_count
from storage import ledger
from storage.ledger import canonical
from storage.models import (
    ClassSession,
    ClassStatus,
    DingTalkIdentity,
    Enrollment,
    Group,
    Klass,
    LeaveRequest,
    LedgerChain,
    Person,
    RollCall,
    RollCallSample,
)

MAX_MINUTES = 120
BATCH = 20  # oToMessages/batchSend takes at most 20 userIds (DINGTALK.md §6)
COMMAND, SCHEDULE, CLI, ADMIN = "command", "schedule", "cli", "admin"
_PERCENT = re.compile(r"(\d{1,3}(?:\.\d+)?)\s*[%％]")
_MINUTES = re.compile(r"(\d{1,4})\s*(?:分钟|分)?")


# --- reading a request ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    ratio: Fraction | None
    minutes: int | None


def parse_request(args: str) -> Request:
    """``[比例%] [时限分钟]`` in either order: ``50% 10``, ``60％``, ``15分钟``."""
    ratio = minutes = None
    rest = args
    match = _PERCENT.search(rest)
    if match:
        ratio = as_fraction(match.group(1)) / 100
        if not 0 < ratio <= 1:
            raise Refusal(texts.ROLLCALL_BAD_RATIO.format(value=match.group(0)))
        rest = rest[:match.start()] + rest[match.end():]
    rest = rest.strip()
    if rest:
        match = _MINUTES.fullmatch(rest)
        if match is None:
            raise Refusal(texts.ROLLCALL_USAGE)
        minutes = int(match.group(1))
        if not 1 <= minutes <= MAX_MINUTES:
            raise Refusal(texts.ROLLCALL_BAD_MINUTES.format(value=rest, limit=MAX_MINUTES))
    return Request(ratio, minutes)


# --- starting ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Origin:
    """Who started a roll call and how to reach them and the group."""

    trigger: str
    actor: str  # ledger label
    nonce: str
    source: str
    caller_user_id: str | None = None
    webhook: str | None = None  # a still-valid sessionWebhook of the class group (lets the text @ people)
    webhook_expires: datetime | None = None
    robot_code: str | None = None


@dataclass(frozen=True)
class Started:
    rollcall: RollCall
    raised_from: Fraction | None  # the asked ratio, when it was below the minimum
    announcement: str


def group_of(s: Session, klass: Klass) -> Group | None:
    return s.scalar(select(Group).where(Group.class_id == klass.id).order_by(Group.id).limit(1))


def open_rollcall(s: Session, klass: Klass) -> RollCall | None:
    return s.scalar(select(RollCall).where(RollCall.class_id == klass.id, RollCall.closed_at.is_(None))
                    .order_by(RollCall.number.desc()).limit(1))


def roster_snapshot(s: Session, klass: Klass) -> list[list]:
    """``[[enrollment_id, name], …]`` of the active trainees, by enrollment id."""
    rows = s.execute(select(Enrollment.id, Person.name).join(Person, Person.id == Enrollment.person_id)
                     .where(Enrollment.class_id == klass.id, Enrollment.removed.is_(False))
                     .order_by(Enrollment.id)).all()
    return [[eid, name] for eid, name in rows]


def start(s: Session, klass: Klass, origin: Origin, now: datetime, *, ratio: Fraction | None = None,
          minutes: int | None = None, slot: datetime | None = None) -> Started:
    """Start a roll call now (R13); refused while one is open, for a class not approved, without a group."""
    s.refresh(klass, with_for_update=True)  # one roll call number at a time per class
    close_due(s, klass, now)
    current = open_rollcall(s, klass)
    if current is not None:
        raise Refusal(texts.ROLLCALL_OPEN.format(code=klass.code, number=current.number,
                                                 deadline=current.deadline.astimezone(now.tzinfo)))
    if klass.status not in ClassStatus.COUNTING:
        raise Refusal(texts.ROLLCALL_NOT_APPROVED.format(code=klass.code))
    group = group_of(s, klass)
    if group is None:
        raise Refusal(texts.ROLLCALL_NO_GROUP.format(code=klass.code))
    roster = roster_snapshot(s, klass)
    if not roster:
        raise Refusal(texts.ROLLCALL_NO_TRAINEES.format(code=klass.code))
    rules = profile_of(klass).roll_call
    raised_from = ratio if ratio is not None and ratio < rules.min_sample else None
    used = max(ratio or rules.min_sample, rules.min_sample)
    minutes = minutes or rules.answer_minutes
    number = (s.scalar(select(func.max(RollCall.number)).where(RollCall.class_id == klass.id)) or 0) + 1
    chain = s.get(LedgerChain, klass.id)  # the head of the class's own ledger chain
    head = chain.hash if chain is not None else ledger.GENESIS
    seed = derive_seed(head, klass.code, number, origin.nonce)
    sample = draw(seed, [eid for eid, _ in roster], used)
    rc = RollCall(class_id=klass.id, number=number, trigger=origin.trigger, by=origin.actor, started_at=now,
                  deadline=now + timedelta(minutes=minutes), window_minutes=minutes, ratio=str(used),
                  requested_ratio=str(ratio) if ratio is not None else None, ledger_head=head,
                  nonce=origin.nonce, seed=seed, seed_commitment=commitment(seed), roster=canonical(roster),
                  roster_size=len(roster), slot=slot, conversation_id=group.open_conversation_id,
                  caller_user_id=origin.caller_user_id, source=origin.source)
    s.add(rc)
    ledger.append(s, "rollcall.started", actor=origin.actor, source=origin.source, subject=rc, class_code=klass.code)
    excused = _on_leave(s, sample, now.date())
    rows = []
    for position, eid in enumerate(sample, start=1):
        row = RollCallSample(rollcall_id=rc.id, enrollment_id=eid, position=position, excused=eid in excused)
        s.add(row)
        rows.append(row)
    s.flush()
    for row in rows:
        ledger.append(s, "rollcall.sampled", actor=origin.actor, source=origin.source, subject=row,
                      class_code=klass.code)
    text = _announce(s, klass, rc, roster, rows, origin, now)
    return Started(rc, raised_from, text)


def _on_leave(s: Session, enrollment_ids: list[int], day: date) -> set[int]:
    return set(s.scalars(select(LeaveRequest.enrollment_id).where(
        LeaveRequest.enrollment_id.in_(enrollment_ids), LeaveRequest.day == day, LeaveRequest.status == "approved")))


def staff_ids(s: Session, enrollment_ids: list[int]) -> dict[int, str]:
    """Enrollment → the bound trainee's DingTalk staffId, where DingTalk gave one (inside the organisation)."""
    rows = s.execute(select(Enrollment.id, DingTalkIdentity.staff_user_id)
                     .join(DingTalkIdentity, DingTalkIdentity.person_id == Enrollment.person_id)
                     .where(Enrollment.id.in_(enrollment_ids), DingTalkIdentity.staff_user_id.is_not(None))).all()
    return {eid: uid for eid, uid in rows if uid}


def _announce(s: Session, klass: Klass, rc: RollCall, roster: list[list], rows: list[RollCallSample],
              origin: Origin, now: datetime) -> str:
    """Queue the announcement (group, @-mentions where a sessionWebhook allows) and the 1:1 notices."""
    names = dict((eid, name) for eid, name in roster)
    uids = staff_ids(s, [r.enrollment_id for r in rows])
    can_at = origin.webhook is not None and origin.webhook_expires is not None and origin.webhook_expires > now
    lines = []
    for r in rows:
        mention = f" @{uids[r.enrollment_id]}" if can_at and r.enrollment_id in uids else ""
        excused = texts.ROLLCALL_EXCUSED_MARK if r.excused else ""
        lines.append(texts.ROLLCALL_NAME_LINE.format(position=r.position, name=names[r.enrollment_id] + excused,
                                                     mention=mention))
    deadline = rc.deadline.astimezone(now.tzinfo)
    text = texts.ROLLCALL_ANNOUNCE.format(
        code=klass.code, number=rc.number, by=caller(rc), roster=rc.roster_size, size=len(rows),
        percent=format_percent(Fraction(rc.ratio)), deadline=deadline, names="\n".join(lines))
    unreachable = [names[r.enrollment_id] for r in rows if r.enrollment_id not in uids and not r.excused]
    if unreachable:
        text += texts.ROLLCALL_GROUP_ONLY.format(names="、".join(unreachable))
    if not can_at:
        text += texts.ROLLCALL_NO_AT
    text += texts.ROLLCALL_COMMITMENT.format(commitment=rc.seed_commitment)
    key = f"rollcall:{rc.class_id}:{rc.number}"
    if can_at:
        outbox.queue_reply(s, key=f"{key}:announce", conversation_id=rc.conversation_id, conversation_type="2",
                           text=text, webhook=origin.webhook, webhook_expires=origin.webhook_expires,
                           staff_user_id=None, robot_code=origin.robot_code, due=now,
                           at_user_ids=[uids[r.enrollment_id] for r in rows if r.enrollment_id in uids])
    else:
        outbox.queue_group_message(s, rc.conversation_id, text, f"{key}:announce", origin.robot_code, now)
    notice = texts.ROLLCALL_NOTICE.format(code=klass.code, number=rc.number, deadline=deadline)
    targets = [uids[r.enrollment_id] for r in rows if r.enrollment_id in uids and not r.excused]
    for n in range(0, len(targets), BATCH):
        outbox.queue_oto(s, targets[n:n + BATCH], notice, f"{key}:notice:{n // BATCH}", origin.robot_code, now)
    return text


# --- answering -----------------------------------------------------------------------------------------


def answer(s: Session, klass: Klass, enrollment: Enrollment, name: str, now: datetime, source: str) -> str:
    """R13: 到 from a sampled trainee inside the window is recorded with its time; anything else is refused."""
    rc = s.scalar(select(RollCall).where(RollCall.class_id == klass.id).order_by(RollCall.number.desc()).limit(1))
    if rc is None or (rc.closed_at is not None and rc.closed_at + timedelta(hours=12) < now):
        raise Refusal(texts.ANSWER_NO_ROLLCALL)
    deadline = rc.deadline.astimezone(now.tzinfo)
    row = s.scalar(select(RollCallSample).where(RollCallSample.rollcall_id == rc.id,
                                                RollCallSample.enrollment_id == enrollment.id))
    if row is None:
        if now > rc.deadline:
            raise Refusal(texts.ANSWER_NO_ROLLCALL)
        raise Refusal(texts.ANSWER_NOT_SAMPLED.format(number=rc.number))
    if row.answered_at is not None:
        raise Refusal(texts.ANSWER_TWICE.format(at=row.answered_at.astimezone(now.tzinfo), number=rc.number))
    if now > rc.deadline:
        raise Refusal(texts.ANSWER_LATE.format(number=rc.number, deadline=deadline, at=now))
    if row.excused:
        raise Refusal(texts.ANSWER_EXCUSED.format(number=rc.number))
    row.answered_at, row.answer_source = now, source
    ledger.append(s, "rollcall.answered", actor=f"person:{enrollment.person_id}:{name}", source=source, subject=row,
                  class_code=klass.code)
    return texts.ANSWERED.format(name=name, at=now, number=rc.number)


# --- closing and results -----------------------------------------------------------------------------


def tally(s: Session, rc: RollCall) -> tuple[int, int]:
    """(answered, counted): answers inside the window, and the sampled trainees not excused."""
    answered, counted = s.execute(
        select(func.count().filter(RollCallSample.answered_at.is_not(None)),
               func.count().filter(RollCallSample.excused.is_(False)))
        .where(RollCallSample.rollcall_id == rc.id)).one()
    return answered, counted


def close(s: Session, rc: RollCall, now: datetime, *, actor: str = "scheduler", source: str = "job:close_rollcalls") -> None:
    """Close a roll call whose window has ended: tally, pass/fail, the result to the group and the caller."""
    klass = s.get(Klass, rc.class_id)
    answered, counted = tally(s, rc)
    rc.closed_at, rc.answered, rc.counted = now, answered, counted
    rc.passed = meets_ratio(answered, counted, profile_of(klass).eligibility.check_pass)
    ledger.append(s, "rollcall.closed", actor=actor, source=source, subject=rc, class_code=klass.code)
    text = result_text(s, klass, rc, now)
    key = f"rollcall:{rc.class_id}:{rc.number}:result"
    outbox.queue_group_message(s, rc.conversation_id, text, f"{key}:group", None, now)
    if rc.caller_user_id and rc.trigger == COMMAND:
        outbox.queue_oto(s, [rc.caller_user_id], text, f"{key}:caller", None, now)
    if not rc.passed:
        eligibility.check_failed(s, klass, now, actor=actor, source=source)


def due_to_close(s: Session, now: datetime) -> list[tuple[str, int]]:
    """(class code, number) of every open roll call whose window has ended by ``now``."""
    return list(s.execute(select(Klass.code, RollCall.number).join(Klass, Klass.id == RollCall.class_id)
                          .where(RollCall.closed_at.is_(None), RollCall.deadline <= now).order_by(RollCall.id)).all())


def close_due(s: Session, klass: Klass | None, now: datetime, *, actor: str = "scheduler",
              source: str = "job:close_rollcalls") -> int:
    """Close every roll call (of ``klass``, or of all classes) whose window ended by ``now``."""
    query = select(RollCall).where(RollCall.closed_at.is_(None), RollCall.deadline <= now).order_by(RollCall.id)
    if klass is not None:
        query = query.where(RollCall.class_id == klass.id)
    due = list(s.scalars(query.with_for_update(skip_locked=True)))
    for rc in due:
        close(s, rc, now, actor=actor, source=source)
    return len(due)


def samples(s: Session, rc: RollCall) -> list[tuple[RollCallSample, str]]:
    return list(s.execute(select(RollCallSample, Person.name)
                          .join(Enrollment, Enrollment.id == RollCallSample.enrollment_id)
                          .join(Person, Person.id == Enrollment.person_id)
                          .where(RollCallSample.rollcall_id == rc.id).order_by(RollCallSample.position)).all())


def result_text(s: Session, klass: Klass, rc: RollCall, now: datetime) -> str:
    tz = now.tzinfo
    rows = samples(s, rc)
    if rc.closed_at is None:
        answered = sum(1 for r, _ in rows if r.answered_at is not None)
        return texts.ROLLCALL_RUNNING.format(code=klass.code, number=rc.number, started=rc.started_at.astimezone(tz),
                                             size=len(rows), answered=answered, deadline=rc.deadline.astimezone(tz))
    threshold = profile_of(klass).eligibility.check_pass
    lines = [texts.ROLLCALL_RESULT.format(
        code=klass.code, number=rc.number, started=rc.started_at.astimezone(tz), by=caller(rc),
        size=len(rows), answered=rc.answered, counted=rc.counted,
        percent=format_percent(pass_rate(rc)) if rc.counted else "—",
        verdict=texts.ROLLCALL_PASSED[bool(rc.passed)], threshold=format_percent(threshold))]
    answered = [f"{name} {r.answered_at.astimezone(tz):%H:%M}" for r, name in rows if r.answered_at is not None]
    missing = [name for r, name in rows if r.answered_at is None and not r.excused]
    excused = [name for r, name in rows if r.excused]
    lines.append(texts.ROLLCALL_ANSWERED_LINE.format(names="、".join(answered) or texts.NOBODY))
    lines.append(texts.ROLLCALL_MISSING_LINE.format(names="、".join(missing) or texts.NOBODY))
    if excused:
        lines.append(texts.ROLLCALL_EXCUSED_LINE.format(names="、".join(excused)))
    lines.append(texts.ROLLCALL_SEED_LINE.format(seed=rc.seed, commitment=rc.seed_commitment))
    return "\n".join(lines)


def _caller_name(rc: RollCall) -> str:
    """The name part of a ledger label (``staff:3:李督查`` → 李督查; ``cli:root`` → cli:root)."""
    parts = rc.by.split(":", 2)
    return parts[2] if len(parts) == 3 and parts[0] in ("staff", "person") else rc.by


def pass_rate(rc: RollCall) -> Fraction | None:
    if rc.closed_at is None or not rc.counted:
        return None
    return Fraction(rc.answered, rc.counted)


def by_number(s: Session, klass: Klass, number: int | None) -> RollCall:
    query = select(RollCall).where(RollCall.class_id == klass.id)
    rc = s.scalar(query.where(RollCall.number == number) if number is not None
                  else query.order_by(RollCall.number.desc()).limit(1))
    if rc is None:
        raise Refusal(texts.ROLLCALL_NONE.format(code=klass.code) if number is None
                      else texts.ROLLCALL_NO_SUCH.format(code=klass.code, number=number))
    return rc


# --- verification ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    ok: bool
    expected: list[int]
    recorded: list[int]
    seed_ok: bool
    commitment_ok: bool


def verify(s: Session, rc: RollCall) -> Check:
    """Recompute the seed from its recorded inputs and the sample from the seed and the roster snapshot."""
    klass = s.get(Klass, rc.class_id)
    seed_ok = derive_seed(rc.ledger_head, klass.code, rc.number, rc.nonce) == rc.seed
    commitment_ok = commitment(rc.seed) == rc.seed_commitment
    roster = [eid for eid, _ in json.loads(rc.roster)]
    expected = draw(rc.seed, roster, Fraction(rc.ratio))
    recorded = list(s.scalars(select(RollCallSample.enrollment_id).where(RollCallSample.rollcall_id == rc.id)
                              .order_by(RollCallSample.position)))
    return Check(seed_ok and commitment_ok and expected == recorded and len(roster) == rc.roster_size,
                 expected, recorded, seed_ok, commitment_ok)


# --- the schedule ----------------------------------------------------------------------------------------


def class_days(s: Session, klass: Klass, until: date) -> list[date]:
    """The class days of the plan's timetable (R01, ``handlers.timetable``) up to ``until`` (inclusive)."""
    return [day for day in timetable.class_days(timetable.timetable_of(s, klass)) if day <= until]


@dataclass(frozen=True)
class Due:
    klass: Klass
    period: str  # the claim's period: the window after roll call number N
    slot: datetime  # the moment drawn for it
    overdue: bool


def _sessions(s: Session, class_ids: list[int]) -> dict[int, list[ClassSession]]:
    result: dict[int, list[ClassSession]] = {}
    for row in s.scalars(select(ClassSession).where(ClassSession.class_id.in_(class_ids))
                         .order_by(ClassSession.class_id, ClassSession.position)):
        result.setdefault(row.class_id, []).append(row)
    return result


def _at(day: date, t: time, tz) -> datetime:
    return datetime.combine(day, t, tzinfo=tz)


def planned_slot(klass: Klass, window: list[date], sessions: list[ClassSession], after: RollCall | None,
                 minutes: int, tz) -> datetime:
    """The moment drawn for the roll call of ``window``: a class day of it, a session, a minute that
    leaves the answer window inside the session — from SHA-256 of the previous seed (or the class)."""
    basis = sha256_hex(f"{ALGORITHM}-slot|{klass.code}|{after.seed if after else 'start'}")
    choices = []
    for day in window:
        for sess in sessions:
            begin, end = _at(day, sess.start_time, tz), _at(day, sess.end_time, tz)
            span = max(int((end - begin).total_seconds() // 60) - minutes, 0)
            choices.append((begin, span))
    total = sum(span + 1 for _, span in choices)
    pick = int(basis, 16) % total
    for begin, span in choices:
        if pick <= span:
            return begin + timedelta(minutes=pick)
        pick -= span + 1
    raise AssertionError("unreachable")


def due_scheduled(s: Session, now: datetime, klass: Klass | None = None) -> list[Due]:
    """R13: the approved classes (or just ``klass``) that must get a scheduled roll call at ``now``."""
    today = now.date()
    query = (select(Klass).join(Group, Group.class_id == Klass.id)
             .where(Klass.status.in_(ClassStatus.COUNTING), Klass.start_date <= today, Klass.end_date >= today))
    if klass is not None:
        query = query.where(Klass.id == klass.id)
    classes = list(s.scalars(query.distinct().order_by(Klass.id)))
    if not classes:
        return []
    ids = [k.id for k in classes]
    last_numbers = (select(RollCall.class_id, func.max(RollCall.number).label("n"))
                    .where(RollCall.class_id.in_(ids)).group_by(RollCall.class_id).subquery())
    last = {rc.class_id: rc for rc in s.scalars(select(RollCall).join(
        last_numbers, (last_numbers.c.class_id == RollCall.class_id) & (last_numbers.c.n == RollCall.number)))}
    sessions = _sessions(s, ids)
    result = []
    for klass in classes:
        mine = sessions.get(klass.id, [])
        if not any(_at(today, x.start_time, now.tzinfo) <= now < _at(today, x.end_time, now.tzinfo) for x in mine):
            continue  # never outside class time
        days = class_days(s, klass, klass.end_date)
        if today not in days:
            continue
        rules = profile_of(klass).roll_call
        previous = last.get(klass.id)
        if previous is not None and previous.closed_at is None:
            continue  # one open roll call at a time
        after_day = previous.started_at.astimezone(now.tzinfo).date() if previous else None
        window = [d for d in days if after_day is None or d > after_day][:rules.every_days]
        if not window:
            continue
        slot = planned_slot(klass, window, mine, previous, rules.answer_minutes, now.tzinfo)
        overdue = today > window[-1]
        if overdue or now >= slot:
            result.append(Due(klass, f"after:{previous.number if previous else 0}", slot, overdue))
    return result


# --- chat commands -----------------------------------------------------------------------------------


def _class_here_or_named(s: Session, args: str, here: Klass | None) -> Klass | None:
    """``点名 <班级编号> …`` sent 1:1 (or in a group, for another class) acts on the named class."""
    tokens = args.split()
    if not tokens:
        return here
    named = s.scalar(select(Klass).where(Klass.code == tokens[0]))
    return named or here


def _without_code(args: str, klass: Klass) -> str:
    tokens = args.split(maxsplit=1)
    return (tokens[1] if len(tokens) > 1 else "") if tokens and tokens[0] == klass.code else args


@command("点名", roles=INSPECTOR, acts_on=_class_here_or_named)
def call(ctx: Ctx) -> str | list[str]:
    """点名 [比例%] [时限分钟]：督查人员发起随机点名（单聊中发送“点名 班级编号 [比例%] [时限分钟]”）"""
    if ctx.klass is None:
        raise Refusal(chat_texts.WHICH_CLASS.format(word="点名"))
    request = parse_request(_without_code(ctx.args, ctx.klass))
    msg = ctx.message
    in_this_group = msg.in_group and group_of(ctx.session, ctx.klass) is not None and \
        group_of(ctx.session, ctx.klass).open_conversation_id == msg.conversation_id
    origin = Origin(trigger=COMMAND, actor=ctx.actor.label, nonce=msg.source, source=msg.source,
                    caller_user_id=msg.sender_staff_id, robot_code=msg.robot_code,
                    webhook=msg.session_webhook if in_this_group else None,
                    webhook_expires=msg.session_webhook_expires if in_this_group else None)
    started = start(ctx.session, ctx.klass, origin, ctx.now, ratio=request.ratio, minutes=request.minutes)
    rc = started.rollcall
    replies = []
    if started.raised_from is not None:
        replies.append(texts.ROLLCALL_RAISED.format(asked=format_percent(started.raised_from),
                                                    minimum=format_percent(Fraction(rc.ratio))))
    if not in_this_group:  # the group gets the announcement; the caller a confirmation
        replies.append(texts.ROLLCALL_STARTED.format(code=ctx.klass.code, number=rc.number,
                                                     size=min_count(rc.roster_size, Fraction(rc.ratio)),
                                                     roster=rc.roster_size, deadline=rc.deadline.astimezone(ctx.now.tzinfo)))
    return replies


@command("点名结果", roles=STAFF, acts_on=_class_here_or_named)
def show(ctx: Ctx) -> str:
    """点名结果 [编号]：查看最近一次（或第几次）点名的结果"""
    if ctx.klass is None:
        raise Refusal(chat_texts.WHICH_CLASS.format(word="点名结果"))
    rest = _without_code(ctx.args, ctx.klass).strip().lstrip("第").rstrip("次")
    number = int(rest) if rest.isdigit() else None
    if rest and number is None:
        raise Refusal(texts.ROLLCALL_RESULT_USAGE)
    close_due(ctx.session, ctx.klass, ctx.now, actor=ctx.actor.label, source=ctx.message.source)
    return result_text(ctx.session, ctx.klass, by_number(ctx.session, ctx.klass, number), ctx.now)


@command("到", roles=TRAINEE, where=IN_GROUP)
def here(ctx: Ctx) -> str:
    """到：被点名时在群里 @我 回复“到”"""
    return answer(ctx.session, ctx.klass, ctx.actor.enrollment, ctx.actor.name, ctx.now, ctx.message.source)


def caller(rc: RollCall) -> str:
    """Who started it, as people read it: the inspector's name, or 定时 / 命令行 (operator) / 管理后台 (user)."""
    if rc.trigger == COMMAND:
        return _caller_name(rc)
    if rc.trigger == SCHEDULE:
        return texts.ROLLCALL_TRIGGERS[SCHEDULE]
    return f"{texts.ROLLCALL_TRIGGERS[rc.trigger]}（{rc.by}）"


# --- scheduler jobs (JobEvents through the dispatcher) ---------------------------------------------------

START_JOB, CLOSE_JOB = "rollcall.start", "rollcall.close"


@job(START_JOB)
def scheduled(ctx: Ctx) -> list[str]:
    """R13: the scheduled roll call of ``ctx.klass`` for the window ``ctx.args``, claimed first."""
    due = next(iter(due_scheduled(ctx.session, ctx.now, ctx.klass)), None)
    if due is None or due.period != ctx.args:
        return []  # done meanwhile (a command, another scheduler) or not due any more
    if not claim(ctx.session, START_JOB, ctx.klass.code, due.period, by=ctx.actor.label):
        return []
    source = ctx.event.source if ctx.event is not None else f"job:{START_JOB}"
    origin = Origin(trigger=SCHEDULE, actor=ctx.actor.label, source=source,
                    nonce=f"job:{ctx.klass.code}:{due.period}:{due.slot.isoformat()}")
    start(ctx.session, ctx.klass, origin, ctx.now, slot=due.slot)
    return []  # the announcement and the notices are queued by start()


@job(CLOSE_JOB)
def closing(ctx: Ctx) -> list[str]:
    """R13: close roll call number ``ctx.args`` of ``ctx.klass`` once its window has ended; post the result."""
    rc = ctx.session.scalar(select(RollCall).where(RollCall.class_id == ctx.klass.id,
                                                   RollCall.number == int(ctx.args))
                            .with_for_update())
    if rc is not None and rc.closed_at is None and rc.deadline <= ctx.now:
        source = ctx.event.source if ctx.event is not None else f"job:{CLOSE_JOB}"
        close(ctx.session, rc, ctx.now, actor=ctx.actor.label, source=source)
    return []
