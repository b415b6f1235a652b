"""The bot process: the SDK stream, the units of work, and the outbox senders, with a clean start and stop.

``start()`` gets an access token and opens the Stream connection before it returns (the CLI says
"已连接" only then); a wrong secret or an unreachable endpoint raises ``StartupError`` with one Chinese
line. ``stop()`` (on SIGTERM, see ``bot.cli.run``) stops taking messages (closes the stream), finishes
the units in flight, lets the senders deliver what is due within ``settings.stop_seconds`` and leaves
the rest queued for the next start; it returns how many rows are left, and never takes much longer
than its budget (a sender stuck in a call is left behind: its row's lease runs out and it is sent
again after the restart).
"""

from __future__ import annotations

import functools
import gc
import logging
import threading
import time

import requests
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot import texts
from bot.gates import SharedPacer
from bot.intake import GroupCommitter
from bot.openapi import DingTalkError, OpenApi
from bot.outbox import DEAD, SENT, OutboxSender
from bot.settings import Settings
from bot.stream import MessageHandler, StreamThread, make_client
from handlers import classes, dispatch, hours
from handlers.commands import build_registry
from handlers.dispatch import Dispatcher
from handlers.errors import Refusal
from handlers.messages import Incoming, MessageEvent
from storage.files import FileStore
from storage.models import OutboxMessage

log = logging.getLogger("dingclass.bot")
CONNECT_TIMEOUT = 30.0  # seconds to get the Stream connection open at start-up
STREAM_STOP_TIMEOUT = 5.0


@functools.cache
def _freeze_startup_heap() -> None:
    """Once per process, when the bot has started: collect, then move every object alive (the imported
    modules, the mapped classes, SQLAlchemy's compiled statements…) out of the garbage collector's reach
    (``gc.freeze``). Issue 13: a full collection walked all of them with the GIL held — 110 ms on one
    sender thread in the middle of a 300-message burst (bench_stream), every thread of the bot stopped —
    and a bot's full collections now walk only what it allocated since it started. Nothing frozen is
    garbage: it was alive after a collection, and the modules and classes stay alive for good."""
    gc.collect()
    gc.freeze()


class StartupError(Refusal):
    """The bot cannot start; ``str()`` is one Chinese line saying why."""


