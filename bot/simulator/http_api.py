"""The simulated OpenAPI host: gateway, OAuth, robot sends, file downloads, sessionWebhook, live stats.

A WSGI app served by werkzeug's threaded server. Each request is logged on the simulator, then
fault rules are applied (delay, failure), then it is routed. Error bodies follow DingTalk's shapes:
new-style APIs answer `{requestid, code, message}` with an HTTP error status; the sessionWebhook
answers HTTP 200 with `{errcode, errmsg}`.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
import uuid
from typing import TYPE_CHECKING, Any

from werkzeug.serving import ThreadedWSGIServer, WSGIRequestHandler
from werkzeug.wrappers import Request, Response

from .chat import ChatPage
from .drive import PUT_PATH as DRIVE_PUT_PATH
from .faults import THROTTLE_CODE, WEBHOOK_THROTTLE_ERRCODE, Failure
from .model import RequestRecord, Sent, message_text

if TYPE_CHECKING:
    from .core import DingTalkSimulator

log = logging.getLogger(__name__)

TOKEN_HEADER = "x-acs-dingtalk-access-token"
WEBHOOK_PATH = "/robot/sendBySession"
WEBHOOK_MSGTYPES = {"text": ("content",), "markdown": ("title", "text"),
                    "actionCard": ("title", "text"), "link": ("title", "text", "messageUrl"),
                    "feedCard": ("links",)}
MEDIA_TYPES = ("image", "voice", "video", "file")
MEDIA_FILE_SUFFIXES = ("doc", "docx", "xls", "xlsx", "ppt", "pptx", "zip", "pdf", "rar")
MAX_MEDIA_BYTES = 20 * 1024 * 1024
MSG_KEYS = {"sampleText": ("content",), "sampleMarkdown": ("title", "text"),
            "sampleImageMsg": ("photoURL",), "sampleLink": ("text", "title", "messageUrl"),
            "sampleActionCard": ("title", "text"), "sampleActionCard2": ("title", "text"),
            "sampleActionCard3": ("title", "text"), "sampleActionCard4": ("title", "text"),
            "sampleActionCard5": ("title", "text"), "sampleActionCard6": ("title", "text"),
            "sampleAudio": ("mediaId",), "sampleFile": ("mediaId", "fileName", "fileType"), "sampleVideo": ("videoMediaId",)}
MAX_MSG_PARAM_BYTES = 15000
MAX_OTO_USERS = 20
MAX_WATCH_PAGE = 200
SESSION_EXPIRED_ERRCODE = 300001


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _json(payload: Any, status: int = 200) -> Response:
    return Response(json.dumps(payload, ensure_ascii=False), status=status,
                    mimetype="application/json", headers={"x-acs-request-id": uuid.uuid4().hex})


def _error(status: int, code: str, message: str) -> Response:
    return _json({"requestid": uuid.uuid4().hex, "code": code, "message": message}, status)


class Api:
    def __init__(self, sim: DingTalkSimulator) -> None:
        self.sim = sim
        self.chat = ChatPage(sim)
        self.routes = {
            ("POST", "/v1.0/gateway/connections/open"): self.open_connection,
            ("POST", "/v1.0/oauth2/accessToken"): self.access_token,
            ("POST", WEBHOOK_PATH): self.session_webhook,
            ("POST", "/v1.0/robot/groupMessages/send"): self.group_send,
            ("POST", "/v1.0/robot/oToMessages/batchSend"): self.oto_send,
            ("POST", "/v1.0/robot/messageFiles/download"): self.download_url,
            ("GET", "/v1.0/live/lives/watchUsers"): self.watch_users,
            ("POST", "/media/upload"): self.media_upload,
            ("GET", "/"): self.index,
        }

    def __call__(self, environ, start_response):
        request = Request(environ)
        if self.chat.handles(request.path):  # the person-facing page: not DingTalk, not logged
            return self.chat(request)(environ, start_response)
        upload = request.method == "PUT" and request.path.startswith(DRIVE_PUT_PATH)  # streamed, not logged
        record = RequestRecord(method=request.method, path=request.path,
                               query=request.args.to_dict(), headers={k.lower(): v for k, v in request.headers.items()},
                               body=b"" if upload else request.get_data(), time=time.time())
        self.sim._log_request(record)
        delay, failure = self.sim.faults.take(request.path, self._conversation(request, record))
        if delay:
            self.sim._stopping.wait(delay)
        response = self._failure(request.path, failure) if failure else self._dispatch(request, record)
        record.status = response.status_code
        record.response = response.get_data()
        return response(environ, start_response)

    def _conversation(self, request: Request, record: RequestRecord) -> str | None:
        """The conversation a send goes to (for faults aimed at one conversation)."""
        if request.path == WEBHOOK_PATH:
            return self.sim._session_conversation(request.args.get("session", ""))
        if request.path == "/v1.0/robot/groupMessages/send":
            try:
                body = record.json
            except ValueError:
                return None
            return body.get("openConversationId") if isinstance(body, dict) else None
        return None

    def _dispatch(self, request: Request, record: RequestRecord) -> Response:
        handler = self.routes.get((request.method, request.path))
        if handler is None and self.sim.drive.handles(request.path):
            return self.sim.drive.route(request, self, lambda: self._body(record))
        if handler is None and request.method == "GET" and request.path.startswith("/files/"):
            return self.file(request.path.split("/")[2])
        if handler is None:
            return _error(404, "InvalidAction.NotFound", f"no such API: {request.method} {request.path}")
        try:
            return handler(request, record)
        except ApiError as exc:
            return _error(exc.status, exc.code, exc.message)
        except Exception:
            log.exception("simulator error in %s", request.path)
            return _error(500, "InternalError", "simulator error (see log)")

    @staticmethod
    def _failure(path: str, failure: Failure) -> Response:
        if failure.body is not None:
            return _json(failure.body, failure.status)
        if failure.throttle and path.startswith(WEBHOOK_PATH):
            return _json({"errcode": WEBHOOK_THROTTLE_ERRCODE,
                          "errmsg": "send too fast, exceed 20 times per minute (simulated)"})
        if failure.throttle:
            return _error(failure.status, THROTTLE_CODE, "调用频率超过限制 (simulated)")
        if path.startswith(WEBHOOK_PATH):
            return _json({"errcode": -1, "errmsg": "系统繁忙 (simulated)"}, failure.status)
        return _error(failure.status, "ServiceUnavailable" if failure.status >= 500 else "Simulated",
                      f"simulated failure {failure.status}")

    # -- helpers -----------------------------------------------------------------------------
    @staticmethod
    def _body(record: RequestRecord) -> dict:
        try:
            body = record.json
        except ValueError:
            raise ApiError(400, "InvalidParameter", "body is not JSON") from None
        if not isinstance(body, dict):
            raise ApiError(400, "InvalidParameter", "body must be a JSON object")
        return body

    def _require_token(self, request: Request) -> None:
        token = request.headers.get(TOKEN_HEADER)
        if not token:
            raise ApiError(401, "InvalidAuthentication", f"缺少 {TOKEN_HEADER}")
        if not self.sim._token_valid(token):
            raise ApiError(401, "InvalidAuthentication", "不合法的access_token")

    def _check_robot(self, body: dict, code: str = "invalidParameter.robotCode") -> None:
        if body.get("robotCode") != self.sim.robot_code:
            raise ApiError(400, code, "robotCode 不存在或不合法")

    @staticmethod
    def _msg_param(body: dict) -> tuple[str, dict]:
        key = body.get("msgKey")
        if key not in MSG_KEYS:
            raise ApiError(400, "invalidParameter.msgKey", f"msgKey 不合法: {key!r}")
        raw = body.get("msgParam")
        if not isinstance(raw, str) or len(raw.encode()) > MAX_MSG_PARAM_BYTES:
            raise ApiError(400, "invalidParameter.msgParam", "msgParam 须为不超过 15000 字节的 JSON 字符串")
        try:
            param = json.loads(raw)
        except ValueError:
            raise ApiError(400, "invalidParameter.msgParam", "msgParam 不是合法的 JSON") from None
        missing = [name for name in MSG_KEYS[key] if not isinstance(param, dict) or not param.get(name)]
        if missing:
            raise ApiError(400, "invalidParameter.msgParam", f"msgParam 缺少 {', '.join(missing)}")
        return key, param

    def _check_media(self, key: str, param: dict) -> None:
        """A file message names a media_id the bot uploaded before."""
        if key == "sampleFile" and self.sim.media(str(param.get("mediaId"))) is None:
            raise ApiError(400, "invalidParameter.mediaId", "mediaId 不存在")

    # -- routes ------------------------------------------------------------------------------
    def index(self, request: Request, record: RequestRecord) -> Response:
        return _json({"simulator": "dingclass local DingTalk", "endpoint": self.sim.endpoint,
                      "clientId": self.sim.client_id, "robotCode": self.sim.robot_code})

    def open_connection(self, request: Request, record: RequestRecord) -> Response:
        body = self._body(record)
        if body.get("clientId") != self.sim.client_id or body.get("clientSecret") != self.sim.client_secret:
            raise ApiError(400, "invalidClientIdOrSecret", "无效的clientId或者clientSecret")
        subscriptions = body.get("subscriptions") or []
        if not isinstance(subscriptions, list):
            raise ApiError(400, "InvalidParameter", "subscriptions must be a list")
        ticket = self.sim._issue_ticket(subscriptions, str(body.get("localIp", "")))
        return _json({"endpoint": self.sim.ws_endpoint + "/connect", "ticket": ticket})

    def access_token(self, request: Request, record: RequestRecord) -> Response:
        body = self._body(record)
        if body.get("appKey") != self.sim.client_id or body.get("appSecret") != self.sim.client_secret:
            raise ApiError(400, "invalidClientIdOrSecret", "无效的clientId或者clientSecret")
        token, expire_in = self.sim._issue_token()
        return _json({"accessToken": token, "expireIn": expire_in})

    def session_webhook(self, request: Request, record: RequestRecord) -> Response:
        session = self.sim._live_session(request.args.get("session", ""))
        if session is None:
            return _json({"errcode": SESSION_EXPIRED_ERRCODE, "errmsg": "session 不存在或已过期"})
        try:
            body = self._body(record)
        except ApiError:
            return _json({"errcode": 40035, "errmsg": "缺少参数 json"})
        msgtype = body.get("msgtype")
        part = body.get(msgtype) if isinstance(msgtype, str) else None
        if msgtype not in WEBHOOK_MSGTYPES or not isinstance(part, dict) or not all(
                part.get(name) for name in WEBHOOK_MSGTYPES[msgtype]):
            return _json({"errcode": 40035, "errmsg": f"缺少参数或不支持的 msgtype: {msgtype!r}"})
        at = body.get("at") if isinstance(body.get("at"), dict) else {}
        text, title = message_text(msgtype, body)
        self.sim._record_sent(Sent(
            channel="webhook", conversation_id=session.conversation_id, msgtype=msgtype, text=text,
            title=title, at_user_ids=tuple(u for u in at.get("atUserIds") or () if isinstance(u, str)),
            body=body, user=session.user if session.group is None else None, at=self.sim.now_ms()))
        return _json({"errcode": 0, "errmsg": "ok"})

    def group_send(self, request: Request, record: RequestRecord) -> Response:
        self._require_token(request)
        body = self._body(record)
        self._check_robot(body)
        group = self.sim._group(body.get("openConversationId"))
        if group is None:
            raise ApiError(400, "invalidParameter.openConversationId", "openConversationId 不存在")
        key, param = self._msg_param(body)
        self._check_media(key, param)
        pqk = self.sim._ids.hex(40)
        text, title = message_text(key, param)
        self.sim._record_sent(Sent(channel="group", conversation_id=group.conversation_id, msgtype=key,
                                   text=text, title=title, at_user_ids=(), body=param, user=None,
                                   at=self.sim.now_ms(), process_query_key=pqk))
        return _json({"processQueryKey": pqk})

    def oto_send(self, request: Request, record: RequestRecord) -> Response:
        self._require_token(request)
        body = self._body(record)
        self._check_robot(body)
        user_ids = body.get("userIds")
        if not isinstance(user_ids, list) or not user_ids:
            raise ApiError(400, "invalidParameter.userIds", "userIds 不能为空")
        if len(user_ids) > MAX_OTO_USERS:
            raise ApiError(400, "invalidParameter.userIds.overMax", f"userIds 最多 {MAX_OTO_USERS} 个")
        key, param = self._msg_param(body)
        self._check_media(key, param)
        pqk = self.sim._ids.hex(40)
        text, title = message_text(key, param)
        invalid, throttled = [], []
        for staff_id in user_ids:
            user = self.sim._user_by_staff_id(staff_id)
            if user is None:
                invalid.append(staff_id)
            elif self.sim.faults.is_flow_controlled(staff_id):
                throttled.append(staff_id)
            else:
                self.sim._record_sent(Sent(channel="oto", conversation_id=user.conversation_id, msgtype=key,
                                           text=text, title=title, at_user_ids=(), body=param, user=user,
                                           at=self.sim.now_ms(), process_query_key=pqk))
        return _json({"processQueryKey": pqk, "invalidStaffIdList": invalid,
                      "flowControlledStaffIdList": throttled})

    def media_upload(self, request: Request, record: RequestRecord) -> Response:
        """Old-style ``oapi /media/upload?access_token=`` (DINGTALK.md §10): multipart ``type`` and ``media``;
        answers ``{errcode, media_id, type, created_at}``; a file is at most 20 MB of the listed types."""
        if not self.sim._token_valid(request.args.get("access_token", "")):
            return _json({"errcode": 40014, "errmsg": "不合法的access_token"})
        try:
            kind = request.form.get("type") or request.args.get("type", "")
            media = request.files.get("media")
            data = media.read() if media is not None else b""
            filename = media.filename or "" if media is not None else ""
        finally:
            request.close()  # the multipart parser's temporary files
        if kind not in MEDIA_TYPES or media is None:
            return _json({"errcode": 40004, "errmsg": "不合法的媒体文件类型或缺少 media"})
        suffix = filename.rsplit(".", 1)[-1].lower()
        if kind == "file" and suffix not in MEDIA_FILE_SUFFIXES:
            return _json({"errcode": 40005, "errmsg": f"不合法的文件类型 {suffix!r}"})
        if not data or len(data) > MAX_MEDIA_BYTES:
            return _json({"errcode": 40006, "errmsg": "不合法的文件大小"})
        media_id = self.sim._store_media(kind, filename, data)
        return _json({"errcode": 0, "errmsg": "ok", "media_id": media_id, "type": kind,
                      "created_at": self.sim.now_ms()})

    def download_url(self, request: Request, record: RequestRecord) -> Response:
        self._require_token(request)
        body = self._body(record)
        code = "invalidParameter.robotCode.downloadCode"
        self._check_robot(body, code)
        key = self.sim._download_key(str(body.get("downloadCode", "")))
        if key is None:
            raise ApiError(400, code, "downloadCode 不合法或已过期")
        return _json({"downloadUrl": f"{self.sim.endpoint}/files/{key}/download.file"})

    def file(self, key: str) -> Response:
        blob = self.sim._blob(key)
        if blob is None:
            return Response(b"", status=404)
        return Response(blob, mimetype="application/octet-stream")

    def watch_users(self, request: Request, record: RequestRecord) -> Response:
        self._require_token(request)
        args = request.args
        if not args.get("liveId") or not args.get("unionId"):
            raise ApiError(400, "MissingParameter", "liveId 和 unionId 必填")
        try:
            page, size = int(args.get("pageNumber", 0)), int(args.get("pageSize", 20))
        except ValueError:
            raise ApiError(400, "invalidParameter.pageSize", "pageNumber/pageSize 须为整数") from None
        if not 1 <= size <= MAX_WATCH_PAGE or page < 0:
            raise ApiError(400, "invalidParameter.pageSize", f"pageSize 须在 1..{MAX_WATCH_PAGE}")
        viewers = self.sim._live_viewers(args["liveId"])
        if viewers is None:
            raise ApiError(400, "invalidParameter.liveId", "直播不存在")
        chunk = viewers[page * size:(page + 1) * size]
        return _json({"result": {"orgUsesList": [v for in_org, v in chunk if in_org],
                                 "outOrgUserList": [v for in_org, v in chunk if not in_org]}})


class _QuietHandler(WSGIRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_request(self, *args, **kwargs) -> None:  # the simulator keeps its own request log
        pass


class _Server(ThreadedWSGIServer):
    """Werkzeug's threaded server, plus: close() also ends keep-alive connections and joins their threads."""

    def __init__(self, *args, **kwargs) -> None:
        self._active: dict[socket.socket, threading.Thread] = {}
        self._active_lock = threading.Lock()
        super().__init__(*args, **kwargs)

    def process_request(self, request, client_address) -> None:
        thread = threading.Thread(target=self._handle, args=(request, client_address),
                                  name="dingtalk-sim-http-request", daemon=True)
        with self._active_lock:
            self._active[request] = thread
        thread.start()

    def _handle(self, request, client_address) -> None:
        try:
            self.process_request_thread(request, client_address)
        finally:
            with self._active_lock:
                self._active.pop(request, None)

    def close_connections(self, timeout: float) -> None:
        with self._active_lock:
            active = list(self._active.items())
        for sock, _ in active:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for _, thread in active:
            thread.join(timeout)


class HttpServer:
    def __init__(self, sim: DingTalkSimulator, host: str, port: int) -> None:
        if port:  # werkzeug prints to stderr and exits on a busy port: raise OSError(EADDRINUSE) instead
            with socket.socket() as probe:
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                probe.bind((host, port))
        self._server = _Server(host, port, Api(sim), handler=_QuietHandler)
        self.port: int = self._server.port
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name="dingtalk-sim-http", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def close(self, timeout: float = 10.0) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(timeout)
        self._server.close_connections(timeout)
        self._server.server_close()
