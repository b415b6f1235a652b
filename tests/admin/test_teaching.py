"""R10 in the admin: homework with submissions and checks (checked many at once), Q&A, spot checks."""

from __future__ import annotations

import re

from sqlalchemy import select

from handlers.classes import get_class
from storage import ledger_verify
from storage.models import SpotCheck, SubmissionCheck
from tests.admin.test_actions import post_form
from tests.admin.world import A, DAY1, XSS, at, say, sender
from tests.handlers.chat import add_staff


def teach(world) -> dict[str, str]:
    """A teacher posts homework in class A's group, three trainees hand it in, one question is answered."""
    with world.factory() as s:
        add_staff(s, "teacher-A", "teacher", get_class(s, A), name="张老师")
        s.commit()
    f = world.factory
    say(f, "布置作业 第一章练习 截止 12:00", when=at("09:00", DAY1), sender="teacher-A", group="cid-A")
    senders = {name: sender(world, f, name) for name in ("王秀英", "李建国", XSS)}
    for name, hhmm in (("王秀英", "10:00"), ("李建国", "12:30"), (XSS, "11:00")):
        say(f, f"交作业 {name}的答案", when=at(hhmm, DAY1), sender=senders[name], group="cid-A")
    say(f, "答疑开始 第一章", when=at("14:00", DAY1), sender="teacher-A", group="cid-A")
    say(f, "提问 公式怎么推？", when=at("14:05", DAY1), sender=senders["王秀英"], group="cid-A")
    say(f, "答 1 先消元", when=at("14:10", DAY1), sender="teacher-A", group="cid-A")
    say(f, "答疑结束", when=at("14:30", DAY1), sender="teacher-A", group="cid-A")
    return senders


def _submission_ids(page: str) -> list[str]:
    return re.findall(r'name="comment_(\d+)"', page)


def test_R10_teacher_checks_many_submissions_at_once_and_the_page_shows_them(fresh_world, fresh_clients):
    teach(fresh_world)
    client = fresh_clients["王芳"]
    page = client.get(f"/classes/{A}/teaching").get_data(as_text=True)
    assert "第 1 号：第一章练习" in page and "已交 3/" in page and "迟交 1" in page
    assert XSS not in page and "&lt;script&gt;" in page
    assert "公式怎么推？" in page and "先消元" in page
    ids = _submission_ids(page)
    assert len(ids) == 3
    response = post_form(client, f"/classes/{A}/teaching", f"/classes/{A}/homework/1/checks",
                         {f"comment_{ids[0]}": "步骤完整", f"score_{ids[0]}": "95", f"comment_{ids[1]}": "再检查",
                          f"comment_{ids[2]}": ""})
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "已批改第 1 号作业 2 份。" in page and "步骤完整（95 分）" in page
    with fresh_world.factory() as s:
        checks = list(s.scalars(select(SubmissionCheck).order_by(SubmissionCheck.id)))
        assert [(c.comment, c.score, c.checked_by) for c in checks] == [("步骤完整", 95, "user:王芳"),
                                                                         ("再检查", None, "user:王芳")]
        assert ledger_verify.verify(s).ok
    api = fresh_clients["王芳"]  # the API tells the same
    token = fresh_world.tokens["王芳"]
    body = api.get(f"/api/v1/classes/{A}/homework", headers={"Authorization": f"Bearer {token}"}).get_json()
    assert [(h["id"], h["title"], h["submitted"], h["late"], h["checked"]) for h in body] == [(1, "第一章练习", 3, 1, 2)]
    qa = api.get(f"/api/v1/classes/{A}/qa", headers={"Authorization": f"Bearer {token}"}).get_json()
    assert [(q["id"], q["questions"], q["answered"], q["ended_at"] is not None) for q in qa] == [(1, 1, 1, True)]


def test_R10_a_bad_score_saves_none_of_the_batch(fresh_world, fresh_clients):
    teach(fresh_world)
    client = fresh_clients["inst_lc"]
    ids = _submission_ids(client.get(f"/classes/{A}/teaching").get_data(as_text=True))
    response = post_form(client, f"/classes/{A}/teaching", f"/classes/{A}/homework/1/checks",
                         {f"comment_{ids[0]}": "好", f"score_{ids[1]}": "120"})
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "分数“120”不对" in page
    with fresh_world.factory() as s:
        assert s.scalar(select(SubmissionCheck.id)) is None


def test_R10_supervisors_see_teaching_but_do_not_check_or_record(fresh_world, fresh_clients):
    teach(fresh_world)
    client = fresh_clients["dist_k"]
    page = client.get(f"/classes/{A}/teaching").get_data(as_text=True)
    assert "第一章练习" in page and "comment_" not in page and "记录抽查" not in page
    response = post_form(client, f"/classes/{A}", f"/classes/{A}/spot-checks", {"note": "看了"})
    assert response.status_code == 403
    assert fresh_clients["dist_q"].get(f"/classes/{A}/teaching").status_code == 404  # another district
    with fresh_world.factory() as s:
        assert s.scalar(select(SpotCheck.id)) is None


def test_R10_spot_check_recorded_in_the_admin_and_trainee_page_shows_homework(fresh_world, fresh_clients):
    teach(fresh_world)
    client = fresh_clients["inst_lc"]
    response = post_form(client, f"/classes/{A}/teaching", f"/classes/{A}/spot-checks", {"note": "在线27人"})
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "已记录今天第 1 次抽查（每天应 2 次" in page and "抽查（今天 1/2 次）" in page
    with fresh_world.factory() as s:
        (check,) = s.scalars(select(SpotCheck))
        assert (check.note, check.checked_by, check.source) == ("在线27人", "user:inst_lc", "admin")
    class_page = client.get(f"/classes/{A}").get_data(as_text=True)
    assert "交作业 3 份（迟交 1）" in class_page and "抽查 1/2 次" in class_page
    trainee = client.get(f"/classes/{A}/trainees/{fresh_world.enrollments['李建国']}").get_data(as_text=True)
    assert "交作业" in trainee and "第 1 号：李建国的答案（迟交）" in trainee
