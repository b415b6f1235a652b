"""Who wrote a message and where: DingTalk sender → person or staff, conversation → class."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Boolean, Row, and_, bindparam, event, or_, select
from sqlalchemy.orm import Session

from handlers.messages import Incoming
from handlers.registry import Role
from storage import ledger, rows
from storage.models import DingTalkIdentity, Enrollment, Group, Klass, Person, Staff, StaffRole


@dataclass(frozen=True)
class Actor:
    """Who acts: a DingTalk sender (with the person or staff member bound to them), or a scheduler job."""

    identity: DingTalkIdentity | None  # None: a scheduler job
    person: Person | None
    staff: Staff | None
    enrollment: Enrollment | None  # the person's place in the class at hand
    roles: frozenset[Role]
    job: str | None = None

    @classmethod
    def scheduler(cls, kind: str) -> Actor:
        return cls(None, None, None, None, frozenset({Role.SCHEDULER}), job=kind)

    @property
    def label(self) -> str:
        """How the ledger names this actor."""
        if self.job is not None:
            return f"job:{self.job}"
        if self.staff is not None:
            return f"staff:{self.staff.id}:{self.staff.name}"
        if self.person is not None:
            return f"person:{self.person.id}:{self.person.name}"
        return f"dingtalk:{self.identity.sender_id}"

    @property
    def name(self) -> str:
        if self.staff or self.person:
            return (self.staff or self.person).name
        return self.identity.nick if self.identity is not None else self.job or ""


def identity_for(s: Session, msg: Incoming, ident: DingTalkIdentity | None = None) -> DingTalkIdentity:
    """The sender's identity row (``ident``: already read), created on first sight (and its staffId kept
    once known)."""
    if ident is None:
        ident = s.scalar(select(DingTalkIdentity).where(DingTalkIdentity.sender_id == msg.sender_id))
    if ident is None:
        ident = DingTalkIdentity(sender_id=msg.sender_id, staff_user_id=msg.sender_staff_id, nick=msg.sender_nick)
        s.add(ident)
        ledger.append(s, "identity.seen", actor="bot", source=msg.source, subject=ident)
    elif msg.sender_staff_id and ident.staff_user_id != msg.sender_staff_id:
        ident.staff_user_id = msg.sender_staff_id
        ledger.append(s, "identity.staff_id", actor="bot", source=msg.source, subject=ident)
    return ident


@dataclass(frozen=True)
class Seen:
    """What one query found about a message before it is stored and handled (issue 13: few statements per
    message): the class of its group, and the sender's identity with its person and staff member loaded
    and the person's enrollment in that class. ``identity`` None: a sender not seen before."""

    klass: Klass | None
    identity: DingTalkIdentity | None
    enrollment: Enrollment | None
    person: Person | None = None  # held here: the session keeps loaded objects only while they are referenced
    staff: Staff | None = None


def _seen_query(senders, known_group: bool = False):
    """The sender's identity with its person and staff member, the class of the group ``conversation_id``
    (when ``in_group``) and the person's enrollment there, for the senders ``senders`` selects.
    ``known_group``: for a group whose class the transaction has read already, the group's class id instead
    of the class's 24 columns (issue 13: a third of a 签到's result columns, for a class loaded four times in
    five)."""
    stmt = (select(DingTalkIdentity, Person, Staff, Group.class_id if known_group else Klass, Enrollment)
            .select_from(DingTalkIdentity)
            .outerjoin(Person, Person.id == DingTalkIdentity.person_id)
            .outerjoin(Staff, Staff.id == DingTalkIdentity.staff_id))
    if known_group:
        stmt = stmt.outerjoin(Group, Group.open_conversation_id == bindparam("conversation_id"))
        class_id = Group.class_id
    else:
        stmt = (stmt.outerjoin(Group, and_(bindparam("in_group", type_=Boolean),
                                           Group.open_conversation_id == bindparam("conversation_id")))
                .outerjoin(Klass, Klass.id == Group.class_id))
        class_id = Klass.id
    return (stmt.outerjoin(Enrollment, and_(Enrollment.class_id == class_id, Enrollment.person_id == Person.id,
                                            Enrollment.removed.is_(False)))
            .where(senders))


