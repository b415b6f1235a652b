"""Glue to the official dingtalk-stream SDK: one callback handler, and the client's thread.

The handler turns the SDK's message into a plain ``Incoming`` and runs the unit of work in a worker
thread (never on the event loop); it returns — and the SDK sends the ACK — only after the commit.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import re
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

import dingtalk_stream
from dingtalk_stream import AckMessage, CallbackMessage, ChatbotMessage

from handlers.messages import Incoming

log = logging.getLogger("dingclass.stream")
TOPIC = ChatbotMessage.TOPIC  # /v1.0/im/bot/messages/get
_AT_PREFIX = re.compile(r"^@\S+\s+")
HANDLED_TYPES = ("text", "picture", "richText")  # the others are stored and answered "not supported"


def _ms(value) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(value) / 1000, tz=timezone.utc)
    except (TypeError, ValueError):
        return None


def normalise_text(text: str) -> str:
    """Strip an @-mention the client left in front, and fold whitespace."""
    text = " ".join(text.split())
    return _AT_PREFIX.sub("", text).strip()


def to_incoming(data: dict) -> Incoming:
    """The SDK's parse of a bot message (text, picture, richText; others via ``extensions``)."""
    msg = ChatbotMessage.from_dict(data)
    texts: list[str] = []
    codes: list[str] = []
    if msg.message_type == "text" and msg.text is not None:
        texts.append(msg.text.content or "")
    elif msg.message_type == "picture" and msg.image_content is not None:
        codes.append(msg.image_content.download_code)
    elif msg.message_type == "richText" and msg.rich_text_content is not None:
        for item in msg.rich_text_content.rich_text_list:
            if "text" in item:
                texts.append(item["text"])
            elif item.get("downloadCode"):
                codes.append(item["downloadCode"])
    elif (msg.extensions or {}).get("content", {}).get("recognition"):
        texts.append(msg.extensions["content"]["recognition"])  # audio: DingTalk's speech-to-text
    created = _ms(data.get("createAt")) or datetime.now(timezone.utc)
    return Incoming(
        msg_id=msg.message_id or data.get("msgId") or "",  # empty: the handler falls back to the frame id
        conversation_id=msg.conversation_id or "",
        conversation_type=str(msg.conversation_type or ""),
        sender_id=msg.sender_id or "",
        sender_staff_id=msg.sender_staff_id or None,
        sender_nick=msg.sender_nick or "",
        msgtype=msg.message_type or "unknown",
        text=normalise_text(" ".join(texts)),
        image_codes=tuple(c for c in codes if c),
        created_at=created,
        robot_code=msg.robot_code or None,
        session_webhook=msg.session_webhook or None,
        session_webhook_expires=_ms(msg.session_webhook_expired_time),
        conversation_title=msg.conversation_title or "",
        supported=(msg.message_type or "") in HANDLED_TYPES,
        raw=data,
    )


_SESSION_KEY = re.compile(r"(session|access_token)=[^&\"'\s]+")
_DIGITS = re.compile(r"\d{6,}")


def redacted(data) -> str:
    """A message payload fit for a log line: no webhook key, no ID-number or phone digits."""
    text = json.dumps(data, ensure_ascii=False, default=str)
    return _DIGITS.sub(lambda m: m.group()[:2] + "*" * (len(m.group()) - 2), _SESSION_KEY.sub(r"\1=…", text))


def unparsed(data, frame_id: str) -> Incoming:
    """A message the SDK could not parse is still stored and answered, never dropped."""
    data = data if isinstance(data, dict) else {"raw": data}
    return Incoming(
        msg_id=str(data.get("msgId") or f"frame:{frame_id}"), conversation_id=str(data.get("conversationId", "")),
        conversation_type=str(data.get("conversationType", "")), sender_id=str(data.get("senderId", "")),
        sender_staff_id=None, sender_nick=str(data.get("senderNick", "")), msgtype="unparsed", text="",
        image_codes=(), created_at=datetime.now(timezone.utc), robot_code=data.get("robotCode"),
        session_webhook=data.get("sessionWebhook"),
        session_webhook_expires=_ms(data.get("sessionWebhookExpiredTime")), supported=False, raw=data,
    )


class MessageHandler(dingtalk_stream.CallbackHandler):
    """The product's one handler on the bot-message topic."""

    def __init__(self, unit: Callable[[Incoming], None], workers: int = 8) -> None:
        super().__init__()
        self.unit = unit
        self.pool = ThreadPoolExecutor(workers, thread_name_prefix="dingclass-unit")

    async def process(self, callback: CallbackMessage):
        frame_id = callback.headers.message_id
        try:
            incoming = to_incoming(callback.data)
            if not incoming.msg_id:  # never let messages without an id collapse into one "duplicate"
                incoming = dataclasses.replace(incoming, msg_id=f"frame:{frame_id}")
        except Exception:
            log.exception("could not parse message frame %s", frame_id)
            incoming = unparsed(callback.data, frame_id)
        try:
            await asyncio.get_running_loop().run_in_executor(self.pool, self.unit, incoming)
        except Exception:
            # Not stored: DingTalk will not redeliver, so the payload goes to the log — without the
            # sessionWebhook's key (it lets anyone post to the group) and with long digit runs masked.
            log.exception("unit of work failed for message %s; payload=%s", incoming.msg_id, redacted(callback.data))
            return AckMessage.STATUS_SYSTEM_EXCEPTION, "error"
        return AckMessage.STATUS_OK, "OK"

    def shutdown(self) -> None:
        """Finish the units in flight."""
        self.pool.shutdown(wait=True)


class StreamThread:
    """``DingTalkStreamClient.start()`` on its own event loop in a thread, stoppable.

    ``start()`` loops forever and swallows the first CancelledError (then sleeps 10 s), so stopping
    cancels until the task is really done, then cancels what it left (its keepalive task).
    """

    def __init__(self, client: dingtalk_stream.DingTalkStreamClient) -> None:
        self.client = client
        self.loop = asyncio.new_event_loop()
        self._main: asyncio.Task | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="dingtalk-stream", daemon=True)

    def start(self) -> StreamThread:
        self._thread.start()
        self._ready.wait(5)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        if self._thread.is_alive():
            self.loop.call_soon_threadsafe(self._cancel_main)
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise RuntimeError("the DingTalk stream thread did not stop")

    def _cancel_main(self) -> None:
        if self._main is not None and not self._main.done():
            self._main.cancel()
            self.loop.call_later(0.02, self._cancel_main)

    def _run(self) -> None:
        loop = self.loop
        asyncio.set_event_loop(loop)
        try:
            self._main = loop.create_task(self.client.start())
            self._ready.set()
            try:
                loop.run_until_complete(self._main)
            except asyncio.CancelledError:
                pass
            leftovers = asyncio.all_tasks(loop)
            for task in leftovers:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*leftovers, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.run_until_complete(loop.shutdown_default_executor())
        finally:
            asyncio.set_event_loop(None)
            loop.close()


def make_client(client_id: str, client_secret: str, handler: dingtalk_stream.CallbackHandler,
                topic: str = TOPIC) -> dingtalk_stream.DingTalkStreamClient:
    client = dingtalk_stream.DingTalkStreamClient(dingtalk_stream.Credential(client_id, client_secret),
                                                  logger=logging.getLogger("dingclass.sdk"))
    client.register_callback_handler(topic, handler)
    return client
