"""DingTalk OpenAPI client (DINGTALK.md §3–§7) on one ``requests.Session``.

    with OpenApi(settings.openapi_endpoint, app_key, app_secret) as api:
        api.send_group(robot_code, conversation_id, "今日统计……")

- The access token is fetched once and cached until 5 minutes before it expires (one fetch at a time,
  whatever the number of threads); a 401 drops it, fetches a new one and repeats the call once.
- Every request has a timeout. 429, 5xx, DingTalk's throttle codes, timeouts and connection errors are
  retried with exponential backoff and jitter (tenacity), a bounded number of attempts within a bounded
  total wait; ``Retry-After`` is honoured, and a wait longer than the budget left ends the retries
  (the error carries ``retry_after`` so a caller such as the outbox can come back later).
- A timed-out send may have reached DingTalk: a retry can deliver it twice. Sends are at least once.
- DingTalk's refusals are ``DingTalkError(status, code, message, request_id)``.

Logs (``dingclass.openapi``) name paths, statuses and error codes, never message text.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

import requests
from tenacity import RetryCallState, Retrying

from storage import images

log = logging.getLogger("dingclass.openapi")

TOKEN_HEADER = "x-acs-dingtalk-access-token"
DEFAULT_ENDPOINT = "https://api.dingtalk.com"
OAPI_ENDPOINT = "https://oapi.dingtalk.com"  # old-style APIs (media/upload), DINGTALK.md §3, §10
TOKEN_MARGIN = 300.0  # seconds: refresh the token this long before DingTalk says it expires
MAX_OTO_USERS = 20  # oToMessages/batchSend: at most 20 userIds a call (DINGTALK.md §6)
MAX_WATCH_PAGE = 200  # live/lives/watchUsers: at most 200 viewers a page (DINGTALK.md §9)
MAX_WATCH_PAGES = 1000
DOWNLOAD_CHUNK = 64 * 1024

# New-style APIs answer these codes when a call is over a rate limit (DINGTALK.md §5): worth a retry.
THROTTLE_CODES = frozenset({"Forbidden.AccessDenied.QpsLimitForAppkeyAndApi", "send.too.fast",
                            "send.byToken.tooFast", "Throttling", "Throttling.Api"})
# sessionWebhook answers HTTP 200 with an errcode (DINGTALK.md §7).
DINGTALK_API_HOSTS = frozenset({"api.dingtalk.com", "oapi.dingtalk.com"})  # sessionWebhook: oapi (DINGTALK.md §7)
WEBHOOK_THROTTLED = "410100"  # custom-robot limit: 20 messages a minute per group, then a 10-minute pause
WEBHOOK_SESSION_EXPIRED = "300001"  # the session behind the webhook is gone: use the OpenAPI instead
WEBHOOK_BUSY = "-1"  # 系统繁忙
WEBHOOK_BAD_REQUEST = frozenset({"40035", "43004", "400101", "400102"})  # bad parameters, robot off


class Deferred(Exception):
    """Not now: the call was not made (a shared rate budget is spent); try again in ``seconds``."""

    def __init__(self, seconds: float, why: str) -> None:
        super().__init__(why)
        self.seconds = seconds


Pacer = Callable[[str], None]  # waits for a call slot of an API (by path); may raise Deferred


class DingTalkError(Exception):
    """DingTalk refused a call: HTTP ``status``, DingTalk's ``code`` and ``message``, its request id.

    New-style APIs answer ``{"code", "message", "requestid"}`` with an HTTP error status; the
    sessionWebhook answers ``{"errcode", "errmsg"}`` (usually with HTTP 200): ``code`` is then the
    errcode as a string. ``retry_after`` (seconds) is set when DingTalk asked us to wait.
    """

    def __init__(self, status: int, code: str, message: str, request_id: str | None = None, *,
                 retry_after: float | None = None, webhook: bool = False) -> None:
        super().__init__(status, code, message, request_id)
        self.status = status
        self.code = code
        self.message = message
        self.request_id = request_id
        self.retry_after = retry_after
        self.webhook = webhook

    def __str__(self) -> str:
        rid = f" (request id {self.request_id})" if self.request_id else ""
        return f"DingTalk HTTP {self.status} {self.code}: {self.message}{rid}"

    @property
    def throttled(self) -> bool:
        return self.status == 429 or self.code in THROTTLE_CODES or (self.webhook and self.code == WEBHOOK_THROTTLED)

    @property
    def transient(self) -> bool:
        """Worth repeating at once (with backoff): overloaded, throttled per second, or failing inside."""
        if self.webhook and self.code == WEBHOOK_THROTTLED:
            return False  # a 10-minute pause: retrying within seconds only extends it
        busy = self.webhook and self.code == WEBHOOK_BUSY
        return self.throttled or busy or self.status >= 500 or self.status == 408

    @property
    def permanent(self) -> bool:
        """Repeating the same request cannot succeed (bad robotCode, unknown group, expired download code…)."""
        if self.throttled or self.session_expired:
            return False
        if self.webhook and self.status == 200:
            return self.code in WEBHOOK_BAD_REQUEST
        return 400 <= self.status < 500 and self.status not in (401, 408, 429)

    @property
    def session_expired(self) -> bool:
        return self.webhook and self.code == WEBHOOK_SESSION_EXPIRED


@dataclass(frozen=True)
class WatchUser:
    """One viewer of a live: ``user_id`` (staffId) only for members of the organisation; times in ms."""

    user_id: str | None
    union_id: str | None
    name: str
    live_ms: int
    replay_ms: int
    first_watch_ms: int | None

    @classmethod
    def from_row(cls, row: dict, in_org: bool) -> WatchUser:
        def ms(key: str) -> int:
            try:
                return max(0, int(row.get(key) or 0))
            except (TypeError, ValueError):
                return 0

        return cls(user_id=str(row["userId"]) if in_org and row.get("userId") else None,
                   union_id=str(row["unionId"]) if in_org and row.get("unionId") else None,
                   name=str(row.get("name") or ""), live_ms=ms("watchLiveTime"), replay_ms=ms("watchPlaybackTime"),
                   first_watch_ms=ms("firstWatchTime") or None)


@dataclass(frozen=True)
class BatchResult:
    """What oToMessages/batchSend answered, over all its calls."""

    process_query_keys: list[str] = field(default_factory=list)
    invalid_user_ids: list[str] = field(default_factory=list)
    flow_controlled_user_ids: list[str] = field(default_factory=list)


class OpenApi:
    """A DingTalk OpenAPI client; safe to share between threads. Close it (or use ``with``)."""

    def __init__(self, endpoint: str, app_key: str, app_secret: str, *, timeout: float = 10,
                 clock: Callable[[], float] = time.monotonic, attempts: int = 4, backoff: float = 0.5,
                 max_backoff: float = 8.0, max_retry_time: float = 30.0,
                 sleep: Callable[[float], None] = time.sleep, rng: random.Random | None = None,
                 calls_per_second: float = 20.0, pacer: Pacer | None = None) -> None:
        """``attempts`` per call (1 = no retry); waits start at ``backoff`` s, double, are capped at
        ``max_backoff`` s, get up to ``backoff`` s of jitter, and all the waits of one call stay within
        ``max_retry_time`` s. ``sleep`` and ``rng`` are injectable so tests need not wait.
        ``calls_per_second`` paces each API path (DingTalk allows about 20 calls a second per app and
        API, DINGTALK.md §5): calls to one path are spaced evenly, across the threads of this client.
        ``pacer`` replaces that in-process pacing with a budget shared by several processes
        (``bot.gates.SharedPacer``); it also paces sessionWebhook posts (as ``sessionWebhook``)."""
        if attempts < 1:
            raise ValueError("attempts must be at least 1")
        self.endpoint = endpoint.rstrip("/")
        self.app_key = app_key
        self._app_secret = app_secret
        self.timeout = timeout
        self.attempts = attempts
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.max_retry_time = max_retry_time
        self._clock = clock
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._http = requests.Session()
        self._token_lock = threading.Lock()
        self._token: str | None = None
        self._token_good_until = 0.0
        self.calls_per_second = calls_per_second
        self._pace_lock = threading.Lock()
        self._next_call: dict[str, float] = {}
        self.pacer = pacer

    @classmethod
    def from_settings(cls, settings, **options: Any) -> OpenApi:
        """The client for ``bot.settings.Settings`` (honours DINGTALK_OPENAPI_ENDPOINT)."""
        app_key, app_secret = settings.require_dingtalk()
        return cls(settings.openapi_endpoint, app_key, app_secret, **options)

    # == lifecycle ============================================================================
    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> OpenApi:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # == robot messages =======================================================================
    def send_group(self, robot_code: str, open_conversation_id: str, text: str) -> str:
        """A text message to a group (no @ possible); returns DingTalk's processQueryKey."""
        return self._send_group(robot_code, open_conversation_id, "sampleText", {"content": text})

    def send_markdown_group(self, robot_code: str, open_conversation_id: str, title: str, text: str) -> str:
        """A markdown message to a group (``title`` shows in the chat list); returns the processQueryKey."""
        return self._send_group(robot_code, open_conversation_id, "sampleMarkdown", {"title": title, "text": text})

    def send_group_message(self, robot_code: str, open_conversation_id: str, msg_key: str, param: dict) -> str:
        """Any robot message (``sampleMarkdown``, ``sampleFile`` …, DINGTALK.md §5) to a group."""
        return self._send_group(robot_code, open_conversation_id, msg_key, param)

    def _send_group(self, robot_code: str, open_conversation_id: str, msg_key: str, param: dict) -> str:
        answer = self._call("/v1.0/robot/groupMessages/send", {
            "robotCode": robot_code, "openConversationId": open_conversation_id, "msgKey": msg_key,
            "msgParam": json.dumps(param, ensure_ascii=False)})
        return str(answer.get("processQueryKey") or "")

    def batch_send(self, robot_code: str, user_ids: Iterable[str], text: str) -> BatchResult:
        """A text message in each user's 1:1 chat with the bot, ≤ 20 users a call.

        Users DingTalk did not take are reported back (``invalid_user_ids``: unknown; and
        ``flow_controlled_user_ids``: throttled, not delivered). If a later call fails, the earlier
        ones were delivered already and the error is raised.
        """
        return self.batch_send_message(robot_code, user_ids, "sampleText", {"content": text})

    def batch_send_message(self, robot_code: str, user_ids: Iterable[str], msg_key: str, param: dict) -> BatchResult:
        """Any robot message (``sampleMarkdown``, ``sampleFile`` …) in each user's 1:1 chat, ≤ 20 a call."""
        ids = list(dict.fromkeys(user_ids))
        raw = json.dumps(param, ensure_ascii=False)
        result = BatchResult()
        for start in range(0, len(ids), MAX_OTO_USERS):
            answer = self._call("/v1.0/robot/oToMessages/batchSend", {
                "robotCode": robot_code, "userIds": ids[start:start + MAX_OTO_USERS], "msgKey": msg_key,
                "msgParam": raw})
            if answer.get("processQueryKey"):
                result.process_query_keys.append(str(answer["processQueryKey"]))
            result.invalid_user_ids.extend(answer.get("invalidStaffIdList") or ())
            result.flow_controlled_user_ids.extend(answer.get("flowControlledStaffIdList") or ())
        return result

    def webhook_allowed(self, webhook_url: str) -> bool:
        """Whether a message's sessionWebhook belongs to the DingTalk this client talks to: with the
        real endpoint, https on DingTalk's own API hosts; with another endpoint (the local simulator),
        that endpoint's scheme, host and port. A payload naming any other URL gets no webhook reply,
        so the bot never posts a user's reply to a host it was told about in the message itself."""
        try:
            target, ours = urlsplit(webhook_url), urlsplit(self.endpoint)
            target_port, our_port = target.port, ours.port
        except ValueError:
            return False
        if (ours.hostname or "").lower() in DINGTALK_API_HOSTS:
            return target.scheme == "https" and (target.hostname or "").lower() in DINGTALK_API_HOSTS \
                and target_port in (None, 443) and not target.username and not target.password
        return (target.scheme, (target.hostname or "").lower(), target_port) == (
            ours.scheme, (ours.hostname or "").lower(), our_port) and not target.username

    def reply_webhook(self, webhook_url: str, text: str, at_user_ids: Sequence[str] = ()) -> None:
        """Answer through a message's sessionWebhook (custom-robot text body; no token)."""
        body = {"msgtype": "text", "text": {"content": text}, "at": {"atUserIds": list(at_user_ids)}}
        self._retrying(lambda: self._webhook_once(webhook_url, body), "sessionWebhook")

    def reply_webhook_markdown(self, webhook_url: str, title: str, text: str,
                               at_user_ids: Sequence[str] = ()) -> None:
        """A markdown answer through a sessionWebhook; an @ shows where ``@<userId>`` is in ``text``
        (DINGTALK.md §7, at most 50 targets)."""
        body = {"msgtype": "markdown", "markdown": {"title": title, "text": text},
                "at": {"atUserIds": list(at_user_ids)}}
        self._retrying(lambda: self._webhook_once(webhook_url, body), "sessionWebhook")

    # == files ================================================================================
    def download_url(self, robot_code: str, download_code: str) -> str:
        """The short-lived URL of a file a user sent the bot (fetch it at once)."""
        answer = self._call("/v1.0/robot/messageFiles/download",
                            {"downloadCode": download_code, "robotCode": robot_code})
        url = answer.get("downloadUrl")
        if not url:
            raise DingTalkError(200, "missingDownloadUrl", "messageFiles/download answered without downloadUrl",
                                answer.get("requestid"))
        return str(url)

    def download(self, robot_code: str, download_code: str, *, max_bytes: int = images.MAX_BYTES) -> bytes:
        """The bytes of a file a user sent the bot. A file over ``max_bytes`` is refused — by its
        Content-Length before any of it is read, or as soon as more has streamed in (no Content-Length,
        or a false one) — with ``DingTalkError(413, "fileTooLarge")``, which is permanent: never
        retried, never read whole into memory."""
        url = self.download_url(robot_code, download_code)
        return self._retrying(lambda: self._fetch_once(url, max_bytes), "download")

    def upload_media(self, data: bytes, file_name: str, kind: str = "file") -> str:
        """Upload a file for a file message (DINGTALK.md §10: old-style ``/media/upload`` on the oapi host,
        or on ``DINGTALK_OPENAPI_ENDPOINT`` when that is moved); the ``media_id``."""
        url = f"{self.oapi_endpoint}/media/upload"

        def once() -> str:
            token = self.access_token()
            response = self._http.post(url, params={"access_token": token, "type": kind},
                                       data={"type": kind}, files={"media": (file_name, data)}, timeout=self.timeout)
            answer = _json_or_raise(response)
            code = str(answer.get("errcode", "0"))
            if code in ("40014", "42001"):  # token invalid or expired: the next attempt fetches a new one
                self._drop_token(token)
            if code != "0" or not answer.get("media_id"):
                raise DingTalkError(response.status_code, code, str(answer.get("errmsg") or "media/upload failed"),
                                    _request_id(response), retry_after=None)
            return str(answer["media_id"])

        return self._retrying(once, "media/upload")

    def put_file(self, url: str, headers: dict[str, str], path) -> None:
        """PUT a file, streamed from disk, to a signed URL (the middle step of a DingTalk Drive upload,
        DINGTALK.md §10: the URL and headers come from ``uploadInfos/query``; no access token)."""

        def once() -> None:
            with open(path, "rb") as data:
                response = self._http.put(url, data=data, headers=dict(headers), timeout=self.timeout)
            with response:
                if response.status_code >= 300:
                    raise DingTalkError(response.status_code, f"HTTP{response.status_code}",
                                        "upload to the signed URL failed", _request_id(response),
                                        retry_after=_retry_after(response))

        self._retrying(once, "drive upload")

    @property
    def oapi_endpoint(self) -> str:
        """The old-style API host: oapi.dingtalk.com for the real endpoint, else the endpoint itself."""
        return OAPI_ENDPOINT if self.endpoint == DEFAULT_ENDPOINT else self.endpoint

    # == live statistics ======================================================================
    def watch_users(self, live_id: str, union_id: str, *, page_size: int = MAX_WATCH_PAGE) -> list[WatchUser]:
        """Every viewer of a live (DINGTALK.md §9: ``GET /v1.0/live/lives/watchUsers``), all pages:
        members of the organisation (with their userId) and outside viewers (name only); times in ms."""
        page_size = max(1, min(page_size, MAX_WATCH_PAGE))
        viewers: list[WatchUser] = []
        for page in range(MAX_WATCH_PAGES):
            answer = self._call("/v1.0/live/lives/watchUsers", None, method="GET", params={
                "liveId": live_id, "unionId": union_id, "pageNumber": page, "pageSize": page_size})
            result = answer.get("result") or {}
            rows = [(row, True) for row in result.get("orgUsesList") or ()]
            rows += [(row, False) for row in result.get("outOrgUserList") or ()]
            viewers += [WatchUser.from_row(row, in_org) for row, in_org in rows]
            if len(rows) < page_size:
                return viewers
        raise DingTalkError(200, "tooManyPages", f"watchUsers returned more than {MAX_WATCH_PAGES} pages")

    # == any new-style API ====================================================================
    def call(self, path: str, body: dict | None = None, *, method: str = "POST",
             params: dict | None = None) -> dict:
        """Any new-style API with the access token, retries and error parsing; the JSON answer."""
        return self._call(path, body, method=method, params=params)

    def access_token(self) -> str:
        """The cached access token, fetched when missing or about to expire."""
        with self._token_lock:
            if self._token is not None and self._clock() < self._token_good_until:
                return self._token
            response = self._http.post(f"{self.endpoint}/v1.0/oauth2/accessToken",
                                       json={"appKey": self.app_key, "appSecret": self._app_secret},
                                       timeout=self.timeout)
            answer = _json_or_raise(response)
            token, expire_in = answer.get("accessToken"), answer.get("expireIn")
            if not token:
                raise DingTalkError(response.status_code, "missingAccessToken",
                                    "oauth2/accessToken answered without accessToken", _request_id(response))
            expire_in = float(expire_in or 7200)
            # Keep 5 minutes in hand; a (test) token living under 10 minutes is kept for half its life.
            self._token = str(token)
            self._token_good_until = self._clock() + max(expire_in - TOKEN_MARGIN, expire_in / 2)
            log.debug("access token fetched, valid %.0f s", expire_in)
            return self._token

    def _drop_token(self, token: str) -> None:
        """Forget ``token`` unless another thread already replaced it."""
        with self._token_lock:
            if self._token == token:
                self._token = None

    # == internals ============================================================================
    def _call(self, path: str, body: dict | None, *, method: str = "POST", params: dict | None = None) -> dict:
        return self._retrying(lambda: self._authorized_once(method, path, body, params), path)

    def _authorized_once(self, method: str, path: str, body: dict | None, params: dict | None) -> dict:
        """One call; on 401 with the cached token: a new token and one more try (not counted as a retry)."""
        token = self.access_token()
        response = self._request(method, path, body, params, token)
        if response.status_code == 401:
            response.close()
            log.info("%s answered 401: fetching a new access token", path)
            self._drop_token(token)
            response = self._request(method, path, body, params, self.access_token())
        return _json_or_raise(response)

    def _pace(self, path: str) -> None:
        """Wait for this path's next slot: at most ``calls_per_second`` calls to it in any second."""
        if self.pacer is not None:
            self.pacer(path)
            return
        if not self.calls_per_second:
            return
        with self._pace_lock:
            now = time.monotonic()  # real time, not the injectable retry clock: DingTalk counts real seconds
            at = max(now, self._next_call.get(path, now))
            self._next_call[path] = at + 1.0 / self.calls_per_second
        if at > now:
            time.sleep(at - now)

    def _request(self, method: str, path: str, body: dict | None, params: dict | None,
                 token: str) -> requests.Response:
        self._pace(path)
        return self._http.request(method, f"{self.endpoint}{path}", json=body, params=params,
                                  headers={TOKEN_HEADER: token}, timeout=self.timeout)

    def _webhook_once(self, url: str, body: dict) -> None:
        if self.pacer is not None:
            self.pacer("sessionWebhook")
        response = self._http.post(url, json=body, timeout=self.timeout)
        try:
            answer = response.json()
        except ValueError:
            answer = None
        finally:
            response.close()
        if not isinstance(answer, dict) or "errcode" not in answer:
            if response.status_code >= 400 or not isinstance(answer, dict):
                raise DingTalkError(response.status_code, f"HTTP{response.status_code}",
                                    _snippet(response), _request_id(response),
                                    retry_after=_retry_after(response), webhook=True)
            return  # 2xx with a JSON body that has no errcode: accepted
        code = str(answer.get("errcode"))
        if response.status_code >= 400 or code != "0":
            raise DingTalkError(response.status_code, code, str(answer.get("errmsg") or ""),
                                _request_id(response), retry_after=_retry_after(response), webhook=True)

    def _fetch_once(self, url: str, max_bytes: int) -> bytes:
        response = self._http.get(url, timeout=self.timeout, stream=True)
        with response:  # closing an unread streamed response drops the connection, it does not drain it
            if response.status_code != 200:
                raise DingTalkError(response.status_code, f"HTTP{response.status_code}",
                                    "download of the file failed", _request_id(response),
                                    retry_after=_retry_after(response))
            length = response.headers.get("Content-Length", "")
            if length.isdigit() and int(length) > max_bytes:
                raise _too_large(f"Content-Length {length} > {max_bytes}", response)
            chunks, size = [], 0
            for chunk in response.iter_content(DOWNLOAD_CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise _too_large(f"more than {max_bytes} bytes streamed", response)
                chunks.append(chunk)
            return b"".join(chunks)

    def _retrying(self, fn: Callable[[], Any], what: str) -> Any:
        retrying = Retrying(stop=self._stop, wait=self._wait, retry=self._should_retry,
                            sleep=self._sleep, reraise=True, before_sleep=lambda state: self._log_retry(state, what))
        return retrying(fn)

    @staticmethod
    def _should_retry(state: RetryCallState) -> bool:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, DingTalkError):
            return exc.transient
        return isinstance(exc, (requests.Timeout, requests.ConnectionError))

    def _planned_wait(self, state: RetryCallState) -> float | None:
        """The wait before the next attempt, or None to stop: the backoff (with jitter) or a longer
        Retry-After, kept within what is left of ``max_retry_time``. Computed once per attempt, as
        tenacity asks both ``wait`` and ``stop`` (in an order that changed between versions)."""
        cached = getattr(state, "_dingclass_wait", None)
        if cached is not None and cached[0] == state.attempt_number:
            return cached[1]
        exc = state.outcome.exception() if state.outcome else None
        left = self.max_retry_time - state.idle_for
        wait: float | None = min(self.max_backoff, self.backoff * 2 ** (state.attempt_number - 1))
        wait += self._rng.uniform(0, self.backoff)
        if isinstance(exc, DingTalkError) and exc.retry_after is not None and exc.retry_after > wait:
            wait = exc.retry_after if exc.retry_after <= left else None  # DingTalk wants more than we have
        if state.attempt_number >= self.attempts or left <= 0:
            wait = None
        elif wait is not None:
            wait = min(wait, left)
        state._dingclass_wait = (state.attempt_number, wait)
        return wait

    def _wait(self, state: RetryCallState) -> float:
        return self._planned_wait(state) or 0.0

    def _stop(self, state: RetryCallState) -> bool:
        return self._planned_wait(state) is None

    @staticmethod
    def _log_retry(state: RetryCallState, what: str) -> None:
        exc = state.outcome.exception() if state.outcome else None
        log.warning("%s: attempt %d failed (%s), retrying in %.2f s", what, state.attempt_number,
                    _describe(exc), state.upcoming_sleep)


