"""帮助: the commands the asker's role may use, from the registry's help lines."""

from __future__ import annotations

from handlers.texts import chat as texts
from handlers.registry import ANYONE, Ctx, command


@command("帮助", aliases=("help", "?", "？"), roles=ANYONE)
def help_(ctx: Ctx) -> str:
    """帮助：列出你可以使用的命令"""
    lines = [f"· {cmd.help}" for cmd in ctx.services.registry.commands if cmd.roles & ctx.actor.roles]
    return texts.HELP_HEADER + "\n" + "\n".join(lines)
