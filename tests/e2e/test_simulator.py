"""The local DingTalk simulator, driven by the real dingtalk-stream SDK and by plain HTTP."""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest
import requests
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect as ws_connect

import dingtalk_stream
from bot.simulator import DingTalkSimulator, NotDelivered, sdk_pointed_at
from bot.stream import make_client

from .conftest import RecordingHandler, StreamThread

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
TOKEN_HEADER = "x-acs-dingtalk-access-token"


def open_connection(sim: DingTalkSimulator, **overrides) -> requests.Response:
    body = {"clientId": sim.client_id, "clientSecret": sim.client_secret,
            "subscriptions": [{"type": "CALLBACK", "topic": dingtalk_stream.ChatbotMessage.TOPIC}], **overrides}
    return requests.post(f"{sim.endpoint}/v1.0/gateway/connections/open", json=body, timeout=5)


def token(sim: DingTalkSimulator) -> str:
    response = requests.post(f"{sim.endpoint}/v1.0/oauth2/accessToken",
                             json={"appKey": sim.client_id, "appSecret": sim.client_secret}, timeout=5)
    assert response.status_code == 200 and response.json()["expireIn"] == 7200
    return response.json()["accessToken"]


def api(sim: DingTalkSimulator, path: str, body: dict, access_token: str | None) -> requests.Response:
    headers = {TOKEN_HEADER: access_token} if access_token else {}
    return requests.post(f"{sim.endpoint}{path}", json=body, headers=headers, timeout=5)


def text_param(text: str) -> str:
    return json.dumps({"content": text}, ensure_ascii=False)


# -- network guard --------------------------------------------------------------------------------
def test_network_guard_refuses_tcp_beyond_loopback_before_connecting(network_guard):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # Non-blocking: had the real connect run, it would have sent a SYN and raised EINPROGRESS.
        sock.setblocking(False)
        with pytest.raises(OSError, match="network guard") as refused:
            sock.connect(("192.0.2.1", 80))  # TEST-NET-1
        assert refused.value.errno is None
        assert sock.connect_ex(("127.0.0.1", 9)) != 0  # loopback goes through (nothing listens there)
    with pytest.raises(OSError, match="network guard"):
        socket.create_connection(("192.0.2.1", 443), timeout=1)
    assert network_guard.take() == [("192.0.2.1", 80), ("192.0.2.1", 443)]


def test_network_guard_leaves_the_sdk_local_ip_lookup_alone(network_guard):
    credential = dingtalk_stream.Credential("id", "secret")
    client = dingtalk_stream.DingTalkStreamClient(credential)
    assert isinstance(client.get_host_ip(), str)  # UDP connect to 8.8.8.8 sends nothing
    assert network_guard.take() == []


# -- stream gateway -------------------------------------------------------------------------------
def test_ticket_is_single_use_and_credentials_are_checked(sim):
    wrong = open_connection(sim, clientSecret="wrong")
    assert wrong.status_code == 400 and wrong.json()["code"] == "invalidClientIdOrSecret"

    answer = open_connection(sim).json()
    assert answer["endpoint"] == f"{sim.ws_endpoint}/connect"
    uri = f"{answer['endpoint']}?ticket={answer['ticket']}"
    with ws_connect(uri):
        sim.wait_connected(1)
    with pytest.raises(InvalidStatus) as refused:
        ws_connect(uri)
    assert refused.value.response.status_code == 401
    with pytest.raises(InvalidStatus):
        ws_connect(f"{answer['endpoint']}?ticket=made-up")
    sim.ticket_ttl = 0
    stale = open_connection(sim).json()
    with pytest.raises(InvalidStatus):
        ws_connect(f"{stale['endpoint']}?ticket={stale['ticket']}")
    handshakes = [(r.status, r.response) for r in sim.requests_to("/connect")]
    assert handshakes == [(101, b""), (401, b"ticket already used\n"), (401, b"unknown ticket\n"),
                          (401, b"ticket expired\n")]


