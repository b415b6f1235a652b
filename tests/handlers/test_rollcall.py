"""R13 random roll calls in the chat: the draw, 到, the result, the schedule; R15 after failed ones."""

from __future__ import annotations

import hashlib
import json
import math
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from handlers import rollcall
from scheduler import run_due
from handlers.texts import ledger_problem
from storage import ledger, ledger_verify
from storage.models import EligibilityChange, Enrollment, LeaveRequest, OutboxMessage, RollCall, RollCallSample

from .chat import Chat, FakeDingTalk, add_staff, at, bind_group, bind_person, create_class, roster_of

DAY = "2026-12-01"


class Recording(FakeDingTalk):
    """Also records 1:1 batch sends (roll call notices) and what a webhook message @-mentions."""

    def __init__(self, blobs):
        super().__init__(blobs)
        self.oto: list[tuple[list[str], str]] = []
        self.mentions: list[list[str]] = []

    def reply_webhook(self, url, text, at_user_ids=()):
        self.mentions.append(list(at_user_ids))
        super().reply_webhook(url, text, at_user_ids)

    def batch_send(self, robot_code, user_ids, text):
        self.oto.append((list(user_ids), text))
        return type("Result", (), {"flow_controlled_user_ids": [], "invalid_user_ids": []})()


def world(factory, tmp_path, size=30, *, district_inspector=True, **plan) -> Chat:
    """A class of ``size`` bound trainees (u1…, staff ids s1…), its group, a district inspector ``insp``."""
    with factory() as s:
        klass = create_class(s, size=size, **plan)
        bind_group(s, klass, "cid-class")
        for n, person in enumerate(roster_of(s, klass), start=1):
            bind_person(s, person, f"u{n}", staff_user_id=f"s{n}")
        if district_inspector:
            add_staff(s, "insp", "inspector", None, name="李督查", district_id=klass.district_id)
        add_staff(s, "teacher", "class_teacher", klass, name="王芳")
        s.commit()
    chat = Chat(factory, tmp_path)
    chat.api = Recording(chat.blobs)
    return chat


def sampled(factory, number=1) -> list[tuple[int, str]]:
    """(position, sender) of the sampled trainees."""
    with factory() as s:
        rc = s.scalar(select(RollCall).where(RollCall.number == number))
        ids = {e.id: n for n, e in enumerate(s.scalars(select(Enrollment).order_by(Enrollment.id)), start=1)}
        return [(row.position, f"u{ids[row.enrollment_id]}") for row, _ in rollcall.samples(s, rc)]


def test_R13_inspector_roll_call_samples_half_names_each_and_commits_to_the_seed(factory, tmp_path):
    chat = world(factory, tmp_path)
    assert chat.say("点名 50% 5", when=at("09:00", DAY), sender="insp", staff_user_id="insp-staff") == []
    sent = chat.deliver()
    announcement = next(t for t in sent if t.startswith("【随机点名】"))
    assert "从 30 名在册学员中抽取 15 人（50%）" in announcement and "09:05 前" in announcement
    with factory() as s:
        rc = s.scalar(select(RollCall))
        names = [name for _, name in rollcall.samples(s, rc)]
        assert rc.seed_commitment == hashlib.sha256(rc.seed.encode()).hexdigest()
        assert rc.seed not in announcement and rc.seed_commitment in announcement
    assert len(names) == 15 and all(name in announcement for name in names)
    # every sampled trainee is @-mentioned (the command's sessionWebhook allows it) and told 1:1
    assert sorted(chat.api.mentions[-1]) == sorted(uid for _, u in sampled(factory) for uid in [u.replace("u", "s")])
    notified = [uid for ids, _ in chat.api.oto for uid in ids]
    assert sorted(notified) == sorted(u.replace("u", "s") for _, u in sampled(factory))
    assert all(len(ids) <= 20 for ids, _ in chat.api.oto)


