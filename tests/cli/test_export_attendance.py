"""`dingclass export attendance` (R06): the weekly 考勤台账 the admin offers as xlsx and PDF, from the command line."""

from __future__ import annotations

from openpyxl import load_workbook
from sqlalchemy import select

from storage.models import LedgerEvent
from tests.cli.test_certificates import pdf_text
from tests.cli.test_subsidy import CODE, ended_class


def test_R06_export_attendance_writes_the_weekly_register_with_masked_id_numbers(cli, factory, tmp_path, monkeypatch):
    people = ended_class(cli, factory, tmp_path)  # 2025-03-03..14; the first 25 studied 1440 minutes on 03-03
    monkeypatch.chdir(tmp_path)
    printed = cli("export", "attendance", CODE).output
    assert printed.startswith(f"已写入 {CODE}-考勤台账.xlsx：班级 {CODE} 的考勤台账（xlsx，每周一个工作表），共 2 周")
    book = load_workbook(tmp_path / f"{CODE}-考勤台账.xlsx")
    assert book.sheetnames == ["第1周", "第2周"]
    rows = [list(row) for row in book["第1周"].iter_rows(values_only=True)]
    assert rows[0][0].endswith("考勤台账（第1周：03-03 至 03-09）")
    (_, name, id_number), last = people[0], people[-1]
    first = next(row for row in rows if isinstance(row[1], str) and row[1].startswith(name))
    assert first[3:5] == [1440, "✓"]  # the day's study minutes (R09) and its counted photo (R08)
    assert first[1] == f"{name}\n{id_number[:4]}**********{id_number[-4:]}"  # masked, as the admin's copy
    untaught = next(row for row in rows if isinstance(row[1], str) and row[1].startswith(last[1]))
    assert untaught[3:5] == [0, None]
    assert any(isinstance(row[0], str) and row[0].startswith("班主任（签字）") for row in rows)


def test_R06_export_attendance_as_pdf_is_the_printed_register(cli, factory, tmp_path):
    people = ended_class(cli, factory, tmp_path)
    out = tmp_path / "registers" / "台账.pdf"
    printed = cli("export", "attendance", CODE, "--pdf", "--out", str(out)).output
    assert printed.startswith(f"已写入 {out}：班级 {CODE} 的考勤台账（PDF 打印版），共 2 周")
    text = "".join(pdf_text(out))
    assert "考勤台账（第1周：03-03 至 03-09）" in text and "考勤台账（第2周" in text
    assert people[0][1] in text and "班主任（签字）" in text and people[0][2] not in text
    with factory() as s:  # a masked register is not an ID-number download: the admin's leaves no event either
        assert s.scalar(select(LedgerEvent.seq).where(LedgerEvent.type == "export.downloaded")) is None


def test_R06_export_attendance_of_an_unknown_class_is_refused(cli, tmp_path):
    refused = cli("export", "attendance", "NO-SUCH", "--out", str(tmp_path / "x.xlsx"), ok=False).output
    assert refused.strip() == "没有编号为 NO-SUCH 的班级"
    assert not (tmp_path / "x.xlsx").exists()
