"""The simulated Stream gateway: a websocket server on its own asyncio loop in a thread.

It checks the single-use ticket during the opening handshake, hands each open connection to the
simulator, feeds it the frames the simulator pushes (from any thread) and reports what the client
sends back (ACKs). Faults: `abort()` drops the TCP connection without a close frame;
`close_later()` closes it after the grace DingTalk gives a client told to disconnect.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from http import HTTPStatus
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request

from .model import RequestRecord, StreamConnection

if TYPE_CHECKING:
    from .core import DingTalkSimulator

log = logging.getLogger(__name__)


class StreamServer:
    def __init__(self, sim: DingTalkSimulator, host: str, port: int) -> None:
        self._sim = sim
        self._host = host
        self._port = port
        self.port: int | None = None
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="dingtalk-sim-stream", daemon=True)
        self._started = threading.Event()
        self._stop: asyncio.Event | None = None
        self._tasks: set[asyncio.Task] = set()
        self._error: BaseException | None = None

    # -- lifecycle (called from the simulator's thread) --------------------------------------
    def start(self) -> None:
        self._thread.start()
        self._started.wait(10)
        if self._error is not None:
            raise self._error
        if self.port is None:
            raise RuntimeError("the simulated stream gateway did not start")

    def close(self, timeout: float = 10.0) -> None:
        if self._thread.is_alive() and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread.ident is not None:
            self._thread.join(timeout)

    # -- operations on one connection (thread-safe, blocking) --------------------------------
    def send(self, conn: StreamConnection, text: str, timeout: float = 5.0) -> None:
        """Write one frame; raises ConnectionClosed if the connection is gone."""
        asyncio.run_coroutine_threadsafe(conn.ws.send(text), self._loop).result(timeout)

    def abort(self, conn: StreamConnection, timeout: float = 5.0) -> None:
        """Cut the TCP connection: no close frame, the client sees an abnormal closure (1006)."""

        async def _abort() -> None:
            conn.ws.transport.abort()
            await conn.ws.wait_closed()

        asyncio.run_coroutine_threadsafe(_abort(), self._loop).result(timeout)

    def close_later(self, conn: StreamConnection, delay: float) -> None:
        """Close the connection after `delay` seconds unless the client has closed it already."""

        async def _close() -> None:
            await asyncio.sleep(delay)
            await conn.ws.close(1000, "connection is expired")

        def _schedule() -> None:
            task = self._loop.create_task(_close())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

        self._loop.call_soon_threadsafe(_schedule)

    # -- the loop thread ---------------------------------------------------------------------
    def _run(self) -> None:
        try:
            self._loop.run_until_complete(self._main())
        except BaseException as exc:  # reported to start(); never escapes the thread
            self._error = exc
            self._started.set()
        finally:
            self._loop.run_until_complete(self._loop.shutdown_asyncgens())
            self._loop.close()

    async def _main(self) -> None:
        self._stop = asyncio.Event()
        async with serve(self._handler, self._host, self._port, process_request=self._check_ticket,
                         logger=log) as server:
            self.port = server.sockets[0].getsockname()[1]
            self._started.set()
            await self._stop.wait()
            server.close()
            await server.wait_closed()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def _check_ticket(self, connection: ServerConnection, request: Request):
        parts = urlsplit(request.path)
        ticket = parse_qs(parts.query).get("ticket", [""])[0]
        record = RequestRecord(method="WEBSOCKET", path=parts.path,
                               query={k: v[0] for k, v in parse_qs(parts.query).items()},
                               headers={k.lower(): v for k, v in request.headers.raw_items()}, body=b"", time=time.time())
        if parts.path != "/connect":
            status, text = HTTPStatus.NOT_FOUND, "not found\n"
        else:
            claimed, problem = self._sim._claim_ticket(ticket)
            connection.sim_ticket = claimed  # read back by the simulator in _connection_opened
            status, text = (HTTPStatus.SWITCHING_PROTOCOLS, "") if problem is None else (
                HTTPStatus.UNAUTHORIZED, problem + "\n")
        record.status = int(status)
        record.response = text.encode()
        self._sim._log_request(record)
        if status != HTTPStatus.SWITCHING_PROTOCOLS:
            return connection.respond(status, text)
        return None

    async def _handler(self, ws: ServerConnection) -> None:
        conn = self._sim._connection_opened(ws)
        reason = "closed by client"
        try:
            async for raw in ws:
                self._sim._client_frame(conn, raw)
        except ConnectionClosed:
            reason = "connection lost"
        finally:
            self._sim._connection_closed(conn, reason)
