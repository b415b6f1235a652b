"""The command registry: each chat command (and each scheduler job) is declared once, next to its code.

    @command("签到", aliases=("打卡",), roles=TRAINEE, where=IN_GROUP)
    def check_in(ctx: Ctx) -> str:
        \"\"\"签到：在签到时间内发送\"\"\"

    @job("roll_call")                       # a JobEvent("roll_call", class_code, slot, now) runs it
    def roll_call(ctx: Ctx) -> str: ...

The decorators only describe the function (``func.command``); nothing is registered by importing a
module. ``handlers.commands.build_registry()`` lists every handler and builds the ``Registry`` at
start-up; a duplicate word fails there. The docstring's first line is the ``帮助`` text. Roles are
checked by the dispatcher only (``handlers.dispatch``), never inside a handler.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from handlers.hygiene import spaced_prefix

if TYPE_CHECKING:
    from handlers.identity import Actor
    from handlers.messages import Event, Incoming
    from storage.files import FileStore
    from storage.models import Klass


class Role(StrEnum):
    ANYONE = "anyone"  # also people the bot does not know yet
    TRAINEE = "trainee"
    TEACHER = "teacher"
    CLASS_TEACHER = "class_teacher"
    INSPECTOR = "inspector"
    SCHEDULER = "scheduler"  # a scheduler job; never a person


ANYONE = frozenset({Role.ANYONE})
TRAINEE = frozenset({Role.TRAINEE})
STAFF = frozenset({Role.TEACHER, Role.CLASS_TEACHER, Role.INSPECTOR})
CLASS_TEACHER = frozenset({Role.CLASS_TEACHER})
INSPECTOR = frozenset({Role.INSPECTOR})
SCHEDULER = frozenset({Role.SCHEDULER})

IN_GROUP = "group"
IN_PRIVATE = "private"
ANYWHERE = "any"


class DuplicateCommand(RuntimeError):
    pass


@dataclass(frozen=True)
class Services:
    """What handlers may use besides the session, set up once at start-up (``Dispatcher``)."""

    registry: Registry
    tz: ZoneInfo
    files: FileStore | None = None  # the file store pictures are downloaded into
    signer: Any = None  # storage.ledger_keys.Signer when the ledger key file is here (signs the report's heads)


@dataclass(frozen=True)
class Ctx:
    """What a handler sees: no SDK types, no I/O but the session (and ``services``).

    ``message`` is the chat message (for a ``JobEvent``: None); ``event`` the event being handled;
    ``now`` is in the display time zone; ``args`` the text after the command word (a job: its slot).
    """

    session: Session
    message: Incoming | None
    actor: Actor
    klass: Klass | None
    now: datetime
    args: str
    event: Event | None = None
    services: Services | None = None

    @property
    def files(self) -> FileStore | None:
        """The file store pictures are downloaded into, when the handler runs with one."""
        return self.services.files if self.services is not None else None


Handler = Callable[[Ctx], "str | list[str]"]
ClassFinder = Callable[[Session, str, "Klass | None"], "Klass | None"]


@dataclass(frozen=True)
class Command:
    """One chat command or scheduler job.

    ``acts_on(session, args, class_here)`` names the class the command acts on when that is not the
    class of the chat (e.g. the code in ``绑定班级 <编号>``, the class of leave request ``准假 <编号>``);
    the dispatcher then checks roles in *that* class. None keeps the chat's class.
    ``on_download`` runs when a picture sent with this command is downloaded (``DownloadEvent``);
    ``pictures_after(session, actor, now)`` says that a picture the same person sends alone, soon after
    the command, belongs to it too (e.g. the screenshots of an inspection, ``检查``).
    """

    word: str
    func: Handler
    aliases: tuple[str, ...] = ()
    roles: frozenset[Role] = ANYONE
    where: str = ANYWHERE
    acts_on: ClassFinder | None = None
    on_download: Handler | None = None
    pictures_after: Callable[[Session, Actor, datetime], bool] | None = None
    is_job: bool = False

    @property
    def help(self) -> str:
        return (self.func.__doc__ or self.word).strip().splitlines()[0]


def command(word: str, *, aliases: tuple[str, ...] = (), roles: frozenset[Role] = ANYONE, where: str = ANYWHERE,
            acts_on: ClassFinder | None = None, on_download: Handler | None = None,
            pictures_after: Callable[[Session, Actor, datetime], bool] | None = None):
    """Describe a chat command; list the function in ``build_registry()`` to make it answer."""

    def decorate(func: Handler) -> Handler:
        func.command = Command(word, func, aliases, roles, where, acts_on, on_download, pictures_after)
        return func

    return decorate


def job(kind: str, *, roles: frozenset[Role] = SCHEDULER):
    """Describe the handler of ``JobEvent(kind, …)``; list it in ``build_registry()``."""

    def decorate(func: Handler) -> Handler:
        func.command = Command(kind, func, roles=roles, is_job=True)
        return func

    return decorate


class Registry:
    """The chat words and job kinds, each bound to one ``Command``."""

    def __init__(self, handlers: Iterable[Handler | Command] = ()) -> None:
        self._by_word: dict[str, Command] = {}
        self._jobs: dict[str, Command] = {}
        self.commands: list[Command] = []  # chat commands, in the order listed (帮助 shows them so)
        for handler in handlers:
            self.add(handler)

    def add(self, handler: Handler | Command) -> None:
        cmd = handler if isinstance(handler, Command) else getattr(handler, "command", None)
        if cmd is None:
            raise TypeError(f"{handler!r} is not decorated with @command or @job")
        if cmd.is_job:
            if cmd.word in self._jobs:
                raise DuplicateCommand(f"job {cmd.word!r} declared twice")
            self._jobs[cmd.word] = cmd
            return
        for word in (cmd.word, *cmd.aliases):
            if word in self._by_word:
                raise DuplicateCommand(f"command word {word!r} declared twice "
                                       f"({self._by_word[word].func.__qualname__} and {cmd.func.__qualname__})")
            self._by_word[word] = cmd
        self.commands.append(cmd)

    def get(self, word: str | None) -> Command | None:
        """The chat command of exactly this word (or alias)."""
        return self._by_word.get(word) if word else None

    def job(self, kind: str) -> Command | None:
        return self._jobs.get(kind)

    def resolve(self, text: str) -> tuple[Command | None, str]:
        """The command a message text starts with, and the rest of the text as its arguments."""
        for word in sorted(self._by_word, key=len, reverse=True):
            glued = len(word) > 1 and not word.isascii() and text.startswith(word)  # "准假3" = "准假 3"
            if text == word or text.startswith(word + " ") or glued:
                rest = text[len(word):].strip()
                return self._by_word[word], rest
        for word in sorted(self._by_word, key=len, reverse=True):  # "签 到": a space typed inside the word
            end = spaced_prefix(text, word) if len(word) > 1 and not word.isascii() else None
            if end is not None and (end == len(text) or text[end] == " "):
                return self._by_word[word], text[end:].strip()
        return None, text
