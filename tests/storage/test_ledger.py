"""R05, R17: the ledger detects every kind of direct SQL tampering and verifies an honest database."""

from __future__ import annotations

from datetime import date, datetime, time, timezone

import pytest
from sqlalchemy import select, text

from handlers.texts import ledger_detail, ledger_problem
from storage import ledger, ledger_verify
from storage.models import (
    Answer,
    Assignment,
    Attachment,
    Certificate,
    CertificateCounter,
    ClassSession,
    ClassTimetable,
    ClassTransition,
    DailyReportSend,
    DingTalkIdentity,
    District,
    EligibilityChange,
    Enrollment,
    Group,
    ImportFile,
    InboundMessage,
    Inspection,
    InspectionEvidence,
    Institution,
    InstitutionAccount,
    Klass,
    LeaveRequest,
    Person,
    Photo,
    Punch,
    QaSession,
    Question,
    RollCall,
    RollCallSample,
    SpotCheck,
    Staff,
    StaffRole,
    StudyMinutes,
    Submission,
    SubmissionCheck,
    SupervisionGroup,
    TeacherClass,
    TraineeMark,
    RosterChange,
    PlanChange,
    User,
    tracked_tables,
)

T0 = datetime(2026, 3, 2, 0, 52, tzinfo=timezone.utc)


def _add(s, obj, type_):
    s.add(obj)
    ledger.append(s, type_, actor="test:builder", source="test", subject=obj)
    return obj


