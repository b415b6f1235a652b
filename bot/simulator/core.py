"""DingTalkSimulator: a scriptable local DingTalk (Stream gateway + OpenAPI) on loopback."""

from __future__ import annotations

import ipaddress
import json
import logging
import time
from collections.abc import Iterable, Mapping, Sequence
from datetime import timedelta
from typing import Any

from .http_api import HttpServer
from .model import BOT_TOPIC, Clock, Delivery, Group, Message, NotDelivered, SimulatorError, StreamConnection, User
from .state import SimulatorState, _Session
from .stream import StreamServer

log = logging.getLogger(__name__)


class DingTalkSimulator(SimulatorState):
    """A DingTalk that lives on 127.0.0.1 for tests and demos.

    `with DingTalkSimulator() as sim:` starts the OpenAPI (werkzeug, `sim.endpoint`) and the Stream
    gateway (websockets, `sim.ws_endpoint`) in background threads; leaving the block stops both and
    joins their threads. Point clients at `sim.endpoint` (DINGTALK_OPENAPI_ENDPOINT; see
    `bot.simulator.sdk.point_sdk_at` for the SDK). The clock (`createAt`, sessionWebhook and token
    expiry) is `clock`: a callable returning an aware datetime or epoch ms; ticket expiry uses real time.
    """

    def __init__(self, *, client_id: str = "dingsimulatorappkey", client_secret: str = "simulator-secret",
                 robot_code: str | None = None, clock: Clock | None = None, host: str = "127.0.0.1",
                 port: int = 0, ws_port: int = 0, seed: int | None = None,
                 session_ttl: timedelta = timedelta(minutes=90), ticket_ttl: float = 90.0,
                 token_ttl: int = 7200, disconnect_grace: float = 10.0, delivery_wait: float = 5.0) -> None:
        if host != "localhost" and not ipaddress.ip_address(host).is_loopback:
            raise ValueError(f"the simulator binds loopback only, not {host!r}")
        super().__init__(client_id=client_id, client_secret=client_secret, robot_code=robot_code, clock=clock,
                         seed=seed, session_ttl=session_ttl, ticket_ttl=ticket_ttl, token_ttl=token_ttl)
        self.disconnect_grace = disconnect_grace
        self.delivery_wait = delivery_wait
        self._host, self._port, self._ws_port = host, port, ws_port
        self._http: HttpServer | None = None
        self._stream: StreamServer | None = None

    # == lifecycle ============================================================================
    def start(self) -> DingTalkSimulator:
        if self._http is not None:
            return self
        self._http = HttpServer(self, self._host, self._port)
        self._stream = StreamServer(self, self._host, self._ws_port)
        try:
            self._stream.start()
            self._http.start()
        except BaseException:
            self.close()
            raise
        log.info("DingTalk simulator: OpenAPI %s, stream %s", self.endpoint, self.ws_endpoint)
        return self

    def close(self) -> None:
        self._stopping.set()
        if self._stream is not None:
            self._stream.close()
        if self._http is not None:
            self._http.close()

    def __enter__(self) -> DingTalkSimulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def endpoint(self) -> str:
        if self._http is None:
            raise SimulatorError("start the simulator first")
        return f"http://{self._host}:{self._http.port}"

    @property
    def chat_url(self) -> str:
        """The chat page where a person talks to the bot as any simulated user."""
        return f"{self.endpoint}/chat"

    @property
    def ws_endpoint(self) -> str:
        if self._stream is None or self._stream.port is None:
            raise SimulatorError("start the simulator first")
        return f"ws://{self._host}:{self._stream.port}"

    # == directory ============================================================================
    def add_user(self, name: str, *, staff_id: str | None = None, in_org: bool = True) -> User:
        """A DingTalk user. Org members get a staffId (given or generated); outside users have none."""
        if not in_org and staff_id is not None:
            raise ValueError("users outside the organisation have no staffId")
        with self._cond:
            if in_org:
                staff_id = staff_id or self._ids.staff()
                if self._user_by_staff_id(staff_id) is not None:
                    raise ValueError(f"staffId {staff_id!r} is taken")
            user = User(name=name, sender_id=self._ids.dingtalk_id(), staff_id=staff_id,
                        union_id=self._ids.union(), in_org=in_org, conversation_id=self._ids.conversation(),
                        corp_id=self.corp_id if in_org else None)
            self._users.append(user)
            return user

    def add_group(self, title: str, members: Iterable[User] = (), *, admins: Iterable[User] = ()) -> Group:
        """A group chat the bot is in; `admins` (owner/admins) arrive with isAdmin=true."""
        admins = list(admins)
        group = Group(title=title, conversation_id=self._ids.conversation(), admins=admins)
        group.add(*members, *admins)
        with self._cond:
            self._groups[group.conversation_id] = group
        return group

    # == users talk to the bot ================================================================
    def say(self, user: User, text: str, group: Group | None = None, *, at_bot: bool = True,
            at: Sequence[User] = (), duplicate: bool = False, wait: float | None = None) -> str:
        """`user` posts `text` (1:1 with the bot, or in `group`). Returns the msgId.

        In a group only messages that @ the bot (`at_bot`) reach it, and their content starts with a
        space, as DingTalk strips the @name. A message that does not reach the bot is still in
        `sim.messages` with to_bot=False. `duplicate` pushes the same message twice.
        """
        content = f" {text}" if group is not None else text
        return self._post(user, group, "text", {"text": {"content": content}}, at_bot=at_bot, at=at,
                          duplicate=duplicate, wait=wait)

    def send_picture(self, user: User, image: bytes, group: Group | None = None, *, at_bot: bool = True,
                     duplicate: bool = False, wait: float | None = None) -> str:
        content = self._store_file(image)
        return self._post(user, group, "picture", {"content": content}, at_bot=at_bot, at=(),
                          duplicate=duplicate, wait=wait)

    def send_rich_text(self, user: User, parts: Sequence[str | bytes], group: Group | None = None, *,
                       at_bot: bool = True, duplicate: bool = False, wait: float | None = None) -> str:
        """A richText message: each part is text (str) or a picture (bytes)."""
        items: list[dict] = []
        for part in parts:
            if isinstance(part, (bytes, bytearray)):
                items.append({"type": "picture", **self._store_file(bytes(part))})
            else:
                items.append({"text": f" {part}" if group is not None and not items else part})
        return self._post(user, group, "richText", {"content": {"richText": items}}, at_bot=at_bot, at=(),
                          duplicate=duplicate, wait=wait)

    def send_file(self, user: User, data: bytes, file_name: str, *, wait: float | None = None) -> str:
        """A file in the 1:1 chat (DingTalk does not let users @ the bot with a file in a group)."""
        content = {"downloadCode": self._store_file(data)["downloadCode"], "fileName": file_name}
        return self._post(user, None, "file", {"content": content}, at_bot=True, at=(), duplicate=False,
                          wait=wait)

    def push_raw(self, payload: Mapping[str, Any] | str, *, type: str = "CALLBACK", topic: str = BOT_TOPIC,
                 wait: float | None = None) -> str:
        """Push any data (a dict is JSON-encoded) as one frame; returns the frame's messageId."""
        data = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
        msg_id = payload.get("msgId") if isinstance(payload, Mapping) else None
        return self._deliver(data, msg_id=msg_id, type_=type, topic=topic, wait=wait).message_id

    def redeliver(self, msg_id: str, *, same_frame: bool = True, wait: float | None = None) -> str:
        """Push an already delivered message again (same frame messageId unless `same_frame=False`)."""
        with self._cond:
            payload = self._payloads.get(msg_id)
            first = next((d for d in self._deliveries if d.msg_id == msg_id), None)
        if payload is None:
            raise SimulatorError(f"unknown msgId {msg_id!r}")
        frame_id = first.message_id if same_frame and first is not None else None
        return self._deliver(json.dumps(payload, ensure_ascii=False), msg_id=msg_id, wait=wait,
                             message_id=frame_id).message_id

    # == stream connections ===================================================================
    def disconnect_all(self, connection_ids: Iterable[str] | None = None) -> int:
        """Send SYSTEM disconnect ("connection is expired") to every open connection (or those named);
        the server closes each after `disconnect_grace` s if the client does not. Returns how many."""
        told = 0
        for conn in self._take_active("disconnected", connection_ids):
            message_id = self._ids.frame()
            self._record_delivery(Delivery(message_id, None, conn.id, "SYSTEM", "disconnect", time.monotonic()))
            data = json.dumps({"reason": "connection is expired"})
            try:
                self._stream.send(conn, self._frame("SYSTEM", "disconnect", conn, data, message_id))
                self._stream.close_later(conn, self.disconnect_grace)
                told += 1
            except Exception:
                pass
        return told

    def drop_all(self, connection_ids: Iterable[str] | None = None) -> int:
        """Cut every open connection (or those named) without a close frame: the client sees an
        abnormal closure, as when a network path dies. Returns how many."""
        dropped = 0
        for conn in self._take_active("dropped", connection_ids):
            try:
                self._stream.abort(conn)
                dropped += 1
            except Exception:
                pass
        return dropped

    def ping_all(self, timeout: float = 5.0) -> int:
        """SYSTEM ping every open connection; returns how many echoed the opaque value."""
        with self._cond:
            conns = [c for c in self._connections.values() if c.active]
        expected: dict[str, str] = {}
        for conn in conns:
            opaque, message_id = self._ids.hex(16), self._ids.frame()
            self._record_delivery(Delivery(message_id, None, conn.id, "SYSTEM", "ping", time.monotonic()))
            try:
                self._stream.send(conn, self._frame("SYSTEM", "ping", conn, json.dumps({"opaque": opaque}),
                                                    message_id))
                expected[message_id] = opaque
            except Exception:
                pass

        def echoed() -> int:
            return sum(1 for a in self._system_acks if isinstance(a.data, dict)
                       and expected.get(a.message_id) == a.data.get("opaque"))

        try:
            self.wait_until(lambda: echoed() >= len(expected), timeout, "ping echo")
        except TimeoutError:
            pass
        with self._cond:
            return echoed()

    # == tokens, sessions, live ===============================================================
    def access_token(self) -> str:
        """A valid token, as POST /v1.0/oauth2/accessToken would give."""
        return self._issue_token()[0]

    def expire_tokens(self) -> None:
        """Every token issued so far is rejected from now on (401); the next accessToken call gets a new one."""
        with self._cond:
            self._tokens = {token: 0 for token in self._tokens}
            self._current_token = None

    def expire_sessions(self) -> None:
        """Every sessionWebhook handed out so far stops working."""
        with self._cond:
            self._sessions = {k: _Session(s.conversation_id, s.user, s.group, 0) for k, s in self._sessions.items()}

    def add_live(self, viewers: Mapping[User, tuple[int, int]], *, live_id: str | None = None) -> str:
        """A live lesson with per-viewer (watchLiveTime, watchPlaybackTime) in ms, served by
        GET /v1.0/live/lives/watchUsers (org members in orgUsesList, others in outOrgUserList)."""
        live_id = live_id or self._ids.hex(32)
        first = self.now_ms()
        rows = []
        for user, (live_ms, playback_ms) in viewers.items():
            row = {"name": user.name, "watchLiveTime": int(live_ms), "watchPlaybackTime": int(playback_ms),
                   "watchProgressMs": int(live_ms) + int(playback_ms), "firstWatchTime": first}
            if user.in_org:
                row = {"userId": user.staff_id, "unionId": user.union_id, "deptName": "", **row}
            rows.append((user.in_org, row))
        rows.sort(key=lambda r: not r[0])
        with self._cond:
            self._lives[live_id] = rows
        return live_id

    # == internals: messages ==================================================================
    def _post(self, user: User, group: Group | None, msgtype: str, fields: dict, *, at_bot: bool,
              at: Sequence[User], duplicate: bool, wait: float | None) -> str:
        if group is not None and user not in group.members:
            raise SimulatorError(f"{user.name} is not a member of {group.title}")
        to_bot = group is None or at_bot
        with self._cond:
            now = self.now_ms()
            msg_id = self._ids.msg()
            conversation_id = group.conversation_id if group else user.conversation_id
            payload = self._payload(user, group, msg_id, msgtype, now, at) if to_bot else {
                "msgId": msg_id, "msgtype": msgtype, "senderId": user.sender_id, "createAt": now}
            payload.update(fields)
            self._messages.append(Message(msg_id, user, conversation_id, group, msgtype, payload, to_bot, now))
            self._payloads[msg_id] = payload
        if to_bot:
            data = json.dumps(payload, ensure_ascii=False)
            first = self._deliver(data, msg_id=msg_id, wait=wait)
            if duplicate:
                self._deliver(data, msg_id=msg_id, wait=wait, message_id=first.message_id)
        return msg_id

    def _payload(self, user: User, group: Group | None, msg_id: str, msgtype: str, now: int,
                 at: Sequence[User]) -> dict:
        conversation_id = group.conversation_id if group else user.conversation_id
        session = self._ids.hex(32)
        expires = now + int(self.session_ttl.total_seconds() * 1000)
        self._sessions[session] = _Session(conversation_id, user, group, expires)
        payload: dict[str, Any] = {
            "conversationId": conversation_id,
            "conversationType": "2" if group else "1",
            "msgId": msg_id,
            "msgtype": msgtype,
            "createAt": now,
            "senderId": user.sender_id,
            "senderNick": user.name,
            "chatbotCorpId": self.corp_id,
            "chatbotUserId": self.bot_user_id,
            "robotCode": self.robot_code,
            "isAdmin": bool(group and user in group.admins),
            "isInAtList": True,
            "sessionWebhook": f"{self.endpoint}/robot/sendBySession?session={session}",
            "sessionWebhookExpiredTime": expires,
        }
        if user.corp_id:
            payload["senderCorpId"] = user.corp_id
        if user.staff_id:
            payload["senderStaffId"] = user.staff_id
        if group is not None:
            payload["conversationTitle"] = group.title
            payload["atUsers"] = [{"dingtalkId": self.bot_user_id}] + [
                {"dingtalkId": u.sender_id, **({"staffId": u.staff_id} if u.staff_id else {})} for u in at]
        return payload

    def _store_file(self, data: bytes) -> dict:
        codes = {"downloadCode": self._ids.hex(64), "pictureDownloadCode": self._ids.hex(64)}
        with self._cond:
            for code in codes.values():
                self._files[code] = bytes(data)
        return codes

    def _frame(self, type_: str, topic: str, conn: StreamConnection, data: str, message_id: str) -> str:
        headers = {"appId": self.app_id, "connectionId": conn.id, "contentType": "application/json",
                   "messageId": message_id, "time": str(self.now_ms()), "topic": topic}
        return json.dumps({"specVersion": "1.0", "type": type_, "headers": headers, "data": data},
                          ensure_ascii=False)

    def _deliver(self, data: str, *, msg_id: str | None, wait: float | None, type_: str = "CALLBACK",
                 topic: str = BOT_TOPIC, message_id: str | None = None) -> Delivery:
        """Push one frame to one open subscribed connection (picked at random, as DingTalk does)."""
        deadline = time.monotonic() + (self.delivery_wait if wait is None else wait)
        message_id = message_id or self._ids.frame()
        failed: set[str] = set()
        while True:
            with self._cond:
                def candidates() -> list[StreamConnection]:
                    return [c for c in self._connections.values()
                            if c.active and c.id not in failed and c.subscribed(type_, topic)]
                self._cond.wait_for(candidates, max(0.0, deadline - time.monotonic()))
                options = candidates()
                if not options:
                    if msg_id is not None:
                        self._dropped.append(msg_id)
                    raise NotDelivered(f"no open stream connection subscribed to {type_} {topic}")
                conn = self._ids.choice(options)
            delivery = Delivery(message_id, msg_id, conn.id, type_, topic, time.monotonic())
            self._record_delivery(delivery)
            try:
                self._stream.send(conn, self._frame(type_, topic, conn, data, message_id))
                return delivery
            except Exception:
                failed.add(conn.id)
                with self._cond:
                    self._deliveries.remove(delivery)

