"""Queue what the bot must send (or fetch) in the outbox, inside the message's unit of work.

Each row has a unique dedupe key derived from the message it answers, so a unit of work that runs
twice cannot queue a row twice; ``bot.outbox`` delivers the rows. A row is due at once: at the
earlier of the time of the message it answers and the wall clock, so a simulated clock on either side
of the real one (tests, the demo) never holds a reply back until its sessionWebhook has expired.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.orm import Session

from handlers.messages import Incoming, Reply
from storage import rows
from storage.ledger import canonical
from storage.models import OutboxMessage
from storage.types import utcnow

log = logging.getLogger(__name__)

REPLY = "reply"
GROUP = "group"
OTO = "oto"
DOWNLOAD = "download"
DRIVE = "drive"


_OUTBOX = OutboxMessage.__table__


def _at_once(message_time: datetime) -> datetime:
    return min(message_time, utcnow())


def queue_reply(s: Session, *, key: str, conversation_id: str, conversation_type: str, text: str,
                webhook: str | None, webhook_expires: datetime | None, staff_user_id: str | None,
                robot_code: str | None, due: datetime, at_user_ids: list[str] | None = None,
                name: str = "", attention: bool = False) -> None:
    """A reply in the conversation a message came from: its sessionWebhook while valid, else the OpenAPI.
    ``name`` (the sender's) and ``attention`` (a refusal) are for a digest of several replies (``bot.digest``)."""
    body = {
        "text": text,
        "name": name,
        "attention": attention,
        "webhook": webhook,
        "webhook_expires": webhook_expires.isoformat() if webhook_expires else None,
        "conversation_type": conversation_type,
        "staff_user_id": staff_user_id,
        "robot_code": robot_code,
        "at_user_ids": at_user_ids or [],
    }
    # Core, at commit: a reply is one row per message on the intake path, and nothing reads it back before
    # the commit (an ORM object cost a unit-of-work flush per message, a statement each the replies of a batch).
    rows.insert_at_commit(s, _OUTBOX, {"kind": REPLY, "dedupe_key": key, "conversation_id": conversation_id,
                                       "body": canonical(body), "next_attempt_at": _at_once(due)})


def queue_replies(s: Session, msg: Incoming, replies: list[Reply], key: str | None = None,
                  name: str | None = None) -> None:
    """Answer ``msg``; the rows' dedupe keys are ``key`` (default ``reply:<msgId>``), then ``:1``, ``:2``…
    for further replies (the default key always carries the number). ``name``: the sender's (default:
    their DingTalk nick)."""
    for n, reply in enumerate(replies):
        dedupe = f"reply:{msg.msg_id}:{n}" if key is None else (key if n == 0 else f"{key}:{n}")
        queue_reply(s, key=dedupe, conversation_id=msg.conversation_id,
                    conversation_type=msg.conversation_type, text=reply.text, webhook=msg.session_webhook,
                    webhook_expires=msg.session_webhook_expires, staff_user_id=msg.sender_staff_id,
                    robot_code=msg.robot_code, due=msg.created_at, name=name or msg.sender_nick,
                    attention=reply.attention,
                    at_user_ids=[*([msg.sender_staff_id] if reply.at_sender and msg.sender_staff_id else []),
                                 *reply.at_user_ids])


def queue_group_message(s: Session, conversation_id: str, text: str, dedupe_key: str, robot_code: str | None,
                        due: datetime) -> None:
    """A proactive message to a group (reports, roll calls, decisions): the OpenAPI sends it."""
    s.add(OutboxMessage(kind=GROUP, dedupe_key=dedupe_key, conversation_id=conversation_id,
                        body=canonical({"text": text, "robot_code": robot_code}), next_attempt_at=_at_once(due)))


def queue_private_message(s: Session, user_ids: list[str], text: str, dedupe_key: str, robot_code: str | None,
                          due: datetime) -> None:
    """A proactive 1:1 message to staff inside the organisation (at most 20 user ids): the OpenAPI sends it."""
    s.add(OutboxMessage(kind=OTO, dedupe_key=dedupe_key, conversation_id=None, next_attempt_at=_at_once(due),
                        body=canonical({"text": text, "robot_code": robot_code, "user_ids": list(user_ids)})))


def queue_rich(s: Session, *, dedupe_key: str, robot_code: str | None, due: datetime,
               conversation_id: str | None = None, user_ids: list[str] | None = None,
               markdown: tuple[str, str] | None = None, file: tuple[str, str] | None = None) -> None:
    """A proactive markdown message (title, text) or file (FileStore SHA-256, file name) to a group, or
    1:1 to ``user_ids`` (their staffIds, ≤ 20 a call; DINGTALK.md §5, §6, §10)."""
    body: dict = {"robot_code": robot_code}
    if markdown is not None:
        body["markdown"] = {"title": markdown[0], "text": markdown[1]}
    if file is not None:
        body["file"] = {"sha256": file[0], "name": file[1]}
    if user_ids is not None:
        body["user_ids"] = user_ids
    s.add(OutboxMessage(kind=OTO if user_ids is not None else GROUP, dedupe_key=dedupe_key,
                        conversation_id=conversation_id, body=canonical(body), next_attempt_at=_at_once(due)))


def queue_downloads(s: Session, msg: Incoming, word: str | None = None) -> None:
    """Fetch the message's pictures (and its file). Each row keeps the normalised message and the command
    ``word`` it was dispatched to, so the finished download comes back as a ``DownloadEvent`` for that command."""
    for n, code in enumerate(msg.download_codes):
        s.add(OutboxMessage(kind=DOWNLOAD, dedupe_key=f"download:{msg.msg_id}:{n}",
                            conversation_id=msg.conversation_id, next_attempt_at=_at_once(msg.created_at),
                            body=canonical({"download_code": code, "robot_code": msg.robot_code,
                                            "msg_id": msg.msg_id, "word": word, "message": msg.to_dict()})))


def queue_oto(s: Session, user_ids: list[str], text: str, dedupe_key: str, robot_code: str | None,
              due: datetime) -> None:
    """A proactive 1:1 message to up to 20 staff ids (oToMessages/batchSend)."""
    s.add(OutboxMessage(kind=OTO, dedupe_key=dedupe_key, conversation_id=None,
                        body=canonical({"text": text, "user_ids": list(user_ids), "robot_code": robot_code}),
                        next_attempt_at=_at_once(due)))


def queue_drive_upload(s: Session, *, class_code: str, path: str, name: str, size: int, md5: str, sha256: str,
                       head: list, space_id: str, union_id: str, parent_id: str) -> OutboxMessage:
    """An archive to upload to DingTalk Drive (R18; ``bot.drive`` does the three calls and saves its
    progress on the row). ``head`` is the class chain's (seq, hash) the archive was made at, so an
    unfinished upload of an unchanged class can be resumed instead of archiving again."""
    row = OutboxMessage(kind=DRIVE, dedupe_key=f"drive:{class_code}:{sha256}", conversation_id=None,
                        next_attempt_at=utcnow(),
                        body=canonical({"class": class_code, "path": path, "name": name, "size": size, "md5": md5,
                                        "sha256": sha256, "head": list(head), "space_id": space_id,
                                        "union_id": union_id, "parent_id": parent_id}))
    s.add(row)
    s.flush()
    return row


def requeue(s: Session, row_id: int, now: datetime, *, actor: str) -> bool:
    """An admin sends a row again: a dead row (or one still queued) goes back in the queue, due now,
    its attempts counted afresh; False if there is no such row or it is sent or being sent."""
    row = s.get(OutboxMessage, row_id)
    if row is None or row.status not in ("dead", "queued"):
        return False
    row.status, row.attempts, row.next_attempt_at = "queued", 0, now
    log.info("outbox row %d (%s) put back in the queue by %s", row.id, row.dedupe_key, actor)
    return True