def test_R13_answers_inside_the_window_count_and_late_unsampled_or_repeated_ones_do_not(factory, tmp_path):
    chat = world(factory, tmp_path)
    chat.say("点名 50% 5", when=at("09:00", DAY), sender="insp")
    drawn = [u for _, u in sampled(factory)]
    outsider = next(f"u{n}" for n in range(1, 31) if f"u{n}" not in drawn)
    for n, sender in enumerate(drawn[:12]):
        (reply,) = chat.say("到", when=at("09:01", DAY) + timedelta(seconds=10 * n), sender=sender)
        assert reply.startswith("已记录：") and "应答第 1 次点名" in reply
    assert chat.say("到", when=at("09:03", DAY), sender=drawn[0]) == ["你已于 09:01 应答第 1 次点名，不重复记录。"]
    assert chat.say("到", when=at("09:03", DAY), sender=outsider) == ["你不在第 1 次点名的抽查名单中，无需回复。"]
    assert chat.say("到", when=at("09:06", DAY), sender=drawn[12]) == [
        "第 1 次点名已于 09:05 截止，09:06 的“到”不计入。"]
    (result,) = chat.say("点名结果", when=at("09:07", DAY), sender="insp")
    assert "应答 12/15，应答率 80%，合格（要求 80%）" in result
    with factory() as s:
        rc = s.scalar(select(RollCall))
        assert (rc.answered, rc.counted, rc.passed) == (12, 15, True)
        assert rc.seed in result  # revealed once the window closed
        assert s.scalar(select(RollCallSample).where(RollCallSample.answered_at.is_not(None)).limit(1)) is not None
        assert ledger_verify.verify(s).ok
    posted = chat.deliver()
    assert any(t.startswith("【点名结果】") and "12/15" in t for t in posted)  # the group gets it too


def test_R13_a_ratio_below_the_profile_minimum_is_raised_and_the_reply_says_so(factory, tmp_path):
    chat = world(factory, tmp_path, size=9)
    (reply,) = chat.say("点名 30%", when=at("09:00", DAY), sender="insp")
    assert reply == "抽查比例 30% 低于政策要求的 50%，已按 50% 抽取。"
    assert len(sampled(factory)) == math.ceil(9 / 2)


def test_R13_a_second_roll_call_while_one_is_open_is_refused_with_its_deadline(factory, tmp_path):
    chat = world(factory, tmp_path, size=4)
    chat.say("点名", when=at("09:00", DAY), sender="insp")
    assert chat.say("点名 60%", when=at("09:04", DAY), sender="insp") == [
        "班级 BT-2026-001 的第 1 次点名正在进行，09:10 截止；截止后才能再次点名。"]
    assert chat.say("点名", when=at("09:11", DAY), sender="insp") == []  # the first closed: a new one starts
    with factory() as s:
        assert [rc.number for rc in s.scalars(select(RollCall).order_by(RollCall.id))] == [1, 2]


def test_R13_only_inspectors_start_roll_calls(factory, tmp_path):
    chat = world(factory, tmp_path, size=4)
    assert chat.say("点名", when=at("09:00", DAY), sender="teacher") == ["“点名”只有督查人员可以使用。"]
    assert chat.say("点名", when=at("09:00", DAY), sender="u1") == ["“点名”只有督查人员可以使用。"]
    with factory() as s:
        assert s.scalar(select(RollCall)) is None


def test_R13_trainees_on_approved_leave_are_sampled_but_excused_and_not_counted(factory, tmp_path):
    chat = world(factory, tmp_path, size=4)
    with factory() as s:
        for e in s.scalars(select(Enrollment)):
            leave = LeaveRequest(enrollment_id=e.id, day=at("09:00", DAY).date(), reason="病", status="approved",
                                 requested_at=at("07:00", DAY), source="test")
            s.add(leave)
            ledger.append(s, "leave.requested", actor="test", source="test", subject=leave)
            break
        s.commit()
    chat.say("点名 100%", when=at("09:00", DAY), sender="insp")
    announcement = next(t for t in chat.deliver() if t.startswith("【随机点名】"))
    assert announcement.count("（已准假，免答）") == 1
    assert chat.say("到", when=at("09:01", DAY), sender="u1") == ["你今天已准假，第 1 次点名免答，不记录。"]
    for sender in ("u2", "u3", "u4"):
        chat.say("到", when=at("09:02", DAY), sender=sender)
    (result,) = chat.say("点名结果 1", when=at("09:20", DAY), sender="insp")
    assert "应答 3/3，应答率 100%，合格" in result and "已准假（不计入）：" in result


