"""The bot process: the SDK stream, the units of work, and the outbox sender, with a clean stop.

``stop()`` (on SIGTERM, see ``bot.cli.run``) stops taking messages (closes the stream), finishes the
units in flight and flushes the outbox.
"""

from __future__ import annotations

import logging
import threading

from sqlalchemy.orm import Session, sessionmaker

from bot.openapi import OpenApi
from bot.outbox import OutboxSender
from bot.settings import Settings
from bot.stream import MessageHandler, StreamThread, make_client
from handlers import classes, hours
from handlers.commands import build_registry
from handlers.dispatch import Dispatcher
from handlers.messages import Incoming, MessageEvent
from storage.files import FileStore

log = logging.getLogger("dingclass.bot")


class BotService:
    def __init__(self, settings: Settings, factory: sessionmaker[Session], *, send: bool = True,
                 sender_options: dict | None = None) -> None:
        client_id, secret = settings.require_dingtalk()
        self.settings = settings
        self.factory = factory
        self.handler = MessageHandler(self.unit)
        self.stream = StreamThread(make_client(client_id, secret, self.handler))
        self.api = OpenApi(settings.openapi_endpoint, client_id, secret)
        self.files = FileStore(settings.data_dir / "files")
        self.dispatcher = Dispatcher(build_registry(), tz=settings.timezone, files=self.files)
        options = {"on_download": self.dispatcher.download_finished, **(sender_options or {})}
        self.sender = OutboxSender(factory, self.api, self.files, robot_code=settings.robot_code, **options)
        self.send = send
        self._stop = threading.Event()
        self._stopped = False
        self._sender_thread = threading.Thread(target=self.sender.run_forever, args=(self._stop,),
                                               name="dingclass-outbox", daemon=True)

    def unit(self, incoming: Incoming) -> None:
        """One message: stored, handled, replies queued — one transaction, committed before the ACK.
        (A finished download goes to ``dispatcher.download_finished`` in the download row's transaction.)"""
        with self.factory.begin() as s:
            self.dispatcher.dispatch(s, MessageEvent(incoming))

    def start(self) -> BotService:
        if self.send:
            self._sender_thread.start()
        self.stream.start()
        log.info("bot started")
        return self

    def stop(self, flush_timeout: float = 30.0) -> None:
        """Stop taking messages, finish the units in flight, flush the outbox (idempotent)."""
        if self._stopped:
            return
        self._stopped = True
        self.stream.stop()
        self.handler.shutdown()
        self._stop.set()
        if self.send:
            self._sender_thread.join()
            self.sender.flush(flush_timeout)
        self.api.close()
        log.info("bot stopped")


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