@pytest.fixture
def world(factory):
    """One row in every tracked table, written the honest way and committed."""
    with factory() as s:
        d = _add(s, District(name="东河区", city="包头市"), "district.created")
        inst = _add(s, Institution(name="鹿城职业培训学校", district_id=d.id), "institution.created")
        k = _add(s, Klass(code="BT-001", name="育婴员线上班", occupation="育婴员", institution_id=inst.id,
                          district_id=d.id, mode="live", start_date=date(2026, 3, 2), end_date=date(2026, 3, 13),
                          total_hours=100, online_hours=40, lesson_minutes=45, policy="baotou-2020",
                          class_teacher="王老师"), "class.created")
        _add(s, ClassTransition(class_id=k.id, from_status=None, to_status="draft", actor="cli", at=T0), "class.status")
        sess = _add(s, ClassSession(class_id=k.id, position=1, name="上午", start_time=time(8, 30),
                                    end_time=time(11, 30)), "session.created")
        _add(s, ClassTimetable(class_id=k.id, spec='{"rest_weekdays":[7]}', theory_hours=40), "timetable.created")
        p = _add(s, Person(name="张三", gender="男", id_number="150102199003071234", phone="13812345678"),
                 "person.created")
        e = _add(s, Enrollment(class_id=k.id, person_id=p.id, identity_category="下岗失业人员"), "enrollment.created")
        st = _add(s, Staff(name="王老师"), "staff.created")
        _add(s, StaffRole(staff_id=st.id, role="class_teacher", class_id=k.id), "staff.role")
        _add(s, DingTalkIdentity(sender_id="$:LWCP_v1:$abc", nick="张三", person_id=p.id, bound_at=T0), "identity.bound")
        _add(s, Group(open_conversation_id="cid123", title="育婴员1班", class_id=k.id, bound_by="staff:1", bound_at=T0),
             "group.bound")
        msg = _add(s, InboundMessage(msg_id="msg-1", conversation_id="cid123", conversation_type="2",
                                     sender_id="$:LWCP_v1:$abc", msgtype="text", sent_at=T0, payload='{"text":"签到"}'),
                   "message.received")
        _add(s, Punch(enrollment_id=e.id, day=date(2026, 3, 2), session_id=sess.id, kind="in", at=T0,
                      late=True, counts=True, source=f"msg:{msg.msg_id}"), "punch.recorded")
        _add(s, LeaveRequest(enrollment_id=e.id, day=date(2026, 3, 3), reason="看病", requested_at=T0,
                             source="msg:msg-2"), "leave.requested")
        _add(s, Photo(enrollment_id=e.id, day=date(2026, 3, 2), sha256="ab" * 32, phash="8f3c00ff00ff00ff",
                      status="valid", counted=True, received_at=T0, source="msg:msg-3"), "photo.received")
        _add(s, StudyMinutes(enrollment_id=e.id, day=date(2026, 3, 2), live_minutes=120, replay_minutes=30,
                             source="file:" + "cd" * 32), "minutes.imported")
        _add(s, ImportFile(kind="roster", class_id=k.id, filename="roster.xlsx", sha256="cd" * 32, rows=1,
                           imported_by="cli"), "import.roster")
        teacher = _add(s, User(name="王老师", password_hash="x", role="teacher", institution_id=inst.id),
                       "user.created")
        _add(s, TeacherClass(user_id=teacher.id, class_id=k.id, granted_by="cli"), "teacher.assigned")
        rc = _add(s, RollCall(class_id=k.id, number=1, trigger="command", by="staff:1", started_at=T0, deadline=T0,
                              window_minutes=10, ratio="1/2", ledger_head="0" * 64, nonce="msg:msg-4", seed="ef" * 32,
                              seed_commitment="12" * 32, roster="[]", roster_size=1, source="msg:msg-4"),
                  "rollcall.started")
        _add(s, RollCallSample(rollcall_id=rc.id, enrollment_id=e.id, position=1, answered_at=T0,
                               answer_source="msg:msg-5"), "rollcall.sampled")
        ins = _add(s, Inspection(class_id=k.id, level="city", kind="video", by="user:city", at=T0, expected=30,
                                 found=20, passed=False, source="cli"), "inspection.recorded")
        _add(s, InspectionEvidence(inspection_id=ins.id, sha256="ab" * 32, filename="shot.png", received_at=T0,
                                   source="cli"), "inspection.evidence")
        _add(s, EligibilityChange(class_id=k.id, eligible=False, reason="两次检查未达80%", actor="bot", at=T0),
             "class.eligibility")
        _add(s, TraineeMark(enrollment_id=e.id, kind="disqualified", reason="数据异常", actor="user:city", at=T0),
             "trainee.marked")
        _add(s, RosterChange(class_id=k.id, enrollment_id=e.id, kind="add", reason="补录", requested_by="机构",
                             requested_at=T0), "roster.add")
        _add(s, PlanChange(class_id=k.id, number=1, plan='code = "BT-001"', summary="[]", effective_from=date(2026, 3, 5),
                           reason="讲师调整", status="pending", requested_by="机构", requested_at=T0),
             "plan.change_requested")
        day = date(2026, 3, 2)
        a = _add(s, Assignment(class_id=k.id, number=1, content="练习一", day=day, posted_by="staff:1", posted_at=T0,
                               source="msg:msg-4"), "homework.posted")
        sub = _add(s, Submission(assignment_id=a.id, enrollment_id=e.id, content="答案", day=day, submitted_at=T0,
                                 source="msg:msg-5"), "homework.submitted")
        _add(s, SubmissionCheck(submission_id=sub.id, comment="很好", score=90, day=day, checked_by="staff:1",
                                checked_at=T0, source="msg:msg-6"), "homework.checked")
        _add(s, Attachment(class_id=k.id, subject_table="submissions", subject_id=sub.id, kind="picture",
                           download_code="code-1", received_at=T0, source="msg:msg-5"), "attachment.received")
        qa = _add(s, QaSession(class_id=k.id, number=1, topic="第一章", day=day, opened_by="staff:1", started_at=T0,
                               source="msg:msg-7"), "qa.opened")
        q = _add(s, Question(class_id=k.id, number=1, qa_session_id=qa.id, enrollment_id=e.id, content="怎么办",
                             day=day, asked_at=T0, source="msg:msg-8"), "question.asked")
        _add(s, Answer(question_id=q.id, content="这样办", day=day, answered_by="staff:1", answered_at=T0,
                       source="msg:msg-9"), "question.answered")
        _add(s, SpotCheck(class_id=k.id, day=day, note="在线28人", checked_by="staff:1", checked_at=T0,
                          source="msg:msg-10"), "spot_check.recorded")
        _add(s, SupervisionGroup(district_id=d.id, open_conversation_id="cid-sup", title="督查群", bound_by="staff:1",
                                 bound_at=T0), "supervision_group.bound")
        _add(s, DailyReportSend(district_id=d.id, day=day, classes=1, trainees=1, workbook_sha256="ef" * 32,
                                sent_by="scheduler", sent_at=T0), "report.sent")
        _add(s, CertificateCounter(series="2026", last=1), "certificate.counter")
        _add(s, Certificate(number="2026-000001", class_id=k.id, enrollment_id=e.id, issued_by="user:city",
                            issued_at=T0), "certificate.issued")
        _add(s, InstitutionAccount(institution_id=inst.id, bank="中国工商银行包头分行", account="0602000000000000001",
                                   set_by="cli", set_at=T0), "institution.account")
        s.commit()
    return factory


