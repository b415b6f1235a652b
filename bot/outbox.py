"""The outbox sender: delivers what ``handlers.outbox`` queued, at least once and never twice.

Each row goes through two short transactions, with the network call between them, so no database
lock is ever held while DingTalk answers (on SQLite a lock held across a slow call would make the
bot's message transactions fail, and bot messages are not redelivered):

    claim   the oldest due row (PostgreSQL: FOR UPDATE SKIP LOCKED; SQLite: BEGIN IMMEDIATE), check the
            group's budget (≤ ``per_group_per_minute`` sends to a conversation in any 60 s, counting
            rows being sent), and lease it: status ``sending`` until ``next_attempt_at``
    send    reply: sessionWebhook while it is valid, else the OpenAPI; group: groupMessages/send;
            oto: batchSend (text, markdown, or a file from the FileStore: media/upload, then a file
            message); download: fetch the bytes into the FileStore; drive: upload an archive to
            DingTalk Drive (``bot.drive``: three calls, progress saved on the row after each)
    mark    sent + sent_at (a download first runs ``on_download`` in a savepoint), or
            attempts/last_error/next_attempt_at, or dead

A row is marked sent right after its send, so a restarted sender (or a second process) never sends
it again; a crash between the send and the mark leaves it leased, and once the lease runs out it is
sent once more (at least once). While the lease runs, no other sender takes the row.

Logs (``dingclass.outbox``) carry row ids, dedupe keys and DingTalk's error codes, never message text.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from bot import drive
from bot.openapi import DingTalkError, OpenApi
from storage.files import FileStore
from storage.ledger import canonical
from storage.models import OutboxMessage
from storage.types import utcnow

log = logging.getLogger("dingclass.outbox")

QUEUED, SENDING, SENT, DEAD = "queued", "sending", "sent", "dead"
REPLY, GROUP, OTO, DOWNLOAD, DRIVE = "reply", "group", "oto", "download", "drive"
SEND_KINDS = (REPLY, GROUP, OTO)  # what counts against a conversation's budget
GROUP_CONVERSATION = "2"
BUDGET_WINDOW = timedelta(seconds=60)
LEASE = timedelta(minutes=5)  # longer than any send with its retries can take
MAX_ERROR_CHARS = 2000
_SECRET_QUERY = re.compile(r"\b(session|access_token|ticket|Signature)=[^&\s'\")]+")

OnDownload = Callable[[Session, dict, str], None]


class PermanentError(Exception):
    """This row can never be delivered as it stands (no way to reach the user, a malformed body)."""


@dataclass(frozen=True)
class Claim:
    """A leased row, read out of its transaction."""

    id: int
    kind: str
    dedupe_key: str
    conversation_id: str | None
    body: str


_DEFERRED = object()  # the row waits for its group's budget


class OutboxSender:
    """Delivers due outbox rows. One instance per thread; several threads or processes may run."""

    def __init__(self, session_factory: sessionmaker[Session], api: OpenApi, files: FileStore, *,
                 per_group_per_minute: int = 20, max_attempts: int = 8, clock: Callable[[], datetime] = utcnow,
                 on_download: OnDownload | None = None, robot_code: str | None = None,
                 webhook_margin: timedelta = timedelta(minutes=1),
                 backoff: timedelta = timedelta(seconds=10), max_backoff: timedelta = timedelta(minutes=30),
                 rng: random.Random | None = None, sqlite_pause: float = 0.02) -> None:
        """``robot_code`` stands in for rows that carry none (default: the app key, as DingTalk does).
        A failed row waits ``backoff`` · 2^(attempts−1), capped at ``max_backoff``, jittered down to half.
        On SQLite the sender leaves the write lock free for ``sqlite_pause`` s between rows: without
        it, a writer waiting in SQLite's busy handler would wait until the whole queue is drained."""
        self.factory = session_factory
        self.api = api
        self.files = files
        self.per_group_per_minute = per_group_per_minute
        self.max_attempts = max_attempts
        self.clock = clock
        self.on_download = on_download
        self.robot_code = robot_code or api.app_key
        self.webhook_margin = webhook_margin
        self.backoff = backoff
        self.max_backoff = max_backoff
        self._rng = rng or random.Random()
        engine = getattr(session_factory, "kw", {}).get("bind")
        self._pause = sqlite_pause if engine is not None and engine.dialect.name == "sqlite" else 0.0

    # == loops ================================================================================
    def run_once(self, limit: int = 100) -> int:
        """Handle up to ``limit`` due rows, oldest first (each in its own transaction); how many."""
        return self._run(limit, deadline=None)

    def run_forever(self, stop_event: threading.Event, idle_sleep: float = 0.2) -> None:
        """Deliver until ``stop_event`` is set; sleeps ``idle_sleep`` s when nothing is due."""
        failures = 0
        while not stop_event.is_set():
            try:
                handled = self.run_once()
                failures = 0
            except Exception:
                failures += 1
                log.exception("outbox: delivery loop failed (%d in a row)", failures)
                stop_event.wait(min(30.0, idle_sleep * 2 ** failures))
                continue
            if not handled:
                stop_event.wait(idle_sleep)

    def flush(self, timeout: float) -> int:
        """Deliver everything due now, for at most ``timeout`` s (on shutdown); how many rows were handled."""
        return self._run(None, deadline=time.monotonic() + timeout)

    def _run(self, limit: int | None, deadline: float | None) -> int:
        handled = 0
        while (limit is None or handled < limit) and (deadline is None or time.monotonic() < deadline):
            if handled and self._pause:
                time.sleep(self._pause)  # let the bot's message transactions take SQLite's lock
            if not self._handle_one():
                break
            handled += 1
        return handled

    # == one row ==============================================================================
    def deliver_now(self, row_id: int) -> bool:
        """Deliver one row now, due or not (``dingclass archive --upload``), unless another sender holds
        its lease or it is done; False when it was not taken."""
        return self._handle_one(row_id)

    def _handle_one(self, row_id: int | None = None) -> bool:
        """Claim, deliver and mark the oldest due row (or ``row_id``); False when none is due."""
        claim = self._claim(row_id)
        if claim is None:
            return False
        if claim is _DEFERRED:
            return True
        now = self.clock()
        try:
            body = _parse_body(claim.body)
            channel, sha256 = self._deliver(claim, body)
        except Exception as exc:  # noqa: BLE001 - every failure is recorded on the row
            with self.factory.begin() as s:
                self._failed(s.get(OutboxMessage, claim.id), exc, now)
            return True
        with self.factory.begin() as s:
            row = s.get(OutboxMessage, claim.id)
            if sha256 is not None and self.on_download is not None:
                try:
                    with s.begin_nested():  # what on_download wrote goes if it fails
                        self.on_download(s, body, sha256)
                except Exception as exc:  # noqa: BLE001
                    self._failed(row, exc, now)
                    return True
            row.status, row.sent_at, row.last_error = SENT, self.clock(), None
            log.info("outbox: %s %s delivered via %s (attempt %d)", row.kind, row.dedupe_key, channel,
                     row.attempts + 1)
        return True

    def _claim(self, row_id: int | None = None):
        """Lease the oldest due row (queued, or leased by a sender that has since died), or ``row_id``
        if it is queued or its lease ran out."""
        with self.factory.begin() as s:
            now = self.clock()
            free = (OutboxMessage.status == QUEUED) | (OutboxMessage.next_attempt_at <= now)
            due = OutboxMessage.status.in_((QUEUED, SENDING)) & (
                (OutboxMessage.next_attempt_at <= now) if row_id is None else free)
            if row_id is not None:
                due = due & (OutboxMessage.id == row_id)
            row = s.scalars(
                select(OutboxMessage)
                .where(due)
                .order_by(OutboxMessage.id)
                .limit(1)
                .with_for_update(skip_locked=True)  # PostgreSQL; SQLite renders no FOR UPDATE
            ).first()
            if row is None:
                return None
            if row.kind in SEND_KINDS and row.conversation_id:
                free_at = self._budget_frees_at(s, row.conversation_id, now, row.id)
                if free_at is not None:
                    row.next_attempt_at = free_at
                    log.debug("outbox: %s waits for the group budget until %s", row.dedupe_key, free_at.isoformat())
                    return _DEFERRED
            row.status, row.next_attempt_at = SENDING, now + LEASE
            return Claim(row.id, row.kind, row.dedupe_key, row.conversation_id, row.body)

    def _budget_frees_at(self, s: Session, conversation_id: str, now: datetime, row_id: int) -> datetime | None:
        """None if the conversation may get one more message now; else when a slot frees. Rows being
        sent by another sender hold a slot too."""
        if s.get_bind().dialect.name == "postgresql":
            # Serialise the count-then-claim per conversation across processes (a transaction lock).
            s.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _lock_key(conversation_id)})
        # One statement, so one snapshot: a row another sender marks sent meanwhile is counted once.
        is_sent = (OutboxMessage.status == SENT) & (OutboxMessage.sent_at > now - BUDGET_WINDOW)
        is_sending = ((OutboxMessage.status == SENDING) & (OutboxMessage.next_attempt_at > now)
                      & (OutboxMessage.id != row_id))
        sent, sending, oldest = s.execute(
            select(func.count().filter(is_sent), func.count().filter(is_sending),
                   func.min(OutboxMessage.sent_at).filter(is_sent))
            .where(OutboxMessage.conversation_id == conversation_id, OutboxMessage.kind.in_(SEND_KINDS),
                   is_sent | is_sending)
        ).one()
        if sent + sending < self.per_group_per_minute:
            return None
        if sent >= self.per_group_per_minute:
            return oldest + BUDGET_WINDOW
        return now + timedelta(seconds=1)  # a slot is held by a send in flight: look again soon

    # == delivery =============================================================================
    def _deliver(self, row: Claim, body: dict) -> tuple[str, str | None]:
        """Send (or fetch) one row; the channel used, and for a download the stored file's SHA-256."""
        robot_code = body.get("robot_code") or self.robot_code
        if row.kind == REPLY:
            return self._deliver_reply(row, body, robot_code), None
        if row.kind == GROUP:
            conversation_id = _need(row.conversation_id, "conversation_id")
            if "markdown" in body or "file" in body:
                self.api.send_group_message(robot_code, conversation_id, *self._message(body))
            else:
                self.api.send_group(robot_code, conversation_id, _need(body.get("text"), "text"))
            return "groupMessages/send", None
        if row.kind == OTO:
            if "markdown" in body or "file" in body:
                self._batch_send(robot_code, body.get("user_ids") or [], *self._message(body))
            else:
                self._batch_send(robot_code, body.get("user_ids") or [], "sampleText",
                                 {"content": _need(body.get("text"), "text")})
            return "oToMessages/batchSend", None
        if row.kind == DOWNLOAD:
            data = self.api.download(robot_code, _need(body.get("download_code"), "download_code"))
            return "messageFiles/download", self.files.put(data)
        if row.kind == DRIVE:
            drive.upload(self.api, body, lambda progress: self._save_progress(row.id, body, progress))
            return "storage/files/commit", None
        raise PermanentError(f"unknown outbox kind {row.kind!r}")

    def _save_progress(self, row_id: int, body: dict, progress: dict) -> None:
        """A resumable row's progress, saved after each step (its own short transaction)."""
        body["progress"] = progress
        with self.factory.begin() as s:
            s.get(OutboxMessage, row_id).body = canonical(body)

    def _deliver_reply(self, row: Claim, body: dict, robot_code: str) -> str:
        text_ = _need(body.get("text"), "text")
        webhook, expires = body.get("webhook"), _parse_time(body.get("webhook_expires"))
        if webhook and not self.api.webhook_allowed(webhook):
            log.warning("outbox: %s: sessionWebhook not on the DingTalk endpoint's host; using the OpenAPI",
                        row.dedupe_key)
            webhook = None
        if webhook and expires is not None and self.clock() < expires - self.webhook_margin:
            try:
                self.api.reply_webhook(webhook, text_, body.get("at_user_ids") or ())
                return "sessionWebhook"
            except DingTalkError as exc:
                if not exc.session_expired:
                    raise
                log.info("outbox: %s: sessionWebhook expired early, using the OpenAPI", row.dedupe_key)
        if body.get("conversation_type") == GROUP_CONVERSATION:
            self.api.send_group(robot_code, _need(row.conversation_id, "conversation_id"), text_)
            return "groupMessages/send"
        staff_user_id = body.get("staff_user_id")
        if not staff_user_id:
            raise PermanentError("the sessionWebhook has expired and the user has no staffId (outside the "
                                 "organisation): a 1:1 reply can no longer reach them")
        self._batch_send(robot_code, [staff_user_id], "sampleText", {"content": text_})
        return "oToMessages/batchSend"

    def _message(self, body: dict) -> tuple[str, dict]:
        """The msgKey and msgParam of a markdown or file row; a file is uploaded first (media_id)."""
        if "file" in body:
            file = body["file"]
            name = _need(file.get("name"), "file.name")
            try:
                data = self.files.get(_need(file.get("sha256"), "file.sha256"))
            except (FileNotFoundError, KeyError):
                raise PermanentError("the file to send is no longer in the file store") from None
            media_id = self.api.upload_media(data, name)
            return "sampleFile", {"mediaId": media_id, "fileName": name, "fileType": name.rsplit(".", 1)[-1]}
        markdown = body["markdown"]
        return "sampleMarkdown", {"title": _need(markdown.get("title"), "markdown.title"),
                                  "text": _need(markdown.get("text"), "markdown.text")}

    def _batch_send(self, robot_code: str, user_ids: list[str], msg_key: str, param: dict) -> None:
        if not user_ids:
            raise PermanentError("no user ids to send to")
        if msg_key == "sampleText":
            result = self.api.batch_send(robot_code, user_ids, param["content"])
        else:
            result = self.api.batch_send_message(robot_code, user_ids, msg_key, param)
        if result.flow_controlled_user_ids:
            # DingTalk took the rest; a retry resends to them too (at least once), never skips anyone.
            raise DingTalkError(200, "flowControlled", f"{len(result.flow_controlled_user_ids)} recipient(s) "
                                "flow-controlled by DingTalk, not delivered")
        if result.invalid_user_ids and len(result.invalid_user_ids) == len(set(user_ids)):
            raise PermanentError(f"DingTalk knows none of the recipients: {', '.join(result.invalid_user_ids)}")
        if result.invalid_user_ids:
            log.warning("outbox: DingTalk rejected recipient(s) %s", ", ".join(result.invalid_user_ids))

    # == failure ==============================================================================
    def _failed(self, row: OutboxMessage, exc: Exception, now: datetime) -> None:
        row.attempts += 1
        row.last_error = _error_text(exc)[:MAX_ERROR_CHARS]
        permanent = isinstance(exc, PermanentError) or (isinstance(exc, DingTalkError) and exc.permanent)
        if permanent or row.attempts >= self.max_attempts:
            row.status = DEAD
            log.error("outbox: %s %s is dead after %d attempt(s)%s: %s", row.kind, row.dedupe_key, row.attempts,
                      " (cannot succeed)" if permanent else "", row.last_error)
            return
        row.status = QUEUED
        delay = self._delay(row.attempts)
        retry_after = exc.retry_after if isinstance(exc, DingTalkError) else None
        if retry_after is not None:
            delay = max(delay, timedelta(seconds=retry_after))
        row.next_attempt_at = now + delay
        log.warning("outbox: %s %s failed (attempt %d of %d), next try in %.0f s: %s", row.kind, row.dedupe_key,
                    row.attempts, self.max_attempts, delay.total_seconds(), row.last_error,
                    exc_info=not isinstance(exc, (DingTalkError, PermanentError, OSError)))

    def _delay(self, attempts: int) -> timedelta:
        full = min(self.max_backoff, self.backoff * 2 ** (attempts - 1))
        return full * self._rng.uniform(0.5, 1.0)


def _parse_body(text_: str) -> dict:
    try:
        body = json.loads(text_)
    except ValueError:
        raise PermanentError("the row's body is not JSON") from None
    if not isinstance(body, dict):
        raise PermanentError("the row's body is not a JSON object")
    return body


def _need(value: Any, name: str) -> Any:
    if not value:
        raise PermanentError(f"the row has no {name}")
    return value


def _parse_time(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def _error_text(exc: BaseException) -> str:
    """The error for last_error and the log, without secrets a URL may carry (a sessionWebhook's
    session key lets anyone post to the group while it lives)."""
    text_ = str(exc) if isinstance(exc, (DingTalkError, PermanentError)) else f"{type(exc).__name__}: {exc}"
    return _SECRET_QUERY.sub(r"\1=…", text_)


def _lock_key(conversation_id: str) -> int:
    """A stable signed 64-bit key for pg_advisory_xact_lock."""
    digest = hashlib.blake2b(f"outbox:{conversation_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)
