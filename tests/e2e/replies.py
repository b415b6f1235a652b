"""What people in a group read: each reply the bot sent, whether alone or in a digest (``bot.digest``)."""

from __future__ import annotations

import re

from bot import texts

_LINE = re.compile(r"^- (?:@(?P<at>\S+) )?\*\*(?P<name>.+?)\*\*：(?P<text>.*)$")
_ESCAPED = re.compile(r"\\(.)")


def is_digest(sent) -> bool:
    prefix = texts.DIGEST_TITLE.split("（")[0]
    return sent.msgtype in ("markdown", "sampleMarkdown") and (sent.title or "").startswith(prefix)


def lines(sent) -> list[tuple[str | None, str, str | None]]:
    """(name, text, @staffId) per reply: a digest's lines, or the one reply of a plain message."""
    if not is_digest(sent):
        return [(None, sent.text, None)]
    out = []
    for raw in sent.text.split("\n"):
        match = _LINE.match(raw)
        if match:
            text = _ESCAPED.sub(r"\1", match["text"]).replace("  \n  ", "\n")
            out.append((_ESCAPED.sub(r"\1", match["name"]), text, match["at"]))
    return out


def replies(sim, target=None, **kw) -> list[tuple[str | None, str, str | None]]:
    """Every reply delivered to ``target`` (a group or user), digests unfolded, in order."""
    return [line for sent in sim.sent(target, **kw) for line in lines(sent)]
