"""R11: the daily report of every class to its district — the workbook, the markdown summary, the anchors.

:func:`build` gathers, for a day, each district's running classes with the tally of every class and
every trainee (``storage.daily``: SQL aggregates, each restricted to the asked classes before it
groups). :func:`workbook` writes it as one xlsx: a sheet per district with a row per class, then a
sheet per class with a row per trainee. :func:`markdown` is the short summary a district receives in
the morning: classes, trainees, who fell short, flagged photos, missing spot checks, homework and Q&A,
and each class's ledger head at the end of that day, signed with the ledger key when it is at hand
(``storage.day_heads``), so the district holds per class an anchor the institution cannot rewrite
afterwards (R17; ``dingclass verify --anchor`` checks them).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from handlers import approval, outbox, qualification
from handlers.texts import reports as texts
from handlers.classes import profile_of
from handlers.dates import day_text
from handlers.errors import Refusal
from handlers.identity import class_of_group
from handlers.registry import INSPECTOR, IN_GROUP, Ctx, command
from handlers.timetable import Timetable, timetables_of
from storage import daily, day_heads, ledger
from storage.exports import Cell, Sheet, write_xlsx
from storage.files import FileStore
from storage.ledger import canonical
from storage.models import (
    DailyReportSend,
    DingTalkIdentity,
    District,
    Institution,
    Klass,
    StaffRole,
    SupervisionGroup,
)

MAX_NAMES = 10  # names of who fell short per class in the summary; more are counted
OTO_BATCH = 20  # oToMessages/batchSend takes at most 20 users a call (DINGTALK.md §6)


@dataclass(frozen=True)
class ClassReport:
    klass: Klass
    institution: str
    threshold: int  # R09 minutes a trainee needs that day
    spot_checks_required: int
    line: daily.ClassLine
    trainees: list[daily.TraineeLine]

    @property
    def short_names(self) -> list[str]:
        return [t.name for t in self.trainees if not t.day_ok]


@dataclass(frozen=True)
class DistrictReport:
    district: District
    classes: list[ClassReport]

    def total(self, field: str) -> int:
        return sum(getattr(c.line, field) for c in self.classes)


@dataclass(frozen=True)
class ClassHead:
    """A class's ledger chain head at the end of the report's day, and its signature if signed (R17)."""

    chain: int  # the class's chain (its id)
    code: str
    seq: int
    hash: str
    signed_at: datetime | None = None
    key_id: str | None = None
    signature: str | None = None

    def anchor(self) -> dict:
        """As ``dingclass ledger heads`` writes a head, for ``verify --anchor`` (signed heads only)."""
        return {"chain": self.chain, "class": self.code, "seq": self.seq, "hash": self.hash,
                "at": self.signed_at.isoformat() if self.signed_at else None, "verified": False,
                "key_id": self.key_id, "signature": self.signature}


@dataclass(frozen=True)
class DailyReport:
    day: date
    districts: list[DistrictReport]
    heads: dict[int, ClassHead]  # class id -> its head at the end of the day (a class with no event yet: none)
    public_keys: list[str]  # the public keys (hex) that signed them

    def only(self, d: DistrictReport) -> DailyReport:
        ids = {c.klass.id for c in d.classes}
        return DailyReport(self.day, [d], {i: h for i, h in self.heads.items() if i in ids}, self.public_keys)


def running_classes(s: Session, day: date, district: str | None = None,
                    class_ids: Sequence[int] | None = None, district_ids: Collection[int] | None = None) -> list[Klass]:
    """The classes that hold class on ``day`` (R01), optionally of one district or within a scope."""
    return list(_running(s, day, district, class_ids, district_ids)[0])


def _running(s: Session, day: date, district: str | None, class_ids: Sequence[int] | None,
             district_ids: Collection[int] | None) -> tuple[dict[Klass, Timetable], dict[int, date],
                                                            dict[int, tuple[str, District]]]:
    """:func:`running_classes` with their timetables (read once), the day each approved one's minutes count
    from (R02, ``approval.counting_from``), and each class's institution name and district: all read with the
    classes, in their statement."""
    stmt = (select(Klass, approval.approved_at(), Institution.name, District)
            .join(Institution, Institution.id == Klass.institution_id).join(District, District.id == Klass.district_id)
            .where(Klass.start_date <= day, Klass.end_date >= day).order_by(Klass.district_id, Klass.code))
    if district is not None:
        stmt = stmt.where(District.name == district)
    if class_ids is not None:
        stmt = stmt.where(Klass.id.in_(class_ids))
    if district_ids is not None:
        stmt = stmt.where(Klass.district_id.in_(list(district_ids)))
    found = s.execute(stmt).all()
    tables = timetables_of(s, [k for k, *_ in found])
    starts = {k.id: start for k, at, *_ in found if (start := approval.counting_from_at(k, at)) is not None}
    places = {k.id: (institution, d) for k, _, institution, d in found}
    return {k: tables[k.id] for k, *_ in found if qualification.is_class_day(tables[k.id], day)}, starts, places


def build(s: Session, day: date, *, district: str | None = None, class_ids: Sequence[int] | None = None,
          tz: ZoneInfo | None = None, district_ids: Collection[int] | None = None,
          detail: bool = True) -> DailyReport:
    """R11: the day's report, grouped by district; ``district`` (a name) restricts it to one. ``detail``: with
    every trainee's line (the workbook and the morning send); without, the class lines only (the API), and
    the city's trainees are not read twice."""
    if district is not None and s.scalar(select(District.id).where(District.name == district)) is None:
        raise Refusal(texts.REPORT_NO_SUCH_DISTRICT.format(name=district))
    running, starts, places = _running(s, day, district, class_ids, district_ids)
    classes = list(running)
    tables = {k.id: tt for k, tt in running.items()}
    profiles = {k.id: profile_of(k) for k in classes}
    rules = qualification.day_rules(s, classes, tables, profiles, day, starts)  # R09 thresholds, R12, R02
    every_class = district is None and class_ids is None and district_ids is None
    # R17 heads and their keys before the tally: on PostgreSQL the statement that follows the tally's takes ~1.3 ms longer at 500
    # classes (measured, issue 13), and the API sends none after it
    heads = class_heads(s, classes, day, tz or ZoneInfo("Asia/Shanghai"))
    keys = day_heads.public_keys(s, [h.key_id for h in heads.values() if h.key_id])
    lines = rules.class_lines(s, day, every_class)
    per_class: dict[int, list[daily.TraineeLine]] = {k.id: [] for k in classes}
    for t in rules.trainee_lines(s, day, every_class) if detail else ():
        per_class[t.class_id].append(t)
    districts: dict[int, District] = {}
    grouped: dict[int, list[ClassReport]] = {}
    for k in classes:
        institution, districts[k.district_id] = places[k.id]
        grouped.setdefault(k.district_id, []).append(ClassReport(
            k, institution, rules.thresholds[k.id], profiles[k.id].duties.spot_checks_per_day,
            lines[k.id], per_class[k.id]))
    reports = [DistrictReport(districts[d], grouped[d]) for d in sorted(grouped, key=lambda d: districts[d].name)]
    return DailyReport(day, reports, heads, keys)


