"""我的 (a trainee's own day), 统计 (the class's day for staff), 帮助 by role."""

from __future__ import annotations

import pytest

from .chat import Chat, add_staff, at, bind_group, bind_person, create_class, picture, roster_of


@pytest.fixture
def chat(factory, tmp_path):
    with factory() as s:
        klass = create_class(s, size=4)
        bind_group(s, klass, "cid-class")
        for n, person in enumerate(roster_of(s, klass), start=1):
            bind_person(s, person, f"u{n}")
        add_staff(s, "ct", "class_teacher", klass, name="王芳")
        add_staff(s, "insp", "inspector", None, name="李督查", district_id=klass.district_id)
        s.commit()
        names = [p.name for p in roster_of(s, klass)]
    c = Chat(factory, tmp_path)
    c.names = names
    return c


def test_mine_shows_todays_punches_photo_leave_minutes_and_the_running_ratio(chat):
    chat.say("签到", when=at("08:40"))
    chat.photo(picture(1), when=at("09:00"))
    chat.say("请假 明天 家中有事", when=at("09:05"))
    (reply,) = chat.say("我的", when=at("09:10"), group=None)
    assert reply.splitlines() == [
        f"{chat.names[0]}（BT-2026-001）12月1日（周二）：",
        "上午：签到 08:40（迟到），未签退",
        "下午：未签到，未签退",
        "照片：已收到（09:00）",
        "今日学习时长：暂无数据（观看统计导入后可查；每天至少 120 分钟）",
        "请假：12月2日（周三），编号 1，待批准",
        "累计：已学 0.0 课时，应学 40 课时，完成 0.0%（合格需达到 80%）",
    ]


def test_stats_gives_the_class_teacher_counts_missing_names_and_pending_leave(chat):
    n = chat.names
    chat.say("请假 孩子生病", when=at("08:00"), sender="u4")
    chat.say("准假 1", when=at("08:05"), sender="ct")
    chat.say("请假 明天 复查", when=at("08:06"), sender="u3")
    chat.say("签到", when=at("08:20"), sender="u1")
    chat.say("签到", when=at("08:35"), sender="u2")
    chat.photo(picture(2), when=at("09:00"), sender="u1")
    (reply,) = chat.say("统计", when=at("09:30"), sender="ct")
    lines = reply.splitlines()
    assert lines[0] == "BT-2026-001「BT-2026-001 育婴员线上培训」12月1日（周二）统计（截至 09:30），学员 4 人："
    assert lines[1] == "上午：签到 2 人（迟到 1），签退 0 人（早退 0）"
    assert lines[2] == "下午：签到 0 人（迟到 0），签退 0 人（早退 0）"
    assert lines[3] == "学习照片：1 人已交，0 张待审核"
    assert lines[4] == "请假：1 人（已批准 1，待批准 0）"
    assert lines[5] == f"上午未签到（1）：{n[2]}"  # u4 is on approved leave
    assert lines[6] == f"未交照片（2）：{n[1]}、{n[2]}"
    assert lines[7] == f"已批准请假：{n[3]}"
    assert lines[8] == "待批准的请假 1 条（编号. 姓名 日期：原因）："
    assert lines[9] == f"2. {n[2]} 12月2日（周三）：复查"


def test_stats_for_an_inspector_in_private_names_the_class(chat):
    (reply,) = chat.say("统计 BT-2026-001", when=at("09:30"), sender="insp", group=None)
    assert reply.startswith("BT-2026-001「")
    assert "班级编号" in chat.say("统计", when=at("09:30"), sender="insp", group=None)[0]


def test_trainees_may_not_see_the_class_stats(chat):
    assert "只有" in chat.say("统计", when=at("09:30"), sender="u1")[0]


def test_help_lists_what_each_role_may_use(chat):
    (trainee,) = chat.say("帮助", when=at("09:30"), sender="u1")
    (teacher,) = chat.say("帮助", when=at("09:30"), sender="ct")
    (stranger,) = chat.say("帮助", when=at("09:30"), sender="nobody", group=None)
    for word in ("签到", "请假", "照片", "我的"):
        assert word in trainee
    assert "准假" not in trainee and "统计" not in trainee
    for word in ("准假", "驳回", "请假列表", "统计", "绑定班级"):
        assert word in teacher
    assert "绑定" in stranger and "签到" not in stranger
