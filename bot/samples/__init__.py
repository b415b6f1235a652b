"""The sample class: plan, 30-person roster, commitment letter (see generate.py)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from handlers.plans import Plan, parse_plan

SAMPLES = Path(__file__).resolve().parent
PLAN = SAMPLES / "plan.toml"
ROSTER = SAMPLES / "roster.xlsx"
COMMITMENT = SAMPLES / "commitment.pdf"


def sample_plan(start: date | None = None) -> Plan:
    """The sample plan, moved to start on ``start`` if given (12 days, like the file)."""
    lines = PLAN.read_text(encoding="utf-8").splitlines()
    if start is not None:
        moved = {"start_date": start, "end_date": start + timedelta(days=11)}
        lines = [f"{line.split(' ', 1)[0]} = {moved[line.split(' ', 1)[0]].isoformat()}"
                 if line.split(" ", 1)[0] in moved else line for line in lines]
    return parse_plan("\n".join(lines))
