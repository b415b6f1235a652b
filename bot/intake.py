"""Group commit: units of work that arrive together are committed together, each ACKed after its commit.

The SDK's callbacks hand each message to one ``GroupCommitter`` (``submit`` → a future). Its thread
takes every unit waiting (up to ``max_batch``), runs them one after the other in one transaction,
commits once, and only then resolves each unit's future: the callback returns and the SDK sends the
ACK. While a batch commits the next one gathers, so under load batches grow and the database does one
COMMIT, and one ledger-head update per chain touched, for many messages; at low load a batch is one
message and waits for nobody (there is no timer).

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
from collections.abc import Callable
from concurrent.futures import Future
from typing import Generic, TypeVar

from sqlalchemy.orm import Session, sessionmaker

from handlers.errors import RunAlone

log = logging.getLogger("dingclass.intake")
T = TypeVar("T")
MAX_BATCH = 50  # units in one transaction: bounds the wait of a batch's first unit for its last one
THREADS = 2  # committers on PostgreSQL: a batch's statements wait on the server while the other's run. Not more:
# they share one GIL, and more threads split a burst into smaller batches, each with its own transaction
# (bench_stream, one interpreter: 4 threads 296-300 msg/s at 2.5 messages a commit, 2 threads 384-385 at 9-12)


class GroupCommitter(Generic[T]):
    """``work(session, item)`` for each submitted item, batched into transactions by one thread.
    ``prepare(session, items)``, if given, runs first in the transaction of a batch of two units or more:
    to read or write at once what each unit would for itself (``handlers.dispatch.prepare``)."""

    def __init__(self, factory: sessionmaker[Session], work: Callable[[Session, T], None], *,
                 max_batch: int = MAX_BATCH, threads: int | None = None, name: str = "dingclass-commit",
                 prepare: Callable[[Session, list[T]], None] | None = None) -> None:
        self.factory = factory
        self.work = work
        self.prepare = prepare
        self.max_batch = max_batch
        self.committed = self.transactions = 0  # units committed, in how many transactions (benchmarks)
        self._in_flight = 0  # units submitted whose transaction has not ended
        self._queue: queue.SimpleQueue[tuple[T, Future] | None] = queue.SimpleQueue()
        if threads is None:
            threads = 1 if factory.kw["bind"].dialect.name == "sqlite" else THREADS
        self._threads = [threading.Thread(target=self._run, name=f"{name}-{n}", daemon=True) for n in range(threads)]
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
                for thread in self._threads:
                    thread.start()
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
        """Commit what was submitted, then stop the threads (idempotent)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if not self._started:
                return
            for _ in self._threads:
                self._queue.put(None)  # one each: a thread that meets one ends after its batch
        for thread in self._threads:
            thread.join()

    def _run(self) -> None:
        stopping = False
        while not stopping:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < self.max_batch:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stopping = True
                    break
                batch.append(more)
            for _, future in batch:  # from here on the caller cannot cancel it: it is committed or fails
                future.set_running_or_notify_cancel()
            self._commit(batch)

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
