"""Serving the admin with waitress (not Flask's development server) on ``settings.admin_port``.

``dingclass run`` and ``dingclass demo`` start an ``AdminServer``, which is stoppable from another thread
(the bot's signal handling, tests).
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from sqlalchemy.orm import Session, sessionmaker
from waitress.server import create_server

from admin import create_app

log = logging.getLogger(__name__)


class AdminServer:
    """The admin on ``host:port`` (port 0: a free one) in waitress; ``start()`` runs it in a thread.
    The host is ``settings.admin_host`` (DINGCLASS_ADMIN_HOST, default 127.0.0.1: this machine only)
    unless given."""

    def __init__(self, settings: Any, factory: sessionmaker[Session] | None = None, *, host: str | None = None,
                 port: int | None = None, config: dict[str, Any] | None = None, threads: int = 8) -> None:
        options = {"SETTINGS": settings, **(config or {})}
        if factory is not None:
            options["SESSION_FACTORY"] = factory
        self.app = create_app(options)
        host = host or getattr(settings, "admin_host", None) or "127.0.0.1"
        self.server = create_server(self.app, host=host, port=settings.admin_port if port is None else port,
                                    threads=threads, ident="dingclass")
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self.server.effective_port

    @property
    def url(self) -> str:
        host = self.server.effective_host
        return f"http://{'127.0.0.1' if host in ('0.0.0.0', '') else host}:{self.port}"

    def run(self) -> None:
        log.info("admin listening on %s", self.url)
        self.server.run()

    def start(self) -> AdminServer:
        self._thread = threading.Thread(target=self.run, name="admin-http", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Finish the requests in hand, then close the listener and every open connection in the server's
        own thread (a keep-alive connection left open would keep its loop, and its socket, alive)."""
        self.server.task_dispatcher.shutdown(timeout=timeout / 2)

        def close_all() -> None:
            for dispatcher in list(self.server._map.values()):
                if dispatcher is not self.server and dispatcher is not self.server.trigger:
                    dispatcher.close()
            self.server.close()  # the listener and the trigger: the loop's map is empty, run() returns

        if self._thread is not None and self._thread.is_alive():
            self.server.trigger.pull_trigger(close_all)
            self._thread.join(timeout)
        else:
            close_all()
