"""`dingclass hours import CODE FILE` as an institution runs it (R09)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import Workbook
from sqlalchemy import func, select

from bot.cli import main
from storage import ledger_verify
from storage.models import ImportFile, Person, StudyMinutes

SAMPLES = Path(__file__).resolve().parents[2] / "bot" / "samples"


@pytest.fixture
def run(cli, monkeypatch):
    monkeypatch.setenv("DINGCLASS_ACTOR", "机构:鹿城")
    cli("init")
    cli("class", "create", str(SAMPLES / "plan.toml"), "--roster", str(SAMPLES / "roster.xlsx"))
    return cli


def names(factory) -> list[str]:
    with factory() as s:
        return list(s.scalars(select(Person.name).order_by(Person.id)))


def workbook(path: Path, rows) -> str:
    book = Workbook()
    sheet = book.active
    sheet.append(["育婴员1期 直播观看统计"])
    sheet.append(["姓名", "日期", "直播时长（分钟）", "回看时长（分钟）"])
    for row in rows:
        sheet.append(list(row))
    book.save(path)
    return str(path)


def test_R09_hours_import_from_xlsx_writes_minutes_with_the_file_as_source(run, factory, tmp_path):
    from datetime import datetime
    n = names(factory)
    path = workbook(tmp_path / "观看统计.xlsx", [(n[0], datetime(2026, 12, 1), 180, 0), (n[1], "2026-12-01", 124, 19),
                                                 (n[2], "2026-12-02", 104, 40)])
    result = run("hours", "import", "BT-2026-001", path)
    # the sample timetable: 2 + 2 online lessons × 45 min = 180 planned minutes a class day; 80% = 144
    assert result.output.splitlines() == ["已向班级 BT-2026-001 导入学习时长 3 条（3 名学员，2 天）。",
                                          "其中 1 条低于当日计划课时的 80%（每天至少 144 分钟，R09）。"]
    with factory() as s:
        record = s.scalar(select(ImportFile).where(ImportFile.kind == "hours"))
        assert (record.filename, record.imported_by, record.rows) == ("观看统计.xlsx", "机构:鹿城", 3)
        sources = set(s.scalars(select(StudyMinutes.source)))
        assert sources == {f"file:{record.sha256}"}
        assert ledger_verify.verify(s).ok


def test_R09_a_bad_file_prints_every_bad_row_and_exits_1(run, factory, tmp_path):
    n = names(factory)
    path = workbook(tmp_path / "bad.xlsx", [(n[0], "2026-12-01", 150, 0), ("王小二", "2026-12-01", 10, 0),
                                            (n[1], "2027-01-01", 10, 0)])
    result = run("hours", "import", "BT-2026-001", path, ok=False)
    lines = result.output.splitlines()
    assert lines[0].startswith("学习时长未导入（2 处错误")
    assert lines[1] == "第 2 行（表格第 4 行）姓名：不在本班花名册中"
    assert lines[2].startswith("第 3 行（表格第 5 行）日期：1月1日（周五）不在培训期内")
    with factory() as s:
        assert s.scalar(select(func.count()).select_from(StudyMinutes)) == 0


def test_hours_import_of_an_unknown_class_or_missing_file_is_one_line(run, tmp_path):
    assert run("hours", "import", "NOPE", str(tmp_path / "x.csv"), ok=False).output.strip() == "找不到文件：" + str(tmp_path / "x.csv")
    (tmp_path / "x.csv").write_text("姓名,日期,直播时长,回看时长\n", encoding="utf-8")
    assert run("hours", "import", "NOPE", str(tmp_path / "x.csv"), ok=False).output.strip() == "没有编号为 NOPE 的班级"
