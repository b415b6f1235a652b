"""Running the `dingclass` command line against the test database, as a user would."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from bot.cli import main


@pytest.fixture
def cli(engine, factory, tmp_path, monkeypatch):
    """``cli(*args, ok=True)`` runs `dingclass ARGS…`; asserts the exit code and that no traceback shows."""
    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("DINGCLASS_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("DINGCLASS_ACTOR", raising=False)
    runner = CliRunner()

    def run(*args: str, ok: bool = True):
        result = runner.invoke(main, list(args), catch_exceptions=False)
        assert (result.exit_code == 0) == ok, result.output
        assert "Traceback" not in result.output
        return result

    return run
