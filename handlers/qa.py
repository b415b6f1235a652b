"""答疑 (R10): Q&A sessions, numbered questions and linked answers.

``答疑开始 [主题]`` / ``答疑结束`` by a teacher open and close a session (one open at a time per class).
``提问 <问题>`` by a trainee is numbered per class (from 1) and logged in the open session; asked
outside a session it is kept and joins the next session when it opens. ``答 <编号> <回答>`` links the
answer to the question and @-mentions the asker (DingTalk shows the mention when the asker's staff
id is known, DINGTALK.md §7).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from handlers import qa_attendance
from handlers.texts import supervision as texts
from handlers.classes import profile_of
from handlers.errors import Refusal
from handlers.homework import TEACHERS, next_number
from handlers.messages import Reply
from handlers.registry import IN_GROUP, TRAINEE, Ctx, command
from storage import ledger
from storage.models import Answer, Klass, QaSession, Question

MAX_TEXT = 1000
_NUMBER = re.compile(r"(?:第|#|No\.?)?\s*(\d{1,6})\s*号?(?=\s|$)", re.IGNORECASE)


def open_session(s: Session, klass: Klass) -> QaSession | None:
    return s.scalar(select(QaSession).where(QaSession.class_id == klass.id, QaSession.ended_at.is_(None))
                    .order_by(QaSession.id.desc()).limit(1))


def _answered_ids(s: Session, question_ids) -> set[int]:
    return set(s.scalars(select(Answer.question_id).where(Answer.question_id.in_(question_ids))))


@command("答疑开始", roles=TEACHERS, where=IN_GROUP)
def start(ctx: Ctx) -> str:
    """答疑开始：教师发送“答疑开始 [主题]”开始答疑"""
    s, klass, now, source = ctx.session, ctx.klass, ctx.now, ctx.message.source
    current = open_session(s, klass)
    if current is not None:
        raise Refusal(texts.QA_ALREADY_OPEN.format(number=current.number,
                                                   at=current.started_at.astimezone(now.tzinfo)))
    row = QaSession(class_id=klass.id, number=next_number(s, QaSession, klass), topic=ctx.args.strip()[:200],
                    day=now.date(), opened_by=ctx.actor.label, started_at=now, source=source)
    s.add(row)
    ledger.append(s, "qa.opened", actor=ctx.actor.label, source=source, subject=row, class_code=klass.code)
    waiting = list(s.scalars(select(Question).where(Question.class_id == klass.id, Question.qa_session_id.is_(None))
                             .order_by(Question.number)))
    answered = _answered_ids(s, [q.id for q in waiting])
    carried = [q for q in waiting if q.id not in answered]
    for q in carried:  # questions asked outside a session join this one
        q.qa_session_id = row.id
        ledger.append(s, "question.carried", actor=ctx.actor.label, source=source, subject=q, class_code=klass.code)
    lines = [texts.QA_OPENED.format(number=row.number, topic=f"「{row.topic}」" if row.topic else "", at=now)]
    if qa_attendance.applies(klass):  # R06: in recorded and platform classes the Q&A is the check-in session
        held = qa_attendance.session_of(s, klass, row, now.tzinfo)
        rules = profile_of(klass).attendance
        lines.append(texts.QA_CHECKIN_OPEN.format(
            session=held.name, closes=now + timedelta(minutes=rules.checkin_closes_after_min),
            minutes=rules.checkout_closes_after_min) if held is not None else texts.QA_NOT_A_CHECKIN_SESSION)
    if carried:
        lines.append(texts.QA_CARRIED.format(count=len(carried)))
        lines += [texts.QA_QUESTION_LINE.format(number=q.number, content=q.content) for q in carried]
    return "\n".join(lines)


@command("答疑结束", roles=TEACHERS, where=IN_GROUP)
def end(ctx: Ctx) -> str:
    """答疑结束：教师发送“答疑结束”结束答疑"""
    s, klass, now = ctx.session, ctx.klass, ctx.now
    current = open_session(s, klass)
    if current is None:
        raise Refusal(texts.QA_NONE_OPEN)
    current.ended_at, current.closed_by = now, ctx.actor.label
    ledger.append(s, "qa.closed", actor=ctx.actor.label, source=ctx.message.source, subject=current,
                  class_code=klass.code)
    questions = list(s.scalars(select(Question).where(Question.qa_session_id == current.id).order_by(Question.number)))
    answered = _answered_ids(s, [q.id for q in questions])
    open_numbers = [str(q.number) for q in questions if q.id not in answered]
    text = texts.QA_CLOSED.format(number=current.number, at=now, questions=len(questions), answered=len(answered))
    if open_numbers:
        text += texts.QA_UNANSWERED.format(numbers="、".join(open_numbers))
    if qa_attendance.applies(klass) and qa_attendance.session_of(s, klass, current, now.tzinfo) is not None:
        text += texts.QA_CHECKOUT_OPEN.format(  # R06: check-out follows the Q&A's end
            closes=now + timedelta(minutes=profile_of(klass).attendance.checkout_closes_after_min))
    return text


@command("提问", roles=TRAINEE, where=IN_GROUP)
def ask(ctx: Ctx) -> str:
    """提问：学员发送“提问 问题”，答疑时教师会回答"""
    s, klass, now, msg = ctx.session, ctx.klass, ctx.now, ctx.message
    content = ctx.args.strip()
    if not content:
        raise Refusal(texts.QA_ASK_USAGE)
    current = open_session(s, klass)
    row = Question(class_id=klass.id, number=next_number(s, Question, klass),
                   qa_session_id=current.id if current else None, enrollment_id=ctx.actor.enrollment.id,
                   asker_staff_user_id=msg.sender_staff_id or ctx.actor.identity.staff_user_id,
                   content=content[:MAX_TEXT], day=now.date(), asked_at=now,
                   source=msg.source)
    s.add(row)
    ledger.append(s, "question.asked", actor=ctx.actor.label, source=msg.source, subject=row, class_code=klass.code)
    text = texts.QA_ASKED.format(number=row.number, at=now)
    return text + ("" if current else texts.QA_KEPT_FOR_NEXT)


@command("答", roles=TEACHERS, where=IN_GROUP)
def answer(ctx: Ctx) -> list[Reply]:
    """答：教师发送“答 问题编号 回答”，提问的学员会被@"""
    s, klass, now, source = ctx.session, ctx.klass, ctx.now, ctx.message.source
    match = _NUMBER.match(ctx.args.strip())
    content = ctx.args.strip()[match.end():].strip() if match else ""
    if match is None or not content:
        raise Refusal(texts.QA_ANSWER_USAGE)
    number = int(match.group(1))
    question = s.scalar(select(Question).where(Question.class_id == klass.id, Question.number == number))
    if question is None:
        raise Refusal(texts.QA_NO_SUCH.format(number=number))
    row = Answer(question_id=question.id, content=content[:MAX_TEXT], day=now.date(), answered_by=ctx.actor.label,
                 answered_at=now, source=source)
    s.add(row)
    ledger.append(s, "question.answered", actor=ctx.actor.label, source=source, subject=row, class_code=klass.code)
    asker = question.asker_staff_user_id
    mention = f"@{asker} " if asker else ""
    text = texts.QA_ANSWERED.format(mention=mention, number=number, question=question.content, answer=row.content,
                                    by=ctx.actor.name, at=now)
    return [Reply(text, at_user_ids=(asker,) if asker else ())]


# --- listings -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SessionLine:
    id: int
    number: int
    topic: str
    started_at: datetime
    ended_at: datetime | None
    questions: int
    answered: int


def session_lines(s: Session, klass: Klass) -> list[SessionLine]:
    """The class's Q&A sessions with their questions and how many are answered (SQL counts)."""
    answered = select(Answer.question_id).group_by(Answer.question_id).subquery("answered")
    counts = (select(Question.qa_session_id.label("sid"), func.count(Question.id).label("questions"),
                     func.count(answered.c.question_id).label("answered"))
              .outerjoin(answered, answered.c.question_id == Question.id)
              .where(Question.class_id == klass.id, Question.qa_session_id.is_not(None))
              .group_by(Question.qa_session_id).subquery("counts"))
    rows = s.execute(select(QaSession, func.coalesce(counts.c.questions, 0), func.coalesce(counts.c.answered, 0))
                     .outerjoin(counts, counts.c.sid == QaSession.id)
                     .where(QaSession.class_id == klass.id).order_by(QaSession.number)).all()
    return [SessionLine(q.id, q.number, q.topic, q.started_at, q.ended_at, int(n), int(a)) for q, n, a in rows]


def questions_with_answers(s: Session, klass: Klass, enrollment_id: int | None = None):
    """Questions of the class (or of one trainee) with their answers, by number (admin)."""
    stmt = select(Question).where(Question.class_id == klass.id).order_by(Question.number)
    if enrollment_id is not None:
        stmt = stmt.where(Question.enrollment_id == enrollment_id)
    questions = list(s.scalars(stmt))
    answers: dict[int, list[Answer]] = {}
    if questions:
        for a in s.scalars(select(Answer).where(Answer.question_id.in_([q.id for q in questions]))
                           .order_by(Answer.id)):
            answers.setdefault(a.question_id, []).append(a)
    return [(q, answers.get(q.id, [])) for q in questions]
