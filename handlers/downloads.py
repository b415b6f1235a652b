"""Pictures whose download died (R08): their sender is asked, in the chat, to send them again.

The outbox sender fetches a picture (``bot.outbox``), retrying with backoff, and gives up after its
last attempt — or at once when the file is over the size limit (``storage.images.MAX_BYTES``, refused
by its Content-Length or while streaming, never read whole). :func:`answer_dead_downloads` (the
scheduler's ``dead_downloads`` job, every minute) answers the message the picture came with, through the
same reply path as every reply (its sessionWebhook while valid, else the OpenAPI): send it again, or,
over the limit, that it is too large. The reply's dedupe key, ``failed:<the download's key>``, makes
it once per picture, whichever scheduler gets there first. Downloads that died more than a day ago are
left alone: a request to resend a picture is no use by then.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta

from sqlalchemy import exists, literal, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from handlers import outbox
from handlers.texts import chat as texts
from handlers.messages import Incoming, Reply
from storage import images
from storage.models import OutboxMessage

log = logging.getLogger(__name__)

DEAD = "dead"  # bot.outbox's status of a row it gave up on
KEY_PREFIX = "failed:"
LOOKBACK = timedelta(days=1)


def answer_dead_downloads(s: Session, now: datetime) -> int:
    """R08: answer every picture download that died in the last day and is not answered yet; how many
    were answered now. ``now`` is aware, in the display time zone (the time in the reply)."""
    answer = aliased(OutboxMessage)
    rows = s.execute(select(OutboxMessage.dedupe_key, OutboxMessage.body, OutboxMessage.last_error).where(
        OutboxMessage.kind == outbox.DOWNLOAD, OutboxMessage.status == DEAD,
        OutboxMessage.created_at >= now - LOOKBACK,
        ~exists().where(answer.dedupe_key == literal(KEY_PREFIX) + OutboxMessage.dedupe_key))
        .order_by(OutboxMessage.id)).all()
    answered = 0
    for key, body, error in rows:
        try:
            msg = Incoming.from_dict(json.loads(body)["message"])
        except (ValueError, KeyError, TypeError):
            log.warning("dead download %s has no readable message: not answered", key)
            continue
        if images.DOWNLOAD_TOO_LARGE in (error or ""):
            text = texts.PHOTO_INVALID[images.TOO_LARGE]
        else:
            text = texts.PHOTO_DOWNLOAD_FAILED.format(at=msg.created_at.astimezone(now.tzinfo))
        try:
            with s.begin_nested():
                outbox.queue_replies(s, msg, [Reply(text)], key=KEY_PREFIX + key)
                s.flush()
        except IntegrityError:  # another scheduler answered it a moment ago
            continue
        answered += 1
    return answered
