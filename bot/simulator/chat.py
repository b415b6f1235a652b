"""The simulator's chat page: a person talks to the bot as any simulated user.

``GET /chat`` serves one self-contained page (no CDN). Its small JSON API lives under ``/chat/api``:
the directory (users, groups), sending a text or a picture as a user (1:1 or in a group, @bot or not),
and a conversation's timeline — what users said and what the bot sent there, as DingTalk shows it
(markdown, @-mentions). Everything goes through the same simulator methods the tests use, so the bot
sees exactly what it would see from DingTalk.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

from .model import Group, NotDelivered, SimulatorError, User

if TYPE_CHECKING:
    from .core import DingTalkSimulator

PREFIX = "/chat"
MAX_PICTURE_BYTES = 20 * 1024 * 1024


class ChatError(Exception):
    """A request the page made that cannot be done; the message is shown to the person."""


def _json(payload: Any, status: int = 200) -> Response:
    return Response(json.dumps(payload, ensure_ascii=False), status=status, mimetype="application/json")


class ChatPage:
    def __init__(self, sim: DingTalkSimulator) -> None:
        self.sim = sim
        self.routes = {
            ("GET", PREFIX): self.page,
            ("GET", f"{PREFIX}/api/state"): self.state,
            ("POST", f"{PREFIX}/api/users"): self.add_user,
            ("POST", f"{PREFIX}/api/groups"): self.add_group,
            ("POST", f"{PREFIX}/api/send"): self.send,
            ("GET", f"{PREFIX}/api/timeline"): self.timeline,
            ("GET", f"{PREFIX}/api/picture"): self.picture,
        }

    def handles(self, path: str) -> bool:
        return path == PREFIX or path.startswith(PREFIX + "/")

    def __call__(self, request: Request) -> Response:
        handler = self.routes.get((request.method, request.path))
        if handler is None:
            return _json({"error": "没有这个页面"}, 404)
        try:
            return handler(request)
        except ChatError as exc:
            return _json({"error": str(exc)}, 400)
        finally:
            request.close()  # uploaded pictures are spooled to temporary files

    # -- the page ------------------------------------------------------------------------------
    def page(self, request: Request) -> Response:
        html = resources.files(__package__).joinpath("chat.html").read_text(encoding="utf-8")
        return Response(html, mimetype="text/html", headers={"Content-Security-Policy": (
            "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
            "script-src 'self' 'unsafe-inline'")})

    # -- directory -----------------------------------------------------------------------------
    def state(self, request: Request) -> Response:
        return _json({
            "users": [_user(u) for u in self.sim.users],
            "groups": [{"id": g.conversation_id, "title": g.title, "members": [m.sender_id for m in g.members],
                        "admins": [a.sender_id for a in g.admins]} for g in self.sim.groups],
        })

    def add_user(self, request: Request) -> Response:
        body = _body(request)
        name = str(body.get("name", "")).strip()
        if not name or len(name) > 32:
            raise ChatError("请填写姓名（最多 32 个字）")
        user = self.sim.add_user(name, in_org=bool(body.get("in_org", True)))
        group_id = body.get("group")
        if group_id:
            self._group(group_id).add(user)
        return _json(_user(user))

    def add_group(self, request: Request) -> Response:
        body = _body(request)
        title = str(body.get("title", "")).strip()
        if not title or len(title) > 64:
            raise ChatError("请填写群名称（最多 64 个字）")
        members = [self._user(i) for i in body.get("members", [])]
        group = self.sim.add_group(title, members=members)
        return _json({"id": group.conversation_id, "title": group.title})

    # -- talking -------------------------------------------------------------------------------
    def send(self, request: Request) -> Response:
        form = request.form if request.files else _body(request)
        user = self._user(form.get("user"))
        group = self._group(form["group"]) if form.get("group") else None
        at_bot = str(form.get("at_bot", "true")).lower() != "false"
        if group is not None and user not in group.members:
            raise ChatError(f"{user.name} 不在群“{group.title}”中")
        try:
            picture = request.files.get("picture")
            if picture is not None:
                data = picture.read(MAX_PICTURE_BYTES + 1)
                if not data or len(data) > MAX_PICTURE_BYTES:
                    raise ChatError("图片为空或超过 20 MB")
                msg_id = self.sim.send_picture(user, data, group, at_bot=at_bot)
            else:
                text = str(form.get("text", "")).strip()
                if not text:
                    raise ChatError("请输入消息内容")
                msg_id = self.sim.say(user, text, group, at_bot=at_bot)
        except NotDelivered:
            raise ChatError("机器人没有连接：这条消息没有送到机器人（钉钉不会重发）") from None
        except SimulatorError as exc:
            raise ChatError(str(exc)) from None
        return _json({"msgId": msg_id})

    def timeline(self, request: Request) -> Response:
        """Messages of one conversation in time order: a group (`group=`), or `user=`'s 1:1 chat with the bot."""
        group_id = request.args.get("group")
        if group_id:
            conversation = self._group(group_id).conversation_id
            said = [m for m in self.sim.messages if m.group is not None and m.conversation_id == conversation]
        else:
            user = self._user(request.args.get("user"))
            conversation = user.conversation_id
            said = [m for m in self.sim.messages if m.group is None and m.user is user]
        names = {u.sender_id: u.name for u in self.sim.users} | {
            u.staff_id: u.name for u in self.sim.users if u.staff_id}
        entries = [{"from": "user", "user": m.user.sender_id, "name": m.user.name, "at": m.created_at,
                    "kind": m.msgtype, "text": _said_text(m.payload), "to_bot": m.to_bot,
                    "picture": m.msg_id if m.msgtype in ("picture", "richText") else None} for m in said]
        entries += [{"from": "bot", "name": "机器人", "at": s.at, "kind": s.msgtype, "text": s.text,
                     "title": s.title, "markdown": "markdown" in s.msgtype.lower() or "actioncard" in s.msgtype.lower(),
                     "mentions": [names.get(i, i) for i in s.at_user_ids], "channel": s.channel}
                    for s in self.sim.sent(conversation)]
        entries.sort(key=lambda e: e["at"])
        return _json(entries)

    def picture(self, request: Request) -> Response:
        """The first picture of a message a user sent, for the page to show."""
        try:
            payload = self.sim.payload(request.args.get("msg", ""))
        except KeyError:
            return _json({"error": "没有这张图片"}, 404)
        content = payload.get("content")
        codes = [content.get("downloadCode")] if isinstance(content, dict) and "downloadCode" in content else []
        if isinstance(content, dict):
            codes += [p.get("downloadCode") for p in content.get("richText", []) if isinstance(p, dict)]
        data = next((self.sim.file_bytes(c) for c in codes if c and self.sim.file_bytes(c)), None)
        if data is None:
            return _json({"error": "没有这张图片"}, 404)
        return Response(data, mimetype="image/jpeg")

    # -- lookups -------------------------------------------------------------------------------
    def _user(self, sender_id: Any) -> User:
        user = next((u for u in self.sim.users if u.sender_id == sender_id), None)
        if user is None:
            raise ChatError("请先选择一个用户")
        return user

    def _group(self, conversation_id: Any) -> Group:
        group = next((g for g in self.sim.groups if g.conversation_id == conversation_id), None)
        if group is None:
            raise ChatError("没有这个群")
        return group


def _user(user: User) -> dict:
    return {"id": user.sender_id, "name": user.name, "in_org": user.in_org, "staff_id": user.staff_id}


def _body(request: Request) -> dict:
    try:
        body = json.loads(request.get_data() or b"{}")
    except ValueError:
        raise ChatError("请求格式不对") from None
    if not isinstance(body, dict):
        raise ChatError("请求格式不对")
    return body


def _said_text(payload: dict) -> str:
    text = payload.get("text")
    if isinstance(text, dict):
        return str(text.get("content", "")).strip()
    content = payload.get("content")
    if isinstance(content, dict) and "richText" in content:
        return " ".join(str(p.get("text", "")).strip() for p in content["richText"] if "text" in p)
    return ""
