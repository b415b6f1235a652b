"""The simulated DingTalk's memory, and the entry points its two servers call.

`DingTalkSimulator` (core.py) adds the lifecycle and the scripting API on top. Everything here runs
under one re-entrant condition (`_cond`): the HTTP threads, the websocket loop and the test thread
all change state through it, and waiters (`wait_until`) wake on every change.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from .drive import Drive
from .faults import Faults
from .model import (Ack, Clock, Delivery, Group, Ids, Message, RequestRecord, Sent, StreamConnection, User,
                    to_ms)

log = logging.getLogger(__name__)


@dataclass
class _Ticket:
    value: str
    subscriptions: list[dict]
    local_ip: str
    issued: float  # monotonic
    used: bool = False


@dataclass(frozen=True)
class _Session:
    conversation_id: str
    user: User
    group: Group | None
    expires_ms: int


class SimulatorState:
    def __init__(self, *, client_id: str, client_secret: str, robot_code: str | None, clock: Clock | None,
                 seed: int | None, session_ttl: timedelta, ticket_ttl: float, token_ttl: int) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.robot_code = robot_code or client_id
        self.clock: Clock = clock or (lambda: time.time() * 1000)
        self.session_ttl = session_ttl
        self.ticket_ttl = ticket_ttl
        self.token_ttl = token_ttl
        self.faults = Faults()
        self.drive = Drive(self)  # 钉盘: uploadInfos/query → PUT → commit
        self._ids = Ids(seed)
        self.corp_id = self._ids.corp()
        self.bot_user_id = self._ids.dingtalk_id()
        self.app_id = self._ids.hex(32)
        self._cond = threading.Condition(threading.RLock())
        self._stopping = threading.Event()
        self._users: list[User] = []
        self._groups: dict[str, Group] = {}
        self._messages: list[Message] = []
        self._payloads: dict[str, dict] = {}
        self._dropped: list[str] = []
        self._deliveries: list[Delivery] = []
        self._frames: dict[str, Delivery] = {}
        self._acks: list[Ack] = []
        self._system_acks: list[Ack] = []
        self._sent: list[Sent] = []
        self._requests: list[RequestRecord] = []
        self._tickets: dict[str, _Ticket] = {}
        self._connections: dict[str, StreamConnection] = {}
        self._tokens: dict[str, int] = {}
        self._current_token: str | None = None
        self._sessions: dict[str, _Session] = {}
        self._files: dict[str, bytes] = {}
        self._urls: dict[str, bytes] = {}
        self._lives: dict[str, list[tuple[bool, dict]]] = {}
        self._media: dict[str, tuple[str, str, bytes]] = {}  # media_id → (type, file name, bytes)

    def now_ms(self) -> int:
        return to_ms(self.clock())

    def _record_delivery(self, delivery: Delivery) -> None:
        with self._cond:
            self._deliveries.append(delivery)
            self._frames[delivery.message_id] = delivery
            self._cond.notify_all()

    # == who is there, what they said ==========================================================
    @property
    def users(self) -> list[User]:
        with self._cond:
            return list(self._users)

    @property
    def groups(self) -> list[Group]:
        with self._cond:
            return list(self._groups.values())

    @property
    def messages(self) -> list[Message]:
        with self._cond:
            return list(self._messages)

    @property
    def dropped(self) -> list[str]:
        """msgIds that found no open connection (DingTalk does not redeliver them)."""
        with self._cond:
            return list(self._dropped)

    def payload(self, msg_id: str) -> dict:
        """The callback data pushed for `msg_id`."""
        with self._cond:
            return dict(self._payloads[msg_id])

    # == what the bot did (sent, ACKed), what clients asked ======================================
    def sent(self, conversation: Group | User | str | None = None, *, user: User | None = None,
             channel: str | None = None) -> list[Sent]:
        """What the bot sent: to a group, a user's 1:1 chat (`user=` or a User), on a channel, or all."""
        wanted = self._conversation_id(conversation if conversation is not None else user)
        with self._cond:
            return [s for s in self._sent if (wanted is None or s.conversation_id == wanted)
                    and (channel is None or s.channel == channel)]

    def wait_for_sent(self, n: int = 1, conversation: Group | User | str | None = None, *,
                      user: User | None = None, channel: str | None = None, timeout: float = 5.0) -> list[Sent]:
        self.wait_until(lambda: len(self.sent(conversation, user=user, channel=channel)) >= n, timeout,
                        f"{n} sent message(s) to {conversation or user or 'anyone'}")
        return self.sent(conversation, user=user, channel=channel)

    @property
    def acks(self) -> list[Ack]:
        """ACKs of CALLBACK/EVENT frames, in arrival order (SYSTEM replies are in `system_acks`)."""
        with self._cond:
            return list(self._acks)

    @property
    def system_acks(self) -> list[Ack]:
        with self._cond:
            return list(self._system_acks)

    def wait_for_acks(self, n: int = 1, timeout: float = 5.0) -> list[Ack]:
        self.wait_until(lambda: len(self._acks) >= n, timeout, f"{n} ACK(s)")
        return self.acks

    @property
    def deliveries(self) -> list[Delivery]:
        with self._cond:
            return list(self._deliveries)

    @property
    def requests(self) -> list[RequestRecord]:
        """Every HTTP request (and websocket handshake, method "WEBSOCKET") in arrival order."""
        with self._cond:
            return list(self._requests)

    def requests_to(self, path_prefix: str) -> list[RequestRecord]:
        return [r for r in self.requests if r.path.startswith(path_prefix)]

    def wait_until(self, predicate: Callable[[], bool], timeout: float = 5.0, what: str = "condition") -> None:
        with self._cond:
            if not self._cond.wait_for(predicate, timeout):
                raise TimeoutError(f"simulator: no {what} within {timeout}s")

    # == stream connections ===================================================================
    @property
    def connections(self) -> int:
        """Open connections that get messages (not told to disconnect, not dropped)."""
        with self._cond:
            return sum(1 for c in self._connections.values() if c.active)

    @property
    def connection_log(self) -> list[StreamConnection]:
        with self._cond:
            return list(self._connections.values())

    def wait_connected(self, n: int = 1, timeout: float = 10.0) -> None:
        self.wait_until(lambda: self.connections >= n, timeout, f"{n} stream connection(s)")

    @property
    def opened(self) -> int:
        """Connections opened so far, closed ones included: a mark for :meth:`wait_connected_after`."""
        with self._cond:
            return len(self._connections)

    def wait_connected_after(self, mark: int, timeout: float = 10.0) -> None:
        """Wait for a connection opened after ``mark`` (:attr:`opened`, read before starting a client) that gets
        messages. Counting open ones instead is fooled by a client stopped just before, whose close the
        simulator has not seen yet."""
        self.wait_until(lambda: any(c.active for c in list(self._connections.values())[mark:]), timeout,
                        "a new stream connection")

    # == internals: called by the servers =====================================================
    def _log_request(self, record: RequestRecord) -> None:
        with self._cond:
            self._requests.append(record)
            self._cond.notify_all()

    def _issue_ticket(self, subscriptions: list[dict], local_ip: str) -> str:
        ticket = self._ids.hex(8) + "-" + self._ids.hex(24)
        with self._cond:
            self._tickets[ticket] = _Ticket(ticket, subscriptions, local_ip, time.monotonic())
        return ticket

    def _claim_ticket(self, value: str) -> tuple[_Ticket | None, str | None]:
        with self._cond:
            ticket = self._tickets.get(value)
            if ticket is None:
                return None, "unknown ticket"
            if ticket.used:
                return None, "ticket already used"
            if time.monotonic() - ticket.issued > self.ticket_ttl:
                return None, "ticket expired"
            ticket.used = True
            return ticket, None

    def _connection_opened(self, ws) -> StreamConnection:
        ticket: _Ticket = ws.sim_ticket
        conn = StreamConnection(id=self._ids.hex(32), ticket=ticket.value, subscriptions=ticket.subscriptions,
                                local_ip=ticket.local_ip, opened_at=time.monotonic(), ws=ws)
        with self._cond:
            self._connections[conn.id] = conn
            self._cond.notify_all()
        return conn

    def _connection_closed(self, conn: StreamConnection, reason: str) -> None:
        with self._cond:
            conn.closed_at = time.monotonic()
            conn.close_reason = conn.close_reason or reason
            self._cond.notify_all()

    def _take_active(self, reason: str, ids: Iterable[str] | None = None) -> list[StreamConnection]:
        """Mark open connections as leaving (no more messages go to them) and return them."""
        wanted = None if ids is None else set(ids)
        with self._cond:
            conns = [c for c in self._connections.values() if c.active and (wanted is None or c.id in wanted)]
            for conn in conns:
                conn.draining, conn.close_reason = True, reason
            self._cond.notify_all()
        return conns

    def _client_frame(self, conn: StreamConnection, raw: str | bytes) -> None:
        try:
            frame = json.loads(raw)
            message_id = frame["headers"]["messageId"]
            code = int(frame["code"])
        except (ValueError, KeyError, TypeError):
            log.warning("simulator: unexpected frame from client: %r", raw)
            return
        data = frame.get("data")
        try:
            data = json.loads(data) if isinstance(data, str) else data
        except ValueError:
            pass
        received = time.monotonic()
        with self._cond:
            delivery = self._frames.get(message_id)
            ack = Ack(message_id, code, str(frame.get("message", "")), data, conn.id, received,
                      received - delivery.sent_at if delivery else None, delivery.msg_id if delivery else None)
            (self._system_acks if delivery and delivery.type == "SYSTEM" else self._acks).append(ack)
            self._cond.notify_all()

    def _issue_token(self) -> tuple[str, int]:
        with self._cond:
            now = self.now_ms()
            token = self._current_token
            if token is None or self._tokens.get(token, 0) <= now:
                token = self._ids.hex(32)
                self._current_token = token
            self._tokens[token] = now + self.token_ttl * 1000  # a repeat call extends the same token
            return token, self.token_ttl

    def _token_valid(self, token: str) -> bool:
        with self._cond:
            return self._tokens.get(token, 0) > self.now_ms()

    def _live_session(self, key: str) -> _Session | None:
        with self._cond:
            session = self._sessions.get(key)
            return session if session is not None and session.expires_ms > self.now_ms() else None

    def _session_conversation(self, key: str) -> str | None:
        """The conversation of a sessionWebhook, expired or not."""
        with self._cond:
            session = self._sessions.get(key)
            return session.conversation_id if session is not None else None

    def _record_sent(self, sent: Sent) -> None:
        with self._cond:
            self._sent.append(sent)
            self._cond.notify_all()

    def _group(self, conversation_id: Any) -> Group | None:
        with self._cond:
            return self._groups.get(conversation_id) if isinstance(conversation_id, str) else None

    def _user_by_staff_id(self, staff_id: Any) -> User | None:
        with self._cond:
            return next((u for u in self._users if u.staff_id is not None and u.staff_id == staff_id), None)

    def _download_key(self, code: str) -> str | None:
        with self._cond:
            data = self._files.get(code)
            if data is None:
                return None
            key = self._ids.hex(40)
            self._urls[key] = data
            return key

    def file_bytes(self, download_code: str) -> bytes | None:
        """The bytes a user sent under `download_code` (a picture or file), or None."""
        with self._cond:
            return self._files.get(download_code)

    def _store_media(self, kind: str, name: str, data: bytes) -> str:
        with self._cond:
            media_id = "@" + self._ids.hex(32)
            self._media[media_id] = (kind, name, data)
            return media_id

    def media(self, media_id: str) -> tuple[str, str, bytes] | None:
        """What the bot uploaded with ``/media/upload`` under ``media_id``: (type, file name, bytes)."""
        with self._cond:
            return self._media.get(media_id)

    def _blob(self, key: str) -> bytes | None:
        with self._cond:
            return self._urls.get(key)

    def _live_viewers(self, live_id: str) -> list[tuple[bool, dict]] | None:
        with self._cond:
            return self._lives.get(live_id)

    @staticmethod
    def _conversation_id(target: Group | User | str | None) -> str | None:
        if isinstance(target, (Group, User)):
            return target.conversation_id
        return target

