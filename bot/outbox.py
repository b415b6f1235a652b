"""The outbox sender: delivers what ``handlers.outbox`` queued, at least once and almost never twice.

Each unit goes through two short transactions, with the network call between them, so no database
lock is ever held while DingTalk answers (on SQLite a lock held across a slow call would make the
bot's message transactions fail, and bot messages are not redelivered):

    claim   the oldest due row whose conversation may get a message now (PostgreSQL: FOR UPDATE SKIP
            LOCKED and a per-conversation advisory lock; SQLite: BEGIN IMMEDIATE). A conversation is
            held back while DingTalk pauses it (410100, ``bot.gates``), while another send to it is in
            flight (one at a time per conversation, in order), and by its budget: ≤ ``per_group_per_minute``
            sends in any 60 s, and past ``burst`` sends in the window, one every 60/``per_group_per_minute``
            s — the replies arriving meanwhile wait for the next one and go together. The rows of a held
            conversation are put off until it frees, in one statement; other conversations go on.
            Several group replies due at once are merged into one digest (``bot.digest``).
            The claimed rows are leased: status ``sending`` until ``next_attempt_at`` = now + ``lease``.
    send    reply: sessionWebhook while it is valid, else the OpenAPI; digest: markdown the same way;
            group: groupMessages/send; oto: batchSend (text, markdown, or a file from the FileStore:
            media/upload, then a file message); download: fetch the bytes into the FileStore; drive:
            upload an archive to DingTalk Drive (``bot.drive``: three calls, progress saved on the row
            after each)
    mark    sent + sent_at (a download first runs ``on_download`` in a savepoint), or
            attempts/last_error/next_attempt_at (each row backs off on its own), or dead

The lease is derived from the HTTP timeout: a unit makes at most ``CALLS_PER_UNIT`` calls, each bounded
by the client's timeout and the shared pacer's wait, so a lease outlives any send in flight and a
dead sender's rows come back within ``lease`` (not minutes). The sender's client should not retry in
place (``attempts=1``): a failing row backs off on its own and never holds up another.

At least once: a row is marked sent right after its send, so a restarted sender (or another process)
never sends it again. DingTalk's robot sends take no idempotency key (groupMessages/send,
oToMessages/batchSend and the sessionWebhook have none, DINGTALK.md §5–§7), so two windows remain:
a send whose answer was lost (a timeout after DingTalk accepted it) is sent again after its backoff,
and a sender killed between a send and its mark leaves the row leased, sent again once ``lease`` ends.

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

from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from bot import digest as digests
from bot import drive, gates
from bot.openapi import WEBHOOK_THROTTLED, Deferred, DingTalkError, OpenApi
from storage.files import FileStore
from storage.ledger import canonical
from storage.models import OutboxMessage
from storage.types import utcnow

log = logging.getLogger("dingclass.outbox")

QUEUED, SENDING, SENT, DEAD = "queued", "sending", "sent", "dead"
REPLY, GROUP, OTO, DOWNLOAD, DRIVE = "reply", "group", "oto", "download", "drive"
SEND_KINDS = (REPLY, GROUP, OTO)  # what counts against a conversation's budget
GROUP_CONVERSATION, PRIVATE_CONVERSATION = "2", "1"
BUDGET_WINDOW = timedelta(seconds=60)
CALLS_PER_UNIT = 4  # most HTTP calls one unit makes: token, webhook, fallback send (or upload + send)
LEASE_MARGIN = timedelta(seconds=5)  # for the transactions around the calls
DRIVE_LEASE = timedelta(minutes=10)  # an archive's PUT moves up to hundreds of MB: no per-call bound
WEBHOOK_PAUSE = timedelta(minutes=10)  # 410100: DingTalk throttles the group for 10 minutes (DINGTALK.md §7)
YIELD_MAX, YIELD_STEP = 1.0, 0.02  # seconds a sender steps aside for a busy intake, at most; how often it looks
MAX_SKIPPED = 50  # conversations one claim looks past before it gives up
MAX_ERROR_CHARS = 2000
_SECRET_QUERY = re.compile(r"\b(session|access_token|ticket|Signature)=[^&\s'\")]+")

OnDownload = Callable[[Session, dict, str], None]


class PermanentError(Exception):
    """This row can never be delivered as it stands (no way to reach the user, a malformed body)."""


@dataclass(frozen=True)
class Claim:
    """Leased rows, read out of their transaction: one row, or the rows of a digest (``digest``)."""

    id: int
    kind: str
    dedupe_key: str
    conversation_id: str | None
    body: str
    ids: tuple[int, ...] = ()
    digest: digests.Digest | None = None
    webhooks: tuple[tuple[str, datetime | None], ...] = ()  # a digest's rows' (webhook, expiry)


class OutboxSender:
    """Delivers due outbox rows. One instance per thread; several threads or processes may run."""

    def __init__(self, session_factory: sessionmaker[Session], api: OpenApi, files: FileStore, *,
                 per_group_per_minute: int = 20, burst: int | None = None, max_attempts: int = 8,
                 clock: Callable[[], datetime] = utcnow, on_download: OnDownload | None = None,
                 robot_code: str | None = None, webhook_margin: timedelta = timedelta(minutes=1),
                 backoff: timedelta = timedelta(seconds=10), max_backoff: timedelta = timedelta(minutes=30),
                 rng: random.Random | None = None, sqlite_pause: float = 0.02, digest: bool = True,
                 in_flight_wait: float = 0.1, lease: timedelta | None = None) -> None:
        """``robot_code`` stands in for rows that carry none (default: the app key, as DingTalk does).
        A failed row waits ``backoff`` · 2^(attempts−1), capped at ``max_backoff``, jittered down to half.
        ``burst`` (default half the budget) sends go to a group at once; then one every
        60/``per_group_per_minute`` s. ``digest=False`` sends every reply alone (the old way).
        ``lease`` overrides the one derived from the client's timeout (a test whose clock runs faster
        than real time needs a longer one). On SQLite the sender leaves the write lock free for
        ``sqlite_pause`` s between rows: without
        it, a writer waiting in SQLite's busy handler would wait until the whole queue is drained."""
        self.factory = session_factory
        self.api = api
        self.files = files
        self.per_group_per_minute = per_group_per_minute
        self.burst = per_group_per_minute // 2 if burst is None else burst
        self.spacing = BUDGET_WINDOW / per_group_per_minute
        self.max_attempts = max_attempts
        self.clock = clock
        self.on_download = on_download
        self.robot_code = robot_code or api.app_key
        self.webhook_margin = webhook_margin
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.digest = digest
        self.in_flight_wait = in_flight_wait
        self._rng = rng or random.Random()
        pacer_wait = float(getattr(getattr(api, "pacer", None), "max_wait", 0.0) or 0.0)
        call = _timeout_seconds(getattr(api, "timeout", 10.0)) + pacer_wait
        self.lease = lease or timedelta(seconds=CALLS_PER_UNIT * call) + LEASE_MARGIN
        engine = getattr(session_factory, "kw", {}).get("bind")
        self._pause = sqlite_pause if engine is not None and engine.dialect.name == "sqlite" else 0.0

    # == loops ================================================================================
    def run_once(self, limit: int = 100) -> int:
        """Handle up to ``limit`` due units, oldest first (each in its own transactions); how many."""
        return self._run(limit, deadline=None)

    def run_forever(self, stop_event: threading.Event, idle_sleep: float = 0.2,
                    drain: threading.Event | None = None, busy: Callable[[], bool] | None = None) -> None:
        """Deliver until ``stop_event`` is set (checked between units); sleeps ``idle_sleep`` s when
        nothing is due. Once ``drain`` is set, returns as soon as nothing is due.

        ``busy`` (the bot's: messages wait for their commit) makes the sender step aside, for at most
        ``YIELD_MAX`` s at a time: in one interpreter a sender's claims and sends take the CPU the
        intake needs to ACK (issue 13), and the replies that wait meanwhile go out together in one
        digest (a group gets at most 20 messages a minute anyway)."""
        failures = 0
        yielding_since: float | None = None
        while not stop_event.is_set():
            if busy is not None and not (drain is not None and drain.is_set()) and busy():
                now = time.monotonic()
                yielding_since = now if yielding_since is None else yielding_since
                if now - yielding_since < YIELD_MAX:
                    stop_event.wait(YIELD_STEP)
                    continue
            yielding_since = None
            try:
                handled = self.run_once(limit=1)
                failures = 0
            except Exception:
                failures += 1
                log.exception("outbox: delivery loop failed (%d in a row)", failures)
                stop_event.wait(min(30.0, idle_sleep * 2 ** failures))
                continue
            if not handled:
                if drain is not None and drain.is_set():
                    return
                stop_event.wait(idle_sleep)

    def flush(self, timeout: float) -> int:
        """Deliver everything due now, for at most ``timeout`` s (a unit started before the end runs
        to its end); how many units were handled."""
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

    # == one unit =============================================================================
    def deliver_now(self, row_id: int) -> bool:
        """Deliver one row now, due or not (``dingclass archive --upload``), unless another sender holds
        its lease or it is done; False when it was not taken."""
        return self._handle_one(row_id)

    def _handle_one(self, row_id: int | None = None) -> bool:
        """Claim, deliver and mark the oldest due unit (or ``row_id``); False when none may go now."""
        claim = self._claim() if row_id is None else self._claim_row(row_id)
        if claim is None:
            return False
        now = self.clock()
        body: dict = {}
        try:
            if claim.digest is not None:
                channel, sha256 = self._deliver_digest(claim), None
            else:
                body = _parse_body(claim.body)
                channel, sha256 = self._deliver(claim, body)
        except Deferred as exc:
            with self.factory.begin() as s:
                for row_id in claim.ids:
                    self._put_off(s.get(OutboxMessage, row_id), now + timedelta(seconds=exc.seconds), str(exc))
            return True
        except Exception as exc:  # noqa: BLE001 - every failure is recorded on the rows
            with self.factory.begin() as s:
                for row in self._still_ours(s, claim):
                    self._failed(s, row, exc, now)
            return True
        with self.factory.begin() as s:
            rows = self._still_ours(s, claim)
            if not rows:
                return True
            if sha256 is not None and self.on_download is not None:
                try:
                    with s.begin_nested():  # what on_download wrote goes if it fails
                        self.on_download(s, body, sha256)
                except Exception as exc:  # noqa: BLE001
                    self._failed(s, rows[0], exc, now)
                    return True
            sent_at = self.clock()
            for row in rows:  # one send: the first row counts it, the others name it (sent_with)
                row.status, row.sent_at, row.last_error = SENT, sent_at, None
                row.sent_with = rows[0].id if row is not rows[0] else None
            log.info("outbox: %s %s delivered via %s (attempt %d%s)", rows[0].kind, rows[0].dedupe_key, channel,
                     rows[0].attempts + 1, f", digest of {len(rows)}" if len(rows) > 1 else "")
        return True

    def _still_ours(self, s: Session, claim: Claim) -> list[OutboxMessage]:
        """The claimed rows, locked, less those another sender finished meanwhile (its lease ran out
        while this one was slow): those are left as they are, and a download's hook is not run twice."""
        rows = s.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(claim.ids))
                         .order_by(OutboxMessage.id).with_for_update()).all()
        rows = sorted(rows, key=lambda r: claim.ids.index(r.id))
        return [r for r in rows if r.status not in (SENT, DEAD)]

    # == claim ================================================================================
    def _claim(self) -> Claim | None:
        """Lease the oldest due unit whose conversation may get a message now; None if there is none."""
        with self.factory.begin() as s:
            now = self._begun(s)
            skipped: set[str] = set()
            while len(skipped) <= MAX_SKIPPED:
                stmt = (select(OutboxMessage)
                        .where(OutboxMessage.status.in_((QUEUED, SENDING)), OutboxMessage.next_attempt_at <= now)
                        .order_by(OutboxMessage.id).limit(1)
                        .with_for_update(skip_locked=True))  # PostgreSQL; SQLite renders no FOR UPDATE
                if skipped:
                    stmt = stmt.where(OutboxMessage.conversation_id.is_(None)
                                      | OutboxMessage.conversation_id.not_in(skipped))
                row = s.scalars(stmt).first()
                if row is None:
                    return None
                if row.kind in SEND_KINDS and row.conversation_id:
                    free_at = self._held_until(s, row.conversation_id, now, row.id)
                    if free_at is not None:
                        skipped.add(row.conversation_id)
                        if free_at > now + timedelta(seconds=self.in_flight_wait):
                            self._put_off_conversation(s, row.conversation_id, now, free_at)
                        continue
                return self._lease(s, row, now)
            return None

    def _claim_row(self, row_id: int) -> Claim | None:
        """Lease ``row_id`` if it is queued (due or not) or its lease ran out."""
        with self.factory.begin() as s:
            now = self._begun(s)
            row = s.scalars(select(OutboxMessage).where(
                OutboxMessage.id == row_id, (OutboxMessage.status == QUEUED)
                | ((OutboxMessage.status == SENDING) & (OutboxMessage.next_attempt_at <= now)))
                .with_for_update(skip_locked=True)).first()
            return None if row is None else self._lease(s, row, now)

    def _begun(self, s: Session) -> datetime:
        """Begin the claim's transaction, then read the clock. On SQLite the BEGIN waits for the write
        lock: a lease counted from before that wait could end before it was taken, and another sender
        would send the row again while this one is still sending it."""
        s.connection()
        return self.clock()

    def _lease(self, s: Session, row: OutboxMessage, now: datetime) -> Claim:
        rows, digest, webhooks = [row], None, ()
        body = _loads(row.body)
        if self.digest and row.kind == REPLY and _digestible(body):
            others = s.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.conversation_id == row.conversation_id, OutboxMessage.kind == REPLY,
                       OutboxMessage.status.in_((QUEUED, SENDING)), OutboxMessage.next_attempt_at <= now,
                       OutboxMessage.id != row.id)
                .order_by(OutboxMessage.id).limit(digests.MAX_ROWS)
                .with_for_update(skip_locked=True)).all()
            bodies = {o.id: b for o in others if _digestible(b := _loads(o.body))}
            if bodies:
                lines = [digests.line_of(row.id, body)] + [digests.line_of(i, b) for i, b in bodies.items()]
                composed = digests.compose(lines)
                if len(composed.row_ids) > 1:
                    digest = composed
                    rows += [o for o in others if o.id in composed.row_ids and o.id != row.id]
                    webhooks = tuple((b["webhook"], _parse_time(b.get("webhook_expires")))
                                     for b in [body, *(bodies[o.id] for o in rows[1:])] if b.get("webhook"))
        until = now + (max(self.lease, DRIVE_LEASE) if row.kind == DRIVE else self.lease)
        for r in rows:
            r.status, r.next_attempt_at = SENDING, until
        return Claim(row.id, row.kind, row.dedupe_key, row.conversation_id, row.body,
                     tuple(r.id for r in rows), digest, webhooks)

    def _held_until(self, s: Session, conversation_id: str, now: datetime, row_id: int) -> datetime | None:
        """None if the conversation may get row ``row_id`` now; else when to look again: the end of
        DingTalk's pause, soon (a send to it is in flight, or an older due row of it is being claimed by
        another sender), or when its budget frees a slot."""
        if s.get_bind().dialect.name == "postgresql":
            # Serialise the check-then-claim per conversation across processes (a transaction lock). A
            # conversation another sender is checking right now is left to it: never waiting for the
            # lock, two claims that each hold one conversation cannot deadlock over the other.
            if not s.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": _lock_key(conversation_id)}):
                return now + timedelta(seconds=self.in_flight_wait)
        paused = gates.paused_until(s, conversation_id, now)
        if paused is not None:
            return paused
        # SKIP LOCKED passed over an older due row another sender has locked in its claim: sending this
        # one first would reorder the conversation, so it waits for that claim (in order, one at a time).
        older_due = s.scalar(select(OutboxMessage.id).where(
            OutboxMessage.conversation_id == conversation_id, OutboxMessage.kind.in_(SEND_KINDS),
            OutboxMessage.status.in_((QUEUED, SENDING)), OutboxMessage.next_attempt_at <= now,
            OutboxMessage.id < row_id).limit(1))
        if older_due is not None:
            return now + timedelta(seconds=self.in_flight_wait)
        # One statement, so one snapshot: a row another sender marks sent meanwhile is counted once.
        is_sent = (OutboxMessage.status == SENT) & (OutboxMessage.sent_at > now - BUDGET_WINDOW)
        is_sending = (OutboxMessage.status == SENDING) & (OutboxMessage.next_attempt_at > now)
        # A digest is one send: its other rows carry sent_with (and its sent_at).
        is_send = is_sent & OutboxMessage.sent_with.is_(None)
        sent, sending, oldest, newest = s.execute(
            select(func.count().filter(is_send), func.count().filter(is_sending),
                   func.min(OutboxMessage.sent_at).filter(is_sent), func.max(OutboxMessage.sent_at).filter(is_sent))
            .where(OutboxMessage.conversation_id == conversation_id, OutboxMessage.kind.in_(SEND_KINDS),
                   OutboxMessage.status.in_((SENT, SENDING)), is_sent | is_sending)
        ).one()
        if sending:
            return now + timedelta(seconds=self.in_flight_wait)
        if sent >= self.per_group_per_minute:
            return oldest + BUDGET_WINDOW
        if sent >= self.burst and newest + self.spacing > now:
            return newest + self.spacing
        return None

    def _put_off_conversation(self, s: Session, conversation_id: str, now: datetime, until: datetime) -> None:
        """Every due send to the conversation waits until ``until`` (rows another sender holds are left)."""
        due = (select(OutboxMessage.id)
               .where(OutboxMessage.conversation_id == conversation_id, OutboxMessage.kind.in_(SEND_KINDS),
                      OutboxMessage.status.in_((QUEUED, SENDING)), OutboxMessage.next_attempt_at <= now)
               .with_for_update(skip_locked=True))
        s.execute(update(OutboxMessage).where(OutboxMessage.id.in_(due))
                  .values(status=QUEUED, next_attempt_at=until).execution_options(synchronize_session=False))
        log.debug("outbox: %s held until %s", conversation_id, until.isoformat())

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

    def _deliver_reply(self, row: Claim, body: dict, robot_code: str) -> str:
        text_ = _need(body.get("text"), "text")
        if self.digest and _digestible(body) and not _mentions_sender(body) and body["name"] not in text_:
            text_ = f"{body['name']}：{text_}"  # a group reply says whose it is (issue 15)
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

    def _save_progress(self, row_id: int, body: dict, progress: dict) -> None:
        """A resumable row's progress, saved after each step (its own short transaction)."""
        body["progress"] = progress
        with self.factory.begin() as s:
            s.get(OutboxMessage, row_id).body = canonical(body)

    def _deliver_digest(self, claim: Claim) -> str:
        """A digest: markdown through the group's sessionWebhook living longest (with @), else
        groupMessages/send (which cannot @: the text without mentions)."""
        digest = claim.digest
        robot_code = self.robot_code
        usable = [(url, expires) for url, expires in claim.webhooks if self.api.webhook_allowed(url)]
        usable = [(url, expires) for url, expires in usable
                  if expires is not None and self.clock() < expires - self.webhook_margin]
        if usable:
            webhook = max(usable, key=lambda pair: pair[1])[0]
            try:
                self.api.reply_webhook_markdown(webhook, digest.title, digest.text, digest.at_user_ids)
                return "sessionWebhook"
            except DingTalkError as exc:
                if not exc.session_expired:
                    raise
                log.info("outbox: %s: sessionWebhook expired early, using the OpenAPI", claim.dedupe_key)
        self.api.send_markdown_group(robot_code, _need(claim.conversation_id, "conversation_id"),
                                     digest.title, digest.plain)
        return "groupMessages/send"

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
    def _failed(self, s: Session, row: OutboxMessage, exc: Exception, now: datetime) -> None:
        row.last_error = _error_text(exc)[:MAX_ERROR_CHARS]
        if isinstance(exc, DingTalkError) and exc.webhook and exc.code == WEBHOOK_THROTTLED and row.conversation_id:
            # 410100: DingTalk pauses the group for 10 minutes; every process leaves it alone till then
            until = now + WEBHOOK_PAUSE
            gates.pause(s, row.conversation_id, until, f"410100 at {now.isoformat()}")
            self._put_off(row, until, row.last_error)
            log.warning("outbox: %s: DingTalk throttles the group (410100); paused until %s", row.dedupe_key,
                        until.isoformat())
            return
        row.attempts += 1
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
        row.next_attempt_at = self._before_webhook_expires(row, now, now + delay)
        log.warning("outbox: %s %s failed (attempt %d of %d), next try in %.0f s: %s", row.kind, row.dedupe_key,
                    row.attempts, self.max_attempts, (row.next_attempt_at - now).total_seconds(), row.last_error,
                    exc_info=not isinstance(exc, (DingTalkError, PermanentError, OSError)))

    def _put_off(self, row: OutboxMessage, until: datetime, why: str) -> None:
        """Not tried (a budget, a pause): back in the queue until ``until``, no attempt counted."""
        row.status, row.next_attempt_at, row.last_error = QUEUED, until, why[:MAX_ERROR_CHARS]

    def _before_webhook_expires(self, row: OutboxMessage, now: datetime, planned: datetime) -> datetime:
        """A 1:1 reply to someone outside the organisation can only go through its sessionWebhook:
        its next try comes before the webhook expires, whatever the backoff says."""
        if row.kind != REPLY:
            return planned
        body = _loads(row.body)
        expires = _parse_time(body.get("webhook_expires"))
        if body.get("conversation_type") == GROUP_CONVERSATION or body.get("staff_user_id") or expires is None:
            return planned
        last_chance = expires - self.webhook_margin - timedelta(seconds=5)
        return max(now + timedelta(seconds=1), min(planned, last_chance))

    def _delay(self, attempts: int) -> timedelta:
        full = min(self.max_backoff, self.backoff * 2 ** (attempts - 1))
        return full * self._rng.uniform(0.5, 1.0)


def _timeout_seconds(timeout: Any) -> float:
    """The longest a call may wait, from a requests timeout (seconds, or (connect, read))."""
    if isinstance(timeout, (tuple, list)):
        return float(sum(t for t in timeout if t))
    return float(timeout or 0)


def _loads(text_: str) -> dict:
    try:
        body = json.loads(text_)
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _mentions_sender(body: dict) -> bool:
    staff = body.get("staff_user_id")
    return bool(staff) and staff in (body.get("at_user_ids") or ())


def _digestible(body: dict) -> bool:
    """A reply to a person in a group (named): it may go in a digest. Announcements carry no name."""
    return body.get("conversation_type") == GROUP_CONVERSATION and bool(body.get("name")) and bool(body.get("text"))


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
