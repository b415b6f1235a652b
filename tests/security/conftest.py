"""Attacks on the product, each shown refused or detected (issue 9). They run on the suite's database:
SQLite by default, PostgreSQL when ``DATABASE_URL`` names one — the CI runs both."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from tests.admin.conftest import cheap_passwords, csrf_token, login, make_app  # noqa: F401  (fixtures, helpers)
from tests.cli.conftest import cli  # noqa: F401  (fixture)

SAMPLES = Path(__file__).resolve().parents[2] / "bot" / "samples"
PLAN = (SAMPLES / "plan.toml").read_text(encoding="utf-8")
PDF = (SAMPLES / "commitment.pdf").read_bytes()
HEADER = ["姓名", "性别", "身份证号", "手机号", "身份类别"]


def write_plan(folder: Path, **changes: str) -> Path:
    """The sample plan in ``folder`` with ``key = value`` lines replaced (value as TOML), and its PDF."""
    text = PLAN
    if "start_date" in changes or "end_date" in changes:  # other dates: drop the sample's timetable (R01)
        text = "\n".join(line for line in text.splitlines()
                         if not line.startswith(("online_lessons", "rest_dates"))) + "\n"
    for key, value in changes.items():
        lines = text.splitlines()
        if any(line.startswith(f"{key} =") for line in lines):
            lines = [f"{key} = {value}" if line.startswith(f"{key} =") else line for line in lines]
        else:
            lines.insert(1, f"{key} = {value}")
        text = "\n".join(lines) + "\n"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "plan.toml").write_text(text, encoding="utf-8")
    (folder / "commitment.pdf").write_bytes(PDF)
    return folder / "plan.toml"


def csv_roster(path: Path, rows) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADER)
    writer.writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return str(path)


@pytest.fixture
def plan_dir(tmp_path) -> Path:
    return tmp_path / "institution"