def _json_or_raise(response: requests.Response) -> dict:
    with response:
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if response.status_code >= 400:
            if isinstance(answer, dict) and ("code" in answer or "message" in answer):
                raise DingTalkError(response.status_code, str(answer.get("code") or f"HTTP{response.status_code}"),
                                    str(answer.get("message") or ""),
                                    answer.get("requestid") or answer.get("requestId") or _request_id(response),
                                    retry_after=_retry_after(response))
            raise DingTalkError(response.status_code, f"HTTP{response.status_code}", _snippet(response),
                                _request_id(response), retry_after=_retry_after(response))
        if not isinstance(answer, dict):
            raise DingTalkError(response.status_code, "invalidResponse", "the answer is not a JSON object",
                                _request_id(response))
        return answer


def _too_large(detail: str, response: requests.Response) -> DingTalkError:
    return DingTalkError(413, images.DOWNLOAD_TOO_LARGE, f"the file is over the size limit ({detail})",
                         _request_id(response))


def _request_id(response: requests.Response) -> str | None:
    return response.headers.get("x-acs-request-id") or response.headers.get("x-acs-trace-id")


def _retry_after(response: requests.Response) -> float | None:
    """``Retry-After`` in seconds (delta-seconds or an HTTP date), None when absent or unreadable."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


def _snippet(response: requests.Response) -> str:
    text = response.text if response.content else ""
    return text[:200] or (response.reason or "")


def _describe(exc: BaseException | None) -> str:
    if isinstance(exc, DingTalkError):
        return f"HTTP {exc.status} {exc.code}"
    return type(exc).__name__ if exc is not None else "?"
