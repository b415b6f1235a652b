"""Plain records of the simulated DingTalk: who is in it, what was said, sent, acknowledged and asked.

Everything here is a value: the simulator creates these under its lock and hands out copies of its
lists, so a test can keep and compare them without racing the server threads.
"""

from __future__ import annotations

import json
import random
import string
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Union

BOT_TOPIC = "/v1.0/im/bot/messages/get"

Clock = Callable[[], Union[datetime, int, float]]
"""Returns "now" as an aware datetime or as milliseconds since the epoch."""

_B64 = string.ascii_letters + string.digits + "+/"
_ALNUM = string.ascii_letters + string.digits


class SimulatorError(Exception):
    """A test asked the simulator for something DingTalk would not do."""


class NotDelivered(SimulatorError):
    """No open stream connection took the message; DingTalk does not redeliver bot messages."""


def to_ms(value: datetime | int | float) -> int:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("the simulator clock must return an aware datetime (or epoch ms)")
        return int(value.timestamp() * 1000)
    return int(value)


class Ids:
    """Opaque identifiers shaped like DingTalk's; seeded so a run can be repeated."""

    def __init__(self, seed: int | None = None) -> None:
        self._rng = random.Random(seed)

    def _chars(self, n: int, alphabet: str = _ALNUM) -> str:
        return "".join(self._rng.choice(alphabet) for _ in range(n))

    def dingtalk_id(self) -> str:  # senderId, chatbotUserId, atUsers[].dingtalkId
        return "$:LWCP_v1:$" + self._chars(32, _B64)

    def conversation(self) -> str:
        return "cid" + self._chars(22, _B64) + "=="

    def msg(self) -> str:
        return "msg" + self._chars(22, _B64) + "=="

    def corp(self) -> str:
        return "ding" + self._chars(32, string.hexdigits.lower()[:16])

    def staff(self) -> str:
        return "".join(self._rng.choice(string.digits) for _ in range(17))

    def union(self) -> str:
        return self._chars(26) + "iEiE"

    def hex(self, n: int = 32) -> str:
        return self._chars(n, "0123456789abcdef")

    def frame(self) -> str:  # stream headers.messageId
        return f"{self.hex(8)}_{self.hex(3)}_{self.hex(11)}_{self.hex(4)}"

    def choice(self, seq):
        return self._rng.choice(seq)


@dataclass(frozen=True)
class User:
    name: str
    sender_id: str
    staff_id: str | None
    union_id: str
    in_org: bool
    conversation_id: str
    """The 1:1 chat between this user and the bot."""
    corp_id: str | None


@dataclass(eq=False)
class Group:
    title: str
    conversation_id: str
    members: list[User] = field(default_factory=list)
    admins: list[User] = field(default_factory=list)

    @property
    def open_conversation_id(self) -> str:
        return self.conversation_id

    def add(self, *users: User) -> None:
        for user in users:
            if user not in self.members:
                self.members.append(user)


@dataclass(frozen=True)
class Message:
    """Something a user posted in the simulated chat (delivered to the bot or not)."""

    msg_id: str
    user: User
    conversation_id: str
    group: Group | None
    msgtype: str
    payload: dict
    to_bot: bool
    """False for a group message that does not @ the bot: DingTalk never pushes it"""
    created_at: int


@dataclass(frozen=True)
class Delivery:
    """One frame pushed down one stream connection."""

    message_id: str
    msg_id: str | None
    connection_id: str
    type: str
    topic: str
    sent_at: float
    """time.monotonic() when the frame was written"""


@dataclass(frozen=True)
class Ack:
    message_id: str
    code: int
    message: str
    data: Any
    connection_id: str
    received_at: float
    """time.monotonic() when the ACK arrived"""
    latency: float | None
    """seconds between pushing the frame and its ACK"""
    msg_id: str | None


@dataclass(frozen=True)
class Sent:
    """Something the bot sent, as the simulated chat shows it."""

    channel: str
    """"webhook" (sessionWebhook reply), "group" (groupMessages/send) or "oto" (oToMessages/batchSend)"""
    conversation_id: str
    msgtype: str
    """webhook msgtype (text, markdown, actionCard, ...) or the OpenAPI msgKey (sampleText, ...)"""
    text: str
    title: str | None
    at_user_ids: tuple[str, ...]
    body: dict
    """the webhook body, or the parsed msgParam"""
    user: User | None
    """the recipient in a 1:1 chat"""
    at: int
    """simulator clock, ms"""
    process_query_key: str | None = None


@dataclass
class RequestRecord:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    """names in lower case"""
    body: bytes
    time: float
    """time.time() when the request arrived"""
    status: int | None = None
    response: bytes = b""

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    @property
    def response_json(self) -> Any:
        return json.loads(self.response) if self.response else None


@dataclass
class StreamConnection:
    id: str
    ticket: str
    subscriptions: list[dict]
    local_ip: str
    opened_at: float
    closed_at: float | None = None
    draining: bool = False
    """a disconnect frame was sent (or the socket dropped): no more messages go here"""
    close_reason: str | None = None
    ws: Any = field(default=None, repr=False, compare=False)

    @property
    def active(self) -> bool:
        return self.closed_at is None and not self.draining

    def subscribed(self, type_: str, topic: str) -> bool:
        return any(s.get("type") == type_ and s.get("topic") in (topic, "*") for s in self.subscriptions)


def message_text(msgtype: str, body: dict) -> tuple[str, str | None]:
    """(text, title) of a webhook body (by msgtype) or an OpenAPI msgParam (by msgKey)."""
    if msgtype == "text":
        return str(body.get("text", {}).get("content", "")), None
    if msgtype in ("markdown", "actionCard", "link"):
        part = body.get(msgtype, {})
        return str(part.get("text", "")), part.get("title")
    if msgtype == "feedCard":
        links = body.get("feedCard", {}).get("links", [])
        return "\n".join(str(link.get("title", "")) for link in links), None
    if msgtype == "sampleText":
        return str(body.get("content", "")), None
    if msgtype == "sampleImageMsg":
        return str(body.get("photoURL", "")), None
    if msgtype == "sampleFile":
        return str(body.get("fileName", "")), None
    return str(body.get("text", "")), body.get("title")