def test_sdk_retries_when_the_gateway_fails(sim, stream_client):
    sim.faults.fail_next("/v1.0/gateway/connections/open", status=500)
    stream_client(RecordingHandler())  # waits until connected
    assert [r.status for r in sim.requests_to("/v1.0/gateway/connections/open")] == [500, 200]
    opened = sim.requests_to("/v1.0/gateway/connections/open")[1].json
    assert opened["subscriptions"] == [{"type": "CALLBACK", "topic": dingtalk_stream.ChatbotMessage.TOPIC}]


def test_group_message_reaches_the_sdk_handler_and_the_reply_lands_in_the_group(sim, stream_client):
    handler = RecordingHandler(reply=lambda m: f"收到：{m.text.content.strip()}")
    stream_client(handler)
    teacher = sim.add_user("王老师", staff_id="teacher01")
    trainee = sim.add_user("张三")
    klass = sim.add_group("电工2024-1班", [trainee], admins=[teacher])

    msg_id = sim.say(trainee, "签到", klass)

    [incoming] = handler.wait_for(1)
    assert incoming.message_id == msg_id
    assert incoming.text.content == " 签到"  # the @bot is cut out, the space stays
    assert incoming.conversation_type == "2"
    assert incoming.conversation_id == klass.conversation_id and incoming.conversation_id.startswith("cid")
    assert incoming.conversation_title == "电工2024-1班"
    assert incoming.sender_id.startswith("$:LWCP_v1:$")
    assert incoming.sender_staff_id == trainee.staff_id
    assert incoming.sender_nick == "张三"
    assert incoming.is_in_at_list is True and incoming.is_admin is False
    assert [u.dingtalk_id for u in incoming.at_users] == [sim.bot_user_id]
    assert incoming.robot_code == sim.client_id and incoming.chatbot_corp_id == sim.corp_id
    assert incoming.session_webhook_expired_time - incoming.create_at == 90 * 60 * 1000

    [reply] = sim.wait_for_sent(1, klass)
    assert (reply.channel, reply.msgtype, reply.text) == ("webhook", "text", "收到：签到")
    assert reply.at_user_ids == (trainee.staff_id,)

    [ack] = sim.wait_for_acks(1)
    [delivery] = sim.deliveries
    assert ack.message_id == delivery.message_id and ack.msg_id == msg_id
    assert ack.code == 200 and ack.data == {"response": "OK"}
    assert 0 <= ack.latency < 5

    sim.say(teacher, "统计", klass)
    assert handler.wait_for(2)[1].is_admin is True


def test_one_to_one_chat_outside_users_and_messages_not_at_the_bot(sim, stream_client):
    handler = RecordingHandler()
    stream_client(handler)
    member = sim.add_user("李四")
    guest = sim.add_user("外部学员", in_org=False)
    klass = sim.add_group("班级群", [member, guest])

    unseen = sim.say(member, "大家好", klass, at_bot=False)
    sim.say(member, "绑定 李四 123456")
    sim.say(guest, "签到", klass)

    one_to_one, from_guest = handler.wait_for(2)
    assert one_to_one.text.content == "绑定 李四 123456"  # no leading space in a 1:1 chat
    assert one_to_one.conversation_type == "1" and one_to_one.conversation_id == member.conversation_id
    assert one_to_one.conversation_title is None
    assert from_guest.sender_staff_id is None and from_guest.sender_id == guest.sender_id
    assert "senderStaffId" not in sim.payload(from_guest.message_id)
    assert [m.msg_id for m in sim.messages if not m.to_bot] == [unseen]
    assert len(sim.deliveries) == 2


def test_pictures_and_rich_text_can_be_downloaded_with_the_sdk(sim, stream_client):
    handler = RecordingHandler()
    stream_client(handler)
    trainee = sim.add_user("赵六")
    klass = sim.add_group("班级群", [trainee])

    sim.send_picture(trainee, PNG)
    sim.send_rich_text(trainee, ["照片", PNG[::-1]], klass)
    picture, rich = handler.wait_for(2)

    assert picture.message_type == "picture" and picture.image_content.download_code
    assert rich.get_text_list() == [" 照片"]
    url = handler.get_image_download_url(picture.image_content.download_code)  # SDK: token + download
    assert requests.get(url, timeout=5).content == PNG
    url = handler.get_image_download_url(rich.get_image_list()[0])
    assert requests.get(url, timeout=5).content == PNG[::-1]

    bad = api(sim, "/v1.0/robot/messageFiles/download", {"downloadCode": "nope", "robotCode": sim.robot_code},
              token(sim))
    assert bad.status_code == 400 and bad.json()["code"] == "invalidParameter.robotCode.downloadCode"


