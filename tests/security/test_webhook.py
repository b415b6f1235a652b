"""Issue 9 item 6: the bot posts a reply only to a sessionWebhook on the configured DingTalk endpoint.

The attack: a payload naming ``sessionWebhook = http://<someone else's host>/…`` used to receive the
reply (which may carry a trainee's name, a leave reason, a binding answer). Now such a webhook is
ignored and the reply goes to the conversation through the OpenAPI instead.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bot.openapi import OpenApi
from bot.outbox import OutboxSender
from handlers import outbox as queue
from handlers.messages import Incoming, Reply
from storage.files import FileStore
from tests.e2e.conftest import sim  # noqa: F401  (fixture: the local DingTalk)


class Thief(BaseHTTPRequestHandler):
    received: list[bytes] = []

    def do_POST(self):  # noqa: N802  (http.server's naming)
        Thief.received.append(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"errcode":0,"errmsg":"ok"}')

    def log_message(self, *args):
        pass


@pytest.fixture
def thief():
    Thief.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Thief)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def message(group, webhook: str) -> Incoming:
    now = datetime.now(timezone.utc)
    return Incoming(msg_id="m-webhook", conversation_id=group.conversation_id, conversation_type="2",
                    sender_id="s1", sender_staff_id="u1", sender_nick="张三", msgtype="text", text="我的",
                    image_codes=(), created_at=now, robot_code=None, session_webhook=webhook,
                    session_webhook_expires=now + timedelta(minutes=90))


@pytest.mark.parametrize("path", ["/robot/sendBySession?session=x", "/"])
def test_a_reply_never_goes_to_a_webhook_on_another_host(sim, factory, tmp_path, thief, path):  # noqa: F811
    group = sim.add_group("电工班", [sim.add_user("张三")])
    with factory.begin() as s:
        queue.queue_replies(s, message(group, thief + path), [Reply("张三：本周已签到 4 天")])
    with OpenApi(sim.endpoint, sim.client_id, sim.client_secret, timeout=2, attempts=1) as api:
        assert OutboxSender(factory, api, FileStore(tmp_path / "files")).run_once() == 1
    assert Thief.received == []
    assert [(m.channel, m.text) for m in sim.sent(group)] == [("group", "张三：本周已签到 4 天")]


@pytest.mark.parametrize(("endpoint", "webhook", "allowed"), [
    ("https://api.dingtalk.com", "https://oapi.dingtalk.com/robot/sendBySession?session=1", True),
    ("https://api.dingtalk.com", "http://oapi.dingtalk.com/robot/sendBySession?session=1", False),
    ("https://api.dingtalk.com", "https://oapi.dingtalk.com.evil.example/robot/sendBySession", False),
    ("https://api.dingtalk.com", "https://user@oapi.dingtalk.com:8443/robot/sendBySession", False),
    ("https://api.dingtalk.com", "https://169.254.169.254/latest/meta-data", False),
    ("http://127.0.0.1:9000", "http://127.0.0.1:9000/robot/sendBySession?session=1", True),
    ("http://127.0.0.1:9000", "http://127.0.0.1:9001/robot/sendBySession?session=1", False),
    ("http://127.0.0.1:9000", "http://[::1", False),
])
def test_which_webhooks_belong_to_the_endpoint(endpoint, webhook, allowed):
    with OpenApi(endpoint, "id", "secret") as api:
        assert api.webhook_allowed(webhook) is allowed
