"""Input hygiene: what people type reaches names, codes and the database visible and bounded.

A name or a code may not hold a character a reader cannot see: NUL and other control characters
(PostgreSQL refuses NUL outright, SQLite would keep it silently), bidirectional overrides that make
``‮gpj.exe`` read as ``exe.jpg``, zero-width characters that make two equal-looking names differ.
Each is refused with a message naming the character, before anything is written, the same way on
both databases. Lengths are checked here too, so an over-long value is a clear refusal rather than a
database error.

Chat text is folded with NFKC before commands are matched: a full-width space (``签　到``) or
full-width letters and digits (``ＢＴ－２０２６``) mean what they look like.
"""

from __future__ import annotations

import re
import unicodedata

from handlers.texts import classes as texts
from handlers.errors import Refusal

CODE = re.compile(r"[A-Za-z0-9_-]{1,32}")  # class codes: safe in a URL, a file name and a chat line

_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_ZERO_WIDTH = frozenset("\u200b\u200c\u200d\u2060\ufeff\u180e")


def _kind(char: str) -> str | None:
    """What is wrong with ``char`` in a name or code, in Chinese; None if it is fine."""
    if char == "\x00":
        return texts.CHAR_NUL
    if char in _BIDI:
        return texts.CHAR_BIDI
    if char in _ZERO_WIDTH:
        return texts.CHAR_ZERO_WIDTH
    category = unicodedata.category(char)
    if category == "Cc":
        return texts.CHAR_CONTROL
    if category in ("Cf", "Cs", "Co", "Zl", "Zp"):
        return texts.CHAR_FORMAT
    return None


def problem(value: str, label: str, max_length: int, *, multiline: bool = False) -> str | None:
    """A Chinese message saying what is wrong with ``value`` as ``label``, or None when it is fine.

    ``multiline`` lets line breaks and tabs through (free text such as a reason); nothing else
    invisible is allowed anywhere.
    """
    for char in value:
        if multiline and char in "\n\t":
            continue
        kind = _kind(char)
        if kind is not None:
            return texts.TEXT_BAD_CHAR.format(label=label, kind=kind, code=f"U+{ord(char):04X}")
    if len(value) > max_length:
        return texts.TEXT_TOO_LONG.format(label=label, max=max_length, length=len(value))
    return None


def require(value: str, label: str, max_length: int, *, multiline: bool = False) -> str:
    """``value`` if it is fine; else a Refusal with the message of :func:`problem`."""
    message = problem(value, label, max_length, multiline=multiline)
    if message is not None:
        raise Refusal(message)
    return value


def code_problem(value: str, label: str) -> str | None:
    """Class codes are ``[A-Za-z0-9_-]{1,32}``; a message naming the rule otherwise."""
    if CODE.fullmatch(value):
        return None
    return problem(value, label, 32) or texts.CODE_BAD.format(label=label, value=value[:40])


def visible(text: str) -> str:
    """``text`` without the characters :func:`problem` refuses (chat text: a zero-width space copied
    into ``签​到`` should not make it unknown, and a NUL must not reach the database)."""
    if text.isprintable():
        # Issue 13: every identifier and label of every message comes through here; the test per character
        # was three quarters of bot.stream.to_incoming's CPU. A printable text has no character of the
        # categories _kind refuses (Cc, Cf, Cs, Co, Zl, Zp: str.isprintable is False for each of them, and
        # NUL, the bidi and the zero-width characters are among them): it is returned as it is.
        return text
    return "".join(char for char in text if char in "\n\t" or _kind(char) is None)


def fold(text: str) -> str:
    """NFKC: full-width spaces, letters and digits become the ordinary ones; whitespace is folded."""
    return " ".join(unicodedata.normalize("NFKC", text).split())


def spaced_prefix(text: str, word: str) -> int | None:
    """Where ``text`` continues after ``word`` written with spaces inside it (``签 到`` for ``签到``,
    as a full-width space folds to a space); None if ``text`` does not start so."""
    position = 0
    for char in word:
        while position < len(text) and text[position] == " ":
            position += 1
        if position >= len(text) or text[position] != char:
            return None
        position += 1
    return position
