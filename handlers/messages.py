"""Plain values for what arrives from and goes to the chat; no SDK types cross into handlers."""

from __future__ import annotations

from dataclasses import dataclass, field
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
    msgtype: str  # text | picture | richText | audio | video | file | …
    text: str  # @-prefix stripped, whitespace normalised
    image_codes: tuple[str, ...]
    created_at: datetime
    robot_code: str | None
    session_webhook: str | None
    session_webhook_expires: datetime | None
    conversation_title: str = ""
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def in_group(self) -> bool:
        return self.conversation_type == GROUP

    @property
    def source(self) -> str:
        return f"msg:{self.msg_id}"


@dataclass(frozen=True)
class Reply:
    """A text answer to the message; ``at_sender`` @-mentions the sender in a group."""

    text: str
    at_sender: bool = False
