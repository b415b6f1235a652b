"""The one exception a user causes: its text is the reply (chat) or the message (CLI, admin)."""


class Refusal(ValueError):
    """Raised when a request is refused for a reason the user can act on; ``str()`` is Chinese."""


class RunAlone(Exception):
    """A unit of work must run again in a transaction of its own: its handler ran without a savepoint
    (``Dispatcher(optimistic=True)``) and refused or failed after writing, so what it wrote cannot be
    taken back alone. The group committer (``bot.intake``) rolls the batch back and runs it again; the
    dispatcher then gives that message a savepoint."""
