"""R10 teachers' daily duties in the chat: homework posted, handed in, checked; Q&A; spot checks."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from storage import ledger_verify
from storage.models import (
    Answer,
    Assignment,
    Attachment,
    OutboxMessage,
    Photo,
    QaSession,
    Question,
    SpotCheck,
    Submission,
    SubmissionCheck,
)

from .chat import Chat, add_staff, at, bind_group, bind_person, create_class, picture, roster_of


@pytest.fixture
def chat(factory, tmp_path):
    with factory() as s:
        klass = create_class(s, size=4)
        bind_group(s, klass, "cid-class")
        for n, person in enumerate(roster_of(s, klass), start=1):
            bind_person(s, person, f"u{n}", staff_user_id=f"staff-u{n}")
        add_staff(s, "ct", "class_teacher", klass, name="王芳")
        add_staff(s, "teacher", "teacher", klass, name="张丽华")
        s.commit()
    return Chat(factory, tmp_path)


def _klass(s):
    from storage.models import Klass
    return s.scalar(select(Klass))


def roster_names(factory) -> list[str]:
    with factory() as s:
        return [p.name for p in roster_of(s, _klass(s))]


def rows(factory, model):
    with factory() as s:
        return list(s.scalars(select(model).order_by(model.id)))


def test_R10_assignments_are_numbered_per_class_and_announced_with_their_deadline(chat, factory):
    (reply,) = chat.say("布置作业 完成第一章练习 截止 18:00", when=at("09:00"), sender="teacher")
    assert reply.startswith("第 1 号作业已布置（张丽华，09:00）：完成第一章练习\n截止 12-01 18:00")
    (reply,) = chat.say("布置作业 预习第二章 截止 2026-12-02 12:00", when=at("15:00"), sender="ct",
                        images=(picture(1),))
    assert reply.startswith("第 2 号作业已布置（王芳，15:00）（附图 1 张）：预习第二章\n截止 12-02 12:00")
    posted = rows(factory, Assignment)
    assert [(a.number, a.content, a.due_at.isoformat()) for a in posted] == [
        (1, "完成第一章练习", "2026-12-01T10:00:00+00:00"), (2, "预习第二章", "2026-12-02T04:00:00+00:00")]
    (shot,) = rows(factory, Attachment)
    assert (shot.subject_table, shot.subject_id, shot.kind) == ("assignments", posted[1].id, "picture")


def test_R10_bad_deadlines_and_empty_homework_are_refused_with_nothing_recorded(chat, factory):
    assert "截止时间没有看懂" in chat.say("布置作业 练习 截止 明天晚上", when=at("09:00"), sender="teacher")[0]
    assert "已经过了" in chat.say("布置作业 练习 截止 08:00", when=at("09:00"), sender="teacher")[0]
    assert "请发送“布置作业" in chat.say("布置作业", when=at("09:00"), sender="teacher")[0]
    assert "班主任" in chat.say("布置作业 练习", when=at("09:00"), sender="u1")[0]  # trainees may not post
    assert rows(factory, Assignment) == []


def test_R10_handing_in_goes_to_the_newest_owed_assignment_and_is_late_after_the_deadline(chat, factory):
    chat.say("布置作业 练习一 截止 12:00", when=at("09:00"), sender="teacher")
    chat.say("布置作业 练习二 截止 18:00", when=at("09:05"), sender="teacher")
    first = roster_names(factory)[0]
    assert chat.say("交作业 我的答案", when=at("10:00"), sender="u1") == [f"{first}的第 2 号作业已收到（10:00）。"]
    # a leading number names the assignment when the class has one; the rest is the content
    assert chat.say("交作业 1 迟到的答案", when=at("12:30"), sender="u1") == [
        f"{first}的第 1 号作业已收到（12:30），已过截止时间，记为迟交。"]
    assert "都已交过" in chat.say("交作业 再交一次", when=at("12:31"), sender="u1")[0]
    assert "已在 12-01 10:00 交过" in chat.say("交作业 2 改过的", when=at("12:32"), sender="u1")[0]
    # a number with no such assignment is part of the text
    chat.say("交作业 3个步骤都做了", when=at("12:40"), sender="u2", images=(picture(7),))
    subs = rows(factory, Submission)
    assert [(s.assignment_id, s.content, s.late) for s in subs] == [
        (2, "我的答案", False), (1, "迟到的答案", True), (2, "3个步骤都做了", False)]
    (shot,) = rows(factory, Attachment)
    assert (shot.subject_table, shot.subject_id) == ("submissions", subs[2].id)
    with factory() as s:
        assert ledger_verify.verify(s).ok


def test_R10_checks_name_the_trainee_and_keep_comment_and_score(chat, factory):
    chat.say("布置作业 练习一", when=at("09:00"), sender="teacher")
    first, second = roster_names(factory)[:2]
    chat.say("交作业 答案", when=at("10:00"), sender="u1")
    assert chat.say(f"批改 1 {first} 步骤完整 书写工整 92", when=at("16:00"), sender="teacher") == [
        f"已批改第 1 号作业：{first}，步骤完整 书写工整，92 分（16:00）"]
    assert "还没有交第 1 号作业" in chat.say(f"批改 1 {second} 很好", when=at("16:01"), sender="teacher")[0]
    assert "没有第 5 号作业" in chat.say(f"批改 5 {first} 很好", when=at("16:02"), sender="teacher")[0]
    assert "超出范围" in chat.say(f"批改 1 {first} 很好 150", when=at("16:03"), sender="teacher")[0]
    assert "请发送“批改" in chat.say("批改 1", when=at("16:04"), sender="teacher")[0]
    (check,) = rows(factory, SubmissionCheck)
    assert (check.comment, check.score) == ("步骤完整 书写工整", 92)


def test_R10_homework_list_counts_and_what_a_trainee_owes(chat, factory):
    chat.say("布置作业 练习一 截止 12:00", when=at("09:00"), sender="teacher")
    chat.say("布置作业 练习二", when=at("09:01"), sender="teacher")
    first = roster_names(factory)[0]
    chat.say("交作业 1 答案", when=at("13:00"), sender="u1")
    chat.say("交作业 1 答案", when=at("11:00"), sender="u2")
    chat.say(f"批改 1 {first} 好", when=at("14:00"), sender="teacher")
    (listing,) = chat.say("作业", when=at("15:00"), sender="ct")
    assert listing.splitlines()[1:] == ["1. 练习一 截止 12-01 12:00：已交 2/4，迟交 1，已批改 1",
                                        "2. 练习二：已交 0/4，迟交 0，已批改 0"]
    (mine,) = chat.say("我的", when=at("15:00"), sender="u3")
    assert "待交：第 1 号 练习一（已过截止 12-01 12:00，仍可补交，记为迟交）" in mine
    assert "待交：第 2 号 练习二" in mine
    (mine,) = chat.say("我的", when=at("15:00"), sender="u1")
    assert "第 1 号" not in mine and "待交：第 2 号" in mine


def test_R10_private_pictures_within_ten_minutes_of_handing_in_belong_to_the_homework(chat, factory):
    chat.say("布置作业 练习一", when=at("09:00"), sender="teacher")
    reply = chat.say("交作业", when=at("10:00"), sender="u1", group=None)[0]
    assert "10分钟内" in reply
    assert chat.say("", when=at("10:05"), sender="u1", group=None, images=(picture(3),)) == [
        "已收到第 1 号作业的附件 1 个（10:05）。"]
    chat.deliver()
    (shot,) = rows(factory, Attachment)
    assert shot.subject_table == "submissions" and shot.sha256 is not None
    assert rows(factory, Photo) == []
    assert chat.photo(picture(4), when=at("10:11"), sender="u1", group=None).startswith("已收到今天的学习照片")
    assert len(rows(factory, Attachment)) == 1 and len(rows(factory, Photo)) == 1


def test_R10_a_homework_picture_sent_again_as_the_daily_photo_keeps_the_homework_file(chat, factory):
    """The photo's raw download is removed (it may carry GPS positions, R08) — but not when the homework
    handed in before holds those very bytes: the teacher can still open the attachment."""
    chat.say("布置作业 练习一", when=at("09:00"), sender="teacher")
    chat.say("交作业", when=at("10:00"), sender="u1", group=None)
    same = picture(5)
    assert chat.say("", when=at("10:05"), sender="u1", group=None, images=(same,)) == [
        "已收到第 1 号作业的附件 1 个（10:05）。"]
    chat.deliver()
    assert chat.photo(same, when=at("10:11"), sender="u1", group=None).startswith("已收到今天的学习照片")
    (shot,) = rows(factory, Attachment)
    assert chat.files.path(shot.sha256).is_file(), "the homework picture's file is gone"
    assert chat.files.get(shot.sha256) == same


def test_R10_qa_session_numbers_questions_links_answers_and_mentions_the_asker(chat, factory):
    assert "留到下次答疑" in chat.say("提问 第一章的公式怎么推？", when=at("08:50"), sender="u1")[0]
    (opened,) = chat.say("答疑开始 第一章", when=at("16:00"), sender="teacher")
    assert opened.splitlines() == [
        "第 1 次答疑「第一章」开始（16:00）。学员请 @我 发送“提问 问题”，教师用“答 编号 回答”回答。",
        "此前留下的问题 1 个：", "1. 第一章的公式怎么推？"]
    assert chat.say("提问 作业几点截止？", when=at("16:05"), sender="u2") == ["问题已记录，编号 2（16:05）。"]
    assert "已经" not in chat.say("答 2 今晚18点", when=at("16:10"), sender="teacher")[0]
    with factory() as s:
        row = s.scalar(select(OutboxMessage).where(OutboxMessage.dedupe_key.like("reply:%")).order_by(
            OutboxMessage.id.desc()).limit(1))
        body = json.loads(row.body)
    assert body["at_user_ids"] == ["staff-u2"] and body["text"].startswith("@staff-u2 问题 2「作业几点截止？」的回答")
    assert "没有编号为 9" in chat.say("答 9 不存在", when=at("16:11"), sender="teacher")[0]
    assert "还没有结束" in chat.say("答疑开始", when=at("16:12"), sender="teacher")[0]
    assert chat.say("答疑结束", when=at("16:30"), sender="teacher") == [
        "第 1 次答疑结束（16:30）：提问 2 个，已回答 1 个。未回答的问题编号：1。"]
    assert "没有进行中的答疑" in chat.say("答疑结束", when=at("16:31"), sender="teacher")[0]
    (session,) = rows(factory, QaSession)
    assert [(q.number, q.qa_session_id) for q in rows(factory, Question)] == [(1, session.id), (2, session.id)]
    (answer,) = rows(factory, Answer)
    assert answer.content == "今晚18点"


def test_R10_spot_checks_are_recorded_by_the_class_teacher_with_the_screenshot(chat, factory):
    (reply,) = chat.say("抽查 在线28人，2人未开摄像头", when=at("09:30"), sender="ct", images=(picture(9),))
    assert reply == "已记录今天第 1 次抽查（每天应 2 次，09:30）（附图 1 张）：在线28人，2人未开摄像头"
    assert chat.say("抽查 全部在线", when=at("15:30"), sender="ct")[0].startswith("已记录今天第 2 次抽查")
    assert "班主任" in chat.say("抽查 看了一眼", when=at("15:31"), sender="teacher")[0]
    assert "请发送“抽查" in chat.say("抽查", when=at("15:32"), sender="ct")[0]
    assert [c.note for c in rows(factory, SpotCheck)] == ["在线28人，2人未开摄像头", "全部在线"]
