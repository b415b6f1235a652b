"""The DingTalk OpenAPI client against the local simulator: tokens, retries, sends, downloads, errors."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator

import pytest
import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

from bot.openapi import DingTalkError, OpenApi
from bot.settings import load
from bot.simulator import DingTalkSimulator

from .conftest import RecordingHandler

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
GROUP_SEND = "/v1.0/robot/groupMessages/send"
TOKEN = "/v1.0/oauth2/accessToken"


class Sleeps(list):
    """Stands in for time.sleep: records the waits, waits for none of them."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def api(sim: DingTalkSimulator, sleeps: Sleeps) -> Iterator[OpenApi]:
    with OpenApi(sim.endpoint, sim.client_id, sim.client_secret, timeout=2, backoff=0.01, max_backoff=0.08,
                 sleep=sleeps) as client:
        yield client


def texts(sim: DingTalkSimulator, target) -> list[str]:
    return [s.text for s in sim.sent(target)]


def statuses(sim: DingTalkSimulator, path: str) -> list[int | None]:
    return [r.status for r in sim.requests_to(path)]


def picture_code(sim: DingTalkSimulator, stream_client, data: bytes) -> str:
    """A downloadCode as DingTalk hands it to the bot: a user sends a picture in the 1:1 chat."""
    stream_client(RecordingHandler())
    msg_id = sim.send_picture(sim.add_user("赵六"), data)
    return sim.payload(msg_id)["content"]["downloadCode"]


# -- token ---------------------------------------------------------------------------------------
def test_token_is_fetched_once_for_many_sends(sim, api):
    klass = sim.add_group("电工班")
    for n in range(5):
        api.send_group(sim.robot_code, klass.conversation_id, f"第{n}条")

    assert [s.text for s in sim.sent(klass)] == [f"第{n}条" for n in range(5)]
    assert len(sim.requests_to(TOKEN)) == 1
    tokens = {r.headers["x-acs-dingtalk-access-token"] for r in sim.requests_to(GROUP_SEND)}
    assert len(tokens) == 1


