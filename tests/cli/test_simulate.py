"""`dingclass simulate`: a local DingTalk a person can point `dingclass run` at and chat in."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import requests

from bot.demo import free_port


def _ctrl_c_works() -> None:
    """A person's Ctrl-C reaches the simulator even when the tests run as a background job (``… &`` in a
    non-interactive shell ignores SIGINT, and a child inherits that: it would never stop)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _start(tmp_path):
    """The simulator on a free port and the next (its Stream gateway); another port when a parallel test took one
    of them between the check and the start."""
    env = {**os.environ, "DINGCLASS_DATA_DIR": str(tmp_path), "NO_PROXY": "127.0.0.1"}
    for _ in range(5):
        port = free_port(0)
        proc = subprocess.Popen([str(Path(sys.executable).parent / "dingclass"), "simulate", "--port", str(port)],
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                preexec_fn=_ctrl_c_works)
        lines = []
        while not lines or not lines[-1].startswith("# 聊天页面"):
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line.rstrip("\n"))
        else:
            return port, proc, lines
        _, errors = proc.communicate(timeout=20)  # closes its pipes (an open one warns, and warnings fail)
        assert "端口已被其他程序占用" in errors, errors
    raise AssertionError("no free port pair")


def test_simulate_prints_export_lines_and_serves_the_chat_page(tmp_path):
    port, proc, lines = _start(tmp_path)
    try:
        exports = dict(line[len("export "):].split("=", 1) for line in lines if line.startswith("export "))
        assert exports["DINGTALK_OPENAPI_ENDPOINT"] == f"http://127.0.0.1:{port}"
        assert set(exports) == {"DINGTALK_OPENAPI_ENDPOINT", "DINGTALK_CLIENT_ID", "DINGTALK_CLIENT_SECRET",
                                "DINGTALK_ROBOT_CODE"}
        chat_url = lines[-1].split("：", 1)[1]
        page = requests.get(chat_url, timeout=10)
        assert page.status_code == 200 and "模拟钉钉" in page.text
        added = requests.post(f"{chat_url}/api/users", json={"name": "张三"}, timeout=10).json()
        assert added["name"] == "张三" and added["in_org"] is True
        # no bot is connected: the page says the message did not arrive, as DingTalk would lose it
        sent = requests.post(f"{chat_url}/api/send", json={"user": added["id"], "text": "我的"}, timeout=30)
        assert sent.status_code == 400 and "机器人没有连接" in sent.json()["error"]
    finally:
        proc.send_signal(signal.SIGINT)
        _, errors = proc.communicate(timeout=20)
    assert "Traceback" not in errors
