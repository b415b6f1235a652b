"""Issue 9 item 6, the chat side: what arrives from DingTalk is folded and cleaned before it is matched,
dates are strict, and a payload that cannot be parsed — or stored as parsed — is kept raw and ACKed."""

from __future__ import annotations

import asyncio
import copy
import json
import random
from datetime import datetime, timedelta

import pytest
from dingtalk_stream import AckMessage, CallbackMessage, Credential
from sqlalchemy import func, select

from bot.intake import GroupCommitter
from bot.stream import Client, MessageHandler, to_incoming
from handlers.commands import build_registry
from handlers.dispatch import Dispatcher
from handlers.messages import MessageEvent
from storage.models import InboundMessage, LeaveRequest, Punch
from tests.handlers.chat import TZ, Chat, add_staff, at, bind_group, bind_person, create_class, roster_of


@pytest.fixture
def chat(factory, tmp_path):
    with factory() as s:
        klass = create_class(s, size=3)
        bind_group(s, klass, "cid-class")
        for n, person in enumerate(roster_of(s, klass), start=1):
            bind_person(s, person, f"u{n}")
        add_staff(s, "ct", "class_teacher", klass, name="王芳")
        s.commit()
    return Chat(factory, tmp_path)


def payload(text: str, when: datetime, *, msg_id: str, sender: str = "u1", group: str = "cid-class") -> dict:
    return {"msgId": msg_id, "msgtype": "text", "text": {"content": text}, "conversationId": group,
            "conversationType": "2", "senderId": sender, "senderNick": "学员", "robotCode": "bot",
            "createAt": int(when.timestamp() * 1000), "conversationTitle": "班级群",
            "sessionWebhook": "http://127.0.0.1:1/hook", "sessionWebhookExpiredTime": int(when.timestamp() * 1000) + 5_400_000}


DISPATCHER = Dispatcher(build_registry(), tz=TZ)


def say(factory, text: str, when: datetime, msg_id: str, **kw) -> list[str]:
    """A message as DingTalk sends it, through the bot's own parsing, into the unit of work."""
    with factory.begin() as s:
        outcome = DISPATCHER.dispatch(s, MessageEvent(to_incoming(payload(text, when, msg_id=msg_id, **kw))))
    return [r.text for r in outcome.replies]


def test_a_day_that_does_not_exist_is_refused_not_taken_for_today(chat, factory):
    (reply,) = chat.say("请假 2026-02-30 孩子发烧", when=at("07:00"))
    assert reply.startswith("日期不存在：2026-02-30")
    (reply,) = chat.say("请假 13月5日 孩子发烧", when=at("07:00"))
    assert reply.startswith("日期不存在：13月5日")
    with factory() as s:
        assert s.scalar(select(func.count()).select_from(LeaveRequest)) == 0


@pytest.mark.parametrize("text", ["签　到", "签到　", "　签到", "签\u200b到"])
def test_full_width_spaces_and_invisible_characters_do_not_hide_a_command(chat, factory, text):
    (reply,) = say(factory, text, at("08:20"), msg_id="m-nfkc")
    assert reply.startswith("签到成功 08:20")
    with factory() as s:
        assert s.scalar(select(func.count()).select_from(Punch)) == 1


def test_full_width_letters_and_digits_are_read_as_ordinary_ones(chat, factory):
    (reply,) = say(factory, "请假　１２月３日　孩子发烧", at("07:00"), msg_id="m-fw")
    assert "12月3日" in reply and "孩子发烧" in reply
    with factory() as s:
        assert [r.day.isoformat() for r in s.scalars(select(LeaveRequest))] == ["2026-12-03"]


def test_a_nul_or_bidi_override_in_free_text_never_reaches_the_database(chat, factory):
    (reply,) = say(factory, "请假 12月3日 孩子\x00发\u202e烧", at("07:00"), msg_id="m-nul")
    assert "内部错误" not in reply and "孩子发烧" in reply
    with factory() as s:
        assert [r.reason for r in s.scalars(select(LeaveRequest))] == ["孩子发烧"]


