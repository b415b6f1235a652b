"""作业 (R10): teachers post and check homework, trainees hand it in; all recorded with its source message.

``布置作业 <内容> [截止 HH:MM | 截止 YYYY-MM-DD HH:MM]`` by a teacher or the class teacher in the group
numbers the assignment per class (from 1) and announces it; pictures in the same message are kept as
its attachments. ``交作业 [编号] <内容>`` by a trainee: a leading number names the assignment only if the
class has one with that number (otherwise it is part of the text); without one the submission goes to
the newest assignment the trainee still owes. After the deadline it is recorded as late. Pictures in
the message are attached; in the 1:1 chat the pictures and files sent within
``FOLLOW_UP_MINUTES`` after ``交作业`` are attached to that submission too (otherwise a 1:1 picture is
the daily photo, R08). ``批改 <作业编号> <学员> <评语> [分数]`` records a check; a later check of the
same submission is added, never overwrites. ``作业`` lists the class's assignments with their counts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from handlers.texts import chat as chat_texts
from handlers.texts import supervision as texts
from handlers.errors import Refusal
from handlers.leave import class_here_or_named
from handlers.registry import IN_GROUP, STAFF, TRAINEE, Ctx, Role, command
from storage import file_refs, ledger
from storage.models import Assignment, Attachment, Enrollment, Klass, Person, Submission, SubmissionCheck

TEACHERS = frozenset({Role.TEACHER, Role.CLASS_TEACHER})
SUBMIT_WORD = "交作业"
FOLLOW_UP_MINUTES = 10
MAX_CONTENT = 2000
MAX_COMMENT = 500
MAX_SCORE = 100
PICTURE, FILE = "picture", "file"
_DUE = re.compile(r"\s*截止(?:时间)?\s*[:：]?\s*(?:(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?\s*)?"
                  r"(\d{1,2})\s*[:：]\s*(\d{2})\s*$")
_LEADING_NUMBER = re.compile(r"(?:第|#|No\.?)?\s*(\d{1,6})\s*(?:号|号作业)?(?=\s|$)", re.IGNORECASE)


def next_number(s: Session, model, klass: Klass) -> int:
    """The next per-class number of an assignment, Q&A session or question (1, 2, …). The class row is
    locked first (FOR NO KEY UPDATE on PostgreSQL, which rows referencing the class do not conflict with, so no
    deadlock with their key-share locks; SQLite writers are serial anyway), so two messages handled at once in
    different processes never draw the same number."""
    s.execute(select(Klass.id).where(Klass.id == klass.id).with_for_update(key_share=True))
    return (s.scalar(select(func.max(model.number)).where(model.class_id == klass.id)) or 0) + 1


def attach(s: Session, klass: Klass, subject, codes, kind: str, when: datetime, source: str, actor: str,
           names=()) -> int:
    """Record the pictures (download codes) or files that came with a homework or spot check message."""
    names = list(names) + [""] * (len(codes) - len(names))
    for code, name in zip(codes, names):
        row = Attachment(class_id=klass.id, subject_table=subject.__tablename__, subject_id=subject.id, kind=kind,
                         download_code=code, file_name=name[:200], received_at=when, source=source)
        s.add(row)
        ledger.append(s, "attachment.received", actor=actor, source=source, subject=row, class_code=klass.code)
    return len(codes)


def attachment_downloaded(ctx: Ctx) -> list[str]:
    """A picture of a homework or spot-check message is in the file store: record its SHA-256."""
    event, s = ctx.event, ctx.session
    for row in s.scalars(select(Attachment).where(Attachment.source == ctx.message.source,
                                                  Attachment.download_code == event.download_code)):
        if row.sha256 != event.sha256:
            row.sha256 = event.sha256
            ledger.append(s, "attachment.downloaded", actor=ctx.actor.label, source=ctx.message.source, subject=row)
            file_refs.keep_after_commit(s, ctx.files, event.sha256, event.data)
    return []


def parse_due(args: str, now: datetime) -> tuple[str, datetime | None]:
    """Split ``内容 截止 HH:MM`` (today) or ``内容 截止 YYYY-MM-DD HH:MM`` into content and deadline."""
    match = _DUE.search(args)
    if match is None:
        if "截止" in args:
            raise Refusal(texts.HOMEWORK_BAD_DUE)
        return args.strip(), None
    year, month, day, hour, minute = match.groups()
    try:
        when = now.replace(hour=int(hour), minute=int(minute), second=0, microsecond=0)
        if year:
            when = when.replace(year=int(year), month=int(month), day=int(day))
    except ValueError:
        raise Refusal(texts.HOMEWORK_BAD_DUE) from None
    if when <= now:
        raise Refusal(texts.HOMEWORK_DUE_PAST.format(due=when))
    return args[:match.start()].strip(), when


@command("布置作业", roles=TEACHERS, where=IN_GROUP, on_download=attachment_downloaded)
def post(ctx: Ctx) -> str:
    """布置作业：教师在群里发送“布置作业 内容 [截止 18:00]”，可附图片"""
    s, klass, now, msg = ctx.session, ctx.klass, ctx.now, ctx.message
    content, due = parse_due(ctx.args, now)
    if not content:
        raise Refusal(texts.HOMEWORK_POST_USAGE)
    row = Assignment(class_id=klass.id, number=next_number(s, Assignment, klass), content=content[:MAX_CONTENT],
                     day=now.date(), posted_by=ctx.actor.label, posted_at=now, due_at=due, source=msg.source)
    s.add(row)
    ledger.append(s, "homework.posted", actor=ctx.actor.label, source=msg.source, subject=row, class_code=klass.code)
    pictures = attach(s, klass, row, msg.image_codes, PICTURE, now, msg.source, ctx.actor.label)
    return texts.HOMEWORK_POSTED.format(
        number=row.number, content=row.content, by=ctx.actor.name, at=now,
        due=texts.HOMEWORK_DUE.format(due=due) if due else texts.HOMEWORK_NO_DUE,
        pictures=texts.WITH_PICTURES.format(count=pictures) if pictures else "")


def _owed(s: Session, klass: Klass, enrollment_id: int) -> list[Assignment]:
    """The class's assignments this trainee has not handed in, newest first."""
    handed = select(Submission.assignment_id).where(Submission.enrollment_id == enrollment_id)
    return list(s.scalars(select(Assignment).where(Assignment.class_id == klass.id, Assignment.id.not_in(handed))
                          .order_by(Assignment.number.desc())))