def verify(factory):
    with factory() as s:
        return ledger_verify.verify(s)


def test_R17_honest_database_verifies_clean(world):
    report = verify(world)
    assert report.ok, [ledger_problem(p) for p in report.problems]
    assert report.events == len(tracked_tables())


def test_R17_every_tracked_table_is_covered_by_the_fixture(world):
    with world() as s:
        empty = [t.name for t in tracked_tables() if s.execute(select(t)).first() is None]
    assert empty == []


def _first_text_column(table):
    return next(c for c in table.columns if c.name != "id" and str(c.type).startswith(("VARCHAR", "TEXT")))


@pytest.mark.parametrize("table", tracked_tables(), ids=lambda t: t.name)
def test_R17_direct_update_of_any_tracked_row_is_named(world, table):
    column = _first_text_column(table)
    with world() as s:
        s.execute(text(f"UPDATE {table.name} SET {column.name} = 'X' WHERE id = 1"))
        s.commit()
    report = verify(world)
    assert not report.ok
    (problem,) = report.problems
    assert (problem.kind, problem.table, problem.row_id) == ("changed", table.name, 1)
    assert problem.seq is not None
    assert column.name in ledger_problem(problem) and "'X'" in ledger_problem(problem)


def test_R05_trainee_name_change_is_reported_with_old_and_new_name(world):
    with world() as s:
        s.execute(text("UPDATE persons SET name = '李四' WHERE id = 1"))
        s.commit()
    (problem,) = verify(world).problems
    assert "persons 第 1 行" in ledger_problem(problem)
    assert "'张三'" in ledger_problem(problem) and "'李四'" in ledger_problem(problem)


def test_R17_punch_time_moved_is_reported(world):
    with world() as s:
        punch = s.get(Punch, 1)
        earlier = punch.at.replace(minute=20)
        s.execute(text("UPDATE punches SET at = :at WHERE id = 1"),
                  {"at": earlier.replace(tzinfo=None) if s.bind.dialect.name == "sqlite" else earlier})
        s.commit()
    (problem,) = verify(world).problems
    assert (problem.table, problem.kind) == ("punches", "changed")
    assert "at 台账为" in ledger_detail(problem)


def test_R17_inserted_row_without_event_is_reported(world):
    with world() as s:
        s.execute(text("INSERT INTO study_minutes (enrollment_id, day, live_minutes, replay_minutes, source, recorded_at)"
                       " VALUES (1, :d, 300, 0, 'forged', :t)"),
                  {"d": date(2026, 3, 3), "t": T0.replace(tzinfo=None)})
        s.commit()
    (problem,) = verify(world).problems
    assert (problem.kind, problem.table, problem.row_id) == ("inserted", "study_minutes", 2)


@pytest.mark.parametrize("table", ["punches", "photos", "study_minutes", "leave_requests", "inbound_messages"])
def test_R17_deleted_row_is_reported(world, table):
    with world() as s:
        s.execute(text(f"DELETE FROM {table} WHERE id = 1"))
        s.commit()
    (problem,) = verify(world).problems
    assert (problem.kind, problem.table, problem.row_id) == ("deleted", table, 1)


