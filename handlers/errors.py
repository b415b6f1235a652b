"""The one exception a user causes: its text is the reply (chat) or the message (CLI, admin)."""


class Refusal(ValueError):
    """Raised when a request is refused for a reason the user can act on; ``str()`` is Chinese."""
