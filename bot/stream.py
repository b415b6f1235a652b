"""Glue to the official dingtalk-stream SDK: one callback handler, and the client's thread.

The handler turns the SDK's message into a plain ``Incoming`` and hands it to the process's group
committer (``bot.intake``: never on the event loop); it returns — and the SDK sends the ACK — only
after the commit of the transaction that holds it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import re
import threading
from datetime import datetime, timezone

import dingtalk_stream
import dingtalk_stream.stream
import requests
# dingtalk-stream 0.24.3 names ``websockets.exceptions`` in its except clauses; websockets ≥ 14 only
# makes that submodule an attribute of the package once it is imported, which the SDK never does
# itself before a connection opens: stopping it earlier failed with "module 'websockets' has no
# attribute 'exceptions'" (two tracebacks). Importing it here makes the attribute exist.
import websockets.exceptions  # noqa: F401
from dingtalk_stream import AckMessage, CallbackMessage, ChatbotMessage

from bot.intake import GroupCommitter
from handlers.hygiene import fold, visible
from handlers.messages import Incoming

log = logging.getLogger("dingclass.stream")
TOPIC = ChatbotMessage.TOPIC  # /v1.0/im/bot/messages/get
_AT_PREFIX = re.compile(r"^@\S+\s+")
HANDLED_TYPES = ("text", "picture", "richText", "file")  # the others are stored and answered "not supported"


ID_MAX = 128  # msgId, senderId, conversationId: the columns' size
NICK_MAX, TITLE_MAX = 100, 200
FILE_NAME_MAX, FILE_CODE_MAX = 200, 4096


def _ms(value) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(value) / 1000, tz=timezone.utc)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def normalise_text(text: str) -> str:
    """Strip an @-mention the client left in front, drop invisible characters (NUL, controls, bidi
    overrides, zero-width), fold with NFKC (``签　到`` → ``签到``'s words, full-width letters and digits
    → ordinary ones) and fold whitespace."""
    return _AT_PREFIX.sub("", fold(visible(text))).strip()


def _id(value, name: str) -> str:
    """An identifier DingTalk sends: text that fits its column with nothing invisible; else ValueError
    (the message is then stored raw, see ``unparsed``)."""
    if value is None or value == "":
        return ""
    if not isinstance(value, str) or len(value) > ID_MAX or visible(value) != value:
        raise ValueError(f"malformed {name}")
    return value


def _label(value, limit: int) -> str:
    """A display string (nick, group title): visible characters, cut to its column."""
    return visible(value)[:limit] if isinstance(value, str) else ""


def to_incoming(data: dict) -> Incoming:
    """The SDK's parse of a bot message (text, picture, richText; others via ``extensions``)."""
    msg = ChatbotMessage.from_dict(data)
    texts: list[str] = []
    codes: list[str] = []
    file_code, file_name = "", ""
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
    elif msg.message_type == "file" and isinstance((msg.extensions or {}).get("content"), dict):
        content = msg.extensions["content"]  # the SDK leaves file messages unparsed (DINGTALK.md §2)
        file_code, file_name = content.get("downloadCode") or "", content.get("fileName") or ""
        if not isinstance(file_code, str) or not isinstance(file_name, str):
            raise ValueError("malformed file content")
    elif (msg.extensions or {}).get("content", {}).get("recognition"):
        texts.append(msg.extensions["content"]["recognition"])  # audio: DingTalk's speech-to-text
    created = _ms(data.get("createAt")) or datetime.now(timezone.utc)
    if not all(isinstance(t, str) for t in texts) or not all(isinstance(c, str) for c in codes):
        raise ValueError("malformed content")
    if str(msg.conversation_type or "") not in ("", "1", "2") or not isinstance(msg.message_type or "", str) \
            or len(msg.message_type or "") > 16:
        raise ValueError("malformed conversationType or msgtype")
    return Incoming(
        msg_id=_id(msg.message_id or data.get("msgId"), "msgId"),  # empty: the handler uses the frame id
        conversation_id=_id(msg.conversation_id, "conversationId"),
        conversation_type=str(msg.conversation_type or ""),
        sender_id=_id(msg.sender_id, "senderId"),
        sender_staff_id=_id(msg.sender_staff_id, "senderStaffId") or None,
        sender_nick=_label(msg.sender_nick, NICK_MAX),
        msgtype=msg.message_type or "unknown",
        text=normalise_text(" ".join(texts)),
        image_codes=tuple(c for c in codes if c),
        created_at=created,
        robot_code=_id(msg.robot_code, "robotCode") or None,
        session_webhook=msg.session_webhook if isinstance(msg.session_webhook, str) and msg.session_webhook else None,
        session_webhook_expires=_ms(msg.session_webhook_expired_time),
        conversation_title=_label(msg.conversation_title, TITLE_MAX),
        supported=(msg.message_type or "") in HANDLED_TYPES,
        file_code=file_code if len(file_code) <= FILE_CODE_MAX else "",
        file_name=_label(file_name, FILE_NAME_MAX),
        raw=data,
    )


