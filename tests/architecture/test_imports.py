"""Imports run one way (STYLE.md): bot → handlers → storage, scheduler → handlers → storage,
admin → handlers/storage; handlers never touch the SDK, Flask or HTTP; storage imports nothing of ours.
The composition roots — the `dingclass` command line and its demo — may also start the admin and the scheduler."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
OURS = {"bot", "handlers", "scheduler", "storage", "admin"}
ALLOWED = {
    "storage": {"storage"},
    "handlers": {"handlers", "storage"},
    "scheduler": {"scheduler", "handlers", "storage"},
    "admin": {"admin", "handlers", "storage"},
    "bot": {"bot", "handlers", "storage"},
}
FORBIDDEN_IN_HANDLERS = {"dingtalk_stream", "flask", "requests", "werkzeug"}
COMPOSITION_ROOT = {"bot/cli.py": {"admin", "scheduler"}, "bot/demo.py": {"admin"}}


def imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


MODULES = sorted(p for package in OURS for p in (ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_run_one_way(path):
    package = path.relative_to(ROOT).parts[0]
    allowed = ALLOWED[package] | COMPOSITION_ROOT.get(path.relative_to(ROOT).as_posix(), set())
    found = imports(path)
    assert (found & OURS) <= allowed, f"{path.name} may not import {sorted((found & OURS) - allowed)}"
    if package == "handlers":
        assert not found & FORBIDDEN_IN_HANDLERS
