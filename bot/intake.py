"""Group commit: units of work that arrive together are committed together, each ACKed after its commit.

The SDK's callbacks hand each message to one ``GroupCommitter`` (``submit`` → a future). Its thread
takes every unit waiting (up to ``max_batch``), runs them one after the other in one transaction,
commits once, and only then resolves each unit's future: the callback returns and the SDK sends the
ACK. While a batch commits the next one gathers, so under load batches grow and the database does one
COMMIT, and one ledger-head update per chain touched, for many messages. A batch that found several units
waiting — a burst — waits ``LINGER`` (5 ms) more for those still coming; at low load a batch is one message
and waits for nobody.

A unit that raises spoils its batch's transaction (PostgreSQL refuses every statement after an
error), so the batch is rolled back and each of its units runs again in a transaction of its own: the
failing one fails alone (its caller stores it raw, see ``bot.stream``) and the others commit — the
common path needs no savepoint per unit. A unit may raise ``RunAlone`` (``handlers.errors``) to be run
again that way even when it is alone in its batch. Nothing is ACKed before its commit: should the process die
before a batch's commit, none of its messages is ACKed, nothing of them is stored, and a redelivered
copy is handled as new; a copy of a committed message is a duplicate ``msgId`` and does nothing
(``handlers.dispatch``). One committer per process is the one writer of the bot's messages: on SQLite
its ``BEGIN IMMEDIATE`` is taken once per batch.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Generic, TypeVar

from sqlalchemy.orm import Session, sessionmaker

from handlers.errors import RunAlone

log = logging.getLogger("dingclass.intake")
T = TypeVar("T")
MAX_BATCH = 50  # units in one transaction: bounds the wait of a batch's first unit for its last one
LINGER = 0.005  # seconds a batch that found several units waiting (a burst) waits for more: fewer, larger
# transactions; a lone unit waits for nobody
# One committer thread, on PostgreSQL too: a transaction costs the GIL more than its messages do (issue 13,
# bench_checkin_cpu: 2.5 ms CPU a 签到 alone, 0.97 at 8 a transaction, 0.59 at 50), and a second thread splits
# a burst into smaller batches (bench_stream, one interpreter, 300 at once: one thread 507-509 msg/s at 33
# messages a commit, two 381-517 at 7-10, four 296-300 at 2.5).


class GroupCommitter(Generic[T]):
    """``work(session, item)`` for each submitted item, batched into transactions by one thread.
    ``prepare(session, items)``, if given, runs first in the transaction of a batch of two units or more:
    to read or write at once what each unit would for itself (``handlers.dispatch.prepare``)."""

    def __init__(self, factory: sessionmaker[Session], work: Callable[[Session, T], None], *,
                 max_batch: int = MAX_BATCH, name: str = "dingclass-commit",
                 prepare: Callable[[Session, list[T]], None] | None = None) -> None:
        self.factory = factory
        self.work = work
        self.prepare = prepare
        self.max_batch = max_batch
        self.committed = self.transactions = 0  # units committed, in how many transactions (benchmarks)
        self._in_flight = 0  # units submitted whose transaction has not ended
        self._queue: queue.SimpleQueue[tuple[T, Future] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._lock = threading.Lock()
        self._started = self._closed = False

    def submit(self, item: T) -> Future:
        """Queue one unit; the future resolves (None, or the unit's exception) after its transaction ends."""
        future: Future = Future()
        with self._lock:
            if self._closed:
                raise RuntimeError("the committer is shut down")
            if not self._started:
                self._started = True
                self._thread.start()
            self._in_flight += 1
            self._queue.put((item, future))
        return future

    @property
    def queued(self) -> int:
        """Units submitted and not yet taken into a batch."""
        return self._queue.qsize()

    @property
    def in_flight(self) -> int:
        """Units submitted whose transaction has not ended yet (queued or in a batch)."""
        return self._in_flight

    def shutdown(self) -> None:
        """Commit what was submitted, then stop the thread (idempotent)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if not self._started:
                return
            self._queue.put(None)  # the thread ends after the batch it is in
        self._thread.join()

    def _run(self) -> None:
        stopping = False
        while not stopping:
            batch, stopping = self._gather()
            if not batch:
                return
            for _, future in batch:  # from here on the caller cannot cancel it: it is committed or fails
                future.set_running_or_notify_cancel()
            self._commit(batch)

    def _gather(self) -> tuple[list[tuple[T, Future]], bool]:
        """The next batch: the first unit to come, every unit waiting behind it, and — when several were
        waiting (a burst) — those that come within ``LINGER`` s more, up to ``max_batch``; True once a
        stop word was met."""
        first = self._queue.get()
        if first is None:
            return [], True
        batch = [first]
        deadline = None
        while len(batch) < self.max_batch:
            try:
                if deadline is None:
                    more = self._queue.get_nowait()
                else:
                    more = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                if deadline is not None or len(batch) == 1:
                    break
                deadline = time.monotonic() + LINGER  # a burst: let it gather a little more
                continue
            if more is None:
                return batch, True
            batch.append(more)
        return batch, False

    def _commit(self, batch: list[tuple[T, Future]], again: bool = False) -> None:
        try:
            with self.factory.begin() as s:
                if self.prepare is not None and len(batch) > 1:
                    self.prepare(s, [item for item, _ in batch])
                for item, _ in batch:
                    self.work(s, item)
        except Exception as exc:
            if len(batch) == 1 and isinstance(exc, RunAlone) and not again:
                self._commit(batch, again=True)  # the unit asked to run again in a transaction of its own
                return
            if len(batch) == 1:
                with self._lock:
                    self._in_flight -= 1
                _resolve(batch[0][1], exc)
                return
            (log.info if isinstance(exc, RunAlone) else log.warning)(
                "a unit failed in a batch of %d (%s); each runs again alone", len(batch), type(exc).__name__)
            for one in batch:
                self._commit([one])
            return
        with self._lock:
            self.committed += len(batch)
            self.transactions += 1
            self._in_flight -= len(batch)
        for _, future in batch:
            _resolve(future, None)


def _resolve(future: Future, exc: Exception | None) -> None:
    """Tell the caller; one that was cancelled before its batch began (its stream stopped while the
    unit waited) is not waiting: its unit ran all the same, as every unit taken in does."""
    if future.cancelled():
        return
    if exc is None:
        future.set_result(None)
    else:
        future.set_exception(exc)