# --- payloads that cannot be parsed ------------------------------------------------------------------

NASTY = [None, 0, -1, 10**30, 1e308, True, "", "\x00", "\ud800", "A" * 5000, "‮", [], {}, {"a": [1]},
         "2026-02-30", "../../etc/passwd", "<script>", "签到\x00", "1" * 200]
FIELDS = ["msgId", "conversationId", "conversationType", "senderId", "senderStaffId", "senderNick", "msgtype",
          "text", "content", "createAt", "sessionWebhook", "sessionWebhookExpiredTime", "robotCode",
          "conversationTitle", "atUsers", "chatbotUserId"]


def fuzzed(count: int, when: datetime) -> list[dict]:
    rng = random.Random(2200)
    result = []
    for n in range(count):
        data = payload("签到", when, msg_id=f"fuzz-{n}")
        for _ in range(rng.choice((1, 2, 3))):
            field = rng.choice(FIELDS)
            value = copy.deepcopy(rng.choice(NASTY))
            if field == "text" and rng.random() < 0.5:
                value = {"content": value}
            if field == "msgId" and isinstance(value, str) and value:
                value = f"{value}-{n}"  # two messages with one id are one message (a duplicate): keep them apart
            data[field] = value
        result.append(data)
    return result


def handler_for(factory) -> MessageHandler:
    return MessageHandler(GroupCommitter(factory, lambda s, incoming: DISPATCHER.dispatch(s, MessageEvent(incoming))))


def callback(data, frame_id: str) -> CallbackMessage:
    message = CallbackMessage()
    message.headers.message_id = frame_id
    message.headers.topic = "/v1.0/im/bot/messages/get"
    message.data = data
    return message


def test_every_fuzzed_payload_is_stored_and_acked_as_received(chat, factory):
    handler = handler_for(factory)
    payloads = fuzzed(200, at("08:20"))
    try:
        codes = [asyncio.run(handler.process(callback(data, f"frame-{n}")))[0] for n, data in enumerate(payloads)]
    finally:
        handler.shutdown()
    assert codes == [AckMessage.STATUS_OK] * len(payloads)
    with factory() as s:
        assert s.scalar(select(func.count()).select_from(InboundMessage)) == len(payloads)
        kept = s.scalars(select(InboundMessage.payload).where(InboundMessage.msgtype == "unparsed")).all()
    assert kept and all("unparsed" in json.loads(p) for p in kept)


class FakeSocket:
    def __init__(self) -> None:
        self.sent: list[dict] = []

    async def send(self, text: str) -> None:
        self.sent.append(json.loads(text))


@pytest.mark.parametrize("data", ["not json at all {", "\x00\x01", json.dumps([1, 2, 3]), json.dumps("text")])
def test_a_frame_whose_data_is_not_a_message_is_acked_and_kept(chat, factory, data):
    handler = handler_for(factory)
    client = Client(Credential("id", "secret"))
    client.register_callback_handler("/v1.0/im/bot/messages/get", handler)
    client.websocket = FakeSocket()
    frame = {"specVersion": "1.0", "type": "CALLBACK", "data": data,
             "headers": {"topic": "/v1.0/im/bot/messages/get", "messageId": "frame-odd", "contentType": "application/json"}}
    try:
        asyncio.run(client.route_message(frame))
    finally:
        handler.shutdown()
    assert [(a["code"], a["headers"]["messageId"]) for a in client.websocket.sent] == [(200, "frame-odd")]
    with factory() as s:
        row = s.scalar(select(InboundMessage))
    assert row.msg_id == "frame:frame-odd" and row.msgtype in ("unparsed", "unknown")
    stored = json.loads(row.payload)
    kept = stored.get("unparsedData") or stored.get("unparsed")  # the SDK's text, or our JSON of what it parsed
    assert kept == data or json.loads(kept) == json.loads(data)
