"""Send gates shared by every bot process through the database (table ``send_gates``).

- ``SharedPacer``: DingTalk allows about 20 calls a second per app and API (DINGTALK.md §5); several
  bot processes use one app, so the budget is kept in one row per API path (``api:<path>``): a call
  reserves the next free slot (``open_at``, then pushes it 1/20 s on) in a short transaction and
  sleeps until it. A slot further away than ``max_wait`` is not reserved: the call raises
  ``Deferred`` and the outbox row comes back later, so no sender sleeps long on the budget.
- Pauses: DingTalk's errcode 410100 (20 messages a minute per group exceeded) throttles the group for
  10 minutes (DINGTALK.md §7); ``pause`` records that (``pause:<conversationId>``) so every process
  leaves the group alone until then, and ``paused_until`` reads it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, sessionmaker

from bot.openapi import Deferred
from storage.models import SendGate

MAX_KEY = 200


def _ensure(s: Session, key: str) -> None:
    """The gate row exists (created open); two processes creating it at once is harmless."""
    insert = pg_insert if s.get_bind().dialect.name == "postgresql" else sqlite_insert
    s.execute(insert(SendGate).values(key=key[:MAX_KEY], open_at=0.0, note="").on_conflict_do_nothing())


class SharedPacer:
    """At most ``per_second`` calls a second to each API path, across the processes sharing ``factory``."""

    def __init__(self, factory: sessionmaker[Session], per_second: float = 20.0, max_wait: float = 1.0,
                 clock: Callable[[], float] = time.time, sleep: Callable[[float], None] = time.sleep) -> None:
        self.factory = factory
        self.interval = 1.0 / per_second
        self.max_wait = max_wait
        self._clock = clock
        self._sleep = sleep

    def __call__(self, path: str) -> None:
        key = f"api:{path}"[:MAX_KEY]
        with self.factory.begin() as s:
            _ensure(s, key)
            gate = s.scalars(select(SendGate).where(SendGate.key == key).with_for_update()).one()
            now = self._clock()
            at = max(now, gate.open_at)
            if at - now > self.max_wait:
                raise Deferred(at - now, f"the shared budget of {path} is spent for {at - now:.1f} s")
            gate.open_at = at + self.interval
        if at > now:
            self._sleep(at - now)


def pause(s: Session, conversation_id: str, until: datetime, note: str) -> None:
    """Leave ``conversation_id`` alone until ``until`` (a later pause already recorded stays)."""
    key = f"pause:{conversation_id}"[:MAX_KEY]
    _ensure(s, key)
    gate = s.scalars(select(SendGate).where(SendGate.key == key).with_for_update()).one()
    gate.open_at = max(gate.open_at, until.timestamp())
    gate.note = note[:200]


def paused_until(s: Session, conversation_id: str, now: datetime) -> datetime | None:
    """When a pause of ``conversation_id`` ends, if it is paused at ``now``."""
    open_at = s.scalar(select(SendGate.open_at).where(SendGate.key == f"pause:{conversation_id}"[:MAX_KEY]))
    if open_at is None or open_at <= now.timestamp():
        return None
    return datetime.fromtimestamp(open_at, timezone.utc)