def _by_number(s: Session, klass: Klass, number: int) -> Assignment | None:
    return s.scalar(select(Assignment).where(Assignment.class_id == klass.id, Assignment.number == number))


@command(SUBMIT_WORD, roles=TRAINEE, on_download=attachment_downloaded)
def submit(ctx: Ctx) -> str:
    """交作业：发送“交作业 [编号] 内容”，可附图片；单聊中发送后10分钟内的图片也算这份作业"""
    s, klass, now, msg = ctx.session, ctx.klass, ctx.now, ctx.message
    if not msg.text.strip() and msg.download_codes and not msg.in_group:  # the dispatcher routed a follow-up
        return attach_follow_up(ctx)
    enrollment = ctx.actor.enrollment
    args = ctx.args.strip()
    assignment = None
    match = _LEADING_NUMBER.match(args)
    if match is not None:
        assignment = _by_number(s, klass, int(match.group(1)))
        if assignment is not None:
            args = args[match.end():].strip()
    if assignment is None:
        owed = _owed(s, klass, enrollment.id)
        if not owed:
            if s.scalar(select(func.count(Assignment.id)).where(Assignment.class_id == klass.id)):
                raise Refusal(texts.HOMEWORK_ALL_HANDED_IN)
            raise Refusal(texts.HOMEWORK_NONE_POSTED)
        assignment = owed[0]
    earlier = s.scalar(select(Submission).where(Submission.assignment_id == assignment.id,
                                                Submission.enrollment_id == enrollment.id))
    if earlier is not None:
        raise Refusal(texts.HOMEWORK_ALREADY_HANDED_IN.format(number=assignment.number,
                                                              at=earlier.submitted_at.astimezone(now.tzinfo)))
    if not args and not msg.image_codes and msg.in_group:
        raise Refusal(texts.HOMEWORK_SUBMIT_USAGE)
    late = assignment.due_at is not None and now > assignment.due_at
    row = Submission(assignment_id=assignment.id, enrollment_id=enrollment.id, content=args[:MAX_CONTENT],
                     day=now.date(), submitted_at=now, late=late, source=msg.source)
    s.add(row)
    ledger.append(s, "homework.submitted", actor=ctx.actor.label, source=msg.source, subject=row,
                  class_code=klass.code)
    pictures = attach(s, klass, row, msg.image_codes, PICTURE, now, msg.source, ctx.actor.label)
    text = texts.HOMEWORK_SUBMITTED.format(name=ctx.actor.person.name, number=assignment.number, at=now,
                                           late=texts.HOMEWORK_LATE if late else "",
                                           pictures=texts.WITH_PICTURES.format(count=pictures) if pictures else "")
    if not msg.in_group:
        text += texts.HOMEWORK_FOLLOW_UP.format(minutes=FOLLOW_UP_MINUTES)
    return text


