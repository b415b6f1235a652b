"""Fault injection for the simulated OpenAPI: failures, throttling and slowness by path prefix."""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass

THROTTLE_CODE = "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi"
WEBHOOK_THROTTLE_ERRCODE = 410100


@dataclass
class _Rule:
    prefix: str
    remaining: int | None  # None: until cleared
    status: int = 0
    body: dict | None = None
    seconds: float = 0.0
    throttle: bool = False


@dataclass(frozen=True)
class Failure:
    status: int
    body: dict | None
    """None: the simulator writes a DingTalk-style error body for the path"""
    throttle: bool = False


class Faults:
    """`sim.faults`: make the next calls to a path fail, throttle or hang.

    Rules match on the request path prefix ("/v1.0/robot/groupMessages/send", "/robot/sendBySession",
    "/v1.0/gateway/connections/open", ...). Websocket faults (drop, disconnect) live on the simulator.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._failures: list[_Rule] = []
        self._slow: list[_Rule] = []
        self._flow_controlled: set[str] = set()
        self._dead: dict[str, int] = {}  # conversationId → status every send to it answers
        self._flaky: list[tuple[str, float, tuple[int, ...]]] = []
        self._rng = random.Random(0)

    def fail_next(self, path_prefix: str, status: int = 500, times: int | None = 1,
                  body: dict | None = None) -> None:
        """The next `times` calls (None: all until `clear()`) answer `status` with `body`."""
        with self._lock:
            self._failures.append(_Rule(path_prefix, times, status=status, body=body))

    def throttle(self, path_prefix: str, times: int | None = 1, status: int = 429) -> None:
        """The next `times` calls are refused as over the rate limit: OpenAPI paths answer `status`
        with code Forbidden.AccessDenied.QpsLimitForAppkeyAndApi; the sessionWebhook answers HTTP 200
        with errcode 410100 (the custom-robot limit of 20 messages a minute per group)."""
        with self._lock:
            self._failures.append(_Rule(path_prefix, times, status=status, throttle=True))

    def slow(self, path_prefix: str, seconds: float, times: int | None = None) -> None:
        """Calls wait `seconds` before they are answered (all until `clear()`, or the next `times`)."""
        with self._lock:
            self._slow.append(_Rule(path_prefix, times, seconds=seconds))

    def flow_control(self, *staff_ids: str) -> None:
        """oToMessages/batchSend reports these users in flowControlledStaffIdList and does not deliver."""
        with self._lock:
            self._flow_controlled.update(staff_ids)

    def dead_conversation(self, conversation_id: str, status: int = 500) -> None:
        """Every send to this group or 1:1 chat (its sessionWebhooks and groupMessages/send) answers
        `status`, until `clear()`: a conversation DingTalk cannot deliver to."""
        with self._lock:
            self._dead[conversation_id] = status

    def flaky(self, path_prefix: str, ratio: float, statuses: tuple[int, ...] = (500, 503, 429),
              seed: int = 0) -> None:
        """Until `clear()`, each call to the path fails with probability `ratio`, answering one of
        `statuses` (429: DingTalk's QPS throttle; on the sessionWebhook HTTP `status` with errcode -1 系统繁忙).
        A failed call delivers nothing."""
        with self._lock:
            self._flaky.append((path_prefix, ratio, statuses))
            self._rng = random.Random(seed)

    def clear(self) -> None:
        with self._lock:
            self._failures.clear()
            self._slow.clear()
            self._flow_controlled.clear()
            self._dead.clear()
            self._flaky.clear()

    def is_flow_controlled(self, staff_id: str) -> bool:
        with self._lock:
            return staff_id in self._flow_controlled

    def take(self, path: str, conversation_id: str | None = None) -> tuple[float, Failure | None]:
        """For one request (to `conversation_id`, for sends): how long to stall, and the failure to
        answer with (used up here)."""
        with self._lock:
            delay = sum(rule.seconds for rule in self._consume(self._slow, path, all_matches=True))
            hits = self._consume(self._failures, path, all_matches=False)
            failure = Failure(hits[0].status, hits[0].body, hits[0].throttle) if hits else None
            if failure is None and conversation_id is not None and conversation_id in self._dead:
                failure = Failure(self._dead[conversation_id], None)
            for prefix, ratio, statuses in self._flaky:
                if failure is None and path.startswith(prefix) and self._rng.random() < ratio:
                    status = self._rng.choice(statuses)
                    # a 429 on the sessionWebhook stays an HTTP 429 (not the 10-minute errcode 410100)
                    failure = Failure(status, None, throttle=status == 429 and not path.startswith("/robot/"))
        return delay, failure

    @staticmethod
    def _consume(rules: list[_Rule], path: str, *, all_matches: bool) -> list[_Rule]:
        hits = []
        for rule in list(rules):
            if not path.startswith(rule.prefix):
                continue
            hits.append(rule)
            if rule.remaining is not None:
                rule.remaining -= 1
                if rule.remaining <= 0:
                    rules.remove(rule)
            if not all_matches:
                break
        return hits
