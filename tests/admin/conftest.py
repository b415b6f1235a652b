"""Fixtures for the admin: the app on the test database, a signed-in client per user, the shared world.

``world`` (module scope) is built once per test module on the session's database and emptied after
the module; modules that change data use ``fresh_world`` (per test) instead, never both.
"""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

import pytest
from argon2 import PasswordHasher

from admin import create_app
from handlers import accounts
from storage.db import make_session_factory
from tests.admin.world import NOW, World, build_world
from tests.db_fixtures import _empty

CHEAP_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)  # tests only: fast logins


@pytest.fixture(scope="session", autouse=True)
def cheap_passwords():
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(accounts, "_hasher", CHEAP_HASHER)
        yield


def make_app(factory, data_dir, now=NOW, **extra):
    return create_app({"SECRET_KEY": "test-secret-key-of-at-least-32-bytes", "SESSION_FACTORY": factory, "NOW": lambda: now,
                       "DATA_DIR": data_dir, "TIMEZONE": ZoneInfo("Asia/Shanghai"), **extra})


@pytest.fixture(scope="module")
def world(engine, tmp_path_factory) -> World:
    factory = make_session_factory(engine)
    data_dir = tmp_path_factory.mktemp("admin-data")
    built = build_world(factory, data_dir / "files")
    built.data_dir = data_dir
    yield built
    _empty(engine)


@pytest.fixture
def fresh_world(factory, tmp_path) -> World:
    built = build_world(factory, tmp_path / "files")
    built.data_dir = tmp_path
    return built


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def login(client, name: str, password: str):
    token = csrf_token(client.get("/login").get_data(as_text=True))
    return client.post("/login", data={"name": name, "password": password, "csrf_token": token})


class Clients:
    """``clients[name]`` → a test client signed in as that user (made on first use)."""

    def __init__(self, app, world: World) -> None:
        self.app, self.world, self._made = app, world, {}

    def __getitem__(self, name: str):
        if name not in self._made:
            client = self.app.test_client()
            if name != "anonymous":
                response = login(client, name, self.world.passwords[name])
                assert response.status_code == 302, response.get_data(as_text=True)
            self._made[name] = client
        return self._made[name]


@pytest.fixture(scope="module")
def app(world):
    return make_app(world.factory, world.data_dir)


@pytest.fixture(scope="module")
def clients(app, world) -> Clients:
    return Clients(app, world)


@pytest.fixture
def fresh_app(fresh_world):
    return make_app(fresh_world.factory, fresh_world.data_dir)


@pytest.fixture
def fresh_clients(fresh_app, fresh_world) -> Clients:
    return Clients(fresh_app, fresh_world)
