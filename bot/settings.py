"""Settings from the environment (PRODUCT.md "Environment"); secrets never have defaults in code."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.failures import check_database_url
from storage.db import sqlite_url




class SettingsError(RuntimeError):
    """A required setting is missing or malformed; the message says which, in Chinese."""


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    policy: str
    timezone: ZoneInfo
    admin_port: int
    secret_key: str | None
    client_id: str | None
    client_secret: str | None
    robot_code: str | None
    openapi_endpoint: str
    ledger_key: Path
    admin_host: str = "127.0.0.1"  # only this machine, unless DINGCLASS_ADMIN_HOST says otherwise
    drive_space_id: str | None = None  # DingTalk Drive (钉盘) space for archives (R18)
    drive_union_id: str | None = None  # the unionId the Drive calls are made as
    drive_parent_id: str = "0"  # the folder (dentry id) archives go in; 0: the space's root
    stop_seconds: float = 20.0  # SIGTERM: at most this long to finish and send (DINGCLASS_STOP_SECONDS)
    send_threads: int = 4  # concurrent outbox senders per process (DINGCLASS_SEND_THREADS)
    send_timeout: float = 5.0  # seconds per DingTalk call of the outbox (DINGCLASS_SEND_TIMEOUT)

    @property
    def drive_configured(self) -> bool:
        return bool(self.drive_space_id and self.drive_union_id)

    def require_drive(self) -> tuple[str, str, str]:
        if not self.drive_configured:
            raise SettingsError("缺少钉盘设置：请设置环境变量 DINGCLASS_DRIVE_SPACE_ID 和 DINGCLASS_DRIVE_UNION_ID"
                                "（可选 DINGCLASS_DRIVE_PARENT_ID），并设置钉钉应用凭证")
        return self.drive_space_id, self.drive_union_id, self.drive_parent_id

    def require_ledger_key_outside_data_dir(self) -> Path:
        """The ledger key signs what the database holds: it must not sit beside the database."""
        key, data = self.ledger_key.expanduser().resolve(), self.data_dir.resolve()
        if key == data or data in key.parents:
            raise SettingsError(f"台账签名密钥 {key} 位于数据目录 {data} 之内：密钥必须放在数据目录和数据库备份之外"
                                "（用环境变量 DINGCLASS_LEDGER_KEY 指定别处的路径）")
        return key

    def require_dingtalk(self) -> tuple[str, str]:
        if not (self.client_id and self.client_secret):
            raise SettingsError("缺少钉钉应用凭证：请设置环境变量 DINGTALK_CLIENT_ID 和 DINGTALK_CLIENT_SECRET")
        return self.client_id, self.client_secret



def load(env: dict[str, str] | None = None) -> Settings:
    env = dict(os.environ if env is None else env)
    data_dir = Path(env.get("DINGCLASS_DATA_DIR") or "./var")
    try:
        port = int(env.get("DINGCLASS_ADMIN_PORT") or 8000)
    except ValueError:
        raise SettingsError("DINGCLASS_ADMIN_PORT 必须是端口号（整数）") from None
    try:
        tz = ZoneInfo(env.get("DINGCLASS_TIMEZONE") or "Asia/Shanghai")
    except (KeyError, ValueError):
        raise SettingsError(f"DINGCLASS_TIMEZONE 不是有效的时区：{env.get('DINGCLASS_TIMEZONE')}") from None
    database_url = env.get("DATABASE_URL") or sqlite_url(data_dir)
    if (problem := check_database_url(database_url)) is not None:
        raise SettingsError(problem)
    client_id = env.get("DINGTALK_CLIENT_ID") or None
    stop_seconds = _number(env, "DINGCLASS_STOP_SECONDS", 20.0, 1.0, 600.0)
    send_threads = int(_number(env, "DINGCLASS_SEND_THREADS", 4, 1, 32, integer=True))
    send_timeout = _number(env, "DINGCLASS_SEND_TIMEOUT", 5.0, 0.5, 60.0)
    return Settings(
        data_dir=data_dir,
        database_url=database_url,
        policy=env.get("DINGCLASS_POLICY") or "baotou-2020",
        timezone=tz,
        admin_port=port,
        secret_key=env.get("DINGCLASS_SECRET_KEY") or None,
        client_id=client_id,
        client_secret=env.get("DINGTALK_CLIENT_SECRET") or None,
        robot_code=env.get("DINGTALK_ROBOT_CODE") or client_id,
        openapi_endpoint=(env.get("DINGTALK_OPENAPI_ENDPOINT") or "https://api.dingtalk.com").rstrip("/"),
        admin_host=(env.get("DINGCLASS_ADMIN_HOST") or "127.0.0.1").strip(),
        ledger_key=Path(env.get("DINGCLASS_LEDGER_KEY") or default_ledger_key(env)),
        drive_space_id=(env.get("DINGCLASS_DRIVE_SPACE_ID") or "").strip() or None,
        drive_union_id=(env.get("DINGCLASS_DRIVE_UNION_ID") or "").strip() or None,
        drive_parent_id=(env.get("DINGCLASS_DRIVE_PARENT_ID") or "").strip() or "0",
        stop_seconds=stop_seconds,
        send_threads=send_threads,
        send_timeout=send_timeout,
    )


def _number(env: dict[str, str], name: str, default: float, low: float, high: float, *,
            integer: bool = False) -> float:
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = int(raw) if integer else float(raw)
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        kind = "整数" if integer else "数"
        raise SettingsError(f"{name} 必须是 {low:g} 到 {high:g} 之间的{kind}，而不是 {raw!r}")
    return value


def default_ledger_key(env: dict[str, str]) -> Path:
    """Where ``dingclass init`` puts the ledger key when DINGCLASS_LEDGER_KEY is unset: the user's
    configuration directory, outside any data directory."""
    base = Path(env["XDG_CONFIG_HOME"]) if env.get("XDG_CONFIG_HOME") else Path.home() / ".config"
    return base / "dingclass" / "ledger.key"
