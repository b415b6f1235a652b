"""Starting the admin: the secret key is required, settings come from the bot's or the same environment,
and it is served by waitress on a real socket."""

from __future__ import annotations

import json
import urllib.request
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from admin import AdminConfigError, create_app
from admin.config import from_environment
from admin.serve import AdminServer
from bot.settings import load

NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback only, never a proxy


def test_no_secret_key_refuses_to_start(monkeypatch, factory):
    monkeypatch.delenv("DINGCLASS_SECRET_KEY", raising=False)
    with pytest.raises(AdminConfigError, match="DINGCLASS_SECRET_KEY"):
        create_app({"SESSION_FACTORY": factory})


def test_secret_key_from_the_environment(monkeypatch, factory):
    monkeypatch.setenv("DINGCLASS_SECRET_KEY", "from-env-" + "k" * 23)
    assert create_app({"SESSION_FACTORY": factory}).secret_key == "from-env-" + "k" * 23


@pytest.mark.parametrize("env", [
    {},
    {"DINGCLASS_DATA_DIR": "/srv/dc", "DINGCLASS_TIMEZONE": "Asia/Urumqi", "DINGCLASS_SECRET_KEY": "k"},
    {"DATABASE_URL": "postgresql://u@h/db", "DINGCLASS_DATA_DIR": "/x"},
    {"DINGCLASS_LEDGER_KEY": "/etc/dingclass/ledger.key"},
    {"XDG_CONFIG_HOME": "/home/ops/.config"},
])
def test_environment_is_read_exactly_like_the_bot_settings(env):
    """admin may not import bot (imports run one way), so it mirrors bot.settings.load; this keeps them equal."""
    mine, bots = from_environment(env), load(env)
    assert (mine["SECRET_KEY"], mine["DATABASE_URL"], mine["DATA_DIR"], mine["TIMEZONE"], mine["LEDGER_KEY"]) == (
        bots.secret_key, bots.database_url, bots.data_dir, bots.timezone, bots.ledger_key)


def test_settings_object_configures_the_app(factory, tmp_path):
    settings = SimpleNamespace(secret_key="s3cret" * 6, database_url="sqlite://", data_dir=tmp_path,
                               timezone=ZoneInfo("Asia/Shanghai"), admin_port=0)
    app = create_app({"SETTINGS": settings, "SESSION_FACTORY": factory})
    assert app.secret_key == "s3cret" * 6 and app.config["DATA_DIR"] == tmp_path
    assert app.config["SESSION_COOKIE_HTTPONLY"] and app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_waitress_serves_the_admin_on_a_free_port(factory, tmp_path):
    settings = SimpleNamespace(secret_key="s" * 32, database_url="sqlite://", data_dir=tmp_path,
                               timezone=ZoneInfo("Asia/Shanghai"), admin_port=0)
    server = AdminServer(settings, factory, host="127.0.0.1").start()
    try:
        with NO_PROXY.open(server.url + "/api/v1/openapi.json", timeout=10) as response:
            assert response.headers["Server"] == "dingclass"
            assert json.load(response)["openapi"].startswith("3.")
        with NO_PROXY.open(server.url + "/login", timeout=10) as response:
            assert "登录管理后台" in response.read().decode("utf-8")
    finally:
        server.stop()