# Built once, run with each message's values: building it per message was a tenth of a 签到's CPU time.
_SEEN = _seen_query(DingTalkIdentity.sender_id == bindparam("sender_id"))
# The same for the senders of a batch in one group (issue 13: one statement for a batch, see prefetch).
_SEEN_SENDERS = _seen_query(DingTalkIdentity.sender_id.in_(bindparam("sender_ids", expanding=True)))
_SEEN_IN_KNOWN_GROUP = _seen_query(DingTalkIdentity.sender_id == bindparam("sender_id"), known_group=True)
_GROUP_CLASSES = "seen_group_classes"  # Session.info: conversation id → its class, read in this transaction
_PREFETCHED = "seen_prefetched"  # Session.info: (tables mark, (conversation id, sender id) → _SEEN's row)
# What _SEEN reads: a statement that may write to one of them makes the prefetched rows stale (staff_roles is
# not here: nothing prefetched depends on it, lookup() reads the roles each time).
_SEEN_TABLES = frozenset(model.__tablename__ for model in (DingTalkIdentity, Person, Staff, Group, Klass, Enrollment))


def prefetch(s: Session, messages: Iterable[Incoming]) -> None:
    """Read what :func:`seen` reads for the senders of a batch, one statement per group with two senders
    or more, before the batch's units run (in the group committer's ``prepare``, ``handlers.dispatch.prepare``;
    issue 13: seen()'s own statement per message was over a third of a 签到's CPU, most of it the fixed
    cost of a statement).

    ``seen()`` uses these rows only while nothing in the transaction may have written to the tables they
    come from (``_SEEN_TABLES``); after such a write, or a savepoint rolled back, it reads as before. A
    sender not found (new, or a 1:1 chat) is read by ``seen()`` itself. Another transaction committing
    between this read and a unit is no different from it committing just after the batch: the batch's
    messages had all arrived before."""
    senders: dict[str, set[str]] = {}
    for msg in messages:
        if msg.in_group:
            senders.setdefault(msg.conversation_id, set()).add(msg.sender_id)
    groups = {conversation_id: ids for conversation_id, ids in senders.items() if len(ids) > 1}
    if not groups:
        return  # one sender a group: seen()'s own statement costs the same
    since = rows.mark_tables(s, _SEEN_TABLES)
    found: dict[tuple[str, str], Row] = {}
    for conversation_id, ids in groups.items():
        for row in s.execute(_SEEN_SENDERS, {"in_group": True, "conversation_id": conversation_id,
                                             "sender_ids": sorted(ids)}):
            found.setdefault((conversation_id, row[0].sender_id), row)
    if found:
        s.info[_PREFETCHED] = (since, found)


def prefetched_classes(s: Session) -> dict[tuple[str, str], Klass | None]:
    """The group's class :func:`prefetch` found for each (conversation id, sender id) it read, as
    :func:`seen` would give it now (empty once the rows are dropped or when none were read)."""
    prefetched = s.info.get(_PREFETCHED)
    return {key: row[3] for key, row in prefetched[1].items()} if prefetched is not None else {}


def _prefetched(s: Session, msg: Incoming) -> Row | None:
    """The row :func:`prefetch` read for this group message's sender, if the tables it comes from were not
    written since (the rows are dropped then). Pending ORM changes are flushed first, as seen()'s own
    statement would (autoflush): a change to an identity, a person… counts as the write it becomes."""
    prefetched = s.info.get(_PREFETCHED)
    row = prefetched[1].get((msg.conversation_id, msg.sender_id)) if prefetched is not None else None
    if row is None:
        return None
    if s.autoflush:
        s.flush()
    if rows.wrote_to_since(s, _SEEN_TABLES, prefetched[0]):
        del s.info[_PREFETCHED]
        return None
    return row


def seen(s: Session, msg: Incoming) -> Seen:
    """The group's class and the sender (see :class:`Seen`) in one query, or none when :func:`prefetch`
    read them for the batch; a new sender costs a second. A group seen before in the transaction keeps the
    class object read then (the session's own, as the identity map would give it), once the query says
    the group still belongs to that class."""
    known = s.info.setdefault(_GROUP_CLASSES, {})
    row = _prefetched(s, msg) if msg.in_group else None  # the batch's read: the row _SEEN would give
    if row is None:
        klass = known.get(msg.conversation_id) if msg.in_group else None
        if klass is not None:
            row = s.execute(_SEEN_IN_KNOWN_GROUP, {"conversation_id": msg.conversation_id,
                                                   "sender_id": msg.sender_id}).first()
            if row is not None and row[3] == klass.id:
                ident, person, staff, _, enrollment = row
                return Seen(klass, ident, enrollment, person, staff)
        row = s.execute(_SEEN, {"in_group": msg.in_group, "conversation_id": msg.conversation_id,
                                "sender_id": msg.sender_id}).first()
    if row is None:
        klass = class_of_group(s, msg.conversation_id) if msg.in_group else None
        ident = enrollment = person = staff = None
    else:
        ident, person, staff, klass, enrollment = row  # person and staff now in the session: get() is free
    if klass is not None:
        known[msg.conversation_id] = klass
    return Seen(klass, ident, enrollment, person, staff)


