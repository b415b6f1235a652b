"""考勤台账 and 合格名单 as an institution prints them: opened with openpyxl (and as csv) and checked
against the world's schedule (R02, R06, R09, R16)."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from storage.exports import Cell, Sheet, write_csv, write_xlsx
from tests.admin import expect
from tests.admin.world import A, A_TRAINEES, REMOVED, REMOVED_REASON, XSS


def workbook(clients, kind: str, user: str = "inst_lc"):
    response = clients[user].get(f"/exports/{A}/{kind}.xlsx")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "filename*=UTF-8''" in response.headers["Content-Disposition"]
    return load_workbook(io.BytesIO(response.data))


def rows_of(sheet) -> list[list]:
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def find_row(rows, first_cells):
    return next(i for i, row in enumerate(rows) if row[:len(first_cells)] == first_cells)


def test_R06_attendance_register_has_a_row_per_trainee_and_a_column_per_day_session_and_kind(world, clients):
    book = workbook(clients, "attendance")
    sheet = book.active
    rows = rows_of(sheet)
    assert rows[0][0] == "育婴员线上培训 2026 第1期 考勤台账"
    assert any(r[0] == "班级编号：BT-2026-001" for r in rows)
    top = find_row(rows, ["序号", "姓名", "身份证号"])
    assert rows[top][3] == "12-01" and rows[top][7] == "12-02"  # 2 sessions × in/out per day
    assert rows[top + 1][3:7] == ["上午", None, "下午", None]
    assert rows[top + 2][3:7] == ["签到", "签退", "签到", "签退"]
    assert rows[top][3 + 10 * 4:] == ["签到次数", "签退次数", "迟到", "早退"]  # 10 class days (R01)
    days = [cell for cell in rows[top][3:3 + 10 * 4] if cell]
    assert days[3:5] == ["12-04", "12-07"]  # the rest days 12-05 and 12-06 have no columns
    body = rows[top + 3: top + 3 + len(A_TRAINEES)]
    assert [r[1].removesuffix("（已删除）") for r in body] == [name for name, *_ in A_TRAINEES]
    by_name = {r[1]: r for r in body}
    li = by_name["李建国"]
    assert li[3:7] == ["08:20", "11:35", "13:50", "17:05"]
    assert by_name[XSS][3:5] == ["08:40迟", "11:20早"]
    assert by_name["王秀英"][3:5] == [None, "11:40"]  # the 08:05 check-in before approval does not count (R02)
    assert by_name["刘强"][3:7] == ["假"] * 4  # approved leave
    totals = rows[top + 3 + len(A_TRAINEES)]
    assert totals[1] == "合计"
    counted = expect.counted_punches()
    assert totals[3] == sum(1 for n, d, h, c in counted if d.day == 1 and c == "签到" and h < "12:30")
    assert totals[-4:] == [sum(1 for *_, c in counted if c == "签到"), sum(1 for *_, c in counted if c == "签退"),
                           1, 1]
    assert sheet.print_title_rows == f"${top + 1}:${top + 3}"  # the header repeats on every printed page
    assert sheet.page_setup.orientation == "landscape" and sheet.page_setup.fitToWidth == 1
    assert sheet.column_dimensions["C"].width == 21


def test_R16_qualification_list_numbers_match_the_schedule(world, clients):
    rows = rows_of(workbook(clients, "qualification").active)
    assert rows[0][0] == "育婴员线上培训 2026 第1期 合格名单"
    top = find_row(rows, ["序号", "姓名", "身份证号"])
    assert rows[top] == ["序号", "姓名", "身份证号", "身份类别", "已学课时", "应学课时", "完成比例", "是否合格", "是否删除",
                         "删除原因"]
    body = rows[top + 1: top + 1 + len(A_TRAINEES)]
    for row, (name, *_) in zip(body, A_TRAINEES, strict=True):
        want = expect.summary_line(name)
        number = world.id_numbers[name]
        assert row[:3] == [row[0], name, f"{number[:4]}{'*' * 10}{number[-4:]}"]
        assert (row[4], row[5]) == (want["hours_earned"], 40)
        assert row[7] == ("合格" if want["qualified"] else "不合格")
        assert row[8] == ("是" if name == REMOVED else "否")
        assert row[9] == (REMOVED_REASON if name == REMOVED else None)
    totals = rows[top + 1 + len(A_TRAINEES)]
    assert totals[1:3] == ["合计", f"{len(A_TRAINEES)} 人"] and totals[7:9] == ["合格 0 人", "删除 1 人"]


@pytest.mark.parametrize("kind", ["attendance", "qualification"])
def test_R04_exports_mask_id_numbers_and_keep_the_script_name_as_plain_text(world, clients, kind):
    for user in ("admin", "inst_lc"):
        data = clients[user].get(f"/exports/{A}/{kind}.xlsx").data
        values = [v for row in rows_of(load_workbook(io.BytesIO(data)).active) for v in row if v is not None]
        assert XSS in values  # a cell holding the name as text, nothing more
        for name, *_ in A_TRAINEES:
            assert all(world.id_numbers[name] not in str(v) for v in values)


@pytest.mark.parametrize("kind", ["attendance", "qualification"])
def test_csv_is_utf8_with_bom_and_the_same_rows(world, clients, kind):
    response = clients["inst_lc"].get(f"/exports/{A}/{kind}.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows[0][0].endswith("考勤台账" if kind == "attendance" else "合格名单")
    assert any(row[1:2] == [XSS] for row in rows)
    xlsx_names = [r[1] for r in rows_of(load_workbook(io.BytesIO(
        clients["inst_lc"].get(f"/exports/{A}/{kind}.xlsx").data)).active) if r[0] in range(1, 99)]
    assert [row[1] for row in rows if row and row[0].isdigit()] == xlsx_names


def test_unknown_export_kind_or_format_is_404(world, clients):
    assert clients["admin"].get(f"/exports/{A}/salaries.xlsx").status_code == 404
    assert clients["admin"].get(f"/exports/{A}/attendance.pdf").status_code == 404


def test_text_that_looks_like_a_formula_stays_text():
    sheet = Sheet(name="s", title="t", facts=[], header=[[Cell("姓名")]], rows=[["=1+1"], ["@SUM(A1)"], ["-2"]])
    values = [r[0] for r in load_workbook(io.BytesIO(write_xlsx([sheet]))).active.iter_rows(values_only=True)]
    assert "=1+1" in values and "@SUM(A1)" in values
    text = write_csv(sheet).decode("utf-8-sig")
    assert "'=1+1" in text and "'@SUM(A1)" in text and "'-2" in text


def test_header_spans_are_merged():
    sheet = Sheet(name="s", title="t", facts=[("a", "b")],
                  header=[[Cell("x", rowspan=2), Cell("y", colspan=2)], [Cell("y1"), Cell("y2")]], rows=[[1, 2, 3]])
    ws = load_workbook(io.BytesIO(write_xlsx([sheet]))).active
    merged = {str(r) for r in ws.merged_cells.ranges}
    assert {"A3:A4", "B3:C3"} <= merged
    assert [c.value for c in ws[5]] == [1, 2, 3]