def test_disconnect_frame_makes_the_sdk_reconnect_with_a_new_ticket(sim, stream_client):
    handler = RecordingHandler()
    stream_client(handler)
    trainee = sim.add_user("孙七")

    assert sim.disconnect_all() == 1
    sim.wait_connected(1)
    sim.say(trainee, "签到")

    handler.wait_for(1)
    first, second = sim.connection_log
    assert first.ticket != second.ticket
    assert first.close_reason == "disconnected" and first.closed_at is not None  # the SDK closed it
    assert [d.connection_id for d in sim.deliveries if d.msg_id] == [second.id]
    assert len(sim.requests_to("/v1.0/gateway/connections/open")) == 2


def test_dropped_connection_makes_the_sdk_reconnect(sim, stream_client):
    handler = RecordingHandler()
    stream_client(handler)
    trainee = sim.add_user("周八")

    started = time.monotonic()
    assert sim.drop_all() == 1
    sim.wait_connected(1, timeout=5)
    assert time.monotonic() - started < 3  # the SDK's 10 s pause is scaled down in these tests

    sim.say(trainee, "签退")
    assert handler.wait_for(1)[0].text.content == "签退"
    assert [c.close_reason for c in sim.connection_log] == ["dropped", None]


def test_duplicate_delivery_and_redelivery(sim, stream_client):
    handler = RecordingHandler()
    stream_client(handler)
    trainee = sim.add_user("吴九")

    msg_id = sim.say(trainee, "签到", duplicate=True)
    sim.redeliver(msg_id, same_frame=False)

    assert [m.message_id for m in handler.wait_for(3)] == [msg_id] * 3
    acks = sim.wait_for_acks(3)
    assert acks[0].message_id == acks[1].message_id != acks[2].message_id


def test_messages_are_spread_over_several_connections(sim, stream_client):
    handler = RecordingHandler()
    stream_client(handler)
    stream_client(handler)
    trainee = sim.add_user("郑十")

    for i in range(20):
        sim.say(trainee, f"消息{i}")

    assert len(handler.wait_for(20)) == 20
    assert len({d.connection_id for d in sim.deliveries}) == 2
    assert sim.ping_all() == 2  # the SDK echoes the opaque of a SYSTEM ping


def test_no_connection_means_the_message_is_lost(sim):
    trainee = sim.add_user("冯十一")
    with pytest.raises(NotDelivered):
        sim.say(trainee, "签到", wait=0.1)
    assert sim.dropped == [sim.messages[0].msg_id]


def test_raw_push_reaches_the_handler(sim, stream_client):
    handler = RecordingHandler()
    stream_client(handler)
    trainee = sim.add_user("陈十二")
    payload = {**sim.payload(sim.say(trainee, "先来一条")), "msgId": "msgRAW==", "msgtype": "audio",
               "content": {"downloadCode": "x", "duration": 3000, "recognition": "签到"}}
    payload.pop("text")

    sim.push_raw(payload)

    audio = handler.wait_for(2)[1]
    assert audio.message_type == "audio" and audio.extensions["content"]["recognition"] == "签到"


# -- sessionWebhook and clock ---------------------------------------------------------------------
def test_session_webhook_expires_on_the_simulator_clock(sim, stream_client):
    now = [datetime(2024, 3, 1, 8, 0, tzinfo=timezone.utc)]
    sim.clock = lambda: now[0]
    handler = RecordingHandler()
    stream_client(handler)
    trainee = sim.add_user("褚十三")
    sim.say(trainee, "签到")
    [incoming] = handler.wait_for(1)
    assert incoming.create_at == int(now[0].timestamp() * 1000)

    ok = requests.post(incoming.session_webhook, json={"msgtype": "markdown", "markdown": {
        "title": "签到", "text": "**签到成功** 08:00"}}, timeout=5)
    assert ok.json() == {"errcode": 0, "errmsg": "ok"}
    now[0] += timedelta(minutes=91)
    late = requests.post(incoming.session_webhook, json={"msgtype": "text", "text": {"content": "迟到的回复"}},
                         timeout=5)
    assert late.status_code == 200 and late.json()["errcode"] == 300001
    assert [(s.user, s.msgtype, s.title) for s in sim.sent(user=trainee)] == [(trainee, "markdown", "签到")]


