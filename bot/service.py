"""The bot process: the SDK stream, the units of work, and the outbox sender, with a clean stop.

On SIGTERM it stops taking messages (closes the stream), finishes the units in flight, flushes the
outbox, and returns 0.
"""

from __future__ import annotations

import logging
import signal
import threading

from sqlalchemy.orm import Session, sessionmaker

from bot.openapi import OpenApi
from bot.outbox import OutboxSender
from bot.settings import Settings
from bot.stream import MessageHandler, StreamThread, make_client
from handlers import dispatch
from handlers.messages import Incoming
from storage.db import uow
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
        self.sender = OutboxSender(factory, self.api, FileStore(settings.data_dir / "files"),
                                   robot_code=settings.robot_code, **(sender_options or {}))
        self.send = send
        self._stop = threading.Event()
        self._stopped = False
        self._sender_thread = threading.Thread(target=self.sender.run_forever, args=(self._stop,),
                                               name="dingclass-outbox", daemon=True)

    def unit(self, incoming: Incoming) -> None:
        """One message: stored, handled, replies queued — one transaction, committed before the ACK."""
        with uow(self.factory) as s:
            dispatch.receive(s, incoming, incoming.created_at, self.settings.timezone)

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

    def run_until_signal(self) -> int:
        stopping = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stopping.set())
        self.start()
        stopping.wait()
        self.stop()
        return 0
