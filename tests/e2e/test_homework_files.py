"""R10 end to end: files arrive only in the 1:1 chat (DINGTALK.md §2, msgtype file with a downloadCode);
one sent within 10 minutes after 交作业 is attached to that homework, downloaded and kept with its name."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import dingtalk_stream.stream
import pytest
from sqlalchemy import select

from bot.service import BotService
from bot.settings import load
from storage import ledger, ledger_verify
from storage.models import Assignment, Attachment, InboundMessage, Klass, Submission

from .classroom import build_classroom, class_time
from .conftest import SDK_SLEEP_SCALE, _ScaledAsyncio


class Clock:
    def __init__(self, hhmm: str) -> None:
        self.now = class_time(hhmm)

    def __call__(self):
        return self.now


@pytest.fixture
def world(sim, engine, factory, tmp_path, monkeypatch):
    monkeypatch.setattr(dingtalk_stream.stream, "asyncio", _ScaledAsyncio(SDK_SLEEP_SCALE))
    clock = Clock("10:00")
    sim.clock = clock
    group, users = build_classroom(sim, factory, 6)
    with factory() as s:
        klass = s.scalar(select(Klass))
        row = Assignment(class_id=klass.id, number=1, content="第一章练习", day=clock().date(), posted_by="test",
                         posted_at=clock(), source="test")
        s.add(row)
        ledger.append(s, "homework.posted", actor="test", source="test", subject=row, class_code=klass.code)
        s.commit()
    settings = load({
        "DINGTALK_CLIENT_ID": sim.client_id, "DINGTALK_CLIENT_SECRET": sim.client_secret,
        "DINGTALK_OPENAPI_ENDPOINT": sim.endpoint, "DINGCLASS_DATA_DIR": str(tmp_path),
        "DATABASE_URL": engine.url.render_as_string(hide_password=False),
    })
    service = BotService(settings, factory).start()
    sim.wait_connected(1)
    yield clock, users
    service.stop(flush_timeout=5)


def answers(sim, user, n):
    return [x.text for x in sim.wait_for_sent(n, user=user, timeout=20)]


def test_R10_a_file_sent_1to1_right_after_handing_in_is_attached_to_the_homework(world, sim, factory):
    clock, users = world
    trainee, other = users[0], users[1]  # both inside the organisation
    sim.say(trainee, "交作业 1 见附件")
    (handed_in,) = answers(sim, trainee, 1)
    assert "的第 1 号作业已收到（10:00）" in handed_in and "图片和文件都算这份作业" in handed_in
    clock.now += timedelta(minutes=9)
    document = b"PK\x03\x04 a homework document" * 50
    sim.send_file(trainee, document, "第一章练习.docx")
    attached = answers(sim, trainee, 2)[1]
    assert attached.startswith("已收到第 1 号作业的附件 1 个") and attached.endswith("文件：第一章练习.docx")
    sim.wait_until(lambda: _downloaded(factory), 20, "the file downloaded")
    with factory() as s:
        (row,) = s.scalars(select(Attachment))
        submission = s.get(Submission, row.subject_id)
        assert (row.subject_table, row.kind, row.file_name) == ("submissions", "file", "第一章练习.docx")
        assert row.sha256 == hashlib.sha256(document).hexdigest() and submission.content == "见附件"

    clock.now += timedelta(minutes=2)  # 11 minutes after 交作业: not homework any more
    sim.send_file(trainee, b"late file", "补充.pdf")
    late = answers(sim, trainee, 3)[2]
    assert late.startswith("收到文件“补充.pdf”，但没有记录：文件只在单聊中发送“交作业”后 10 分钟内作为作业附件收下")
    sim.send_file(other, b"no homework", "随便.xlsx")  # never handed in
    assert answers(sim, other, 1)[0].startswith("收到文件“随便.xlsx”，但没有记录")
    with factory() as s:
        assert len(s.scalars(select(Attachment)).all()) == 1
        assert s.scalar(select(InboundMessage.msgtype).order_by(InboundMessage.id.desc()).limit(1)) == "file"
        assert ledger_verify.verify(s).ok


def _downloaded(factory) -> bool:
    with factory() as s:
        return s.scalar(select(Attachment.sha256)) is not None