def test_threads_sharing_the_client_fetch_one_token(sim, api):
    klass = sim.add_group("电工班")
    sim.faults.slow(TOKEN, 0.1)  # so every thread asks while the first fetch is under way
    start = threading.Barrier(8)

    def send(n: int) -> None:
        start.wait()
        api.send_group(sim.robot_code, klass.conversation_id, f"第{n}条")

    threads = [threading.Thread(target=send, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)

    assert sorted(texts(sim, klass)) == sorted(f"第{n}条" for n in range(8))
    assert len(sim.requests_to(TOKEN)) == 1


def test_the_endpoint_comes_from_the_settings(sim):
    settings = load({"DINGTALK_CLIENT_ID": sim.client_id, "DINGTALK_CLIENT_SECRET": sim.client_secret,
                     "DINGTALK_OPENAPI_ENDPOINT": sim.endpoint + "/"})
    with OpenApi.from_settings(settings) as api:
        assert api.endpoint == sim.endpoint
        api.send_group(sim.robot_code, sim.add_group("电工班").conversation_id, "你好")
    assert len(sim.requests_to(GROUP_SEND)) == 1


def test_token_is_refreshed_once_on_401(sim, api):
    klass = sim.add_group("电工班")
    api.send_group(sim.robot_code, klass.conversation_id, "早上好")
    sim.expire_tokens()
    api.send_group(sim.robot_code, klass.conversation_id, "开始上课")

    assert [s.text for s in sim.sent(klass)] == ["早上好", "开始上课"]
    assert statuses(sim, GROUP_SEND) == [200, 401, 200]
    assert len(sim.requests_to(TOKEN)) == 2
    first, refused, retried = sim.requests_to(GROUP_SEND)
    assert refused.headers["x-acs-dingtalk-access-token"] == first.headers["x-acs-dingtalk-access-token"]
    assert retried.headers["x-acs-dingtalk-access-token"] != first.headers["x-acs-dingtalk-access-token"]


def test_wrong_credentials_are_a_dingtalk_error_not_retried(sim, sleeps):
    with OpenApi(sim.endpoint, sim.client_id, "wrong", timeout=2, sleep=sleeps) as api:
        with pytest.raises(DingTalkError) as refused:
            api.send_group(sim.robot_code, "cid", "x")
    assert (refused.value.status, refused.value.code) == (400, "invalidClientIdOrSecret")
    assert refused.value.permanent and sleeps == []


# -- retries -------------------------------------------------------------------------------------
def test_server_error_then_success_delivers_once(sim, api, sleeps):
    klass = sim.add_group("电工班")
    sim.faults.fail_next(GROUP_SEND, status=500)

    api.send_group(sim.robot_code, klass.conversation_id, "今日统计")

    assert [s.text for s in sim.sent(klass)] == ["今日统计"]
    assert statuses(sim, GROUP_SEND) == [500, 200]
    assert len(sleeps) == 1


def test_throttling_backs_off_exponentially_then_delivers(sim, api, sleeps):
    klass = sim.add_group("电工班")
    sim.faults.throttle(GROUP_SEND, times=3)

    api.send_group(sim.robot_code, klass.conversation_id, "点名开始")

    assert [s.text for s in sim.sent(klass)] == ["点名开始"]
    assert statuses(sim, GROUP_SEND) == [429, 429, 429, 200]
    assert len(sleeps) == 3 and sleeps == sorted(sleeps) and sleeps[0] < sleeps[1] < sleeps[2]


def test_throttling_that_lasts_gives_up_after_the_attempt_budget(sim, api, sleeps):
    klass = sim.add_group("电工班")
    sim.faults.throttle(GROUP_SEND, times=None, status=403)  # DingTalk's real throttle answer is 403

    with pytest.raises(DingTalkError) as refused:
        api.send_group(sim.robot_code, klass.conversation_id, "点名开始")

    assert refused.value.code == "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi"
    assert refused.value.throttled and not refused.value.permanent
    assert len(sim.requests_to(GROUP_SEND)) == 4 and len(sleeps) == 3
    assert sim.sent(klass) == []


def test_a_timeout_is_retried(sim, sleeps, stream_client):
    code = picture_code(sim, stream_client, PNG)
    sim.faults.slow("/v1.0/robot/messageFiles/download", 2.0, times=1)
    with OpenApi(sim.endpoint, sim.client_id, sim.client_secret, timeout=0.3, backoff=0.01, sleep=sleeps) as api:
        assert api.download(sim.robot_code, code) == PNG
    assert len(sim.requests_to("/v1.0/robot/messageFiles/download")) == 2
    assert len(sleeps) == 1


def test_an_unreachable_endpoint_fails_after_bounded_attempts(sleeps):
    with socket.socket() as sock:  # a loopback port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with OpenApi(f"http://127.0.0.1:{port}", "key", "secret", timeout=1, backoff=0.01, sleep=sleeps) as api:
        with pytest.raises(requests.ConnectionError):
            api.send_group("robot", "cid", "x")
    assert len(sleeps) == 3


class CannedAdapter(BaseAdapter):
    """A transport that answers from a script: (status, headers, body) per request, in order."""

    def __init__(self, script: list[tuple[int, dict, dict]]) -> None:
        super().__init__()
        self.script = script
        self.seen: list[str] = []

    def send(self, request, **kwargs):
        self.seen.append(request.path_url)
        if request.path_url == TOKEN:
            status, headers, body = 200, {}, {"accessToken": "t", "expireIn": 7200}
        else:
            status, headers, body = self.script.pop(0)
        response = requests.Response()
        response.status_code = status
        response.headers = CaseInsensitiveDict({"Content-Type": "application/json", **headers})
        response._content = json.dumps(body).encode()
        response.url = request.url
        response.request = request
        return response

    def close(self) -> None:
        pass


def canned_api(script, sleeps: Sleeps, **options) -> tuple[OpenApi, CannedAdapter]:
    api = OpenApi("http://dingtalk.invalid", "key", "secret", backoff=0.01, max_backoff=0.08, sleep=sleeps,
                  **options)
    adapter = CannedAdapter(script)
    api._http.mount("http://", adapter)
    return api, adapter


def test_retry_after_is_honoured(sleeps):
    throttled = (429, {"Retry-After": "0.5"}, {"code": "Throttling", "message": "slow down"})
    api, adapter = canned_api([throttled, (200, {}, {"processQueryKey": "pqk"})], sleeps)
    with api:
        assert api.send_group("robot", "cid", "x") == "pqk"
    assert sleeps == [0.5]


def test_a_retry_after_beyond_the_budget_is_handed_to_the_caller(sleeps):
    throttled = (429, {"Retry-After": "120"}, {"code": "Throttling", "message": "slow down"})
    api, adapter = canned_api([throttled], sleeps, max_retry_time=30)
    with api, pytest.raises(DingTalkError) as refused:
        api.send_group("robot", "cid", "x")
    assert refused.value.retry_after == 120 and sleeps == []


# -- sends ---------------------------------------------------------------------------------------
def test_batch_send_splits_45_users_into_calls_of_20(sim, api):
    users = [sim.add_user(f"学员{n:02d}") for n in range(45)]

    result = api.batch_send(sim.robot_code, [u.staff_id for u in users], "明天 8:30 开课")

    calls = [r.json["userIds"] for r in sim.requests_to("/v1.0/robot/oToMessages/batchSend")]
    assert [len(c) for c in calls] == [20, 20, 5]
    assert sum(calls, []) == [u.staff_id for u in users]
    assert {s.user for s in sim.sent(channel="oto")} == set(users)
    assert len(result.process_query_keys) == 3 and result.invalid_user_ids == []


def test_batch_send_reports_unknown_and_throttled_users(sim, api):
    known, throttled = sim.add_user("甲"), sim.add_user("乙")
    sim.faults.flow_control(throttled.staff_id)
    result = api.batch_send(sim.robot_code, [known.staff_id, throttled.staff_id, "nobody"], "通知")
    assert result.invalid_user_ids == ["nobody"]
    assert result.flow_controlled_user_ids == [throttled.staff_id]
    assert [s.user for s in sim.sent(channel="oto")] == [known]


def test_markdown_to_a_group(sim, api):
    klass = sim.add_group("电工班")
    api.send_markdown_group(sim.robot_code, klass.conversation_id, "日报", "**签到** 28/30")
    [sent] = sim.sent(klass)
    assert (sent.msgtype, sent.title, sent.text) == ("sampleMarkdown", "日报", "**签到** 28/30")


def test_reply_through_the_session_webhook(sim, api, stream_client):
    handler = RecordingHandler()
    stream_client(handler)
    trainee = sim.add_user("张三")
    klass = sim.add_group("电工班", [trainee])
    sim.say(trainee, "签到", klass)
    webhook = handler.wait_for(1)[0].session_webhook

    api.reply_webhook(webhook, "签到成功 08:52", at_user_ids=[trainee.staff_id])
    [sent] = sim.sent(klass)
    assert (sent.channel, sent.text, sent.at_user_ids) == ("webhook", "签到成功 08:52", (trainee.staff_id,))

    sim.expire_sessions()
    with pytest.raises(DingTalkError) as expired:
        api.reply_webhook(webhook, "迟到的回复")
    assert expired.value.session_expired and expired.value.code == "300001"
    assert len(sim.sent(klass)) == 1


# -- downloads -----------------------------------------------------------------------------------
def test_download_returns_the_exact_bytes(sim, api, stream_client):
    code = picture_code(sim, stream_client, PNG)
    assert api.download(sim.robot_code, code) == PNG
    assert api.download_url(sim.robot_code, code).startswith(sim.endpoint)


def test_a_bad_download_code_is_a_dingtalk_error(sim, api, sleeps):
    with pytest.raises(DingTalkError) as refused:
        api.download(sim.robot_code, "nope")
    error = refused.value
    assert (error.status, error.code) == (400, "invalidParameter.robotCode.downloadCode")
    assert error.message == "downloadCode 不合法或已过期" and error.request_id
    assert error.permanent and "invalidParameter.robotCode.downloadCode" in str(error)
    assert len(sim.requests_to("/v1.0/robot/messageFiles/download")) == 1 and sleeps == []


# -- pacing ----------------------------------------------------------------------------------------


def test_calls_to_one_api_stay_within_20_a_second_even_from_several_threads(sim, api):
    """DINGTALK.md §5: about 20 calls a second per app and API; the client spaces them (fan-out, R13)."""
    group = sim.add_group("节流")
    user = sim.add_user("钱七")

    def burst():
        for _ in range(15):
            api.send_group(sim.client_id, group.conversation_id, "提醒")
        api.batch_send(sim.client_id, [user.staff_id], "通知")

    threads = [threading.Thread(target=burst) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    times = sorted(r.time for r in sim.requests_to(GROUP_SEND))
    assert len(times) == 45
    assert times[-1] - times[0] >= 2.0  # 45 calls spaced at 20 a second span 2.2 s; unpaced they take ~0.2 s
    assert len(sim.requests_to("/v1.0/robot/oToMessages/batchSend")) == 3  # another API: its own pace
