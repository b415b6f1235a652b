"""考勤台账 and 合格名单 as an institution prints them: opened with openpyxl (and as csv) and checked
against the world's schedule (R02, R06, R09, R16)."""

from __future__ import annotations

import csv
import io
import json
from datetime import date

import pypdfium2
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


def test_R06_attendance_register_is_a_sheet_per_week_with_punches_minutes_photo_and_leave_per_day(world, clients):
    book = workbook(clients, "attendance")
    assert book.sheetnames == ["第1周", "第2周"]  # 10 class days (R01) in two calendar weeks
    rows = rows_of(book.worksheets[0])
    assert rows[0][0] == "育婴员线上培训 2026 第1期 考勤台账（第1周：12-01 至 12-04）"
    assert any(r[0] == "班级编号：BT-2026-001" for r in rows)
    top = find_row(rows, ["序号", "姓名\n身份证号"])
    assert [c for c in rows[top][2:] if c] == ["12-01 周二", "12-02 周三", "12-03 周四", "12-04 周五", "本周合计"]
    assert rows[top + 1][2:5] == ["上午签到\n上午签退\n下午签到\n下午签退", "学习\n分钟", "照片"]
    second = rows_of(book.worksheets[1])
    days = [c for c in second[find_row(second, ["序号", "姓名\n身份证号"])][2:] if c]
    assert days[:2] == ["12-07 周一", "12-08 周二"]  # the rest days 12-05 and 12-06 have no columns
    body = rows[top + 2: top + 2 + len(A_TRAINEES)]
    names = [r[1].split("\n")[0] for r in body]
    assert [name.removesuffix("（已删除）") for name in names] == [name for name, *_ in A_TRAINEES]
    by_name = dict(zip([name.removesuffix("（已删除）") for name in names], body, strict=True))
    assert by_name["李建国"][2] == "08:20\n11:35\n13:50\n17:05"
    assert by_name[XSS][2].split("\n")[:2] == ["08:40迟", "11:20早"]
    assert by_name["王秀英"][2].split("\n")[:2] == ["—", "11:40"]  # the 08:05 check-in before approval does not count (R02)
    assert by_name["刘强"][2] == "请假"  # approved leave (R07)
    for name, row in by_name.items():  # R09 minutes and R08 photo of each day, as the schedule has them
        for i, day in enumerate(expect_days := [date(2026, 12, d) for d in (1, 2, 3, 4)]):
            want = expect.trainee_day(name, day)
            assert row[3 + 3 * i: 5 + 3 * i] == [want["study_minutes"], "✓" if want["photo"] else None]
        week = [expect.trainee_day(name, day) for day in expect_days]
        assert row[-5:-2] == [f"{sum(d['checkins'] for d in week)}/{sum(d['checkouts'] for d in week)}",
                              f"{sum(d['late'] for d in week)}/{sum(d['early'] for d in week)}",
                              sum(d["study_minutes"] for d in week)]
    totals = rows[top + 2 + len(A_TRAINEES)]
    assert totals[1] == f"合计\n{len(A_TRAINEES)} 人"
    counted = expect.counted_punches()
    day_one = [c for _, d, _, c in counted if d.day == 1]
    assert totals[2] == f"签到 {day_one.count('签到')}\n签退 {day_one.count('签退')}"
    week_one = [c for _, d, _, c in counted if d.day <= 4]
    assert totals[-5] == f"{week_one.count('签到')}/{week_one.count('签退')}"
    assert [r[0] for r in rows[-2:]] == ["班主任（签字）：______________________        日期：________年____月____日",
                                         rows[-1][0]] and rows[-1][0].startswith("培训机构（盖章）")
    for sheet in book.worksheets:
        assert sheet.print_title_rows == f"${top + 1}:${top + 2}"  # the header repeats on every printed page
        assert sheet.page_setup.orientation == "landscape" and sheet.page_setup.fitToWidth == 1


