"""The subsidy package (R19): one zip with the workbook the region asks for and the study photos.

What 000 §三(一)1 (and 002, 004) list for the application: per trainee the class-time completion, the daily
check-in/out, the teachers' Q&A, homework assigned and checked, the study photos, and the institution's
bank account. The workbook ``补贴申报表.xlsx`` holds, one sheet each: the summary (bank account, counts,
amount with its working, publicity period, policy source), per-trainee completion with their homework,
Q&A and photo counts, the daily check-in/out register (考勤台账), the Q&A, the homework, the photo index,
and the publicity list (公示: institution, trainees, platform, amount — no ID numbers). The photos
follow under ``photos/<序号>-<姓名>/<日期>-<sha256[:12]>.<ext>``, exactly the stored copies (only the
counted ones, R08).

ID numbers are in full for the roles that submit or check the package (``scope.sees_full_id_numbers``;
the command line is an operator's), masked otherwise. The zip is written entry by entry to a file, so
photos are streamed, not held in memory; entries carry the export time, so one export gives one file.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import BinaryIO
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from handlers import eligibility, qa, qualification, sheets, subsidy
from handlers.texts import records as texts
from handlers.texts import supervision as supervision_texts
from handlers.certificates import safe_file_name
from handlers.classes import profile_of
from handlers.homework import assignment_lines
from handlers.idcard import mask_id_number
from handlers.policy import format_percent
from storage import reports
from storage.exports import Cell, Sheet, write_xlsx
from storage.files import FileStore
from storage.models import (
    Answer,
    Enrollment,
    Institution,
    Klass,
    Person,
    Photo,
    Question,
    QaSession,
    Submission,
    SubmissionCheck,
)


@dataclass(frozen=True)
class Written:
    amount: subsidy.Amount
    publicity: subsidy.Publicity
    trainees: int
    photos: int


def _per_trainee(s: Session, stmt) -> dict[int, int]:
    return {eid: int(n) for eid, n in s.execute(stmt)}


def _activity(s: Session, klass: Klass) -> dict[str, dict[int, int]]:
    """Per enrollment: submissions, checked submissions, questions, answered questions, counted photos."""
    in_class = Enrollment.class_id == klass.id
    checked = select(SubmissionCheck.submission_id).distinct().subquery()
    answered = select(Answer.question_id).distinct().subquery()
    return {
        "submitted": _per_trainee(s, select(Submission.enrollment_id, func.count()).join(Enrollment)
                                  .where(in_class).group_by(Submission.enrollment_id)),
        "checked": _per_trainee(s, select(Submission.enrollment_id, func.count()).join(Enrollment)
                                .join(checked, checked.c.submission_id == Submission.id)
                                .where(in_class).group_by(Submission.enrollment_id)),
        "asked": _per_trainee(s, select(Question.enrollment_id, func.count()).where(Question.class_id == klass.id)
                              .group_by(Question.enrollment_id)),
        "answered": _per_trainee(s, select(Question.enrollment_id, func.count())
                                 .join(answered, answered.c.question_id == Question.id)
                                 .where(Question.class_id == klass.id).group_by(Question.enrollment_id)),
        "photos": _per_trainee(s, select(Photo.enrollment_id, func.count()).join(Enrollment)
                               .where(in_class, Photo.counted.is_(True)).group_by(Photo.enrollment_id)),
    }


def _extension(head: bytes) -> str:
    return "png" if head.startswith(b"\x89PNG") else "jpg"


def _photo_rows(s: Session, klass: Klass, numbers: dict[int, int]) -> list[tuple[int, str, str, date, str, str]]:
    """Counted photos, by trainee then day: (enrollment, name, id number, day, sha256, status)."""
    rows = s.execute(select(Photo.enrollment_id, Person.name, Person.id_number, Photo.day, Photo.sha256, Photo.status)
                     .join(Enrollment, Enrollment.id == Photo.enrollment_id).join(Person, Person.id == Enrollment.person_id)
                     .where(Enrollment.class_id == klass.id, Photo.counted.is_(True))
                     .order_by(Photo.day, Photo.id)).all()
    return sorted(rows, key=lambda r: (numbers.get(r[0], 0), r[3]))


def _summary_sheet(klass: Klass, institution: str, account, amount: subsidy.Amount, publicity: subsidy.Publicity,
                   removed: int, marked: int, profile, facts) -> Sheet:
    items = texts.SUBSIDY_SUMMARY_ITEMS
    rules = profile.subsidy
    value = f"{amount.amount}" + (texts.SUBSIDY_REFUND if amount.amount < 0 else "")
    rows = [
        (items["stage"], texts.SUBSIDY_STAGE_NAMES[amount.stage]), (items["institution"], institution),
        (items["bank"], account.bank), (items["account"], account.account), (items["standard"], f"{amount.standard}"),
        (items["registered"], amount.registered), (items["qualified"], amount.qualified), (items["removed"], removed),
        (items["marked"], marked), (items["policy"], f"{klass.policy}（{profile.meta.title}）"),
        (items["share"], format_percent(amount.share)), (items["basis"], texts.SUBSIDY_BASIS_NAMES[amount.basis]),
        (items["ceiling"], f"{amount.ceiling}"), (items["amount"], value), (items["formula"], subsidy.formula(amount)),
        (items["publicity"], texts.SUBSIDY_PUBLICITY_LINE.format(start=publicity.start, end=publicity.end,
                                                                 days=publicity.working_days)),
        (items["source"], rules.source),
    ]
    return Sheet(name=texts.SUBSIDY_SHEET_SUMMARY,
                 title=texts.SUBSIDY_TITLE.format(name=klass.name, stage=texts.SUBSIDY_STAGE_NAMES[amount.stage]),
                 facts=facts, header=[[Cell(h) for h in texts.SUBSIDY_SUMMARY_HEADER]],
                 rows=[list(r) for r in rows], widths=[30, 90])


def workbook(s: Session, klass: Klass, stage: str, *, tz: ZoneInfo, now: datetime, publicity_start: date,
             full_ids: bool, actor: str) -> tuple[list[Sheet], subsidy.Amount, subsidy.Publicity, list, dict[int, int]]:
    """The workbook's sheets, the amount, the publicity period, the counted photo rows and the trainees' numbers."""
    account = subsidy.check(s, klass, stage, now.astimezone(tz).date())
    profile = profile_of(klass)
    who = subsidy.counts(s, klass)
    amount = subsidy.amount(stage, subsidy.standard_of(s, klass), len(who.registered), len(who.qualified),
                            profile.subsidy)
    period = subsidy.publicity(klass, publicity_start)
    ids = (lambda n: n) if full_ids else mask_id_number
    institution = s.get(Institution, klass.institution_id).name
    result = qualification.summary(s, klass)
    marked = eligibility.marks_by_enrollment(s, klass)
    qualified = set(who.qualified)
    numbers = {line.total.enrollment_id: n for n, line in enumerate(result.lines, start=1)}
    activity = _activity(s, klass)
    punches: dict[tuple[int, str], int] = {}
    for punch in reports.counted_punches(s, klass.id):
        punches[(punch.enrollment_id, punch.kind)] = punches.get((punch.enrollment_id, punch.kind), 0) + 1
    facts = sheets.class_facts(s, klass)
    notes = [texts.SUBSIDY_NOTE_EXPORTED.format(at=now.astimezone(tz), actor=actor)]

    trainee_rows = []
    for line in result.lines:
        eid = line.total.enrollment_id
        if line.removed:
            counted = texts.SUBSIDY_NOT_COUNTED["removed"].format(reason=line.total.removed_reason or "")
        elif eid in marked:
            counted = texts.SUBSIDY_NOT_COUNTED["marked"].format(reason=supervision_texts.MARK_KINDS.get(marked[eid], marked[eid]))
        elif eid in qualified:
            counted = texts.SUBSIDY_COUNTS[True]
        else:
            counted = texts.SUBSIDY_NOT_COUNTED["unqualified"]
        trainee_rows.append([numbers[eid], line.name, ids(line.total.id_number), line.total.identity_category,
                             float(line.hours_earned), line.hours_required,
                             f"{qualification.truncate(line.ratio * 100, 1)}%",
                             "合格" if line.qualified else "不合格", counted, punches.get((eid, "in"), 0),
                             punches.get((eid, "out"), 0),
                             activity["submitted"].get(eid, 0), activity["checked"].get(eid, 0),
                             activity["asked"].get(eid, 0), activity["answered"].get(eid, 0),
                             activity["photos"].get(eid, 0)])

    qa_rows = []
    sessions = {q.id: q.number for q in s.scalars(select(QaSession).where(QaSession.class_id == klass.id))}
    names = {eid: line.name for eid, line in ((ln.total.enrollment_id, ln) for ln in result.lines)}
    for question, answers in qa.questions_with_answers(s, klass):
        answer = answers[-1] if answers else None
        qa_rows.append([question.number, sessions.get(question.qa_session_id, ""), names.get(question.enrollment_id, ""),
                        f"{question.asked_at.astimezone(tz):%Y-%m-%d %H:%M}", question.content,
                        answer.content if answer else "", answer.answered_by.rsplit(":", 1)[-1] if answer else "",
                        f"{answer.answered_at.astimezone(tz):%Y-%m-%d %H:%M}" if answer else ""])
    homework_rows = [[a.number, f"{a.posted_at.astimezone(tz):%Y-%m-%d %H:%M}", a.posted_by.rsplit(":", 1)[-1],
                      a.content, f"{a.due_at.astimezone(tz):%Y-%m-%d %H:%M}" if a.due_at else "", a.submitted, a.late,
                      a.checked] for a in assignment_lines(s, klass)]
    photos = _photo_rows(s, klass, numbers)
    photo_rows = [[numbers.get(eid, ""), name, ids(id_number), f"{day:%Y-%m-%d}", "", texts.SUBSIDY_PHOTO_STATUS.get(status, status)]
                  for eid, name, id_number, day, _, status in photos]
    publicity_rows = [[institution, f"{klass.name}（{klass.code}）", klass.occupation, amount.registered,
                       amount.qualified, klass.platform_name, f"{amount.amount}",
                       f"{period.start:%Y-%m-%d} 至 {period.end:%Y-%m-%d}"]]

    def sheet(name: str, header, rows, widths) -> Sheet:
        return Sheet(name=name, title=f"{klass.name} {name}", facts=facts, header=[[Cell(h) for h in header]],
                     rows=rows, widths=widths, notes=notes)

    book = [
        _summary_sheet(klass, institution, account, amount, period, result.removed,
                       len({e for e in marked if e in numbers}), profile, facts),
        sheet(texts.SUBSIDY_SHEET_TRAINEES, texts.SUBSIDY_TRAINEE_HEADER, trainee_rows,
              [6, 12, 21, 16, 9, 9, 9, 8, 24, 8, 8, 8, 10, 6, 8, 8]),
        *_renamed(sheets.attendance_sheets(s, klass, tz, now, full_ids=full_ids)),
        sheet(texts.SUBSIDY_SHEET_QA, texts.SUBSIDY_QA_HEADER, qa_rows, [8, 8, 12, 17, 40, 40, 12, 17]),
        sheet(texts.SUBSIDY_SHEET_HOMEWORK, texts.SUBSIDY_HOMEWORK_HEADER, homework_rows, [8, 17, 12, 40, 17, 8, 8, 8]),
        sheet(texts.SUBSIDY_SHEET_PHOTOS, texts.SUBSIDY_PHOTOS_HEADER, photo_rows, [6, 12, 21, 12, 60, 10]),
        sheet(texts.SUBSIDY_SHEET_PUBLICITY, texts.SUBSIDY_PUBLICITY_HEADER, publicity_rows, [24, 30, 14, 9, 9, 16, 14, 24]),
    ]
    book[-2].notes = [texts.SUBSIDY_NOTE_PHOTOS] + notes
    return book, amount, period, photos, numbers


def _renamed(register: list[Sheet]) -> list[Sheet]:
    """The weekly 考勤台账 sheets named as such among the package's other sheets (``考勤台账第1周``)."""
    for sheet in register:
        sheet.name = texts.SUBSIDY_SHEET_ATTENDANCE.format(week=sheet.name)
    return register