def _day_end(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(), tzinfo=tz)


def class_heads(s: Session, classes: Sequence[Klass], day: date, tz: ZoneInfo) -> dict[int, ClassHead]:
    """R11/R17: each class chain's head at the end of ``day`` (local time), with its signature if signed."""
    positions = day_heads.heads_at(s, [k.id for k in classes], _day_end(day, tz))
    signed = day_heads.signatures_of(s, positions)
    codes = {k.id: k.code for k in classes}
    heads = {}
    for chain, (seq, hash_) in positions.items():
        cp = signed.get(chain)
        heads[chain] = ClassHead(chain, codes[chain], seq, hash_, cp.at if cp else None, cp.key_id if cp else None,
                                 cp.signature if cp else None)
    return heads


def sign_heads(s: Session, signer, day: date, tz: ZoneInfo, *, district: str | None = None,
               district_ids: Collection[int] | None = None) -> int:
    """Sign each running class's ledger head at the end of ``day`` with the ledger key (once per position);
    the number signed now."""
    classes = running_classes(s, day, district, None, district_ids)
    return len(day_heads.sign_positions(s, signer, day_heads.heads_at(s, [k.id for k in classes], _day_end(day, tz))))


# --- the workbook ---------------------------------------------------------------------------------

CLASS_COLUMNS = ("班级编号", "班级名称", "培训机构", "学员", "签到", "签退", "迟到", "早退", "照片", "待审照片",
                 "请假", "时长达标", "未达标", "布置作业", "交作业", "迟交", "批改", "提问", "回答", "答疑场次",
                 "抽查（实/应）")
