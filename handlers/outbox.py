"""Queue what the bot must send (or fetch) in the outbox, inside the message's unit of work.

Each row has a unique dedupe key derived from the message it answers, so a unit of work that runs
twice cannot queue a reply twice; ``bot.outbox`` delivers the rows.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from handlers.messages import Incoming, Reply
from storage.ledger import canonical
from storage.models import OutboxMessage

REPLY = "reply"
GROUP = "group"
DOWNLOAD = "download"


def queue_replies(s: Session, msg: Incoming, replies: list[Reply]) -> None:
    for n, reply in enumerate(replies):
        body = {
            "text": reply.text,
            "webhook": msg.session_webhook,
            "webhook_expires": msg.session_webhook_expires.isoformat() if msg.session_webhook_expires else None,
            "conversation_type": msg.conversation_type,
            "staff_user_id": msg.sender_staff_id,
            "robot_code": msg.robot_code,
            "at_user_ids": [msg.sender_staff_id] if reply.at_sender and msg.sender_staff_id else [],
        }
        s.add(OutboxMessage(kind=REPLY, dedupe_key=f"reply:{msg.msg_id}:{n}", conversation_id=msg.conversation_id,
                            body=canonical(body)))


def queue_group_message(s: Session, conversation_id: str, text: str, dedupe_key: str, robot_code: str | None) -> None:
    """A proactive message to a group (reports, roll calls): no webhook, the OpenAPI sends it."""
    s.add(OutboxMessage(kind=GROUP, dedupe_key=dedupe_key, conversation_id=conversation_id,
                        body=canonical({"text": text, "robot_code": robot_code})))


def queue_downloads(s: Session, msg: Incoming) -> None:
    for n, code in enumerate(msg.image_codes):
        s.add(OutboxMessage(kind=DOWNLOAD, dedupe_key=f"download:{msg.msg_id}:{n}",
                            conversation_id=msg.conversation_id,
                            body=canonical({"download_code": code, "robot_code": msg.robot_code,
                                            "msg_id": msg.msg_id})))