def test_session_webhook_faults_answer_like_dingtalk(sim, stream_client):
    handler = RecordingHandler()
    stream_client(handler)
    trainee = sim.add_user("杨十六")
    sim.say(trainee, "签到")
    webhook = handler.wait_for(1)[0].session_webhook
    body = {"msgtype": "text", "text": {"content": "签到成功"}}

    sim.faults.throttle("/robot/sendBySession")
    sim.faults.fail_next("/robot/sendBySession", status=502)
    throttled = requests.post(webhook, json=body, timeout=5)
    failed = requests.post(webhook, json=body, timeout=5)
    bad = requests.post(webhook, json={"msgtype": "text", "text": {}}, timeout=5)
    sent = requests.post(webhook, json=body, timeout=5)

    assert (throttled.status_code, throttled.json()["errcode"]) == (200, 410100)
    assert (failed.status_code, failed.json()["errcode"]) == (502, -1)
    assert bad.json()["errcode"] == 40035
    assert sent.json() == {"errcode": 0, "errmsg": "ok"}
    assert [s.text for s in sim.sent(trainee)] == ["签到成功"]


# -- OpenAPI --------------------------------------------------------------------------------------
def test_proactive_sends_need_a_fresh_token(sim):
    trainee, guest = sim.add_user("卫十四", staff_id="t14"), sim.add_user("外部", in_org=False)
    klass = sim.add_group("班级群", [trainee, guest])
    group_body = {"robotCode": sim.robot_code, "openConversationId": klass.conversation_id,
                  "msgKey": "sampleText", "msgParam": text_param("点名开始")}
    oto_body = {"robotCode": sim.robot_code, "userIds": ["t14", "nobody"], "msgKey": "sampleMarkdown",
                "msgParam": json.dumps({"title": "日报", "text": "今日已签到 1 人"}, ensure_ascii=False)}

    wrong = requests.post(f"{sim.endpoint}/v1.0/oauth2/accessToken",
                          json={"appKey": sim.client_id, "appSecret": "guess"}, timeout=5)
    assert wrong.status_code == 400 and wrong.json()["code"] == "invalidClientIdOrSecret"
    missing = api(sim, "/v1.0/robot/groupMessages/send", group_body, None)
    assert missing.status_code == 401 and missing.json()["code"] == "InvalidAuthentication"

    first = token(sim)
    sent = api(sim, "/v1.0/robot/groupMessages/send", group_body, first)
    assert sent.status_code == 200 and sent.json()["processQueryKey"]
    oto = api(sim, "/v1.0/robot/oToMessages/batchSend", oto_body, first).json()
    assert oto["invalidStaffIdList"] == ["nobody"] and oto["flowControlledStaffIdList"] == []
    too_many = api(sim, "/v1.0/robot/oToMessages/batchSend", {**oto_body, "userIds": ["t14"] * 21}, first)
    assert too_many.status_code == 400 and too_many.json()["code"] == "invalidParameter.userIds.overMax"

    assert [(s.channel, s.text) for s in sim.sent(klass)] == [("group", "点名开始")]
    assert [(s.channel, s.title, s.text) for s in sim.sent(user=trainee)] == [("oto", "日报", "今日已签到 1 人")]

    sim.expire_tokens()
    expired = api(sim, "/v1.0/robot/groupMessages/send", group_body, first)
    assert expired.status_code == 401 and expired.json()["code"] == "InvalidAuthentication"
    second = token(sim)
    assert second != first
    assert api(sim, "/v1.0/robot/groupMessages/send", group_body, second).status_code == 200
    assert sim.requests_to("/v1.0/robot/groupMessages/send")[0].headers.get(TOKEN_HEADER) is None


