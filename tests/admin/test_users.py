"""Account maintenance in the admin (issue 16): the system administrator unlocks, disables, enables, resets
passwords and revokes tokens from a page; each change works at once, is in the ledger, and is the admin's only."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from storage.models import LedgerEvent, User
from tests.admin.conftest import csrf_token, login


def user_id(world, name: str) -> int:
    with world.factory() as s:
        return s.scalar(select(User.id).where(User.name == name))


def act(client, name_id: int, action: str):
    token = csrf_token(client.get("/users").get_data(as_text=True))
    return client.post(f"/users/{name_id}/{action}", data={"csrf_token": token})


def events(world, kind: str) -> list[str]:
    with world.factory() as s:
        return list(s.scalars(select(LedgerEvent.actor).where(LedgerEvent.type == kind)))


def test_a_locked_user_is_unlocked_from_the_page_and_logs_in(fresh_world, fresh_app, fresh_clients):
    locked = fresh_app.test_client()
    for _ in range(5):
        login(locked, "inst_lc", "wrong")
    assert login(locked, "inst_lc", fresh_world.passwords["inst_lc"]).status_code == 429
    page = fresh_clients["admin"].get("/users").get_data(as_text=True)
    assert "解除锁定" in page
    response = act(fresh_clients["admin"], user_id(fresh_world, "inst_lc"), "unlock")
    assert response.status_code == 303
    assert "已解除账号 inst_lc 的登录锁定（清除 5 次失败记录）" in fresh_clients["admin"].get("/users").get_data(as_text=True)
    assert login(locked, "inst_lc", fresh_world.passwords["inst_lc"]).status_code == 302
    assert events(fresh_world, "user.unlocked") == ["user:admin"]


def test_a_new_password_is_shown_once_works_and_ends_old_sessions(fresh_world, fresh_clients, fresh_app):
    old = fresh_clients["inst_lc"]
    assert old.get("/").status_code == 200
    response = act(fresh_clients["admin"], user_id(fresh_world, "inst_lc"), "reset-password")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    password = re.search(r'<code class="secret">([^<]+)</code>', html).group(1)
    assert old.get("/").status_code == 302  # signed out everywhere
    assert login(fresh_app.test_client(), "inst_lc", fresh_world.passwords["inst_lc"]).status_code == 401
    assert login(fresh_app.test_client(), "inst_lc", password).status_code == 302
    assert password not in fresh_clients["admin"].get("/users").get_data(as_text=True)  # shown once
    assert events(fresh_world, "user.password_changed") == ["user:admin"]


def test_disable_then_enable_from_the_page(fresh_world, fresh_clients, fresh_app):
    target = user_id(fresh_world, "city")
    act(fresh_clients["admin"], target, "disable")
    assert login(fresh_app.test_client(), "city", fresh_world.passwords["city"]).status_code == 401
    assert "已停用" in fresh_clients["admin"].get("/users").get_data(as_text=True)
    act(fresh_clients["admin"], target, "enable")
    assert login(fresh_app.test_client(), "city", fresh_world.passwords["city"]).status_code == 302
    assert events(fresh_world, "user.disabled") == events(fresh_world, "user.enabled") == ["user:admin"]


def test_the_admin_cannot_disable_the_account_in_use(fresh_world, fresh_clients):
    response = act(fresh_clients["admin"], user_id(fresh_world, "admin"), "disable")
    assert response.status_code == 303
    assert "不能停用自己正在使用的账号" in fresh_clients["admin"].get("/users").get_data(as_text=True)
    assert fresh_clients["admin"].get("/users").status_code == 200


def test_revoking_tokens_stops_the_api(fresh_world, fresh_clients):
    api = {"Authorization": f"Bearer {fresh_world.tokens['city']}"}
    assert fresh_clients["anonymous"].get("/api/v1/classes", headers=api).status_code == 200
    act(fresh_clients["admin"], user_id(fresh_world, "city"), "revoke-tokens")
    assert fresh_clients["anonymous"].get("/api/v1/classes", headers=api).status_code == 401


@pytest.mark.parametrize("name", ["city", "dist_k", "inst_lc", "王芳"])
def test_only_the_admin_manages_accounts(fresh_world, fresh_clients, name):
    client = fresh_clients[name]
    assert client.get("/users").status_code == 403
    assert "账号</a>" not in client.get("/").get_data(as_text=True)
    token = csrf_token(client.get("/").get_data(as_text=True))
    target = user_id(fresh_world, "inst_qs")
    assert client.post(f"/users/{target}/disable", data={"csrf_token": token}).status_code == 403
    with fresh_world.factory() as s:
        assert s.scalar(select(User.active).where(User.name == "inst_qs")) is True


def test_an_action_without_its_csrf_token_is_refused(fresh_world, fresh_clients):
    response = fresh_clients["admin"].post(f"/users/{user_id(fresh_world, 'city')}/disable")
    assert response.status_code == 400
    with fresh_world.factory() as s:
        assert s.scalar(select(User.active).where(User.name == "city")) is True
