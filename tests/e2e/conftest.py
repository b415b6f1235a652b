"""End-to-end fixtures: the local DingTalk simulator and the real dingtalk-stream SDK driven against it.

`sim` starts a DingTalkSimulator on loopback and points the SDK (and DINGTALK_OPENAPI_ENDPOINT) at
it. `stream_client(handler)` runs `DingTalkStreamClient.start()` in a thread with its own event loop
and stops it at teardown.

The client runs in the product's own `bot.stream.StreamThread` (see there how it is stopped).

The SDK sleeps 10 s after a dropped connection and 3 s after other errors. `stream_client` scales the
sleeps of the SDK's `stream` module only (its `asyncio` name is replaced by a proxy whose `sleep`
waits `SDK_SLEEP_SCALE` of the time), so a reconnect takes 0.2 s instead of 10 s; nothing else in
the process is affected. Its 60 s keepalive ping then runs every 1.2 s, which is harmless.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Iterator

import pytest

import dingtalk_stream
import dingtalk_stream.stream
from bot.simulator import DingTalkSimulator, point_sdk_at, restore_sdk
from bot.stream import StreamThread

SDK_SLEEP_SCALE = 0.02


@pytest.fixture
def sim(monkeypatch: pytest.MonkeyPatch) -> Iterator[DingTalkSimulator]:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost,::1")
    with DingTalkSimulator(seed=20240301) as simulator:
        saved = point_sdk_at(simulator.endpoint)
        try:
            yield simulator
        finally:
            restore_sdk(saved)


class _ScaledAsyncio:
    """Stands in for `asyncio` inside dingtalk_stream.stream: same module, shorter sleeps."""

    def __init__(self, scale: float) -> None:
        self._scale = scale

    def __getattr__(self, name: str):
        return getattr(asyncio, name)

    async def sleep(self, delay: float, result=None):
        return await asyncio.sleep(delay * self._scale, result)


class RecordingHandler(dingtalk_stream.ChatbotHandler):
    """A bare SDK chatbot handler: records every message and may answer through the sessionWebhook."""

    def __init__(self, reply: Callable[[dingtalk_stream.ChatbotMessage], str | None] | None = None) -> None:
        super().__init__()
        self.reply = reply
        self.messages: list[dingtalk_stream.ChatbotMessage] = []
        self._cond = threading.Condition()

    async def process(self, callback: dingtalk_stream.CallbackMessage):
        incoming = dingtalk_stream.ChatbotMessage.from_dict(callback.data)
        with self._cond:
            self.messages.append(incoming)
            self._cond.notify_all()
        text = self.reply(incoming) if self.reply else None
        if text:
            self.reply_text(text, incoming)
        return dingtalk_stream.AckMessage.STATUS_OK, "OK"

    def wait_for(self, n: int = 1, timeout: float = 10.0) -> list[dingtalk_stream.ChatbotMessage]:
        with self._cond:
            if not self._cond.wait_for(lambda: len(self.messages) >= n, timeout):
                raise TimeoutError(f"handler got {len(self.messages)} message(s), expected {n}")
            return list(self.messages)


StartClient = Callable[..., StreamThread]


@pytest.fixture
def stream_client(sim: DingTalkSimulator, monkeypatch: pytest.MonkeyPatch) -> Iterator[StartClient]:
    """`stream_client(handler, wait=True, topic=..., client_id=..., client_secret=...)` -> StreamThread."""
    monkeypatch.setattr(dingtalk_stream.stream, "asyncio", _ScaledAsyncio(SDK_SLEEP_SCALE))
    started: list[StreamThread] = []

    def start(handler: dingtalk_stream.CallbackHandler, *, wait: bool = True,
              topic: str = dingtalk_stream.ChatbotMessage.TOPIC, client_id: str | None = None,
              client_secret: str | None = None) -> StreamThread:
        credential = dingtalk_stream.Credential(client_id or sim.client_id, client_secret or sim.client_secret)
        client = dingtalk_stream.DingTalkStreamClient(credential, logger=logging.getLogger("tests.sdk"))
        client.register_callback_handler(topic, handler)
        before = sim.connections
        runner = StreamThread(client).start()
        started.append(runner)
        if wait:
            sim.wait_connected(before + 1)
        return runner

    yield start
    for runner in reversed(started):
        runner.stop()
