"""One message, one unit of work: persist first, then act, then queue the replies.

``receive`` stores the raw message (a duplicate ``msgId`` stops here: no second record, no second
reply), resolves who and where, checks the command's roles (the only place roles are checked),
runs the handler inside a savepoint — so a refusal or a bug leaves no half-written rows while the
raw message stays stored — and queues the replies in the outbox. The caller commits.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import handlers.commands  # noqa: F401  (registers every command)
from handlers import outbox, texts
from handlers.errors import Refusal
from handlers.identity import Actor, for_class, resolve
from handlers.messages import Incoming, Reply
from handlers.photos import PHOTO_WORD
from handlers.registry import IN_GROUP, IN_PRIVATE, REGISTRY, Command, Ctx, Role
from storage import ledger
from storage.ledger import canonical
from storage.models import InboundMessage, Klass

log = logging.getLogger(__name__)
COUNTERS: Counter[str] = Counter()  # received, duplicate, refused, failed
HANDLED_TYPES = ("text", "picture", "richText")
_DIGITS = re.compile(r"\d{4,}[\dXx]?")  # ID numbers, phone numbers: never echoed back


@dataclass(frozen=True)
class Outcome:
    duplicate: bool
    replies: tuple[Reply, ...] = ()


def receive(s: Session, msg: Incoming, now: datetime, tz: ZoneInfo) -> Outcome:
    if not _store(s, msg):
        COUNTERS["duplicate"] += 1
        return Outcome(duplicate=True)
    COUNTERS["received"] += 1
    try:
        with s.begin_nested():
            replies = _dispatch(s, msg, now, tz)
    except Refusal as exc:
        COUNTERS["refused"] += 1
        replies = [Reply(str(exc))]
    except Exception:
        COUNTERS["failed"] += 1
        log.exception("handler failed for message %s", msg.msg_id)
        replies = [Reply(texts.SORRY)]
    outbox.queue_replies(s, msg, replies)
    return Outcome(duplicate=False, replies=tuple(replies))


def _store(s: Session, msg: Incoming) -> bool:
    """Store the raw message; False if this ``msgId`` was stored before."""
    row = InboundMessage(msg_id=msg.msg_id, conversation_id=msg.conversation_id,
                         conversation_type=msg.conversation_type, sender_id=msg.sender_id,
                         msgtype=msg.msgtype, sent_at=msg.created_at, payload=canonical(msg.raw))
    try:
        with s.begin_nested():
            s.add(row)
            s.flush()
    except IntegrityError:
        return False
    ledger.append(s, "message.received", actor="bot", source=msg.source, subject=row)
    return True


def _dispatch(s: Session, msg: Incoming, now: datetime, tz: ZoneInfo) -> list[Reply]:
    now = now.astimezone(tz)
    actor, klass = resolve(s, msg, now.date())
    if msg.msgtype not in HANDLED_TYPES:
        raise Refusal(texts.UNSUPPORTED_MESSAGE)
    if msg.image_codes:
        outbox.queue_downloads(s, msg)
    cmd, args = REGISTRY.resolve(msg.text)
    if cmd is None and msg.image_codes:
        if actor.staff is not None and Role.TRAINEE not in actor.roles:
            return [Reply(texts.PICTURE_RECEIVED)]  # a teacher's slide, not a daily photo
        cmd, args = REGISTRY.resolve(PHOTO_WORD)  # R08: a picture with no command is the daily photo
    if cmd is None:
        raise Refusal(texts.UNKNOWN_COMMAND.format(text=_DIGITS.sub("****", msg.text[:20])))
    finder = getattr(cmd.func, "acts_on", None)
    if finder is not None:  # the command names the class it acts on: roles are checked there
        target = finder(s, args, klass)
        if target is not None and (klass is None or target.id != klass.id):
            klass = target
            actor = for_class(s, actor, klass)
    _authorise(cmd, msg, actor, klass)
    result = cmd.func(Ctx(session=s, message=msg, actor=actor, klass=klass, now=now, args=args))
    return [Reply(t) for t in ([result] if isinstance(result, str) else result)]


def _authorise(cmd: Command, msg: Incoming, actor: Actor, klass: Klass | None) -> None:
    """Where and by whom a command may be used: the one place roles are checked."""
    if cmd.where == IN_GROUP and not msg.in_group:
        raise Refusal(texts.ONLY_IN_GROUP.format(word=cmd.word))
    if cmd.where == IN_PRIVATE and msg.in_group:
        raise Refusal(texts.ONLY_IN_PRIVATE.format(word=cmd.word))
    if cmd.roles & actor.roles:
        return
    if actor.person is None and actor.staff is None:
        raise Refusal(texts.NOT_BOUND)
    if msg.in_group and klass is None:
        raise Refusal(texts.GROUP_NOT_BOUND)
    if Role.TRAINEE in cmd.roles and actor.person is not None:
        raise Refusal(texts.NOT_IN_THIS_CLASS)
    raise Refusal(texts.ROLE_REQUIRED.format(word=cmd.word, roles="、".join(
        texts.ROLE_NAMES[r] for r in sorted(cmd.roles))))
