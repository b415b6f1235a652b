"""R16 from the command line: after the class ends, trainees below 80% are marked removed, never deleted."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import select

from bot.samples import PLAN, ROSTER, sample_plan_text
from storage.models import Enrollment, Person


def past_plan(tmp_path: Path, start: str, end: str) -> str:
    text = sample_plan_text(date.fromisoformat(start), date.fromisoformat(end))
    lines = [line for line in text.splitlines() if not line.startswith("commitment_file")]
    path = tmp_path / "plan.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def test_R16_removal_waits_for_the_end_of_the_class(cli, tmp_path):
    cli("class", "create", str(PLAN), "--roster", str(ROSTER))
    refused = cli("hours", "remove-unqualified", "BT-2026-001", ok=False)
    assert "BT-2026-001" in refused.output


def test_R16_trainees_below_80_percent_are_marked_with_the_reason_and_kept(cli, factory, tmp_path):
    cli("class", "create", past_plan(tmp_path, "2025-03-03", "2025-03-14"), "--roster", str(ROSTER))
    minutes = tmp_path / "minutes.csv"
    with factory() as s:
        names = list(s.scalars(select(Person.name).order_by(Person.id)))
    # 40 online hours x 45 min = 1800 minutes required; 80% = 1440. The first trainee has exactly 1440.
    rows = ["姓名,日期,直播时长（分钟）,回看时长（分钟）", f"{names[0]},2025-03-03,1200,240",
            f"{names[1]},2025-03-03,1200,239"]
    minutes.write_text("\n".join(rows) + "\n", encoding="utf-8")
    cli("hours", "import", "BT-2026-001", str(minutes))
    out = cli("hours", "remove-unqualified", "BT-2026-001").output
    assert "29 名学员" in out and names[1] in out and names[0] not in out
    with factory() as s:
        removed = s.execute(select(Person.name, Enrollment.removed_reason).join(Enrollment)
                            .where(Enrollment.removed.is_(True))).all()
        assert len(removed) == 29 and names[0] not in {n for n, _ in removed}
        assert all(reason for _, reason in removed)
        assert len(s.scalars(select(Enrollment)).all()) == 30  # marked, never deleted
    assert "没有需要标记" in cli("hours", "remove-unqualified", "BT-2026-001").output
    assert "台账完整" in cli("verify").output
