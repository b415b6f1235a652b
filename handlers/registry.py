"""The command registry: each chat command is declared once, next to its code.

    @command("签到", aliases=("打卡",), roles=TRAINEE, where=IN_GROUP)
    def check_in(ctx: Ctx) -> str:
        \"\"\"签到：在签到时间内发送\"\"\"

The docstring's first line is the ``帮助`` text. A duplicate word fails start-up. Roles are checked
by the dispatcher only (``handlers.dispatch``), never inside a handler.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

if TYPE_CHECKING:
    from handlers.identity import Actor
    from handlers.messages import Incoming
    from storage.models import Klass


class Role(StrEnum):
    ANYONE = "anyone"  # also people the bot does not know yet
    TRAINEE = "trainee"
    TEACHER = "teacher"
    CLASS_TEACHER = "class_teacher"
    INSPECTOR = "inspector"


ANYONE = frozenset({Role.ANYONE})
TRAINEE = frozenset({Role.TRAINEE})
STAFF = frozenset({Role.TEACHER, Role.CLASS_TEACHER, Role.INSPECTOR})
CLASS_TEACHER = frozenset({Role.CLASS_TEACHER})
INSPECTOR = frozenset({Role.INSPECTOR})

IN_GROUP = "group"
IN_PRIVATE = "private"
ANYWHERE = "any"


class DuplicateCommand(RuntimeError):
    pass


@dataclass(frozen=True)
class Ctx:
    """What a handler sees: no SDK types, no I/O but the session."""

    session: Session
    message: Incoming
    actor: Actor
    klass: Klass | None
    now: datetime
    args: str


Handler = Callable[[Ctx], "str | list[str]"]


@dataclass(frozen=True)
class Command:
    word: str
    aliases: tuple[str, ...]
    roles: frozenset[Role]
    where: str
    func: Handler

    @property
    def help(self) -> str:
        return (self.func.__doc__ or self.word).strip().splitlines()[0]


class Registry:
    def __init__(self) -> None:
        self._by_word: dict[str, Command] = {}
        self.commands: list[Command] = []

    def add(self, cmd: Command) -> None:
        for word in (cmd.word, *cmd.aliases):
            if word in self._by_word:
                raise DuplicateCommand(f"command word {word!r} declared twice "
                                       f"({self._by_word[word].func.__qualname__} and {cmd.func.__qualname__})")
            self._by_word[word] = cmd
        self.commands.append(cmd)

    def resolve(self, text: str) -> tuple[Command | None, str]:
        """The command a message text starts with, and the rest of the text as its arguments."""
        for word in sorted(self._by_word, key=len, reverse=True):
            glued = len(word) > 1 and not word.isascii() and text.startswith(word)  # "准假3" = "准假 3"
            if text == word or text.startswith(word + " ") or glued:
                rest = text[len(word):].strip()
                return self._by_word[word], rest
        return None, text


REGISTRY = Registry()


def command(word: str, *, aliases: tuple[str, ...] = (), roles: frozenset[Role] = ANYONE,
            where: str = ANYWHERE, registry: Registry = REGISTRY):
    def decorate(func: Handler) -> Handler:
        registry.add(Command(word, aliases, roles, where, func))
        return func

    return decorate