def test_R06_attendance_register_as_pdf_has_the_same_weeks(world, clients):
    response = clients["inst_lc"].get(f"/exports/{A}/attendance.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert "filename*=UTF-8''BT-2026-001-%E8%80%83%E5%8B%A4%E5%8F%B0%E8%B4%A6.pdf" in response.headers["Content-Disposition"]
    doc = pypdfium2.PdfDocument(response.data)
    try:
        text = "".join(doc[i].get_textpage().get_text_range() for i in range(len(doc)))
    finally:
        doc.close()
    assert "考勤台账（第1周：12-01 至 12-04）" in text and "考勤台账（第2周" in text
    assert "李建国" in text and "08:40迟" in text and "班主任（签字）" in text


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
        assert row[:3] == [row[0], name, number]  # the institution submits it: ID numbers in full (R20)
        assert (row[4], row[5]) == (want["hours_earned"], 40)
        assert row[7] == ("合格" if want["qualified"] else "不合格")
        assert row[8] == ("是" if name == REMOVED else "否")
        assert row[9] == (REMOVED_REASON if name == REMOVED else None)
    totals = rows[top + 1 + len(A_TRAINEES)]
    assert totals[1:3] == ["合计", f"{len(A_TRAINEES)} 人"] and totals[7:9] == ["合格 0 人", "删除 1 人"]


def cells(client, kind: str) -> list:
    data = client.get(f"/exports/{A}/{kind}.xlsx").data
    return [v for row in rows_of(load_workbook(io.BytesIO(data)).active) for v in row if v is not None]


@pytest.mark.parametrize("user", ["admin", "inst_lc", "王芳"])
def test_R04_the_attendance_register_masks_id_numbers_and_keeps_the_script_name_as_plain_text(world, clients, user):
    values = cells(clients[user], "attendance")
    lines = [line for v in values for line in str(v).split("\n")]
    assert XSS in lines  # the first line of the register's name cell holds the name as text
    for name, *_ in A_TRAINEES:
        assert all(world.id_numbers[name] not in str(v) for v in values)


@pytest.mark.parametrize("user,full", [("admin", True), ("city", True), ("dist_k", True), ("inst_lc", True),
                                       ("王芳", False)])
def test_R20_the_qualification_list_has_full_id_numbers_except_for_teachers(world, clients, user, full):
    values = cells(clients[user], "qualification")
    assert XSS in values
    for name, *_ in A_TRAINEES:
        number = world.id_numbers[name]
        assert (number in values) == full
        assert (f"{number[:4]}{'*' * 10}{number[-4:]}" in values) == (not full)


def test_R20_every_download_of_the_qualification_list_is_in_the_ledger(world, clients):
    from sqlalchemy import select

    from storage.models import LedgerEvent

    def downloads():
        with world.factory() as s:
            return [json.loads(e.payload) | {"actor": e.actor, "class": e.class_code} for e in s.scalars(
                select(LedgerEvent).where(LedgerEvent.type == "export.downloaded").order_by(LedgerEvent.at, LedgerEvent.seq))]

    before = len(downloads())
    clients["王芳"].get(f"/exports/{A}/qualification.csv")
    clients["dist_k"].get(f"/exports/{A}/qualification.xlsx")
    clients["dist_k"].get(f"/exports/{A}/attendance.xlsx")  # masked register: not an ID-number download
    new = downloads()[before:]
    assert new == [
        {"what": "qualification", "full_id_numbers": False, "detail": "csv", "actor": "user:王芳", "class": A},
        {"what": "qualification", "full_id_numbers": True, "detail": "xlsx", "actor": "user:dist_k", "class": A},
    ]


@pytest.mark.parametrize("kind", ["attendance", "qualification"])
def test_csv_is_utf8_with_bom_and_the_same_rows(world, clients, kind):
    response = clients["inst_lc"].get(f"/exports/{A}/{kind}.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert ("考勤台账（第1周" if kind == "attendance" else "合格名单") in rows[0][0]
    assert any(row[1:2] and row[1].split("\n")[0] == XSS for row in rows)
    book = load_workbook(io.BytesIO(clients["inst_lc"].get(f"/exports/{A}/{kind}.xlsx").data))
    xlsx_names = [r[1] for sheet in book.worksheets for r in rows_of(sheet) if r[0] in range(1, 99)]
    assert [row[1] for row in rows if row and row[0].isdigit()] == xlsx_names  # every week's rows, in order


def test_unknown_export_kind_or_format_is_404(world, clients):
    assert clients["admin"].get(f"/exports/{A}/salaries.xlsx").status_code == 404
    assert clients["admin"].get(f"/exports/{A}/attendance.docx").status_code == 404


def test_text_that_looks_like_a_formula_stays_text():
    sheet = Sheet(name="s", title="t", facts=[], header=[[Cell("姓名")]], rows=[["=1+1"], ["@SUM(A1)"], ["-2"]])
    values = [r[0] for r in load_workbook(io.BytesIO(write_xlsx([sheet]))).active.iter_rows(values_only=True)]
    assert "=1+1" in values and "@SUM(A1)" in values
    text = write_csv([sheet]).decode("utf-8-sig")
    assert "'=1+1" in text and "'@SUM(A1)" in text and "'-2" in text


def test_header_spans_are_merged():
    sheet = Sheet(name="s", title="t", facts=[("a", "b")],
                  header=[[Cell("x", rowspan=2), Cell("y", colspan=2)], [Cell("y1"), Cell("y2")]], rows=[[1, 2, 3]])
    ws = load_workbook(io.BytesIO(write_xlsx([sheet]))).active
    merged = {str(r) for r in ws.merged_cells.ranges}
    assert {"A3:A4", "B3:C3"} <= merged
    assert [c.value for c in ws[5]] == [1, 2, 3]