def test_R17_edited_event_is_reported(world):
    with world() as s:
        s.execute(text("UPDATE ledger_events SET actor = 'someone-else' WHERE chain = 1 AND seq = 3"))
        s.commit()
    problems = verify(world).problems
    assert [(p.table, p.chain, p.seq) for p in problems] == [("ledger_events", "BT-001", 3)]
    assert "哈希不符" in ledger_problem(problems[0]) and "BT-001 链事件 #3" in ledger_problem(problems[0])


def test_R17_deleted_event_in_the_middle_is_reported(world):
    with world() as s:
        s.execute(text("DELETE FROM ledger_events WHERE chain = 1 AND seq = 3"))
        s.commit()
    problems = verify(world).problems
    assert any(p.table == "ledger_events" and p.seq == 4 and "不连续" in ledger_detail(p) for p in problems)
    assert any(p.kind == "inserted" and p.table == "class_sessions" for p in problems)


def test_R17_deleted_last_event_is_reported_by_the_head(world):
    with world() as s:
        last = s.execute(text("SELECT max(seq) FROM ledger_events WHERE chain = 1")).scalar_one()
        s.execute(text("DELETE FROM ledger_events WHERE chain = 1 AND seq = :s"), {"s": last})
        s.commit()
    problems = verify(world).problems
    assert any(p.kind == "head" for p in problems)


def test_R17_forged_event_rehashed_by_hand_is_still_caught_by_the_next_link(world):
    """Rewriting one event with a correct own hash breaks the next event's prev_hash."""
    with world() as s:
        ev = s.get(ledger.LedgerEvent, (1, 4))
        ev.actor = "forger"
        ev.hash = ledger.event_hash(ev.prev_hash, ledger._body(ev))
        s.commit()
    problems = verify(world).problems
    assert [p.seq for p in problems] == [5]


def test_R05_correction_is_a_new_event_with_actor_and_reason(world):
    with world() as s:
        person = s.get(Person, 1)
        person.phone = "13900000000"
        ledger.append(s, "person.corrected", actor="user:admin", source="cli", subject=person,
                      reason="学员本人来电更正手机号")
        s.commit()
    assert verify(world).ok
    with world() as s:
        history = s.execute(select(ledger.LedgerEvent).where(ledger.LedgerEvent.subject_table == "persons")
                            .order_by(ledger.LedgerEvent.seq)).scalars().all()
    assert [h.type for h in history] == ["person.created", "person.corrected"]
    assert "13812345678" in history[0].payload and "13900000000" in history[1].payload
    assert "更正手机号" in history[1].payload


def test_R05_correction_without_reason_is_refused(world):
    with world() as s, pytest.raises(ValueError, match="reason"):
        ledger.append(s, "person.corrected", actor="user:admin", source="cli", subject=s.get(Person, 1))


def test_R05_a_fact_written_without_its_event_cannot_be_committed(world):
    with world() as s:
        s.get(Person, 1).name = "王五"
        with pytest.raises(ledger.UnrecordedChange, match="persons#1"):
            s.commit()
    assert verify(world).ok


def test_R17_a_rolled_back_savepoint_takes_its_events_and_only_its_events(world):
    with world() as s:
        kept = Staff(name="赵老师")
        s.add(kept)
        ledger.append(s, "staff.created", actor="test", source="test", subject=kept)
        with pytest.raises(RuntimeError), s.begin_nested():
            gone = Staff(name="钱老师")
            s.add(gone)
            ledger.append(s, "staff.created", actor="test", source="test", subject=gone)
            raise RuntimeError("refused")
        s.commit()
    with world() as s:
        assert sorted(s.scalars(select(Staff.name))) == ["王老师", "赵老师"]
    assert verify(world).ok


def test_R05_an_unrecorded_write_before_a_rolled_back_savepoint_still_blocks_the_commit(world):
    with world() as s:
        s.get(Person, 1).phone = "13000000000"
        s.flush()
        with pytest.raises(RuntimeError), s.begin_nested():
            raise RuntimeError("refused")
        with pytest.raises(ledger.UnrecordedChange, match="persons#1"):
            s.commit()