def test_R13_one_to_one_roll_call_names_the_class_and_goes_to_its_group(factory, tmp_path):
    chat = world(factory, tmp_path, size=6)
    (reply,) = chat.say("点名 BT-2026-001 50% 3", when=at("09:00", DAY), sender="insp", group=None)
    assert reply == "已发起班级 BT-2026-001 第 1 次点名：抽取 3/6 人，09:03 截止，结果将发到班级群。"
    sent = chat.api.sent
    chat.deliver()
    group_posts = [t for cid, t in sent if cid == "cid-class"]
    assert group_posts and group_posts[0].startswith("【随机点名】") and "无法 @ 提醒" in group_posts[0]


def test_R13_the_sample_can_be_recomputed_by_hand_from_the_published_seed_and_roster(factory, tmp_path):
    """The README's algorithm, written out here independently of handlers.rollcall."""
    chat = world(factory, tmp_path, size=11)
    chat.say("点名 50% 5", when=at("09:00", DAY), sender="insp")
    with factory() as s:
        rc = s.scalar(select(RollCall))
        head, code, number, nonce = rc.ledger_head, "BT-2026-001", rc.number, rc.nonce
        seed = hashlib.sha256(f"dingclass-rollcall-v1|{head}|{code}|{number}|{nonce}".encode()).hexdigest()
        roster = [eid for eid, _ in json.loads(rc.roster)]
        by_key = sorted(roster, key=lambda eid: hashlib.sha256(f"{seed}|{eid}".encode()).hexdigest())
        recorded = [row.enrollment_id for row, _ in rollcall.samples(s, rc)]
        assert nonce.startswith("msg:") and seed == rc.seed
        assert recorded == by_key[:6]  # ceil(0.5 × 11)
        assert rollcall.verify(s, rc).ok


def test_R13_a_sample_edited_with_sql_fails_verification_and_the_ledger_names_the_row(factory, tmp_path):
    chat = world(factory, tmp_path, size=6)
    chat.say("点名 50% 5", when=at("09:00", DAY), sender="insp")
    with factory() as s:
        rc = s.scalar(select(RollCall))
        drawn = {row.enrollment_id for row, _ in rollcall.samples(s, rc)}
        other = next(e.id for e in s.scalars(select(Enrollment)) if e.id not in drawn)
        first = s.scalar(select(RollCallSample).where(RollCallSample.position == 1))
        s.execute(text("UPDATE rollcall_samples SET enrollment_id = :e WHERE id = :i"), {"e": other, "i": first.id})
        s.commit()
    with factory() as s:
        rc = s.scalar(select(RollCall))
        assert not rollcall.verify(s, rc).ok
        problems = [ledger_problem(p) for p in ledger_verify.verify(s).problems]
        assert any(p.startswith(f"rollcall_samples 第 {first.id} 行") for p in problems)


# --- the schedule --------------------------------------------------------------------------------------


def scheduled(factory):
    with factory() as s:
        return [(rc.number, rc.trigger) for rc in s.scalars(select(RollCall).order_by(RollCall.id))]


def planned(factory, tz_now):
    """The moment drawn for the class's next scheduled roll call."""
    with factory() as s:
        (due,) = rollcall.due_scheduled(s, tz_now) or [None]
        return due


def test_R13_the_scheduler_starts_one_roll_call_at_the_drawn_moment_inside_a_session_and_never_twice(factory, tmp_path):
    world(factory, tmp_path, size=6)
    # the window for the first roll call is the first two class days; its moment is drawn reproducibly
    with factory() as s:
        from storage.models import ClassSession, Klass
        klass = s.scalar(select(Klass))
        sessions = list(s.scalars(select(ClassSession).order_by(ClassSession.position)))
        days = rollcall.class_days(s, klass, klass.end_date)[:2]
        slot = rollcall.planned_slot(klass, days, sessions, None, 10, at("00:00", DAY).tzinfo)
    assert any(x.start_time <= slot.time() < x.end_time for x in sessions) and slot.date() in days
    before = slot - timedelta(minutes=1)
    if any(x.start_time <= before.time() < x.end_time for x in sessions):
        run_due(factory, before, "test")
        assert scheduled(factory) == []
    run_due(factory, slot, "test")
    assert scheduled(factory) == [(1, "schedule")]
    run_due(factory, slot + timedelta(minutes=1), "test")  # again, the roll call still open: nothing new
    run_due(factory, slot, "test:second")  # the same moment from another process: claimed already
    assert scheduled(factory) == [(1, "schedule")]
    with factory() as s:
        rc = s.scalar(select(RollCall))
        assert rc.slot == slot and rc.nonce.startswith("job:BT-2026-001:after:0:")