@event.listens_for(Session, "after_commit")
def _forget_group_classes(session: Session) -> None:
    """The transaction committed (a savepoint released keeps them: the units of one group commit)."""
    if not session.in_nested_transaction():
        session.info.pop(_GROUP_CLASSES, None)
        session.info.pop(_PREFETCHED, None)


@event.listens_for(Session, "after_soft_rollback")
def _forget_group_classes_rolled_back(session: Session, _previous) -> None:
    """A savepoint rolled back too: what was read may have been written and taken back since."""
    session.info.pop(_GROUP_CLASSES, None)
    session.info.pop(_PREFETCHED, None)


def class_of_group(s: Session, conversation_id: str) -> Klass | None:
    return s.scalar(select(Klass).join(Group, Group.class_id == Klass.id)
                    .where(Group.open_conversation_id == conversation_id))


def current_enrollment(s: Session, person_id: int, today: date) -> Enrollment | None:
    """In a 1:1 chat: the class running today, else the next to start, else the last one."""
    rows = s.execute(select(Enrollment, Klass).join(Klass, Klass.id == Enrollment.class_id)
                     .where(Enrollment.person_id == person_id, Enrollment.removed.is_(False))
                     .order_by(Klass.start_date)).all()
    running = [e for e, k in rows if k.start_date <= today <= k.end_date]
    upcoming = [e for e, k in rows if k.start_date > today]
    return (running or upcoming or [e for e, _ in rows[-1:]] or [None])[0]


def lookup(s: Session, msg: Incoming, today: date, klass: Klass | None = None,
           found: Seen | None = None) -> tuple[Actor, Klass | None]:
    """Who sent ``msg`` and the class it acts on, with their roles there: the one identity lookup,
    for a message and for a download of its picture alike.

    The class is ``klass`` when given (a command that names its class, ``Command.acts_on``), else the
    group's class, else — in a 1:1 chat — the class the person is in on ``today``. ``found``: what
    :func:`seen` read of this message in this unit of work (not re-read).
    """
    use = found is not None and klass is None
    ident = identity_for(s, msg, found.identity if use else None)
    person = s.get(Person, ident.person_id) if ident.person_id else None
    staff = s.get(Staff, ident.staff_id) if ident.staff_id else None
    enrollment = None
    if use and msg.in_group:
        klass = found.klass
        enrollment = found.enrollment
    elif klass is None and msg.in_group:
        klass = class_of_group(s, msg.conversation_id)
    elif klass is None and person is not None:
        enrollment = current_enrollment(s, person.id, today)
        klass = s.get(Klass, enrollment.class_id) if enrollment else None
    if person is not None and klass is not None and enrollment is None:
        enrollment = s.scalar(select(Enrollment).where(Enrollment.class_id == klass.id,
                                                       Enrollment.person_id == person.id,
                                                       Enrollment.removed.is_(False)))
    roles = {Role.ANYONE}
    if enrollment is not None:
        roles.add(Role.TRAINEE)
    if staff is not None:
        roles |= _staff_roles(s, staff, klass)
    return Actor(ident, person, staff, enrollment, frozenset(roles)), klass


def _staff_roles(s: Session, staff: Staff, klass: Klass | None) -> set[Role]:
    query = select(StaffRole.role).where(StaffRole.staff_id == staff.id)
    if klass is not None:
        query = query.where(or_(
            StaffRole.class_id == klass.id,
            (StaffRole.role == Role.INSPECTOR) & (StaffRole.class_id.is_(None))
            & (or_(StaffRole.district_id == klass.district_id, StaffRole.district_id.is_(None))),
        ))
    return {Role(r) for r in s.scalars(query)}
