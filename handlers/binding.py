"""Binding: a DingTalk account to a trainee of the roster or to a staff member, a group to its class.

- ``绑定 <姓名> <身份证号后6位>`` (1:1 only): the name and the last six characters of the ID number
  must match exactly one person on the roster of a class that is running or starts within
  ``UPCOMING_DAYS``; that person must not be bound to another DingTalk account. The digits are
  never echoed, and the command is refused in a group before anything is looked up.
- ``绑定 <绑定码>`` (1:1 only): a one-time code from ``dingclass bind-code`` (only its SHA-256 is
  stored) makes the sender a staff member with the code's role in its class or district.
- Failed tries are rows of ``bind_attempts``; ``binding.max_failures`` failures within
  ``binding.window_minutes`` lock the sender out for ``binding.lock_minutes`` (the deployment's
  default profile: binding happens before any class is known). Senders are free to make (accounts
  outside the organisation cost nothing), so tries are also counted per trainee name across all
  senders: ``binding.max_failures_per_trainee`` failures lock binding for that name, and the class
  teacher of each class with a trainee of that name is told.
- A wrong name or number and a trainee already bound to another account get the very same answer
  (and both count as failures), so the answer never confirms that a guess was right.
- ``绑定班级 <班级编号>`` (group only): that class's staff or an inspector over it links the group to
  the class (the dispatcher checks the roles in the named class).

Every binding is a ledger event; a failed try is not a fact and only counts towards the lock.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from handlers import outbox
from handlers.texts import chat as texts
from handlers.texts import classes as class_texts
from handlers.accounts import normalise_bind_code, sha256
from handlers.classes import counts_for_subsidy
from handlers.dates import day_text
from handlers.errors import Refusal
from handlers.policy import DEFAULT_PROFILE, Binding, load_profile
from handlers.registry import ANYONE, IN_GROUP, IN_PRIVATE, STAFF, Ctx, command
from storage import ledger
from storage.models import (BindAttempt, BindCode, ClassSession, DingTalkIdentity, District, Enrollment, Group,
                            Klass, Person, Staff, StaffRole)

CLASS_TEACHER_ROLE = "class_teacher"
UPCOMING_DAYS = 30  # "about to start": a roster can be bound to this many days before the class starts
_SUFFIX = re.compile(r"\d{5}[\dXx]")
_FULL_ID = re.compile(r"\d{17}[\dXx]")
_GLUED = re.compile(r"(?P<name>[^\s\d]+?)(?P<number>\d{5}[\dXx]|\d{17}[\dXx])")
_CODE = re.compile(r"[A-Za-z0-9-]{4,20}")


def binding_settings() -> Binding:
    return load_profile(DEFAULT_PROFILE).binding


@command("绑定", roles=ANYONE, where=IN_PRIVATE)
def bind(ctx: Ctx) -> str:
    """绑定：在与我的单聊中发送“绑定 姓名 身份证号后6位”（工作人员：绑定 绑定码）"""
    name, suffix, code = _parse(ctx.args)
    settings = binding_settings()
    until = locked_until(ctx.session, ctx.actor.identity.sender_id, ctx.now, settings)
    if until is not None:
        raise Refusal(texts.BIND_LOCKED.format(until=until.astimezone(ctx.now.tzinfo)))
    if code is not None:
        return _bind_staff(ctx, code)
    until = name_locked_until(ctx.session, name, ctx.now, settings)
    if until is not None:
        raise Refusal(texts.BIND_NAME_LOCKED.format(until=until.astimezone(ctx.now.tzinfo)))
    return _bind_trainee(ctx, name, suffix)


def _parse(args: str) -> tuple[str | None, str | None, str | None]:
    """(name, last six of the ID number, None) for a trainee, (None, None, code) for staff."""
    tokens = args.split()
    if len(tokens) == 2 and (_SUFFIX.fullmatch(tokens[1]) or _FULL_ID.fullmatch(tokens[1])):
        return tokens[0], tokens[1][-6:].upper(), None
    if len(tokens) == 1:
        glued = _GLUED.fullmatch(tokens[0])
        if glued:
            return glued["name"], glued["number"][-6:].upper(), None
        if _CODE.fullmatch(tokens[0]) and not tokens[0].isdigit():
            return None, None, tokens[0]
    raise Refusal(texts.BIND_USAGE)


# --- the lock -----------------------------------------------------------------------------------


def locked_until(s: Session, sender_id: str, now: datetime, settings: Binding) -> datetime | None:
    """When the sender's lock ends, if ``max_failures`` failures fell within ``window_minutes`` and the
    last of them is less than ``lock_minutes`` ago; else None. Tries refused by the lock are not
    recorded, so knocking on a locked door does not extend the lock."""
    return _lock_end(s, BindAttempt.sender_id == sender_id, settings.max_failures, now, settings)


def name_locked_until(s: Session, name: str, now: datetime, settings: Binding) -> datetime | None:
    """The same for a trainee name, counting failures from every sender (``max_failures_per_trainee``)."""
    return _lock_end(s, BindAttempt.name == name, settings.max_failures_per_trainee, now, settings)


def _lock_end(s: Session, whose, n: int, now: datetime, settings: Binding) -> datetime | None:
    window = timedelta(minutes=settings.window_minutes)
    lock = timedelta(minutes=settings.lock_minutes)
    failures = list(s.scalars(select(BindAttempt.at).where(
        whose, BindAttempt.ok.is_(False), BindAttempt.at > now - window - lock).order_by(BindAttempt.at)))
    if n == 0:
        return None
    ends = [failures[i] + lock for i in range(n - 1, len(failures)) if failures[i] - failures[i - n + 1] <= window]
    until = max(ends, default=None)
    return until if until is not None and now < until else None


def _attempt(ctx: Ctx, ok: bool, name: str | None = None) -> None:
    ctx.session.add(BindAttempt(sender_id=ctx.actor.identity.sender_id, name=name, ok=ok, at=ctx.now))


def _failed(ctx: Ctx, text: str, name: str | None = None) -> str:
    """A failed try: recorded for the locks, answered (not raised, so the record stays). When it is
    the try that locks a trainee name, the class teachers concerned are told."""
    settings = binding_settings()
    _attempt(ctx, False, name)
    ctx.session.flush()
    if name is not None:
        name_until = name_locked_until(ctx.session, name, ctx.now, settings)
        if name_until is not None:  # this very try locked it (a locked name is refused before any try)
            _tell_class_teachers(ctx, name, name_until, settings)
            return texts.BIND_NAME_LOCKED.format(until=name_until.astimezone(ctx.now.tzinfo))
    until = locked_until(ctx.session, ctx.actor.identity.sender_id, ctx.now, settings)
    if until is not None:
        return text + texts.BIND_NOW_LOCKED.format(until=until.astimezone(ctx.now.tzinfo))
    return text


def _bindable_classes(ctx: Ctx, *where) -> list[tuple[Person, Klass]]:
    """(person, class) on the roster of a class running or starting within ``UPCOMING_DAYS``."""
    today = ctx.now.date()
    return list(ctx.session.execute(
        select(Person, Klass)
        .join(Enrollment, Enrollment.person_id == Person.id)
        .join(Klass, Klass.id == Enrollment.class_id)
        .where(*where, Enrollment.removed.is_(False),
               Klass.end_date >= today, Klass.start_date <= today + timedelta(days=UPCOMING_DAYS))
        .order_by(Klass.start_date)
    ).all())


def _tell_class_teachers(ctx: Ctx, name: str, until: datetime, settings: Binding) -> None:
    """Each class with a trainee of this name: its class teachers 1:1 (those inside the organisation),
    else its group. Names someone tried but no roster holds tell no one."""
    s = ctx.session
    window = timedelta(minutes=settings.window_minutes)
    senders = s.scalar(select(func.count(func.distinct(BindAttempt.sender_id))).where(
        BindAttempt.name == name, BindAttempt.ok.is_(False), BindAttempt.at > ctx.now - window))
    text = texts.BIND_NAME_LOCKED_NOTICE.format(name=name, count=settings.max_failures_per_trainee,
                                                minutes=settings.window_minutes, senders=senders,
                                                until=until.astimezone(ctx.now.tzinfo))
    for klass_id in dict.fromkeys(k.id for _, k in _bindable_classes(ctx, Person.name == name)):
        key = f"bind-lock:{sha256(name)[:16]}:{until.isoformat()}:{klass_id}"
        teachers = list(s.scalars(
            select(DingTalkIdentity.staff_user_id)
            .join(StaffRole, StaffRole.staff_id == DingTalkIdentity.staff_id)
            .where(StaffRole.class_id == klass_id, StaffRole.role == CLASS_TEACHER_ROLE,
                   DingTalkIdentity.staff_user_id.is_not(None))))
        if teachers:
            outbox.queue_private_message(s, sorted(set(teachers))[:20], text, key, ctx.message.robot_code, ctx.now)
            continue
        group = s.scalar(select(Group.open_conversation_id).where(Group.class_id == klass_id))
        if group is not None:
            outbox.queue_group_message(s, group, text, key, ctx.message.robot_code, ctx.now)


# --- trainees -----------------------------------------------------------------------------------


def _bind_trainee(ctx: Ctx, name: str, suffix: str) -> str:
    s, ident = ctx.session, ctx.actor.identity
    rows = _bindable_classes(ctx, Person.name == name, Person.id_number.endswith(suffix))
    persons = {p.id: p for p, _ in rows}
    no_match = texts.BIND_NO_MATCH.format(name=name, days=UPCOMING_DAYS)
    if not persons:
        return _failed(ctx, no_match, name)
    if len(persons) > 1:
        raise Refusal(texts.BIND_SEVERAL.format(name=name))
    (person,) = persons.values()
    classes = [k for _, k in rows]
    if ident.person_id == person.id:
        raise Refusal(texts.BIND_ALREADY_YOU.format(name=person.name))
    if ident.person_id is not None:
        bound = s.get(Person, ident.person_id)
        raise Refusal(texts.BIND_ACCOUNT_TAKEN.format(name=bound.name if bound else ""))
    s.get(Person, person.id, with_for_update=True)  # two accounts binding one person at once: one waits
    other = s.scalar(select(DingTalkIdentity).where(DingTalkIdentity.person_id == person.id))
    if other is not None:  # the same answer as a wrong guess: it must not confirm the digits
        return _failed(ctx, no_match, name)
    ident.person_id, ident.bound_at = person.id, ctx.now
    ledger.append(s, "identity.bound", actor=ctx.actor.label, source=ctx.message.source, subject=ident,
                  class_code=classes[0].code, data={"as": "trainee", "person_id": person.id})
    _attempt(ctx, True, name)
    lines = [texts.BIND_CLASS_LINE.format(code=k.code, name=k.name, start=day_text(k.start_date),
                                          end=day_text(k.end_date)) for k in classes]
    return texts.BIND_TRAINEE_DONE.format(name=person.name, classes="\n".join(lines))


# --- staff --------------------------------------------------------------------------------------


def _bind_staff(ctx: Ctx, raw_code: str) -> str:
    s, ident = ctx.session, ctx.actor.identity
    code = s.scalar(select(BindCode).where(BindCode.code_hash == sha256(normalise_bind_code(raw_code)))
                    .with_for_update())  # two people sending one code at once: only one gets it
    if code is None:
        return _failed(ctx, texts.BIND_CODE_UNKNOWN)
    if code.used_at is not None:
        return _failed(ctx, texts.BIND_CODE_USED)
    if code.expires_at <= ctx.now:
        return _failed(ctx, texts.BIND_CODE_EXPIRED.format(at=code.expires_at.astimezone(ctx.now.tzinfo)))
    klass = s.get(Klass, code.class_id) if code.class_id else None
    class_code = klass.code if klass else None
    staff = s.get(Staff, ident.staff_id) if ident.staff_id else None
    if staff is None:
        staff = Staff(name=code.name or ident.nick or texts.UNNAMED_STAFF)
        s.add(staff)
        ledger.append(s, "staff.created", actor=ctx.actor.label, source=ctx.message.source, subject=staff,
                      class_code=class_code)
        ident.staff_id, ident.bound_at = staff.id, ctx.now
        ledger.append(s, "identity.bound", actor=ctx.actor.label, source=ctx.message.source, subject=ident,
                      class_code=class_code, data={"as": "staff", "staff_id": staff.id})
    same = s.scalar(select(StaffRole).where(StaffRole.staff_id == staff.id, StaffRole.role == code.role,
                                            StaffRole.class_id.is_(None) if klass is None
                                            else StaffRole.class_id == klass.id,
                                            StaffRole.district_id == code.district_id))
    if same is None:
        role = StaffRole(staff_id=staff.id, role=code.role, class_id=code.class_id, district_id=code.district_id)
        s.add(role)
        ledger.append(s, "staff_role.granted", actor=ctx.actor.label, source=ctx.message.source, subject=role,
                      class_code=class_code, data={"bind_code_id": code.id})
    code.used_at, code.used_by_identity_id = ctx.now, ident.id
    _attempt(ctx, True)
    role_name = texts.ROLE_NAMES[code.role]
    if klass is not None:
        scope = texts.BIND_SCOPE_CLASS.format(code=klass.code, name=klass.name)
    else:
        district = s.get(District, code.district_id) if code.district_id else None
        scope = texts.BIND_SCOPE_DISTRICT.format(name=district.name if district else texts.BIND_SCOPE_CITY)
    return texts.BIND_STAFF_DONE.format(name=staff.name, role=role_name, scope=scope)


# --- groups -------------------------------------------------------------------------------------


def _class_named(s: Session, args: str, here: Klass | None) -> Klass | None:
    tokens = args.split()
    return s.scalar(select(Klass).where(Klass.code == tokens[0])) if tokens else None


@command("绑定班级", roles=STAFF, where=IN_GROUP, acts_on=_class_named)
def bind_group(ctx: Ctx) -> str:
    """绑定班级：班主任或督查人员在班级群里 @我 发送“绑定班级 班级编号”"""
    s, msg = ctx.session, ctx.message
    tokens = ctx.args.split()
    if not tokens:
        raise Refusal(texts.BIND_GROUP_USAGE)
    klass = ctx.klass
    if klass is None or klass.code != tokens[0]:
        raise Refusal(class_texts.NO_SUCH_CLASS.format(code=tokens[0]))
    here = s.scalar(select(Group).where(Group.open_conversation_id == msg.conversation_id))
    if here is not None:
        bound = s.get(Klass, here.class_id)
        if bound.id == klass.id:
            raise Refusal(texts.GROUP_ALREADY_THIS.format(code=klass.code))
        raise Refusal(texts.GROUP_ALREADY_OTHER.format(code=bound.code, name=bound.name))
    elsewhere = s.scalar(select(Group).where(Group.class_id == klass.id))
    if elsewhere is not None:
        raise Refusal(texts.CLASS_HAS_GROUP.format(code=klass.code, title=elsewhere.title or elsewhere.open_conversation_id))
    group = Group(open_conversation_id=msg.conversation_id, title=msg.conversation_title, class_id=klass.id,
                  bound_by=ctx.actor.label, bound_at=ctx.now)
    s.add(group)
    ledger.append(s, "group.bound", actor=ctx.actor.label, source=msg.source, subject=group, class_code=klass.code)
    sessions = s.scalars(select(ClassSession).where(ClassSession.class_id == klass.id)
                         .order_by(ClassSession.position))
    spans = "，".join(f"{x.name} {x.start_time:%H:%M}–{x.end_time:%H:%M}" for x in sessions)
    reply = texts.GROUP_BOUND_DONE.format(code=klass.code, name=klass.name, start=day_text(klass.start_date),
                                          end=day_text(klass.end_date), sessions=spans)
    if not counts_for_subsidy(klass):
        reply += texts.GROUP_BOUND_NOT_APPROVED
    return reply