def follow_up_submission(s: Session, enrollment_id: int, now: datetime) -> Submission | None:
    """The trainee's submission of the last ``FOLLOW_UP_MINUTES`` before ``now``, which pictures sent now
    in the 1:1 chat belong to."""
    since = now - timedelta(minutes=FOLLOW_UP_MINUTES)
    return s.scalar(select(Submission).where(Submission.enrollment_id == enrollment_id,
                                             Submission.submitted_at >= since, Submission.submitted_at <= now)
                    .order_by(Submission.submitted_at.desc()).limit(1))


def follows_submission(s: Session, actor, now: datetime) -> bool:
    """For the dispatcher: does a picture sent now in the 1:1 chat follow the trainee's 交作业 (R10)?
    Otherwise it is the daily photo (R08)."""
    return actor.enrollment is not None and follow_up_submission(s, actor.enrollment.id, now) is not None


def attach_follow_up(ctx: Ctx) -> str:
    """R10: the pictures or the file of a 1:1 message sent right after 交作业 join that submission."""
    s, msg, now = ctx.session, ctx.message, ctx.now
    submission = follow_up_submission(s, ctx.actor.enrollment.id, now)
    if submission is None:  # the window closed between routing and handling
        raise Refusal(texts.HOMEWORK_SUBMIT_USAGE)
    count = attach(s, ctx.klass, submission, msg.image_codes, PICTURE, now, msg.source, ctx.actor.label)
    if msg.file_code:  # R10: a file sent 1:1 (DINGTALK.md §2), with its name
        count += attach(s, ctx.klass, submission, (msg.file_code,), FILE, now, msg.source, ctx.actor.label,
                        names=(msg.file_name,))
    number = s.get(Assignment, submission.assignment_id).number
    text = texts.HOMEWORK_ATTACHED.format(number=number, count=count, at=now)
    return text + (texts.HOMEWORK_ATTACHED_FILE.format(name=msg.file_name) if msg.file_name else "")


@dataclass(frozen=True)
class CheckArgs:
    number: int
    trainee: str
    comment: str
    score: int | None


def parse_check(args: str) -> CheckArgs:
    tokens = args.split()
    if len(tokens) < 3 or not tokens[0].lstrip("第#").rstrip("号").isdigit():
        raise Refusal(texts.HOMEWORK_CHECK_USAGE)
    number = int(tokens[0].lstrip("第#").rstrip("号"))
    score = None
    rest = tokens[2:]
    if len(rest) > 1 and re.fullmatch(r"\d{1,3}分?", rest[-1]):
        score = int(rest[-1].rstrip("分"))
        rest = rest[:-1]
        if score > MAX_SCORE:
            raise Refusal(texts.HOMEWORK_BAD_SCORE.format(score=score, top=MAX_SCORE))
    return CheckArgs(number, tokens[1], " ".join(rest)[:MAX_COMMENT], score)


def check(s: Session, klass: Klass, parsed: CheckArgs, *, actor: str, now: datetime, source: str) -> str:
    """Record one 批改 (chat or admin); the text says what was recorded."""
    assignment = _by_number(s, klass, parsed.number)
    if assignment is None:
        raise Refusal(texts.HOMEWORK_NO_SUCH.format(number=parsed.number, code=klass.code))
    rows = s.execute(select(Submission, Person.name).join(Enrollment, Enrollment.id == Submission.enrollment_id)
                     .join(Person, Person.id == Enrollment.person_id)
                     .where(Submission.assignment_id == assignment.id, Person.name == parsed.trainee)).all()
    if not rows:
        raise Refusal(texts.HOMEWORK_NOT_HANDED_IN.format(number=parsed.number, name=parsed.trainee))
    if len(rows) > 1:
        raise Refusal(texts.HOMEWORK_NAME_AMBIGUOUS.format(name=parsed.trainee))
    submission, name = rows[0]
    row = SubmissionCheck(submission_id=submission.id, comment=parsed.comment, score=parsed.score, day=now.date(),
                          checked_by=actor, checked_at=now, source=source)
    s.add(row)
    ledger.append(s, "homework.checked", actor=actor, source=source, subject=row, class_code=klass.code)
    return texts.HOMEWORK_CHECKED.format(number=parsed.number, name=name, comment=parsed.comment, at=now,
                                         score=texts.HOMEWORK_SCORE.format(score=parsed.score)
                                         if parsed.score is not None else "")


@command("批改", roles=TEACHERS, where=IN_GROUP)
def check_command(ctx: Ctx) -> str:
    """批改：教师发送“批改 作业编号 学员姓名 评语 [分数]”"""
    return check(ctx.session, ctx.klass, parse_check(ctx.args), actor=ctx.actor.label, now=ctx.now,
                 source=ctx.message.source)


