"""DingTalk Drive (钉盘) in the simulator: the three calls of an upload (DINGTALK.md §10).

1. ``POST /v1.0/storage/spaces/{spaceId}/files/uploadInfos/query?unionId=`` with
   ``{protocol: "HEADER_SIGNATURE", multipart: false, option: {preCheckParam: {size, name, parentId, md5?}}}``
   → ``{uploadKey, headerSignatureInfo: {resourceUrls, internalResourceUrls, headers, expirationSeconds, region}}``;
2. ``PUT resourceUrls[0]`` with those headers and the bytes (the simulator serves it at ``/drive/put/<key>``,
   where DingTalk gives a signed OSS URL; no access token, the signature header is what counts);
3. ``POST /v1.0/storage/spaces/{spaceId}/files/commit?unionId=`` with
   ``{uploadKey, name, parentId, option: {size, conflictStrategy}}`` → ``{dentry: {id, uuid, spaceId, parentId, name, size, …}}``.

Faults come from ``sim.faults`` like every other path (``fail_next("/drive/put")``,
``fail_next("/v1.0/storage/spaces/S1/files/commit")``); ``drive.files(space)`` shows what was committed,
``drive.puts`` how many bytes each PUT carried.
"""

from __future__ import annotations

import hashlib
import threading
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from werkzeug.wrappers import Request, Response

if TYPE_CHECKING:
    from .http_api import Api
    from .state import SimulatorState

SPACES = "/v1.0/storage/spaces/"
PUT_PATH = "/drive/put/"
SIGNATURE_HEADER = "x-oss-signature"
EXPIRATION_SECONDS = 900
STRATEGIES = ("AUTO_RENAME", "OVERWRITE", "RETURN_DENTRY_IF_EXISTS", "RETURN_ERROR_IF_EXISTS")


@dataclass
class _Pending:
    space_id: str
    name: str
    size: int
    parent_id: str
    md5: str | None
    signature: str
    expires_ms: int
    data: bytes | None = None


@dataclass(frozen=True)
class DriveFile:
    space_id: str
    parent_id: str
    name: str
    data: bytes
    dentry: dict


