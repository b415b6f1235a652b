"""Every CLI error is one Chinese line and a non-zero exit: usage mistakes, bad values, the database, ports."""

from __future__ import annotations

import re
import socket

import pytest
from click.testing import CliRunner

from bot.cli import main

ENGLISH = re.compile(r"Usage|Error|Traceback|Invalid|Try |Missing|No such|not in the range|Errno|MySQLdb|psycopg")
CJK = re.compile(r"[\u4e00-\u9fff]")

BAD_ARGUMENTS = [
    (["bind-code", "BT-1", "--role", "teacher", "--days", "100"], "--days"),
    (["bind-code"], "CODE"),
    (["bind-code", "BT-1", "--role", "janitor"], "janitor"),
    (["nope"], "nope"),
    (["--bogus"], "--bogus"),
    (["class", "create"], "PLAN"),
    (["class", "approve", "BT-1", "--reason"], "--reason"),
    (["class", "list", "extra"], "extra"),
    (["user", "add", "x"], "--role"),
    (["user", "add", "x", "--role", "bogus"], "bogus"),
    (["hours", "import", "BT-1"], "FILE"),
    (["run", "--only", "nothing"], "--only"),
    (["simulate", "--port", "abc"], "abc"),
    (["simulate", "--port", "70000"], "70000"),
    (["demo", "--port", "x"], "--port"),
]


def one_chinese_line(result) -> str:
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert CJK.search(lines[0]) and not ENGLISH.search(lines[0]), lines[0]
    return lines[0]


@pytest.fixture
def run(tmp_path, monkeypatch):
    monkeypatch.setenv("DINGCLASS_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("DATABASE_URL", raising=False)

    def invoke(*args: str):
        result = CliRunner().invoke(main, list(args), catch_exceptions=False)
        assert result.exit_code != 0, result.output
        return result

    return invoke


@pytest.mark.parametrize(("args", "names"), BAD_ARGUMENTS, ids=[" ".join(a) for a, _ in BAD_ARGUMENTS])
def test_bad_arguments_get_one_chinese_line_naming_what_is_wrong(run, args, names):
    line = one_chinese_line(run(*args))
    assert names in line


def test_help_lists_each_command_once_in_chinese(tmp_path, monkeypatch):
    monkeypatch.setenv("DINGCLASS_DATA_DIR", str(tmp_path))
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    commands = [line.split()[0] for line in result.output.split("命令:", 1)[1].splitlines() if line.strip()]
    assert len(commands) == len(set(commands)) and not any(c.endswith("-") for c in commands), commands
    assert "Usage" not in result.output and "Show this message" not in result.output


def test_an_unsupported_database_is_named(run, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "mysql://root@127.0.0.1/test")
    assert "mysql 不受支持" in one_chinese_line(run("class", "list"))


def test_an_unreachable_database_is_named_without_the_drivers_text(run, monkeypatch):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("DATABASE_URL", f"postgresql://postgres@127.0.0.1:{port}/nothing")
    line = one_chinese_line(run("class", "list"))
    assert f"127.0.0.1:{port}" in line and "无法连接数据库" in line


def test_an_uninitialised_database_says_run_init(run):
    assert "dingclass init" in one_chinese_line(run("class", "list"))


def test_a_port_in_use_is_one_line(run):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert "端口已被其他程序占用" in one_chinese_line(run("simulate", "--port", str(port)))
