"""`dingclass run` as a real process against the simulator: it answers, and SIGTERM stops it cleanly."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys


import requests
from sqlalchemy import func, select

from storage.models import OutboxMessage, Punch

from .classroom import build_classroom, class_time



def dingclass(*args: str, env: dict) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", "from bot.cli import main; main()", *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_run_serves_bot_and_admin_and_stops_cleanly_on_sigterm(sim, engine, factory, tmp_path):
    sim.clock = lambda: class_time("08:20")
    group, users = build_classroom(sim, factory, 5)
    port = free_port()
    env = {**os.environ, "DINGTALK_CLIENT_ID": sim.client_id, "DINGTALK_CLIENT_SECRET": sim.client_secret,
           "DINGTALK_OPENAPI_ENDPOINT": sim.endpoint, "DINGCLASS_DATA_DIR": str(tmp_path),
           "DATABASE_URL": engine.url.render_as_string(hide_password=False),
           "DINGCLASS_SECRET_KEY": "test-secret-of-at-least-32-bytes", "DINGCLASS_ADMIN_PORT": str(port)}
    proc = dingclass("run", env=env)
    try:
        sim.wait_connected(1, timeout=60)
        for user in users:
            sim.say(user, "签到", group)
        sim.wait_for_acks(5, timeout=30)
        login = requests.get(f"http://127.0.0.1:{port}/login", timeout=10)
        assert login.status_code == 200 and "登录" in login.text
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert "机器人已连接" in out and f"127.0.0.1:{port}" in out
    assert sorted(s.text for s in sim.sent(group)) == ["签到成功 08:20（上午）"] * 5
    with factory() as s:
        assert s.scalar(select(func.count()).select_from(Punch)) == 5
        assert s.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == "sent")) == 5


def test_run_without_credentials_says_what_is_missing(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("DINGTALK_")}
    env["DINGCLASS_DATA_DIR"] = str(tmp_path)
    proc = dingclass("run", "--only", "bot", env=env)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 1
    assert "DINGTALK_CLIENT_ID" in err and "Traceback" not in err