_SESSION_KEY = re.compile(r"(session|access_token)=[^&\"'\s]+")
_DIGITS = re.compile(r"\d{6,}")


def redacted(data) -> str:
    """A message payload fit for a log line: no webhook key, no ID-number or phone digits."""
    text = json.dumps(data, ensure_ascii=False, default=str)
    return _DIGITS.sub(lambda m: m.group()[:2] + "*" * (len(m.group()) - 2), _SESSION_KEY.sub(r"\1=…", text))


def _safe_id(data: dict, key: str) -> str:
    try:
        return _id(data.get(key), key)
    except ValueError:
        return ""


def unparsed(data, frame_id: str) -> Incoming:
    """A message that cannot be parsed (or stored as parsed) is still stored — its whole payload as
    one JSON text, whatever it holds — and ACKed as received, never dropped. Only identifiers that are
    well-formed are kept; the id is the frame's when the message's own is unusable. This never raises."""
    fields = data if isinstance(data, dict) else {}
    frame = f"frame:{str(frame_id)[:ID_MAX - 6]}"
    conversation_type = str(fields.get("conversationType", ""))
    webhook = fields.get("sessionWebhook")
    return Incoming(
        msg_id=_safe_id(fields, "msgId") or frame, conversation_id=_safe_id(fields, "conversationId"),
        conversation_type=conversation_type if conversation_type in ("1", "2") else "",
        sender_id=_safe_id(fields, "senderId"), sender_staff_id=None,
        sender_nick=_label(fields.get("senderNick"), NICK_MAX), msgtype="unparsed", text="", image_codes=(),
        created_at=datetime.now(timezone.utc), robot_code=_safe_id(fields, "robotCode") or None,
        session_webhook=webhook if isinstance(webhook, str) and webhook else None,
        session_webhook_expires=_ms(fields.get("sessionWebhookExpiredTime")), supported=False,
        raw={"unparsed": json.dumps(data, ensure_ascii=True, default=repr)},
    )


class MessageHandler(dingtalk_stream.CallbackHandler):
    """The product's one handler on the bot-message topic."""

    def __init__(self, committer: GroupCommitter[Incoming]) -> None:
        super().__init__()
        self.committer = committer

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
            await asyncio.wrap_future(self.committer.submit(incoming))
        except Exception:
            log.exception("unit of work failed for message %s; storing it raw", incoming.msg_id)
            try:  # the payload as one JSON text, so a value the database refuses cannot stop it being kept
                await asyncio.wrap_future(self.committer.submit(unparsed(callback.data, frame_id)))
            except Exception:
                # Not stored: DingTalk will not redeliver, so the payload goes to the log — without the
                # sessionWebhook's key (it lets anyone post to the group) and with long digit runs masked.
                log.exception("could not store message %s; payload=%s", incoming.msg_id, redacted(callback.data))
                return AckMessage.STATUS_SYSTEM_EXCEPTION, "error"
        return AckMessage.STATUS_OK, "OK"

    def shutdown(self) -> None:
        """Commit the units in flight."""
        self.committer.shutdown()


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