TRAINEE_COLUMNS = ("序号", "姓名", "签到", "签退", "迟到", "早退", "照片", "待审照片", "请假", "学习分钟", "时长达标",
                   "交作业", "迟交", "作业被批改", "提问")
_LEAVE = {"none": "", "pending": "待批", "approved": "已批", "rejected": "驳回"}
_COUNTED = ("trainees", "checked_in", "checked_out", "late", "early", "photos", "photos_flagged", "leave", "day_ok",
            "short", "homework_posted", "homework_submitted", "homework_late", "homework_checked", "questions",
            "answered", "qa_sessions")


def _yes(flag: bool) -> str:
    return texts.REPORT_YES if flag else texts.REPORT_NO


def _class_row(c: ClassReport) -> list:
    return [c.klass.code, c.klass.name, c.institution, *[getattr(c.line, f) for f in _COUNTED],
            f"{c.line.spot_checks}/{c.spot_checks_required}"]


def district_sheet(report: DailyReport, d: DistrictReport) -> Sheet:
    return Sheet(
        name=d.district.name,
        title=texts.REPORT_TITLE.format(district=d.district.name, day=report.day),
        facts=[(texts.REPORT_DAY, day_text(report.day)), (texts.REPORT_CLASSES, str(len(d.classes))),
               (texts.REPORT_TRAINEES, str(d.total("trainees"))), (texts.REPORT_DAY_OK, str(d.total("day_ok")))],
        header=[[Cell(h) for h in CLASS_COLUMNS]],
        rows=[_class_row(c) for c in d.classes],
        totals=[texts.REPORT_TOTAL, "", "", *[d.total(f) for f in _COUNTED],
                f"{d.total('spot_checks')}/{sum(c.spot_checks_required for c in d.classes)}"],
        widths=[16, 28, 24] + [8] * (len(CLASS_COLUMNS) - 3),
        notes=_notes(report),
    )


def _head_facts(head: ClassHead | None) -> list[tuple[str, str]]:
    """R17: the class's ledger head at the end of the day and its signature, as facts of its sheet."""
    if head is None:
        return [(texts.REPORT_HEAD, texts.REPORT_HEAD_NONE)]
    signed = (texts.REPORT_HEAD_SIGNED.format(key=head.key_id, at=head.signed_at, signature=head.signature)
              if head.signature else texts.REPORT_HEAD_UNSIGNED)
    return [(texts.REPORT_HEAD, texts.REPORT_HEAD_VALUE.format(seq=head.seq, hash=head.hash)),
            (texts.REPORT_HEAD_SIGNATURE, signed)]


def class_sheet(report: DailyReport, c: ClassReport) -> Sheet:
    return Sheet(
        name=c.klass.code,
        title=texts.REPORT_CLASS_TITLE.format(code=c.klass.code, name=c.klass.name, day=report.day),
        facts=[(texts.REPORT_INSTITUTION, c.institution), (texts.REPORT_THRESHOLD, str(c.threshold)),
               (texts.REPORT_SPOT_CHECKS, f"{c.line.spot_checks}/{c.spot_checks_required}"),
               (texts.REPORT_QA, texts.REPORT_QA_VALUE.format(sessions=c.line.qa_sessions, questions=c.line.questions,
                                                              answered=c.line.answered)),
               *_head_facts(report.heads.get(c.klass.id))],
        header=[[Cell(h) for h in TRAINEE_COLUMNS]],
        rows=[[n, t.name, t.checkins, t.checkouts, t.late, t.early, _yes(t.photo), t.photos_flagged, _LEAVE[t.leave],
               t.study_minutes, _yes(t.day_ok), t.homework_submitted, t.homework_late, t.homework_checked, t.questions]
              for n, t in enumerate(c.trainees, start=1)],
        widths=[6, 12] + [9] * (len(TRAINEE_COLUMNS) - 2),
    )


def _notes(report: DailyReport) -> list[str]:
    notes = [texts.REPORT_NOTE_DEFINITIONS, texts.REPORT_NOTE_HEADS]
    if report.public_keys:
        notes.append(texts.REPORT_PUBLIC_KEYS.format(keys="、".join(report.public_keys)))
    return notes


