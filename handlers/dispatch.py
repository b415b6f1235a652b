"""The one way in: every event that acts — a chat message, a finished download, a scheduler job —
passes through ``Dispatcher.dispatch``, inside the caller's unit of work:

    dispatcher = Dispatcher(build_registry(), tz=settings.timezone, files=files)   # once, at start-up
    with factory.begin() as s:
        dispatcher.dispatch(s, MessageEvent(incoming))         # bot: a message
        dispatcher.dispatch(s, DownloadEvent.from_row(body, sha256))  # bot: a picture is downloaded
        dispatcher.dispatch(s, JobEvent("roll_call", code, slot, now))  # scheduler: a job

For every event: find the command (a message's word, the command a download was queued for, a job's
kind); look up who acts and in which class (``handlers.identity.lookup``, or the scheduler for a job);
check the command's roles there (``_authorise``: the only place roles are checked); run the handler in
a savepoint, so a refusal or a bug leaves no half-written rows; turn a ``Refusal`` into its text and
any other exception into an apology (logged with its traceback; a job's are only logged); count it
all in ``counters`` (when its transaction commits); queue the replies in the outbox. A job that acts must
first claim its (job, class, slot) so that a re-run never acts twice. A message is stored first: a duplicate
``msgId`` stops there (no second record, no second reply) and the raw message stays stored whatever the
handler does. The caller commits.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
from collections import Counter
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import event, select, update
from sqlalchemy.orm import Session, SessionTransaction

from handlers import homework, identity, outbox
from handlers.texts import chat as texts
from handlers.texts import classes as class_texts
from handlers.texts import supervision as supervision_texts
from handlers.errors import Refusal, RunAlone
from handlers.identity import Actor, Seen, lookup, seen
from handlers.messages import DownloadEvent, Event, Incoming, JobEvent, MessageEvent, Reply
from handlers.photos import PHOTO_WORD
from handlers.registry import IN_GROUP, IN_PRIVATE, Command, Ctx, Registry, Role, Services
from storage import ledger, rows
from storage.files import FileStore
from storage.ledger import canonical
from storage.models import Group, InboundMessage, Klass

log = logging.getLogger(__name__)
_DIGITS = re.compile(r"\d{4,}[\dXx]?")  # ID numbers, phone numbers: never echoed back
_INBOUND = InboundMessage.__table__
_COUNTS = "dispatch_counts"  # Session.info: {dispatcher: Counter} of this transaction, added at its commit
_PRESTORED = "dispatch_prestored"  # Session.info: msgId → its row stored by prepare() (None: taken before)


@dataclass(frozen=True)
class Outcome:
    duplicate: bool = False
    replies: tuple[Reply, ...] = ()


class Dispatcher:
    """Runs events against one registry; ``counters`` counts what happened (by name: ``received``,
    ``duplicate``, ``downloads``, ``jobs``, ``refused``, ``failed``) in transactions that committed: a message
    that runs again (its batch failed, or ``RunAlone``) counts once."""

    def __init__(self, registry: Registry, *, tz: ZoneInfo, files: FileStore | None = None, signer=None,
                 optimistic: bool = False) -> None:
        """``optimistic`` (the bot's group committer): a message's handler runs without a savepoint; one
        that refuses or fails after writing raises ``RunAlone`` and runs again, alone, with one."""
        self.registry = registry
        self.optimistic = optimistic
        self._careful: set[str] = set()  # msgIds to run again with a savepoint (optimistic only)
        self.tz = tz
        self.services = Services(registry, tz, files, signer)
        self.counters: Counter[str] = Counter()
        self._counters_lock = threading.Lock()  # the committer and the senders (finished downloads) commit side by side

    def _count(self, s: Session, name: str) -> None:
        s.info.setdefault(_COUNTS, {}).setdefault(self, Counter())[name] += 1

    def _add(self, counts: Counter[str]) -> None:
        with self._counters_lock:
            self.counters.update(counts)

    def dispatch(self, s: Session, event: Event) -> Outcome:
        """Handle one event in the caller's transaction; the replies queued (the caller commits)."""
        found = None
        if isinstance(event, MessageEvent):
            found = seen(s, event.message)  # the group's class and the sender, read once for both steps
            if not _store(s, event.message, found.klass):
                self._count(s, "duplicate")
                return Outcome(duplicate=True)
            self._count(s, "received")
        elif isinstance(event, DownloadEvent):
            self._count(s, "downloads")
        elif isinstance(event, JobEvent):
            self._count(s, "jobs")
        else:
            raise TypeError(f"not an event: {event!r}")
        who: dict[str, str] = {}  # the sender's name on the roster, once looked up (for digests)
        try:
            if self.optimistic and isinstance(event, MessageEvent) and event.message.msg_id not in self._careful:
                replies = self._unguarded(s, event, who, found)
            else:
                if isinstance(event, MessageEvent):
                    self._careful.discard(event.message.msg_id)
                with s.begin_nested():
                    replies = self._run(s, event, who, found)
        except RunAlone:
            raise
        except Refusal as exc:  # a job's refusal is logged: nobody asked, so nobody is answered
            self._count(s, "refused")
            replies = [] if isinstance(event, JobEvent) else [Reply(str(exc), attention=True)]
            if isinstance(event, JobEvent):
                log.info("job %s refused: %s", event.source, exc)
        except Exception:
            self._count(s, "failed")
            log.exception("handler failed for %s", _describe(event))
            replies = [] if isinstance(event, JobEvent) else [Reply(texts.SORRY, attention=True)]
        _queue(s, event, replies, who.get("name"))
        return Outcome(replies=tuple(replies))

    def _unguarded(self, s: Session, event: MessageEvent, who: dict[str, str], found: Seen | None) -> list[Reply]:
        """The handler without a savepoint (issue 13: two statements per message saved). A refusal before
        any write is answered as usual; one after a write, or any other exception, leaves rows nothing
        can take back alone: ``RunAlone``, and the message runs again with a savepoint."""
        since = rows.mark(s)
        try:
            return self._run(s, event, who, found)
        except Refusal:
            if rows.wrote_since(s, since):
                self._careful.add(event.message.msg_id)
                raise RunAlone(event.message.msg_id) from None
            raise
        except Exception as exc:
            self._careful.add(event.message.msg_id)
            raise RunAlone(event.message.msg_id) from exc

    def download_finished(self, s: Session, body: dict, sha256: str) -> None:
        """The outbox sender's hook: a download row's picture is in the file store. The bytes are read
        first, outside the handler: should another process have removed them meanwhile (it checked the
        very same picture and discarded the raw download), this raises and the sender fetches it again."""
        files = self.services.files
        self.dispatch(s, DownloadEvent.from_row(body, sha256, files.get(sha256) if files is not None else None))

    # -- per kind of event ------------------------------------------------------------------------
    def _run(self, s: Session, event: Event, who: dict[str, str], found: Seen | None = None) -> list[Reply]:
        if isinstance(event, JobEvent):
            return self._job(s, event)
        msg, now = event.message, event.now.astimezone(self.tz)
        actor, klass = lookup(s, msg, now.date(), found=found)
        named = actor.person or actor.staff
        if named is not None:
            who["name"] = named.name
        if isinstance(event, DownloadEvent):
            cmd, args = self.registry.get(event.word), ""
            if cmd is None or cmd.on_download is None:
                return []  # a picture no command asked for (a teacher's slide): kept, nothing to do
            func = cmd.on_download
        else:
            if not msg.supported:
                raise Refusal(texts.UNSUPPORTED_MESSAGE)
            cmd, args = self.registry.resolve(msg.text)
            if cmd is None and msg.file_code:  # files come only 1:1: homework right after 交作业 (R10)
                if msg.in_group or not homework.follows_submission(s, actor, now):
                    raise Refusal(supervision_texts.FILE_NOT_EXPECTED.format(name=msg.file_name or supervision_texts.FILE_UNNAMED,
                                                                 minutes=homework.FOLLOW_UP_MINUTES))
                cmd, args = self.registry.get(homework.SUBMIT_WORD), ""
            if cmd is None and msg.image_codes:
                if actor.staff is not None and Role.TRAINEE not in actor.roles:
                    # a teacher's slide, or the screenshots following a staff command (检查, R14)
                    follows = next((c.word for c in self.registry.commands
                                    if c.pictures_after is not None and c.pictures_after(s, actor, now)), None)
                    outbox.queue_downloads(s, msg, follows)
                    return [Reply(texts.PICTURE_RECEIVED)]
                word = PHOTO_WORD  # R08: a picture alone is the daily photo …
                if not msg.in_group and homework.follows_submission(s, actor, now):
                    word = homework.SUBMIT_WORD  # … unless it follows 交作业 in the 1:1 chat (R10)
                cmd, args = self.registry.get(word), ""
            if cmd is None:
                raise Refusal(texts.UNKNOWN_COMMAND.format(text=_DIGITS.sub("****", msg.text[:20])))
            func = cmd.func
        if cmd.acts_on is not None:  # the command names the class it acts on: roles are checked there
            target = cmd.acts_on(s, args, klass)
            if target is not None and (klass is None or target.id != klass.id):
                actor, klass = lookup(s, msg, now.date(), target)
        _authorise(cmd, msg, actor, klass)
        if isinstance(event, MessageEvent) and msg.download_codes:
            outbox.queue_downloads(s, msg, cmd.word)
        return _replies(func(Ctx(session=s, message=msg, actor=actor, klass=klass, now=now, args=args,
                                 event=event, services=self.services)))

    def _job(self, s: Session, event: JobEvent) -> list[Reply]:
        cmd = self.registry.job(event.kind)
        if cmd is None:
            raise LookupError(f"no handler for job {event.kind!r} (list it in build_registry())")
        klass = None
        if event.class_code is not None:
            klass = s.scalar(select(Klass).where(Klass.code == event.class_code))
            if klass is None:
                raise Refusal(class_texts.NO_SUCH_CLASS.format(code=event.class_code))
        actor = Actor.scheduler(event.kind)
        if not cmd.roles & actor.roles:
            raise Refusal(texts.ROLE_REQUIRED.format(word=cmd.word, roles="、".join(
                texts.ROLE_NAMES[r] for r in sorted(cmd.roles))))
        return _replies(cmd.func(Ctx(session=s, message=None, actor=actor, klass=klass,
                                     now=event.now.astimezone(self.tz), args=event.slot, event=event,
                                     services=self.services)))


def _replies(result: str | list[str | Reply]) -> list[Reply]:
    return [t if isinstance(t, Reply) else Reply(t) for t in ([result] if isinstance(result, str) else result)]


def _describe(event: Event) -> str:
    return event.source if isinstance(event, JobEvent) else f"{type(event).__name__} {event.message.msg_id}"


def prepare(s: Session, messages: list[Incoming]) -> None:
    """The bot's group committer's ``prepare`` for a batch: read its senders (``identity.prefetch``), then
    store the raw messages of the senders it read in one statement (issue 13: one INSERT a message was
    the most expensive of a 签到's statements). Each message's unit then takes its row in ``_store``,
    where its event is recorded in its turn, as before: the ledger, the replies and the duplicates
    (a ``msgId`` stored before, or twice in the batch: the later copy takes the usual way) are as if each
    unit had stored its own message."""
    identity.prefetch(s, messages)
    classes = identity.prefetched_classes(s)
    values: dict[str, dict] = {}
    for msg in messages:
        if msg.in_group and (msg.conversation_id, msg.sender_id) in classes and msg.msg_id not in values:
            values[msg.msg_id] = _inbound(msg, classes[msg.conversation_id, msg.sender_id])
    if len(values) > 1:
        stored = rows.insert_rows(s, _INBOUND, list(values.values()), "msg_id")
        s.info[_PRESTORED] = {msg_id: stored.get(msg_id) for msg_id in values}


def _inbound(msg: Incoming, klass: Klass | None) -> dict:
    """The raw message's row: in a class's group (``klass``) it belongs to that class (and its event to the
    class's ledger chain)."""
    return {"msg_id": msg.msg_id, "conversation_id": msg.conversation_id,
            "class_id": klass.id if klass is not None else None, "conversation_type": msg.conversation_type,
            "sender_id": msg.sender_id, "msgtype": msg.msgtype, "sent_at": msg.created_at,
            "payload": canonical(msg.raw)}


def _store(s: Session, msg: Incoming, klass: Klass | None) -> bool:
    """Store the raw message; False if this ``msgId`` was stored before. A message in a class's group
    (``klass``) belongs to that class (and its event to the class's ledger chain). One Core statement,
    no ORM object: nothing in the unit of work reads the row back — or none, when ``prepare`` stored it
    with the batch's (its class set right if a unit before it in the batch changed the group's class)."""
    prestored = s.info.get(_PRESTORED)
    if prestored is not None and msg.msg_id in prestored:
        row = prestored.pop(msg.msg_id)  # None: the msgId was taken before the batch
        class_id = klass.id if klass is not None else None
        if row is not None and row["class_id"] != class_id:  # the group was bound (or unbound) earlier in it
            s.connection().execute(update(_INBOUND).where(_INBOUND.c.id == row["id"]).values(class_id=class_id))
            row = {**row, "class_id": class_id}
    else:
        row = rows.insert_row(s, _INBOUND, _inbound(msg, klass))
    if row is None:  # one statement, no savepoint: the msgId is taken
        return False
    ledger.append_inserted(s, "message.received", actor="bot", source=msg.source, table=_INBOUND, row=row,
                           chain=row["class_id"] or ledger.CITY)
    return True


def _queue(s: Session, event: Event, replies: list[Reply], name: str | None) -> None:
    """Replies to a message (or to the message a picture came with) answer it, naming the sender (by
    their roster name when known); a job's go to its class's group, once per (kind, class, slot)."""
    if isinstance(event, MessageEvent):
        outbox.queue_replies(s, event.message, replies, name=name)
    elif isinstance(event, DownloadEvent):
        digest = hashlib.sha256(event.download_code.encode()).hexdigest()[:16]
        outbox.queue_replies(s, event.message, replies, key=f"photo:{event.message.msg_id}:{digest}", name=name)
    elif replies and event.class_code is not None:
        group = s.scalar(select(Group).join(Klass, Klass.id == Group.class_id)
                         .where(Klass.code == event.class_code))
        if group is None:
            log.info("job %s: class has no group bound, %d message(s) not sent", event.source, len(replies))
            return
        for n, reply in enumerate(replies):
            outbox.queue_group_message(s, group.open_conversation_id, reply.text, f"{event.source}:{n}", None,
                                       due=event.now)


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


@event.listens_for(Session, "after_commit")
def _add_counts(s: Session) -> None:
    """The transaction's counts go to their dispatchers when it commits (a savepoint's release fires this too:
    not then)."""
    if s.get_nested_transaction() is None:
        for dispatcher, counts in s.info.pop(_COUNTS, {}).items():
            dispatcher._add(counts)


@event.listens_for(Session, "after_transaction_end")
def _drop_counts(s: Session, transaction: SessionTransaction) -> None:
    """A transaction that ended without its commit (rolled back) counted nothing."""
    if transaction.parent is None:
        s.info.pop(_COUNTS, None)
