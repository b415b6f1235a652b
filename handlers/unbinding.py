"""Undoing a binding made in error: a group bound to the wrong class, a trainee bound from the wrong account.

Both are corrections (R05): a named person gives a reason, the ledger keeps the binding and its undoing,
and the people affected are told in the chat where DingTalk lets the bot speak first — a group always
(``groupMessages/send``), a person 1:1 only when DingTalk gave a staff id (``oToMessages/batchSend``);
accounts outside the organisation cannot be messaged first, and the result says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from handlers import outbox
from handlers.texts import chat as texts
from handlers.errors import Refusal
from handlers.registry import CLASS_TEACHER, IN_GROUP, Ctx, command
from storage import ledger
from storage.models import DingTalkIdentity, Enrollment, Group, Klass, Person


@dataclass(frozen=True)
class Unbound:
    """What was undone: accounts or the group, and whom the bot could not tell itself."""

    what: str
    told: int
    not_reachable: int


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise Refusal(texts.UNBIND_NEEDS_REASON)
    return reason


def unbind_group(s: Session, klass: Klass, *, reason: str, actor: str, source: str, robot_code: str | None,
                 now: datetime) -> Unbound:
    """The class's group is no longer its group: the bot stops counting it for this class; it may be bound again."""
    reason = _reason(reason)
    group = s.scalar(select(Group).where(Group.class_id == klass.id))
    if group is None:
        raise Refusal(texts.UNBIND_NO_GROUP.format(code=klass.code))
    outbox.queue_group_message(s, group.open_conversation_id,
                               texts.UNBIND_GROUP_NOTICE.format(code=klass.code, name=klass.name, reason=reason),
                               dedupe_key=f"unbind-group:{group.id}:{now.isoformat()}", robot_code=robot_code,
                               due=now)
    s.delete(group)
    ledger.append(s, "group.unbound", actor=actor, source=source, subject=group, class_code=klass.code,
                  reason=reason, deleted=True)
    return Unbound(group.title or group.open_conversation_id, told=1, not_reachable=0)


def unbind_person(s: Session, klass: Klass, name: str, *, reason: str, actor: str, source: str,
                  robot_code: str | None, now: datetime) -> Unbound:
    """The trainee ``name`` of ``klass`` is unbound from every DingTalk account bound to them; they bind again
    from the right account with 绑定 姓名 身份证号后6位."""
    reason = _reason(reason)
    people = list(s.scalars(select(Person).join(Enrollment, Enrollment.person_id == Person.id)
                            .where(Enrollment.class_id == klass.id, Person.name == name)))
    if not people:
        raise Refusal(texts.UNBIND_NO_TRAINEE.format(name=name, code=klass.code))
    if len(people) > 1:
        raise Refusal(texts.UNBIND_SEVERAL.format(name=name, count=len(people)))
    identities = list(s.scalars(select(DingTalkIdentity).where(DingTalkIdentity.person_id == people[0].id)))
    if not identities:
        raise Refusal(texts.UNBIND_NOT_BOUND.format(name=name))
    told = 0
    for ident in identities:
        ident.person_id, ident.bound_at = None, None
        ledger.append(s, "identity.unbound", actor=actor, source=source, subject=ident, class_code=klass.code,
                      reason=reason)
        if ident.staff_user_id:
            outbox.queue_reply(s, key=f"unbind-person:{ident.id}:{now.isoformat()}", conversation_id=f"oto:{ident.staff_user_id}",
                               conversation_type="1", text=texts.UNBIND_PERSON_NOTICE.format(name=name, reason=reason),
                               webhook=None, webhook_expires=None, staff_user_id=ident.staff_user_id,
                               robot_code=robot_code, due=now)
            told += 1
    return Unbound(name, told=told, not_reachable=len(identities) - told)


@command("解绑", roles=CLASS_TEACHER, where=IN_GROUP)
def unbind(ctx: Ctx) -> str:
    """解绑：班主任发送“解绑 姓名 理由”，解除学员绑定错误的钉钉账号，本人再用正确的账号绑定"""
    parts = ctx.args.split(maxsplit=1)
    if len(parts) < 2:
        raise Refusal(texts.UNBIND_USAGE)
    done = unbind_person(ctx.session, ctx.klass, parts[0], reason=parts[1], actor=ctx.actor.label,
                         source=ctx.message.source, robot_code=ctx.message.robot_code, now=ctx.now)
    return texts.UNBIND_DONE.format(name=done.what, at=ctx.now) + (
        texts.UNBIND_TELL_IN_PERSON if done.not_reachable else "")