def test_fault_injection(sim):
    klass = sim.add_group("班级群")
    body = {"robotCode": sim.robot_code, "openConversationId": klass.conversation_id,
            "msgKey": "sampleText", "msgParam": text_param("hi")}
    access = token(sim)
    path = "/v1.0/robot/groupMessages/send"

    sim.faults.fail_next(path, status=503)
    sim.faults.throttle(path, times=2)
    statuses = [api(sim, path, body, access) for _ in range(4)]
    assert [r.status_code for r in statuses] == [503, 429, 429, 200]
    assert statuses[1].json()["code"] == "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi"

    sim.faults.slow(path, 0.3, times=1)
    started = time.monotonic()
    assert api(sim, path, body, access).status_code == 200
    assert time.monotonic() - started >= 0.3

    log = sim.requests_to(path)
    assert [r.status for r in log] == [503, 429, 429, 200, 200]
    assert log[0].json["openConversationId"] == klass.conversation_id
    assert log[0].headers[TOKEN_HEADER] == access
    assert len(sim.sent(klass)) == 2


def test_live_watch_statistics_are_paginated(sim):
    viewers = {sim.add_user(f"学员{i}"): (60_000 * i, 1000) for i in range(5)}
    guest = sim.add_user("外部", in_org=False)
    live_id = sim.add_live({**viewers, guest: (5_000, 0)})
    access = token(sim)
    url = f"{sim.endpoint}/v1.0/live/lives/watchUsers"

    pages = []
    for page in range(3):
        response = requests.get(url, params={"liveId": live_id, "unionId": "anchor", "pageNumber": page,
                                             "pageSize": 3}, headers={TOKEN_HEADER: access}, timeout=5)
        pages.append(response.json()["result"])
    assert [len(p["orgUsesList"]) + len(p["outOrgUserList"]) for p in pages] == [3, 3, 0]
    [outsider] = pages[1]["outOrgUserList"]
    assert (outsider["name"], outsider["watchLiveTime"], outsider["watchPlaybackTime"]) == ("外部", 5000, 0)
    assert "userId" not in outsider
    org = pages[0]["orgUsesList"] + pages[1]["orgUsesList"]
    assert [(v["userId"], v["watchLiveTime"]) for v in org] == [(u.staff_id, ms) for u, (ms, _) in viewers.items()]
    too_big = requests.get(url, params={"liveId": live_id, "unionId": "a", "pageSize": 201},
                           headers={TOKEN_HEADER: access}, timeout=5)
    assert too_big.status_code == 400


# -- hygiene --------------------------------------------------------------------------------------
def test_simulator_and_sdk_client_stop_without_leaving_threads():
    before = set(threading.enumerate())
    with DingTalkSimulator() as simulator:
        with sdk_pointed_at(simulator.endpoint):
            credential = dingtalk_stream.Credential(simulator.client_id, simulator.client_secret)
            client = dingtalk_stream.DingTalkStreamClient(credential)
            handler = RecordingHandler(reply=lambda m: "好")
            client.register_callback_handler(dingtalk_stream.ChatbotMessage.TOPIC, handler)
            runner = StreamThread(client).start()
            simulator.wait_connected(1)
            simulator.say(simulator.add_user("蒋十五"), "hi")
            simulator.wait_for_sent(1)
            keep_alive = requests.Session()
            keep_alive.get(simulator.endpoint, timeout=5)  # an idle keep-alive connection at close
            runner.stop()
    keep_alive.close()
    assert set(threading.enumerate()) == before


def test_a_clean_stop_of_the_bots_stream_logs_no_error(sim, caplog):
    """Stopping the bot (a restart, a deploy) is not an error in its log: the SDK's "[start] network exception"
    for the cancellation that ends it stays out."""
    runner = StreamThread(make_client(sim.client_id, sim.client_secret, RecordingHandler())).start()
    sim.wait_connected(1)
    with caplog.at_level(logging.INFO, logger="dingclass.sdk"):
        runner.stop()
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