def photo_path(number: int, name: str, day: date, sha256: str, head: bytes) -> str:
    return f"photos/{number:03d}-{safe_file_name(name)}/{day:%Y-%m-%d}-{sha256[:12]}.{_extension(head)}"


def write(s: Session, klass: Klass, stage: str, out: BinaryIO, *, files: FileStore, tz: ZoneInfo, now: datetime,
          publicity_start: date, full_ids: bool, actor: str) -> Written:
    """Write the package as a zip into ``out`` (a file opened for writing, or a buffer)."""
    book, amount, period, photos, numbers = workbook(s, klass, stage, tz=tz, now=now, publicity_start=publicity_start,
                                                       full_ids=full_ids, actor=actor)
    stamp = now.astimezone(tz).timetuple()[:6]
    paths = []
    for eid, name, _, day, sha, _ in photos:
        with files.path(sha).open("rb") as f:
            head = f.read(8)
        paths.append((sha, photo_path(numbers.get(eid, 0), name, day, sha, head)))
    index = book[-2]
    for row, (_, path) in zip(index.rows, paths, strict=True):
        row[4] = path
    with zipfile.ZipFile(out, "w") as archive:
        entry = zipfile.ZipInfo(texts.SUBSIDY_WORKBOOK, date_time=stamp)
        entry.compress_type = zipfile.ZIP_DEFLATED
        archive.writestr(entry, write_xlsx(book))
        for sha, path in paths:
            entry = zipfile.ZipInfo(path, date_time=stamp)  # photos are stored as they are (already compressed)
            with files.path(sha).open("rb") as source, archive.open(entry, "w") as target:
                while chunk := source.read(1 << 20):
                    target.write(chunk)
    return Written(amount, period, len(numbers), len(paths))


def file_name(klass: Klass, stage: str) -> str:
    return texts.SUBSIDY_FILE.format(code=klass.code, stage=texts.SUBSIDY_STAGE_NAMES[stage])


def write_file(s: Session, klass: Klass, stage: str, path: Path, **kwargs) -> Written:
    """:func:`write` to ``path`` (a partial file is removed if anything fails)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with path.open("wb") as out:
            return write(s, klass, stage, out, **kwargs)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