# --- listings -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AssignmentLine:
    id: int
    number: int
    content: str
    posted_by: str
    posted_at: datetime
    due_at: datetime | None
    submitted: int
    late: int
    checked: int


def assignment_lines(s: Session, klass: Klass) -> list[AssignmentLine]:
    """The class's assignments with submissions, late ones and checked submissions (SQL counts)."""
    checked = (select(SubmissionCheck.submission_id).group_by(SubmissionCheck.submission_id).subquery("checked"))
    counts = (select(Submission.assignment_id.label("aid"), func.count(Submission.id).label("submitted"),
                     func.count(Submission.id).filter(Submission.late.is_(True)).label("late"),
                     func.count(checked.c.submission_id).label("checked"))
              .outerjoin(checked, checked.c.submission_id == Submission.id)
              .join(Assignment, Assignment.id == Submission.assignment_id)
              .where(Assignment.class_id == klass.id)
              .group_by(Submission.assignment_id).subquery("counts"))
    rows = s.execute(select(Assignment, func.coalesce(counts.c.submitted, 0), func.coalesce(counts.c.late, 0),
                            func.coalesce(counts.c.checked, 0))
                     .outerjoin(counts, counts.c.aid == Assignment.id)
                     .where(Assignment.class_id == klass.id).order_by(Assignment.number)).all()
    return [AssignmentLine(a.id, a.number, a.content, a.posted_by, a.posted_at, a.due_at, int(n), int(late), int(ck))
            for a, n, late, ck in rows]


def active_trainees(s: Session, klass: Klass) -> int:
    return s.scalar(select(func.count(Enrollment.id)).where(Enrollment.class_id == klass.id,
                                                            Enrollment.removed.is_(False))) or 0


@command("作业", roles=STAFF | TRAINEE, acts_on=class_here_or_named)
def listing(ctx: Ctx) -> str:
    """作业：查看本班布置的作业和交、批改情况"""
    s, klass, now = ctx.session, ctx.klass, ctx.now
    if klass is None:
        raise Refusal(chat_texts.WHICH_CLASS.format(word="作业"))
    lines = assignment_lines(s, klass)
    if not lines:
        return texts.HOMEWORK_LIST_EMPTY.format(code=klass.code)
    roster = active_trainees(s, klass)
    out = [texts.HOMEWORK_LIST_HEADER.format(code=klass.code, count=len(lines))]
    for line in lines:
        due = " " + texts.HOMEWORK_DUE.format(due=line.due_at.astimezone(now.tzinfo)) if line.due_at else ""
        out.append(texts.HOMEWORK_LIST_LINE.format(
            number=line.number, content=_short(line.content), due=due, submitted=line.submitted, roster=roster,
            late=line.late, checked=line.checked))
    if ctx.actor.enrollment is not None:
        owed = owed_lines(s, klass, ctx.actor.enrollment.id, now)
        out += owed or [texts.HOMEWORK_NOTHING_OWED]
    return "\n".join(out)


def _short(text: str, limit: int = 30) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def owed_lines(s: Session, klass: Klass, enrollment_id: int, now: datetime) -> list[str]:
    """For 我的 and 作业: what the trainee still owes, oldest first."""
    lines = []
    for a in reversed(_owed(s, klass, enrollment_id)):
        if a.due_at is None:
            state = ""
        elif a.due_at < now:
            state = texts.HOMEWORK_OWED_OVERDUE.format(due=a.due_at.astimezone(now.tzinfo))
        else:
            state = "（" + texts.HOMEWORK_DUE.format(due=a.due_at.astimezone(now.tzinfo)) + "）"
        lines.append(texts.HOMEWORK_OWED.format(number=a.number, content=_short(a.content), state=state))
    return lines


def submissions_of(s: Session, assignment_id: int) -> list[tuple[Submission, str, SubmissionCheck | None]]:
    """An assignment's submissions with the trainee's name and the latest check (admin)."""
    latest = (select(func.max(SubmissionCheck.id).label("cid"), SubmissionCheck.submission_id.label("sid"))
              .group_by(SubmissionCheck.submission_id).subquery("latest"))
    rows = s.execute(select(Submission, Person.name, SubmissionCheck)
                     .join(Enrollment, Enrollment.id == Submission.enrollment_id)
                     .join(Person, Person.id == Enrollment.person_id)
                     .outerjoin(latest, latest.c.sid == Submission.id)
                     .outerjoin(SubmissionCheck, SubmissionCheck.id == latest.c.cid)
                     .where(Submission.assignment_id == assignment_id).order_by(Submission.submitted_at)).all()
    return [(sub, name, chk) for sub, name, chk in rows]
