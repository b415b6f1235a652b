"""Several replies waiting for one group, merged into one markdown message (a digest).

When 50 trainees check in within a minute, 50 separate replies would take two and a half minutes at
DingTalk's 20 messages a minute per group, and "签到成功 08:20" does not say whose it is. The outbox
sender (``bot.outbox``) merges the replies due for a group into one message, one line per person with
their name; replies that need the person's attention (a refusal: "不在签到时间", "请先绑定"…) come
first, under their own heading, and @-mention the person where DingTalk can (members of the
organisation, through the sessionWebhook: ``@<staffId>`` in the text and in ``at.atUserIds``,
DINGTALK.md §7). A digest stays within DingTalk's limits: ``msgParam`` ≤ 15 000 bytes for
``groupMessages/send`` (DINGTALK.md §5; we keep ``MAX_BYTES``) and at most 50 @ targets.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot import texts

MAX_BYTES = 12_000  # of the markdown text, well inside msgParam's 15 000 bytes (title and JSON quoting)
MAX_AT = 50  # DingTalk shows at most 50 @ targets
MAX_ROWS = 60  # replies looked at for one digest
_SPECIAL = re.compile(r"([\\`*_\[\]#<>|])")


@dataclass(frozen=True)
class Line:
    """One reply in a digest: who it answers, what it says, whether it needs their attention."""

    row_id: int
    name: str
    text: str
    attention: bool
    mention: str | None  # the staffId to @ (attention lines of members of the organisation)
    also_at: tuple[str, ...] = ()  # others the reply itself @-mentions (their @staffId is in the text)


@dataclass(frozen=True)
class Digest:
    row_ids: tuple[int, ...]
    title: str
    text: str  # with @staffId mentions, for the sessionWebhook
    plain: str  # without mentions, for groupMessages/send (which cannot @)
    at_user_ids: tuple[str, ...]


def line_of(row_id: int, body: dict) -> Line:
    """The digest line of a reply row's body (``handlers.outbox.queue_reply`` wrote it)."""
    staff = body.get("staff_user_id") or None
    at = [u for u in body.get("at_user_ids") or () if isinstance(u, str)]
    attention = bool(body.get("attention"))
    return Line(row_id=row_id, name=str(body.get("name") or texts.DIGEST_SOMEONE), text=str(body.get("text") or ""),
                attention=attention, mention=staff if attention and staff else None,
                also_at=tuple(u for u in at if u != staff))


def _md(text: str) -> str:
    """Text shown as written in DingTalk's markdown: specials escaped, line breaks kept."""
    return "  \n  ".join(_SPECIAL.sub(r"\\\1", part) for part in text.splitlines() or [""])


def _render(lines: list[Line], mentions: bool) -> str:
    def item(line: Line) -> str:
        who = f"@{line.mention} " if mentions and line.mention else ""
        return f"- {who}**{_md(line.name)}**：{_md(line.text)}"

    attention = [line for line in lines if line.attention]
    recorded = [line for line in lines if not line.attention]
    parts = []
    if attention:
        parts.append(f"#### {texts.DIGEST_ATTENTION.format(n=len(attention))}\n\n" + "\n".join(map(item, attention)))
    if recorded:
        heading = texts.DIGEST_RECORDED.format(n=len(recorded))
        parts.append(f"#### {heading}\n\n" + "\n".join(map(item, recorded)))
    return "\n\n".join(parts)


def compose(lines: list[Line]) -> Digest:
    """The digest of as many of ``lines`` (in order) as fit (≤ ``MAX_BYTES``, ≤ ``MAX_AT`` mentions);
    the rest wait for the next one."""
    taken: list[Line] = []
    at: list[str] = []
    for line in lines:
        wanted = [u for u in (line.mention, *line.also_at) if u and u not in at]
        if taken and len(at) + len(wanted) > MAX_AT:
            break
        candidate = [*taken, line]
        if taken and len(_render(candidate, True).encode()) > MAX_BYTES:
            break
        taken = candidate
        at += wanted
    # A first line too long for a digest is taken alone: the sender then sends it as a plain reply.
    return Digest(tuple(line.row_id for line in taken), texts.DIGEST_TITLE.format(n=len(taken)),
                  _render(taken, True), _render(taken, False), tuple(at[:MAX_AT]))