@dataclass
class Drive:
    """The simulated Drive: pending uploads by upload key, committed files by space."""

    sim: SimulatorState
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _pending: dict[str, _Pending] = field(default_factory=dict)
    _files: list[DriveFile] = field(default_factory=list)
    puts: list[int] = field(default_factory=list)  # bytes received by each successful PUT

    def handles(self, path: str) -> bool:
        return path.startswith(SPACES) or path.startswith(PUT_PATH)

    def files(self, space_id: str | None = None) -> list[DriveFile]:
        with self._lock:
            return [f for f in self._files if space_id is None or f.space_id == space_id]

    def expire_uploads(self) -> None:
        """Every pending upload key runs out (as after ``expirationSeconds``)."""
        with self._lock:
            for pending in self._pending.values():
                pending.expires_ms = 0

    # -- routes --------------------------------------------------------------------------------
    def route(self, request: Request, api: Api, body_of) -> Response:
        from .http_api import ApiError, _error, _json

        try:
            if request.method == "PUT" and request.path.startswith(PUT_PATH):
                return self._put(request)
            parts = request.path[len(SPACES):].split("/")
            if request.method == "POST" and len(parts) == 4 and parts[1:3] == ["files", "uploadInfos"] \
                    and parts[3] == "query":
                api._require_token(request)
                return _json(self._query(parts[0], request.args.get("unionId", ""), body_of()))
            if request.method == "POST" and len(parts) == 3 and parts[1:] == ["files", "commit"]:
                api._require_token(request)
                return _json(self._commit(parts[0], request.args.get("unionId", ""), body_of()))
        except ApiError as exc:
            return _error(exc.status, exc.code, exc.message)
        return _error(404, "InvalidAction.NotFound", f"no such API: {request.method} {request.path}")

    def _query(self, space_id: str, union_id: str, body: dict) -> dict:
        from .http_api import ApiError

        if not union_id:
            raise ApiError(400, "MissingunionId", "unionId 必填")
        if body.get("protocol") != "HEADER_SIGNATURE":
            raise ApiError(400, "invalidParameter.protocol", "protocol 须为 HEADER_SIGNATURE")
        check = ((body.get("option") or {}).get("preCheckParam") or {})
        name, size = check.get("name"), check.get("size")
        if not name or not isinstance(size, int) or size <= 0:
            raise ApiError(400, "invalidParameter.preCheckParam", "preCheckParam 须有 name 和 size")
        key = uuid.uuid4().hex
        signature = hashlib.sha256(key.encode()).hexdigest()
        with self._lock:
            self._pending[key] = _Pending(space_id, str(name), size, str(check.get("parentId") or "0"),
                                          check.get("md5"), signature,
                                          self.sim.now_ms() + EXPIRATION_SECONDS * 1000)
        return {"uploadKey": key, "storageDriver": "DINGTALK", "protocol": "HEADER_SIGNATURE",
                "headerSignatureInfo": {"resourceUrls": [f"{self.sim.endpoint}{PUT_PATH}{key}"],
                                        "internalResourceUrls": [], "expirationSeconds": EXPIRATION_SECONDS,
                                        "region": "ZHANGJIAKOU",
                                        "headers": {SIGNATURE_HEADER: signature, "Content-Type": ""}}}

    def _put(self, request: Request) -> Response:
        key = request.path[len(PUT_PATH):]
        with self._lock:
            pending = self._pending.get(key)
        if pending is None or pending.expires_ms < self.sim.now_ms():
            return Response(b"<Error><Code>AccessDenied</Code><Message>Request has expired.</Message></Error>",
                            status=403, mimetype="application/xml")
        if request.headers.get(SIGNATURE_HEADER) != pending.signature:
            return Response(b"<Error><Code>SignatureDoesNotMatch</Code></Error>", status=403,
                            mimetype="application/xml")
        data = request.stream.read()
        with self._lock:
            pending.data = data
            self.puts.append(len(data))
        return Response(b"", status=200)

    def _commit(self, space_id: str, union_id: str, body: dict) -> dict:
        from .http_api import ApiError

        key = str(body.get("uploadKey") or "")
        with self._lock:
            pending = self._pending.get(key)
            if pending is None or pending.space_id != space_id or not union_id:
                raise ApiError(400, "invalidParameter.uploadKey", "uploadKey 不存在或已过期")
            if pending.data is None:
                raise ApiError(400, "fileNotUploaded", "文件尚未上传")
            size = (body.get("option") or {}).get("size", pending.size)
            if len(pending.data) != pending.size or size != pending.size:
                raise ApiError(400, "invalidParameter.size", "文件大小与 preCheckParam 不符")
            if pending.md5 and hashlib.md5(pending.data).hexdigest() != pending.md5:
                raise ApiError(400, "invalidParameter.md5", "文件 md5 不符")
            name = str(body.get("name") or pending.name)
            parent = str(body.get("parentId") or pending.parent_id)
            strategy = (body.get("option") or {}).get("conflictStrategy") or "AUTO_RENAME"
            if strategy not in STRATEGIES:
                raise ApiError(400, "invalidParameter.conflictStrategy", f"conflictStrategy 不合法: {strategy}")
            same = [f for f in self._files if (f.space_id, f.parent_id, f.name) == (space_id, parent, name)]
            if same and strategy == "RETURN_DENTRY_IF_EXISTS":
                del self._pending[key]
                return {"dentry": same[0].dentry}
            if same and strategy == "RETURN_ERROR_IF_EXISTS":
                raise ApiError(409, "fileExists", "同名文件已存在")
            if same and strategy == "OVERWRITE":
                self._files = [f for f in self._files if f not in same]
            elif same:
                stem, _, ext = name.rpartition(".")
                name = f"{stem}({len(same)}).{ext}" if stem else f"{name}({len(same)})"
            dentry = {"id": str(100000 + len(self._files)), "uuid": uuid.uuid4().hex, "spaceId": space_id,
                      "parentId": parent, "name": name, "size": len(pending.data), "type": "FILE",
                      "extension": name.rpartition(".")[2], "createTime": self.sim.now_ms()}
            self._files.append(DriveFile(space_id, parent, name, pending.data, dentry))
            del self._pending[key]
        return {"dentry": dentry}
