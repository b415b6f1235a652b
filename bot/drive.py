"""Uploading an archive to DingTalk Drive (钉盘, R18): ``uploadInfos/query`` → PUT to the signed URL →
``commit`` (DINGTALK.md §10), resumable.

An upload is an outbox row (``handlers.outbox.queue_drive_upload``, kind ``drive``): the file's path,
name, size and MD5, and where it goes. After each step its progress is saved on the row (``progress``:
the upload key, the signed URL and headers with their expiry, whether the PUT went through, at last
the dentry), so a failure — a crash, a refused PUT, a commit that timed out — resumes where it
stopped: a live upload key is reused, a finished PUT is not repeated, an expired key or a refused
signature starts again with a new key. The commit says ``RETURN_DENTRY_IF_EXISTS`` and the name
carries the zip's SHA-256, so a commit repeated after a lost answer returns the same file.

The bot's outbox sender delivers such rows (so the scheduler's archive job only queues them), and
``dingclass archive --upload`` delivers its row at once through the same sender.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from bot.openapi import DingTalkError, OpenApi

QUERY = "/v1.0/storage/spaces/{space}/files/uploadInfos/query"
COMMIT = "/v1.0/storage/spaces/{space}/files/commit"
KEY_MARGIN = 60.0  # seconds: a key this close to its expiry is not used for a PUT


class UploadRestart(Exception):
    """The upload key or signature is no good any more: the next attempt starts with a new key."""


def upload(api: OpenApi, body: dict, save: Callable[[dict], None], clock: Callable[[], float] = time.time) -> dict:
    """Run the steps not done yet for the row ``body``; ``save(progress)`` after each; the dentry."""
    progress = dict(body.get("progress") or {})
    if progress.get("dentry"):
        return progress["dentry"]
    space, union, parent = body["space_id"], body["union_id"], body.get("parent_id") or "0"
    path = Path(body["path"])
    if not path.is_file():
        from bot.outbox import PermanentError

        raise PermanentError(f"the archive {path} is no longer there")
    if not progress.get("upload_key") or (not progress.get("put") and progress.get("expires_at", 0) < clock() + KEY_MARGIN):
        answer = api.call(QUERY.format(space=space), {
            "protocol": "HEADER_SIGNATURE", "multipart": False,
            "option": {"storageDriver": "DINGTALK", "preCheckParam": {
                "size": body["size"], "name": body["name"], "md5": body["md5"], "parentId": parent}}},
            params={"unionId": union})
        info = answer.get("headerSignatureInfo") or {}
        urls = info.get("resourceUrls") or []
        if not answer.get("uploadKey") or not urls:
            raise DingTalkError(200, "missingUploadInfo", "uploadInfos/query answered without uploadKey or URL")
        progress = {"upload_key": answer["uploadKey"], "url": urls[0], "headers": info.get("headers") or {},
                    "expires_at": clock() + float(info.get("expirationSeconds") or 900), "put": False}
        save(progress)
    if not progress.get("put"):
        try:
            api.put_file(progress["url"], progress["headers"], path)
        except DingTalkError as exc:
            if exc.permanent:  # expired or refused signature: a new key next time
                save({})
                raise UploadRestart(f"the signed URL was refused ({exc}); the next attempt asks for a new one") from exc
            raise
        progress["put"] = True
        save(progress)
    try:
        answer = api.call(COMMIT.format(space=space), {
            "uploadKey": progress["upload_key"], "name": body["name"], "parentId": parent,
            "option": {"size": body["size"], "conflictStrategy": "RETURN_DENTRY_IF_EXISTS"}},
            params={"unionId": union})
    except DingTalkError as exc:
        if exc.permanent:
            save({})
            raise UploadRestart(f"commit refused ({exc}); the next attempt uploads again") from exc
        raise
    dentry = answer.get("dentry") or {}
    progress["dentry"] = dentry
    save(progress)
    return dentry