class BotService:
    def __init__(self, settings: Settings, factory: sessionmaker[Session], *, send: bool = True,
                 sender_options: dict | None = None, threads: int | None = None) -> None:
        client_id, secret = settings.require_dingtalk()
        self.settings = settings
        self.factory = factory
        self.committer: GroupCommitter[Incoming] = GroupCommitter(factory, self.unit, prepare=dispatch.prepare)
        self.handler = MessageHandler(self.committer)
        self.client = make_client(client_id, secret, self.handler)
        self.stream = StreamThread(self.client)
        # No retries in place: a failing row backs off on its own; every call has the send timeout.
        self.api = OpenApi(settings.openapi_endpoint, client_id, secret, timeout=settings.send_timeout,
                           attempts=1, pacer=SharedPacer(factory))
        self.files = FileStore(settings.data_dir / "files")
        self.dispatcher = Dispatcher(build_registry(), tz=settings.timezone, files=self.files, optimistic=True)
        options = {"on_download": self.dispatcher.download_finished, **(sender_options or {})}
        self.senders = [OutboxSender(factory, self.api, self.files, robot_code=settings.robot_code, **options)
                        for _ in range(threads or settings.send_threads)]
        self.send = send
        self._stop = threading.Event()
        self._drain = threading.Event()
        self._stopped = False
        self.left: int | None = None
        self._sender_threads = [threading.Thread(target=sender.run_forever, args=(self._stop,),
                                                 kwargs={"drain": self._drain, "busy": self._intake_busy}, name=f"dingclass-outbox-{n}",
                                                 daemon=True)
                                for n, sender in enumerate(self.senders)]

    def _intake_busy(self) -> bool:
        """Messages wait for their commit (and their ACK): the senders step aside (``OutboxSender.run_forever``)."""
        return self.committer.in_flight > 0

    def unit(self, s: Session, incoming: Incoming) -> None:
        """One message: stored, handled, replies queued — in the committer's transaction (with the
        messages that arrived with it), committed before the ACK. (A finished download goes to
        ``dispatcher.download_finished`` in the download row's transaction.)"""
        self.dispatcher.dispatch(s, MessageEvent(incoming))

    def start(self, connect_timeout: float = CONNECT_TIMEOUT) -> BotService:
        """Token, then the Stream connection, then the senders; ``StartupError`` when DingTalk says no."""
        self._check_token()
        self.stream.start()
        deadline = time.monotonic() + connect_timeout
        while not self.client.connected.wait(0.05):
            if self.client.open_error is not None or time.monotonic() > deadline:
                reason = self.client.open_error or f"{connect_timeout:.0f} 秒内没有连上"
                self._stop_stream()
                self.api.close()
                raise StartupError(texts.BOT_STREAM_FAILED.format(reason=reason))
        if self.send:
            for thread in self._sender_threads:
                thread.start()
        _freeze_startup_heap()
        log.info("bot started: stream connected, %d sender thread(s)", len(self._sender_threads) if self.send else 0)
        return self

    def _check_token(self) -> None:
        try:
            self.api.access_token()
        except DingTalkError as exc:
            self._abandon()
            if exc.code == "invalidClientIdOrSecret" or exc.status in (401, 403):
                raise StartupError(texts.BOT_BAD_CREDENTIALS.format(code=exc.code)) from None
            raise StartupError(texts.BOT_TOKEN_REFUSED.format(status=exc.status, code=exc.code)) from None
        except requests.RequestException as exc:
            self._abandon()
            raise StartupError(texts.BOT_UNREACHABLE.format(endpoint=self.settings.openapi_endpoint,
                                                            reason=type(exc).__name__)) from None

    def _abandon(self) -> None:
        """Not starting: close the client and the stream's event loop, which never ran (left to the
        garbage collector at exit, the loop's finaliser may print a traceback)."""
        self.api.close()
        self.stream.loop.close()
        self.committer.shutdown()

    def stop(self, flush_timeout: float | None = None) -> int:
        """Stop taking messages, finish the units in flight, send what is due, all within ``flush_timeout``
        seconds (default ``settings.stop_seconds``); how many rows are left queued (idempotent)."""
        if self._stopped:
            return self.left or 0
        self._stopped = True
        deadline = time.monotonic() + (self.settings.stop_seconds if flush_timeout is None else flush_timeout)
        self._stop_stream()
        self.handler.shutdown()
        if self.send and any(t.is_alive() for t in self._sender_threads):
            # Drain: the senders go on until nothing is due; a unit may take up to the lease to end.
            self._drain.set()
            reserve = min(self.senders[0].lease.total_seconds(), max(0.0, deadline - time.monotonic()) / 2)
            for thread in self._sender_threads:
                thread.join(max(0.0, deadline - reserve - time.monotonic()))
            self._stop.set()
            for thread in self._sender_threads:
                thread.join(max(0.0, deadline - time.monotonic()))
            stuck = sum(t.is_alive() for t in self._sender_threads)
            if stuck:
                log.warning("%d sender(s) still in a call at the end of the stop budget: left behind", stuck)
        self._stop.set()
        self.api.close()
        self.left = self.unsent()
        log.info("bot stopped; %d outbox row(s) left for the next start", self.left)
        return self.left

    def unsent(self) -> int:
        """Outbox rows not yet delivered (nor given up on)."""
        with self.factory() as s:
            return s.scalar(select(func.count()).select_from(OutboxMessage)
                            .where(OutboxMessage.status.not_in((SENT, DEAD)))) or 0

    def _stop_stream(self) -> None:
        try:
            self.stream.stop(STREAM_STOP_TIMEOUT)
        except RuntimeError:
            log.warning("the DingTalk stream thread did not stop in %.0f s; left behind", STREAM_STOP_TIMEOUT)


def pull_live_minutes(factory: sessionmaker[Session], api: OpenApi, code: str, union_id: str, *,
                      actor: str, tz) -> hours.Pulled:
    """R09: the viewing statistics of the class's lives (``live_ids``) from ``watchUsers`` → study minutes.

    The calls run outside any transaction; the rows are written in one unit of work. For a scheduler
    job or a command; ``union_id`` is the unionId DingTalk asks for (the lives' anchor's, or an admin's).
    """
    with factory.begin() as s:
        lives = hours.live_days(classes.get_class(s, code))
    fetched = {live_id: (day, [hours.Viewer(v.user_id, v.name, v.live_ms, v.replay_ms, v.first_watch_ms)
                               for v in api.watch_users(live_id, union_id)])
               for live_id, day in lives}
    with factory.begin() as s:
        return hours.record_live(s, classes.get_class(s, code), fetched, actor=actor, tz=tz)
