"""R11: each morning every district gets the previous day's report once — summary and workbook."""

from __future__ import annotations

import io
import json

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from handlers import daily_report
from storage import ledger, ledger_verify
from storage.models import DailyReportSend, DingTalkIdentity, OutboxMessage, SupervisionGroup

from .chat import TZ, Chat, add_staff, at, bind_group, bind_person, create_class, roster_of, today

DAY = today("2026-12-01")
MORNING = at("07:30", "2026-12-02")


@pytest.fixture
def chat(factory, tmp_path):
    with factory() as s:
        k1 = create_class(s, code="BT-K1", size=3, district="昆都仑区", institution="鹿城学校")
        k2 = create_class(s, code="BT-K2", size=2, district="昆都仑区", institution="鹿城学校", seed=7)
        q1 = create_class(s, code="BT-Q1", size=2, district="青山区", institution="青山学校", seed=9)
        for klass, cid in ((k1, "cid-k1"), (k2, "cid-k2"), (q1, "cid-q1")):
            bind_group(s, klass, cid)
            for n, person in enumerate(roster_of(s, klass), start=1):
                bind_person(s, person, f"{klass.code}-u{n}")
        add_staff(s, "insp-k", "inspector", name="赵督查", district_id=k1.district_id)
        add_staff(s, "insp-k2", "inspector", name="钱督查", district_id=k1.district_id)
        add_staff(s, "insp-q", "inspector", name="孙督查", district_id=q1.district_id)
        add_staff(s, "ct", "class_teacher", k1, name="王芳")
        for sender, staff_id in (("insp-k", "staff-zhao"), ("insp-q", None)):  # 孙督查 is outside the organisation
            ident = s.scalar(select(DingTalkIdentity).where(DingTalkIdentity.sender_id == sender))
            ident.staff_user_id = staff_id
            ledger.append(s, "identity.staff_id", actor="test", source="test", subject=ident)
        s.commit()
    return Chat(factory, tmp_path)


def test_R11_an_inspector_binds_the_district_supervision_group(chat, factory):
    assert "你不是“青山区”的督查人员" in chat.say("绑定督查群 青山区", when=at("09:00"), sender="insp-k", group="cid-sup")[0]
    assert "没有名为“火星区”" in chat.say("绑定督查群 火星区", when=at("09:00"), sender="insp-k", group="cid-sup")[0]
    assert "班级群" in chat.say("绑定督查群 昆都仑区", when=at("09:00"), sender="insp-k", group="cid-k1")[0]
    assert "督查人员" in chat.say("绑定督查群 昆都仑区", when=at("09:00"), sender="ct", group="cid-sup")[0]
    (reply,) = chat.say("绑定督查群 昆都仑区", when=at("09:01"), sender="insp-k", group="cid-sup")
    assert reply.startswith("本群已绑定为“昆都仑区”的督查群")
    assert "已是“昆都仑区”的督查群" in chat.say("绑定督查群 昆都仑区", when=at("09:02"), sender="insp-k2",
                                             group="cid-sup")[0]
    with factory() as s:
        (row,) = s.scalars(select(SupervisionGroup))
        assert row.open_conversation_id == "cid-sup"


def send(factory, chat, now=MORNING):
    with factory() as s:
        outcome = daily_report.send_reports(s, DAY, now=now, files=chat.files, robot_code="bot", tz=TZ)
        s.commit()
    return outcome


def test_R11_each_district_is_sent_once_to_its_group_and_reachable_inspectors(chat, factory):
    chat.say("绑定督查群 昆都仑区", when=at("09:01"), sender="insp-k", group="cid-sup")
    chat.say("签到", when=at("08:20"), sender="BT-K1-u1", group="cid-k1")
    chat.say("抽查 全员在线", when=at("09:30"), sender="ct", group="cid-k1")
    chat.deliver()  # the replies to those messages
    outcome = send(factory, chat)
    with factory() as s:
        names = {row.district_id: row for row in s.scalars(select(DailyReportSend))}
        assert len(names) == 1 and outcome.already == [] and outcome.unreachable == ["青山区"]
        rows = list(s.scalars(select(OutboxMessage).where(OutboxMessage.dedupe_key.like("report:%"))
                              .order_by(OutboxMessage.id)))
        kinds = [(r.kind, r.conversation_id, sorted(json.loads(r.body))) for r in rows]
    # 昆都仑区: its group (markdown, then the file) and 赵督查 1:1 (钱督查 has no staffId: DingTalk cannot
    # reach him 1:1); 青山区 has no group and 孙督查 is outside the organisation: nobody to send to
    assert kinds == [("group", "cid-sup", ["markdown", "robot_code"]), ("group", "cid-sup", ["file", "robot_code"]),
                         ("oto", None, ["markdown", "robot_code", "user_ids"]),
                         ("oto", None, ["file", "robot_code", "user_ids"])]
    chat.last = MORNING  # the sender's clock: the morning of the send
    delivered = chat.deliver()
    assert delivered == []  # no plain text: the report goes as markdown and a file
    md = [p for _, key, p in chat.api.rich if key == "sampleMarkdown"]
    assert md[0]["title"] == "昆都仑区 12-01 培训日报"
    assert "培训班 2 个，学员 5 人：签到 1" in md[0]["text"] and "**BT-K1**" in md[0]["text"]
    assert "抽查 1/2" in md[0]["text"] and "- 抽查不足：1/2" in md[0]["text"] and "- 抽查不足：0/2" in md[0]["text"]
    assert [users for users, key, _ in chat.api.rich if key == "sampleMarkdown"][1] == ("staff-zhao",)
    files = [p for _, key, p in chat.api.rich if key == "sampleFile"]
    assert files[0]["fileName"] == "日报-昆都仑区-2026-12-01.xlsx" and files[0]["fileType"] == "xlsx"
    name, data = chat.api.media[files[0]["mediaId"]]
    assert load_workbook(io.BytesIO(data), read_only=True).sheetnames == ["昆都仑区", "BT-K1", "BT-K2"]
    # a re-run (or a second scheduler) sends nothing
    again = send(factory, chat, now=at("08:30", "2026-12-02"))
    assert again.sent == [] and again.already == ["昆都仑区"] and again.unreachable == ["青山区"]
    with factory() as s:
        assert s.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key.like("report:%"))
                        .order_by(OutboxMessage.id.desc()).limit(1)) == rows[-1].id
        assert ledger_verify.verify(s).ok


def test_R11_a_district_nobody_can_receive_is_not_recorded_as_sent(chat, factory):
    with factory() as s:  # 孙督查 outside the organisation, no supervision group: nobody to send 青山区 to
        outcome = daily_report.send_reports(s, DAY, now=MORNING, files=chat.files, robot_code="bot", tz=TZ)
        s.commit()
    assert [r.district_id for r in outcome.sent] and outcome.unreachable == ["青山区"]
    chat.say("绑定督查群 青山区", when=at("08:00", "2026-12-02"), sender="insp-q", group="cid-sup-q")
    later = send(factory, chat, now=at("08:05", "2026-12-02"))
    assert len(later.sent) == 1 and later.already == ["昆都仑区"]
    with factory() as s:
        (row,) = s.scalars(select(OutboxMessage).where(OutboxMessage.conversation_id == "cid-sup-q",
                                                       OutboxMessage.body.like("%markdown%")))
        assert "青山区" in json.loads(row.body)["markdown"]["text"]