def workbook(report: DailyReport) -> bytes:
    """One xlsx: a sheet per district (a row per class), then a sheet per class (a row per trainee)."""
    sheets = [district_sheet(report, d) for d in report.districts]
    sheets += [class_sheet(report, c) for d in report.districts for c in d.classes]
    if not sheets:
        sheets = [Sheet(name=texts.REPORT_EMPTY_SHEET, title=texts.REPORT_EMPTY.format(day=report.day), facts=[],
                        header=[[Cell(h) for h in CLASS_COLUMNS]], rows=[])]
    return write_xlsx(sheets)


# --- the summary --------------------------------------------------------------------------------


def markdown(report: DailyReport, d: DistrictReport) -> str:
    """The short morning summary for one district (DingTalk markdown: a line break is two spaces)."""
    lines = [texts.REPORT_MD_TITLE.format(district=d.district.name, day=day_text(report.day)),
             texts.REPORT_MD_TOTALS.format(classes=len(d.classes), trainees=d.total("trainees"),
                                           checked_in=d.total("checked_in"), photos=d.total("photos"),
                                           day_ok=d.total("day_ok"))]
    for c in d.classes:
        lines.append(texts.REPORT_MD_CLASS.format(
            code=c.klass.code, trainees=c.line.trainees, day_ok=c.line.day_ok, posted=c.line.homework_posted,
            submitted=c.line.homework_submitted, checked=c.line.homework_checked, qa=c.line.qa_sessions,
            questions=c.line.questions, answered=c.line.answered, spot=c.line.spot_checks,
            spot_required=c.spot_checks_required))
        short = c.short_names
        if short:
            shown = "、".join(short[:MAX_NAMES]) + (texts.REPORT_MORE.format(count=len(short))
                                                   if len(short) > MAX_NAMES else "")
            lines.append(texts.REPORT_MD_SHORT.format(count=len(short), names=shown))
        if c.line.photos_flagged:
            lines.append(texts.REPORT_MD_FLAGGED.format(count=c.line.photos_flagged))
        if c.line.spot_checks < c.spot_checks_required:
            lines.append(texts.REPORT_MD_SPOT_MISSING.format(done=c.line.spot_checks, required=c.spot_checks_required))
        head = report.heads.get(c.klass.id)
        if head is not None:  # R17: the class's anchor at the end of the day
            lines.append(texts.REPORT_MD_HEAD.format(seq=head.seq, hash=head.hash, signed=texts.REPORT_MD_SIGNED.format(
                key=head.key_id) if head.signature else texts.REPORT_HEAD_UNSIGNED))
    if report.public_keys:
        lines.append(texts.REPORT_PUBLIC_KEYS.format(keys="、".join(report.public_keys)))
    return "  \n".join(lines)


# --- the morning send ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Recipients:
    groups: list[str]  # supervision groups' openConversationIds
    users: list[str]  # inspectors' staffIds (1:1 needs one; people outside the organisation have none)


def recipients(s: Session, district: District) -> Recipients:
    """Who receives a district's report: its supervision groups, and 1:1 its inspectors DingTalk can reach."""
    groups = list(s.scalars(select(SupervisionGroup.open_conversation_id)
                            .where(SupervisionGroup.district_id == district.id).order_by(SupervisionGroup.id)))
    users = list(s.scalars(select(DingTalkIdentity.staff_user_id).distinct()
                           .join(StaffRole, StaffRole.staff_id == DingTalkIdentity.staff_id)
                           .where(StaffRole.role == "inspector", StaffRole.district_id == district.id,
                                  StaffRole.class_id.is_(None), DingTalkIdentity.staff_user_id.is_not(None))
                           .order_by(DingTalkIdentity.staff_user_id)))
    return Recipients(groups, users)


@dataclass(frozen=True)
class SendOutcome:
    sent: list[DailyReportSend]
    already: list[str]  # districts sent before (a re-run)
    unreachable: list[str]  # districts with classes but nobody to send to (not recorded: tried again later)


