"""Plain values for what arrives from and goes to the chat; no SDK types cross into handlers.

Everything that acts enters ``handlers.dispatch.Dispatcher.dispatch`` as one of three events:

- ``MessageEvent(message)``: a chat message, normalised by ``bot/stream.py``;
- ``DownloadEvent(message, word, download_code, sha256)``: a picture of that message is in the file
  store (``message`` is the normalised message stored with the download when it came in);
- ``JobEvent(kind, class_code, slot, now)``: a scheduler job acting on one class for one slot.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

GROUP = "2"
PRIVATE = "1"


@dataclass(frozen=True)
class Incoming:
    """One bot message as DingTalk delivered it (DINGTALK.md §2), already parsed."""

    msg_id: str
    conversation_id: str
    conversation_type: str  # "1" 1:1, "2" group
    sender_id: str
    sender_staff_id: str | None
    sender_nick: str
    msgtype: str  # DingTalk's message type, stored as delivered; handlers read ``supported`` instead
    text: str  # @-prefix stripped, whitespace normalised
    image_codes: tuple[str, ...]
    created_at: datetime
    robot_code: str | None
    session_webhook: str | None
    session_webhook_expires: datetime | None
    conversation_title: str = ""
    supported: bool = True  # False: a kind of message the bot does not handle (audio, video…)
    file_code: str = ""  # a file message's downloadCode (files arrive only 1:1, DINGTALK.md §2)
    file_name: str = ""
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def in_group(self) -> bool:
        return self.conversation_type == GROUP

    @property
    def source(self) -> str:
        return f"msg:{self.msg_id}"

    @property
    def download_codes(self) -> tuple[str, ...]:
        """What to fetch of this message: its pictures, then its file."""
        return self.image_codes + ((self.file_code,) if self.file_code else ())

    def to_dict(self) -> dict[str, Any]:
        """The normalised message as JSON-able values (without ``raw``), for :meth:`from_dict`."""
        out: dict[str, Any] = {}
        for f in fields(self):
            if f.name == "raw":
                continue
            value = getattr(self, f.name)
            out[f.name] = value.isoformat() if isinstance(value, datetime) else (
                list(value) if isinstance(value, tuple) else value)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Incoming:
        values = {f.name: data.get(f.name) for f in fields(cls) if f.name != "raw" and f.name in data}
        for name in ("created_at", "session_webhook_expires"):
            if values.get(name):
                values[name] = datetime.fromisoformat(values[name])
        values["image_codes"] = tuple(values.get("image_codes") or ())
        return cls(**values)


@dataclass(frozen=True)
class Reply:
    """A text answer to the message; ``at_sender`` @-mentions the sender in a group, ``at_user_ids``
    others (their ``@staffId`` must be in the text for DingTalk to show it). ``attention``: nothing
    was recorded and the person must act (a refusal); in a digest of several replies it stays on top
    and @-mentions them (``bot.digest``)."""

    text: str
    at_sender: bool = False
    at_user_ids: tuple[str, ...] = ()
    attention: bool = False


@dataclass(frozen=True)
class MessageEvent:
    """A chat message arrived: stored (a duplicate ``msgId`` stops here), then its command runs."""

    message: Incoming

    @property
    def now(self) -> datetime:
        return self.message.created_at


@dataclass(frozen=True)
class DownloadEvent:
    """A picture sent with ``message`` is downloaded: its bytes are in the file store under ``sha256``.

    ``word`` is the command the message was dispatched to (None: no command, e.g. a teacher's slide);
    that command's ``on_download`` handler runs, as the same sender, with the same role check.
    ``data`` is the bytes, read from the store when the event was made (None: read them from the store).
    """

    message: Incoming
    word: str | None
    download_code: str
    sha256: str
    data: bytes | None = field(default=None, compare=False, repr=False)

    @property
    def now(self) -> datetime:
        return self.message.created_at

    @classmethod
    def from_row(cls, body: dict[str, Any], sha256: str, data: bytes | None = None) -> DownloadEvent:
        """From a download row's body (``handlers.outbox.queue_downloads`` wrote it) and the stored bytes."""
        return cls(Incoming.from_dict(body["message"]), body.get("word"), str(body.get("download_code", "")), sha256,
                   data)


@dataclass(frozen=True)
class JobEvent:
    """A scheduler job: ``kind`` names a handler registered with ``@job(kind)``; it acts on the class
    ``class_code`` (or None: no class) for ``slot`` (the period it covers, e.g. "2026-12-01" or
    "2026-12-01T09:10"); ``now`` is the job's clock. Replies go to the class's group, once per
    (kind, class, slot)::

        dispatcher.dispatch(s, JobEvent("roll_call", "BT-2026-001", "2026-12-01T09:10", now))
    """

    kind: str
    class_code: str | None
    slot: str
    now: datetime

    @property
    def source(self) -> str:
        return f"job:{self.kind}:{self.class_code or '-'}:{self.slot}"


Event = MessageEvent | DownloadEvent | JobEvent
