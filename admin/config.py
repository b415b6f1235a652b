"""The admin's configuration: from a settings object (``dingclass run``) or the same environment.

``admin`` may not import ``bot`` (imports run one way), so ``create_app`` takes the bot's
``Settings`` as a value (``config={"SETTINGS": settings}``) and, without one, reads the very same
environment variables with the same defaults (PRODUCT.md "Environment"); a test keeps the two equal.
The secret key has no default anywhere.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from storage.db import sqlite_url

LOGIN_MAX_FAILURES = 5  # product setting, not policy: failed logins per (name, address) …
LOGIN_WINDOW_MINUTES = 15  # … within this many minutes lock that pair until the window passes
LOGIN_MAX_FAILURES_PER_ADDRESS = 20  # failed logins from one address, whatever the names, in the window
SECRET_KEY_MIN_BYTES = 32  # a session key shorter than this can be guessed offline from one cookie


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def from_settings(settings: Any) -> dict[str, Any]:
    """Config from a ``bot.settings.Settings`` (duck-typed: admin does not import bot)."""
    return {
        "SECRET_KEY": settings.secret_key,
        "DATABASE_URL": settings.database_url,
        "DATA_DIR": Path(settings.data_dir),
        "TIMEZONE": settings.timezone,
        "SESSION_COOKIE_SECURE": _truthy(os.environ.get("DINGCLASS_COOKIE_SECURE")),
        "LEDGER_KEY": Path(settings.ledger_key) if getattr(settings, "ledger_key", None) else None,
    }


def from_environment(env: dict[str, str] | None = None) -> dict[str, Any]:
    """Config from the environment, the same variables and defaults as ``bot.settings.load``."""
    env = dict(os.environ if env is None else env)
    data_dir = Path(env.get("DINGCLASS_DATA_DIR") or "./var")
    return {
        "SECRET_KEY": env.get("DINGCLASS_SECRET_KEY") or None,
        "DATABASE_URL": env.get("DATABASE_URL") or sqlite_url(data_dir),
        "DATA_DIR": data_dir,
        "TIMEZONE": ZoneInfo(env.get("DINGCLASS_TIMEZONE") or "Asia/Shanghai"),
        "SESSION_COOKIE_SECURE": _truthy(env.get("DINGCLASS_COOKIE_SECURE")),
        "LEDGER_KEY": Path(env.get("DINGCLASS_LEDGER_KEY") or _default_ledger_key(env)),
    }


def _default_ledger_key(env: dict[str, str]) -> Path:
    """As ``bot.settings.default_ledger_key`` (a test keeps the two equal)."""
    base = Path(env["XDG_CONFIG_HOME"]) if env.get("XDG_CONFIG_HOME") else Path.home() / ".config"
    return base / "dingclass" / "ledger.key"


DEFAULTS: dict[str, Any] = {
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_NAME": "dingclass_session",
    "PERMANENT_SESSION_LIFETIME": 8 * 3600,  # a working day
    "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session
    "LOGIN_MAX_FAILURES": LOGIN_MAX_FAILURES,
    "LOGIN_WINDOW_MINUTES": LOGIN_WINDOW_MINUTES,
    "LOGIN_MAX_FAILURES_PER_ADDRESS": LOGIN_MAX_FAILURES_PER_ADDRESS,
    "MAX_CONTENT_LENGTH": 1 * 1024 * 1024,  # forms only; nothing is uploaded here
}