class Client(dingtalk_stream.DingTalkStreamClient):
    """The SDK's client, except that

    - a CALLBACK frame whose ``data`` is not JSON (the SDK would fail to parse it and send no ACK at
      all) reaches the handler as ``{"unparsedData": <the text>}``, so it is stored raw and ACKed like
      any other message;
    - opening a connection has a timeout (the SDK's has none: an unreachable endpoint would block its
      event loop for good) and keeps the reason it failed in ``open_error``;
    - ``connected`` is set once a websocket is open (the bot says "已连接" only then).
    """

    OPEN_TIMEOUT = 10.0

    def __init__(self, *args, **kwargs) -> None:
        self.connected = threading.Event()
        self.open_error: str | None = None
        super().__init__(*args, **kwargs)

    @property
    def websocket(self):
        return self._websocket

    @websocket.setter
    def websocket(self, value) -> None:
        self._websocket = value
        if value is not None:
            self.connected.set()

    def open_connection(self):
        """``POST /v1.0/gateway/connections/open`` (DINGTALK.md §1) → ``{endpoint, ticket}``, or None."""
        topics = ([{"type": "EVENT", "topic": "*"}] if self._is_event_required else []) + [
            {"type": "CALLBACK", "topic": topic} for topic in self.callback_handler_map]
        body = {"clientId": self.credential.client_id, "clientSecret": self.credential.client_secret,
                "subscriptions": topics, "ua": f"dingtalk-sdk-python/v{dingtalk_stream.stream.VERSION_STRING}-union",
                "localIp": self.get_host_ip()}
        try:
            response = requests.post(dingtalk_stream.DingTalkStreamClient.OPEN_CONNECTION_API, json=body,
                                     headers={"Accept": "application/json"}, timeout=self.OPEN_TIMEOUT)
            with response:
                answer = response.json() if response.content else {}
        except (requests.RequestException, ValueError) as exc:
            self.open_error = f"{type(exc).__name__}"
            self.logger.error("open connection failed: %s", self.open_error)
            return None
        if response.status_code >= 400 or not isinstance(answer, dict) or not answer.get("ticket"):
            code = answer.get("code") if isinstance(answer, dict) else None
            self.open_error = f"HTTP {response.status_code} {code or ''}".strip()
            self.logger.error("open connection failed: %s", self.open_error)
            return None
        self.open_error = None
        return answer

    async def route_message(self, json_message):
        if isinstance(json_message, dict) and json_message.get("type") == CallbackMessage.TYPE:
            try:
                CallbackMessage.from_dict(json_message)
            except Exception:
                json_message = readable_frame(json_message)
        return await super().route_message(json_message)


def readable_frame(frame: dict) -> dict:
    """A CALLBACK frame the SDK can parse, carrying the original ``data`` as text."""
    headers = frame.get("headers") if isinstance(frame.get("headers"), dict) else {}
    headers = {k: v for k, v in headers.items() if isinstance(v, (str, int))}
    headers.setdefault("topic", TOPIC)
    data = frame.get("data")
    return {**frame, "headers": headers,
            "data": json.dumps({"unparsedData": data if isinstance(data, str) else repr(data)})}


def _not_our_stop(record: logging.LogRecord) -> bool:
    """Drop the SDK's "[start] network exception" error for the CancelledError with which ``StreamThread.stop``
    ends ``start()``: every clean stop logged it as an error. A real network failure (ConnectionClosedError) is
    still logged."""
    return not (isinstance(record.msg, str) and record.msg.startswith("[start] network exception") and record.args
                and isinstance(record.args[0], asyncio.CancelledError))


def make_client(client_id: str, client_secret: str, handler: dingtalk_stream.CallbackHandler,
                topic: str = TOPIC) -> dingtalk_stream.DingTalkStreamClient:
    logger = logging.getLogger("dingclass.sdk")
    logger.addFilter(_not_our_stop)  # once: a filter already there is not added again
    client = Client(dingtalk_stream.Credential(client_id, client_secret), logger=logger)
    client.register_callback_handler(topic, handler)
    return client
