"""R02 after approval: what counts from when, and roster changes the district notes (handlers/approval.py)."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import func, select

from handlers import approval, classes, daily_report, eligibility, hours, qualification, roster, scope
from handlers.errors import Refusal
from storage import ledger, ledger_verify
from storage.models import Enrollment, Person, RosterChange, StudyMinutes
from tests.commitment import sign_commitment

from .chat import TZ, create_class, people, roster_csv, roster_of


def minutes(s, klass, name: str, day: date, count: int) -> None:
    enrollment = s.scalar(select(Enrollment).join(Person).where(Enrollment.class_id == klass.id, Person.name == name))
    row = StudyMinutes(enrollment_id=enrollment.id, day=day, live_minutes=count, replay_minutes=0, source="file:x")
    s.add(row)
    ledger.append(s, "minutes.imported", actor="test", source="file:x", subject=row, class_code=klass.code)


def qualified(s, klass) -> dict[str, tuple[int, bool]]:
    return {line.name: (line.total.total_minutes, line.qualified) for line in qualification.summary(s, klass).lines}


def test_R02_minutes_of_days_before_the_approval_day_are_kept_but_never_count(factory):
    with factory() as s:
        klass = create_class(s, size=2, approve=False)  # 40 online hours of 45 minutes: 1440 minutes qualify
        early, late = (p.name for p in roster_of(s, klass))
        minutes(s, klass, early, date(2026, 12, 1), 1440)  # the day before the district approved
        minutes(s, klass, late, date(2026, 12, 2), 1440)  # the day it approved (in the afternoon)
        sign_commitment(s, klass)
        classes.change_status(s, klass, "approved", actor="district:test", source="test",
                              now=datetime(2026, 12, 2, 15, 0, tzinfo=TZ))
        s.commit()
        assert approval.counting_from(s, klass) == date(2026, 12, 2)
        assert qualified(s, klass) == {early: (0, False), late: (1440, True)}
        assert s.scalar(select(func.count()).select_from(StudyMinutes)) == 2  # kept
        days = {line.day: line.tally.minutes for line in qualification.day_table(s, klass, 2)}
        assert (days[date(2026, 12, 1)], days[date(2026, 12, 2)]) == (0, 1440)


def test_R02_the_day_view_and_the_R11_tallies_drop_minutes_before_the_approval_day_as_the_summary_does(factory):
    with factory() as s:
        klass = create_class(s, size=2, approve=False)
        first, second = (p.name for p in roster_of(s, klass))
        before, approved = date(2026, 12, 1), date(2026, 12, 2)
        for name in (first, second):
            minutes(s, klass, name, before, 300)  # kept, never counted (the district approved the day after)
            minutes(s, klass, name, approved, 300)
        sign_commitment(s, klass)
        classes.change_status(s, klass, "approved", actor="district:test", source="test",
                              now=datetime(2026, 12, 2, 15, 0, tzinfo=TZ))
        s.commit()
        days = {line.day: (line.tally.minutes, line.tally.day_ok) for line in qualification.day_table(s, klass, 2)}
        assert days[before] == (0, 0) and days[approved] == (600, 2)  # the day table, already so

        def day_view(day):
            looked_up = [(line.study_minutes, line.day_ok) for line in qualification.day_report(s, klass, day).lines]
            # the API reads the approval with the class, in the class's own statement: the same lines
            row, at = scope.class_row_for(s, scope.Viewer(0, "admin", scope.ADMIN, None, None), klass.code,
                                          approval.approved_at())
            start = approval.counting_from_at(row, at)
            assert start == approval.counting_from(s, klass) == approved
            read_with_class = qualification.day_report(s, klass, day, start).lines
            assert [(line.study_minutes, line.day_ok) for line in read_with_class] == looked_up
            return looked_up

        def r11(day):
            report = daily_report.build(s, day)
            ((c,),) = [d.classes for d in report.districts]
            return (c.line.minutes, c.line.day_ok), [(t.study_minutes, t.day_ok) for t in c.trainees]

        def overview(day):
            (line,) = qualification.daily(s, [klass], day)
            return line.tally.minutes, line.tally.day_ok

        assert day_view(before) == [(0, False), (0, False)]
        assert day_view(approved) == [(300, True), (300, True)]
        assert r11(before) == ((0, 0), [(0, False), (0, False)])
        assert r11(approved) == ((600, 2), [(300, True), (300, True)])
        assert overview(before) == (0, 0) and overview(approved) == (600, 2)
        assert s.scalar(select(func.count()).select_from(StudyMinutes)) == 4  # kept


def test_R02_a_trainee_added_after_approval_counts_only_once_the_district_notes_it(factory):
    newcomer = people(3, seed=9)[2]
    with factory() as s:
        klass = create_class(s, size=1)
        added = roster.import_roster(s, klass, roster_csv([newcomer]), "补充名单.csv", actor="机构", today=klass.start_date,
                                     now=datetime(2026, 12, 3, 9, tzinfo=TZ))
        assert added == 1
        minutes(s, klass, newcomer[0], date(2026, 12, 3), 1440)
        s.commit()
        (change,) = approval.pending_roster_changes(s, klass)
        assert (change.kind, change.requested_by, change.reason) == ("add", "机构", "审核通过后导入花名册 补充名单.csv")
        line = next(line for line in qualification.summary(s, klass).lines if line.name == newcomer[0])
        assert (line.total.total_minutes, line.pending, line.qualified) == (1440, True, False)
        approval.note_roster_changes(s, klass, note="同意增补", actor="district:李", source="test",
                                     now=datetime(2026, 12, 3, 10, tzinfo=TZ))
        s.commit()
        line = next(line for line in qualification.summary(s, klass).lines if line.name == newcomer[0])
        assert (line.pending, line.qualified) == (False, True)
        assert (change.noted_by, change.note) == ("district:李", "同意增补")
        assert ledger_verify.verify(s).ok


def test_R02_a_removal_is_kept_with_its_reason_and_after_approval_is_a_change_to_note(factory):
    with factory() as s:
        draft = create_class(s, code="DRAFT", size=2, seed=3, approve=False)
        running = create_class(s, code="RUN", size=2, seed=4)
        now = datetime(2026, 12, 3, 9, tzinfo=TZ)
        gone = roster_of(s, draft)[0].name
        assert approval.remove_trainee(s, draft, gone, reason="本人放弃", actor="机构", source="test", now=now) is None
        left = roster_of(s, running)[0].name
        change = approval.remove_trainee(s, running, left, reason="已就业", actor="机构", source="test", now=now)
        s.commit()
        assert (change.kind, change.reason, change.noted_at) == ("remove", "已就业", None)
        removed = {line.name: (line.removed, line.total.removed_reason) for line in qualification.summary(s, running).lines}
        assert removed[left] == (True, "已就业")
        assert s.scalar(select(func.count()).select_from(RosterChange)) == 1
        with pytest.raises(Refusal, match="没有名为"):  # already removed
            approval.remove_trainee(s, running, left, reason="x", actor="机构", source="test", now=now)
        with pytest.raises(Refusal, match="理由"):
            approval.remove_trainee(s, running, roster_of(s, running)[1].name, reason=" ", actor="机构", source="test",
                                    now=now)
        approval.note_roster_changes(s, running, note="", actor="district:李", source="test", now=now)
        with pytest.raises(Refusal, match="没有待确认"):
            approval.note_roster_changes(s, running, note="", actor="district:李", source="test", now=now)
        s.commit()
        assert ledger_verify.verify(s).ok



def test_R16_R22_removal_for_short_hours_leaves_a_marked_trainee_with_enough_hours_alone(factory):
    with factory() as s:
        klass = create_class(s, size=3)
        marked, short, enough = (p.name for p in roster_of(s, klass))
        for name, count in ((marked, 1440), (short, 100), (enough, 1440)):
            minutes(s, klass, name, date(2026, 12, 2), count)
        eligibility.mark_trainee(s, klass, marked, eligibility.INELIGIBLE, "在校学生", actor="district:李", source="test",
                                 now=datetime(2026, 11, 30, tzinfo=TZ))
        removed = hours.remove_unqualified(s, klass, actor="cli", source="test", now=datetime(2026, 12, 13, tzinfo=TZ))
        assert [r.name for r in removed] == [short]
        lines = {line.name: (line.removed, line.qualified, line.mark) for line in qualification.summary(s, klass).lines}
        assert lines == {marked: (False, False, "ineligible"), short: (True, False, None), enough: (False, True, None)}