def test_R13_a_class_whose_last_roll_call_was_two_class_days_ago_gets_exactly_one(factory, tmp_path):
    chat = world(factory, tmp_path, size=6)
    chat.say("点名", when=at("09:00", "2026-12-01"), sender="insp")
    run_due(factory, at("09:30", "2026-12-01"), "test")  # closes it
    now = at("16:50", "2026-12-03")  # two class days later, inside the afternoon session
    run_due(factory, now, "test")
    assert scheduled(factory) == [(1, "command"), (2, "schedule")]
    run_due(factory, now + timedelta(minutes=1), "test")
    assert scheduled(factory) == [(1, "command"), (2, "schedule")]


def test_R13_overdue_class_gets_its_roll_call_at_the_next_run_inside_a_session_never_outside(factory, tmp_path):
    world(factory, tmp_path, size=6)
    run_due(factory, at("12:30", "2026-12-04"), "test")  # lunch break: not class time
    assert scheduled(factory) == []
    run_due(factory, at("14:05", "2026-12-04"), "test")  # the first window (12-01, 12-02) ended without one
    assert scheduled(factory) == [(1, "schedule")]


def test_R13_roll_call_results_go_out_when_the_window_closes(factory, tmp_path):
    chat = world(factory, tmp_path, size=4)
    chat.say("点名 100% 5", when=at("09:00", DAY), sender="insp", staff_user_id="insp-staff")
    chat.say("到", when=at("09:01", DAY), sender="u1")
    chat.deliver()
    run_due(factory, at("09:06", DAY), "test")
    with factory() as s:
        keys = [row.dedupe_key for row in s.scalars(select(OutboxMessage).where(
            OutboxMessage.dedupe_key.like("rollcall:%:result:%")))]
    assert sorted(k.rsplit(":", 1)[1] for k in keys) == ["caller", "group"]
    chat.last = at("09:06", DAY)
    posted = chat.deliver()
    assert any("应答 1/4，应答率 25%，不合格" in t for t in posted)
    assert any(ids == ["insp-staff"] and "应答 1/4" in t for ids, t in chat.api.oto)


# --- R15 ------------------------------------------------------------------------------------------------


def test_R15_two_failed_roll_calls_make_the_class_ineligible_once(factory, tmp_path):
    chat = world(factory, tmp_path, size=4, policy="shapingba-2020")
    for n, hhmm in enumerate(("09:00", "09:30", "10:00"), start=1):
        chat.say("点名 100% 5", when=at(hhmm, DAY), sender="insp")
        run_due(factory, at(hhmm, DAY) + timedelta(minutes=6), "test")
        with factory() as s:
            changes = list(s.scalars(select(EligibilityChange)))
        assert len(changes) == (0 if n == 1 else 1)
    assert not changes[0].eligible and "第 1 次点名 0%" in changes[0].reason and "第 2 次点名 0%" in changes[0].reason


@pytest.mark.parametrize("policy", ["baotou-2020"])
def test_R15_profiles_without_the_rule_record_failed_roll_calls_but_keep_eligibility(factory, tmp_path, policy):
    chat = world(factory, tmp_path, size=4, policy=policy)
    for hhmm in ("09:00", "09:30"):
        chat.say("点名 100% 5", when=at(hhmm, DAY), sender="insp")
        run_due(factory, at(hhmm, DAY) + timedelta(minutes=6), "test")
    with factory() as s:
        assert [rc.passed for rc in s.scalars(select(RollCall))] == [False, False]
        assert s.scalar(select(EligibilityChange)) is None
