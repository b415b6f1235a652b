"""Import every module that declares chat commands, so the registry knows them all at start-up."""

from handlers import attendance, binding, help, leave, mine, photos, stats  # noqa: F401