def send_reports(s: Session, day: date, *, now: datetime, files: FileStore, robot_code: str | None, tz: ZoneInfo,
                 actor: str = "scheduler", district_ids: Collection[int] | None = None, signer=None) -> SendOutcome:
    """R11: send each district (or those of ``district_ids``) the report of ``day`` once — the markdown
    summary and the workbook (a file message) to its supervision groups and 1:1 to its inspectors, with
    each class's ledger head at the end of the day, signed first when ``signer`` (the ledger key) is
    given — and record the send. The row unique per district and day is written first, so a re-run or a
    second scheduler sends nothing twice."""
    if signer is not None:
        sign_heads(s, signer, day, tz, district_ids=district_ids)
    report = build(s, day, tz=tz, district_ids=district_ids)
    outcome = SendOutcome([], [], [])
    for d in report.districts:
        name = d.district.name
        if s.scalar(select(DailyReportSend.id).where(DailyReportSend.district_id == d.district.id,
                                                     DailyReportSend.day == day)) is not None:
            outcome.already.append(name)
            continue
        to = recipients(s, d.district)
        if not to.groups and not to.users:
            outcome.unreachable.append(name)
            continue
        one = report.only(d)
        sha = files.put(workbook(one))
        row = DailyReportSend(district_id=d.district.id, day=day, classes=len(d.classes), trainees=d.total("trainees"),
                              workbook_sha256=sha, recipients=canonical({"groups": to.groups, "users": to.users}),
                              sent_by=actor, sent_at=now)
        try:
            with s.begin_nested():
                s.add(row)
                s.flush()
        except IntegrityError:  # another scheduler sent it just now
            outcome.already.append(name)
            continue
        ledger.append(s, "report.sent", actor=actor, source=f"report:{day.isoformat()}", subject=row,
                      data={"heads": {h.code: [h.seq, h.hash, h.signature] for h in one.heads.values()}})
        summary = (texts.REPORT_MD_HEADLINE.format(district=name, day=day), markdown(one, d))
        file = (sha, texts.REPORT_FILE_NAME.format(district=name, day=day))
        key = f"report:{d.district.id}:{day.isoformat()}"
        for cid in to.groups:
            outbox.queue_rich(s, dedupe_key=f"{key}:group:{cid}:md", robot_code=robot_code, due=now,
                              conversation_id=cid, markdown=summary)
            outbox.queue_rich(s, dedupe_key=f"{key}:group:{cid}:file", robot_code=robot_code, due=now,
                              conversation_id=cid, file=file)
        for n in range(0, len(to.users), OTO_BATCH):
            batch = to.users[n:n + OTO_BATCH]
            outbox.queue_rich(s, dedupe_key=f"{key}:oto:{n}:md", robot_code=robot_code, due=now, user_ids=batch,
                              markdown=summary)
            outbox.queue_rich(s, dedupe_key=f"{key}:oto:{n}:file", robot_code=robot_code, due=now, user_ids=batch,
                              file=file)
        outcome.sent.append(row)
    return outcome


# --- 绑定督查群 ------------------------------------------------------------------------------------


@command("绑定督查群", roles=INSPECTOR, where=IN_GROUP)
def bind_supervision_group(ctx: Ctx) -> str:
    """绑定督查群：督查人员在旗县区督查群里发送“绑定督查群 旗县区”，每天早上在此收到日报"""
    s, msg = ctx.session, ctx.message
    name = ctx.args.strip()
    if not name:
        raise Refusal(texts.SUPERVISION_USAGE)
    district = s.scalar(select(District).where(District.name == name))
    if district is None:
        raise Refusal(texts.REPORT_NO_SUCH_DISTRICT.format(name=name[:20]))
    if class_of_group(s, msg.conversation_id) is not None:
        raise Refusal(texts.SUPERVISION_CLASS_GROUP)
    covers = s.scalar(select(StaffRole.id).where(
        StaffRole.staff_id == ctx.actor.staff.id, StaffRole.role == "inspector", StaffRole.class_id.is_(None),
        or_(StaffRole.district_id == district.id, StaffRole.district_id.is_(None))).limit(1))
    if covers is None:  # the inspector's own district (or a city inspector): the scope of the role itself
        raise Refusal(texts.SUPERVISION_NOT_YOURS.format(name=name))
    bound = s.scalar(select(SupervisionGroup).where(SupervisionGroup.open_conversation_id == msg.conversation_id))
    if bound is not None:
        other = s.get(District, bound.district_id)
        raise Refusal(texts.SUPERVISION_ALREADY.format(name=other.name))
    row = SupervisionGroup(district_id=district.id, open_conversation_id=msg.conversation_id,
                           title=msg.conversation_title[:200], bound_by=ctx.actor.label, bound_at=ctx.now)
    s.add(row)
    ledger.append(s, "supervision_group.bound", actor=ctx.actor.label, source=msg.source, subject=row)
    return texts.SUPERVISION_BOUND.format(name=name, at=ctx.now)
