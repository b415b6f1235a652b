"""Issue 9 items 5 and 6: admin logins resist guessing without letting a stranger lock a real user out;
a session ends on the server at logout and password change; the admin listens on this machine only
unless told otherwise; a guessable session key is refused."""

from __future__ import annotations

from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from admin import AdminConfigError, create_app
from admin.serve import AdminServer
from bot.settings import load
from handlers import accounts
from storage.models import LoginAttempt
from tests.security.conftest import csrf_token, make_app

ATTACKER, OFFICE = "203.0.113.7", "198.51.100.20"


@pytest.fixture
def site(factory, tmp_path):
    with factory.begin() as s:
        password = accounts.add_user(s, "admin", "admin")
    app = make_app(factory, tmp_path)
    return SimpleNamespace(app=app, password=password, factory=factory)


def client_at(app, address: str):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def try_login(client, name: str, password: str):
    token = csrf_token(client.get("/login").get_data(as_text=True))
    return client.post("/login", data={"name": name, "password": password, "csrf_token": token})


def attempts(factory) -> int:
    with factory() as s:
        return s.scalar(select(func.count()).select_from(LoginAttempt))


def test_a_stranger_cannot_lock_the_real_user_out(site):
    attacker = client_at(site.app, ATTACKER)
    statuses = [try_login(attacker, "admin", f"guess-{i}").status_code for i in range(6)]
    assert statuses == [401] * 5 + [429]  # the attacker's address is locked for this name
    assert try_login(attacker, "admin", site.password).status_code == 429  # even with the right password
    office = client_at(site.app, OFFICE)
    response = try_login(office, "admin", site.password)
    assert response.status_code == 302  # the real user, from their own address, signs in
    assert office.get("/").status_code == 200


def test_one_address_cannot_try_name_after_name(site):
    attacker = client_at(site.app, ATTACKER)
    statuses = [try_login(attacker, f"user{i}", "123456").status_code for i in range(40)]
    assert statuses[:20] == [401] * 20
    assert set(statuses[20:]) == {429}  # the rest are refused without trying, …
    assert "来自您所在网络地址的登录失败次数过多" in try_login(attacker, "admin", "x").get_data(as_text=True)
    assert attempts(site.factory) == 20  # … and leave no row behind
    assert try_login(client_at(site.app, OFFICE), "admin", site.password).status_code == 302


def test_a_cookie_copied_before_logout_is_worthless_after_it(site):
    browser = client_at(site.app, OFFICE)
    assert try_login(browser, "admin", site.password).status_code == 302
    stolen = browser.get_cookie("dingclass_session").value
    thief = client_at(site.app, ATTACKER)
    thief.set_cookie("dingclass_session", stolen)
    assert thief.get("/").status_code == 200  # the copy works while the session lives …
    token = csrf_token(browser.get("/").get_data(as_text=True))
    assert browser.post("/logout", data={"csrf_token": token}).status_code == 302
    response = thief.get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]  # … not after logout


def test_a_new_password_ends_every_session_of_the_user(site):
    browser = client_at(site.app, OFFICE)
    try_login(browser, "admin", site.password)
    assert browser.get("/").status_code == 200
    with site.factory.begin() as s:
        new = accounts.set_password(s, "admin")
    assert browser.get("/").status_code == 302
    assert try_login(client_at(site.app, OFFICE), "admin", site.password).status_code == 401
    assert try_login(client_at(site.app, OFFICE), "admin", new).status_code == 302


@pytest.mark.parametrize("key", ["k", "short-but-not-empty", "x" * 31])
def test_a_guessable_secret_key_is_refused(factory, key):
    with pytest.raises(AdminConfigError, match="至少需要 32 字节"):
        create_app({"SECRET_KEY": key, "SESSION_FACTORY": factory})


def test_the_admin_listens_on_this_machine_only_unless_told(factory, tmp_path):
    assert load({}).admin_host == "127.0.0.1"
    assert load({"DINGCLASS_ADMIN_HOST": "0.0.0.0"}).admin_host == "0.0.0.0"
    settings = SimpleNamespace(**{**load({"DINGCLASS_SECRET_KEY": "k" * 32}).__dict__, "admin_port": 0})
    server = AdminServer(settings, factory)
    try:
        assert server.server.effective_host == "127.0.0.1"
    finally:
        server.server.close()
