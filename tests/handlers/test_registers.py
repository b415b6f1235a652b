"""R06 the printable 考勤台账 (issue 16): a sheet per calendar week of class days that prints on A4
landscape at full size (every column on the page width, nothing under 8 pt), as xlsx and as PDF.

Widths are measured with the real font the PDF embeds (fpdf2's metrics of Noto Serif SC), not with the
estimate the code uses to size the columns."""

from __future__ import annotations

import hashlib
import io
import math
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pypdfium2
import pypdfium2.raw as pdfium_c
import pytest
from fpdf import FPDF
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter, range_boundaries
from sqlalchemy import insert

from handlers import pdf, sheets
from handlers.sheet_pdf import write_pdf
from handlers.timetable import class_days, sessions_on, timetable_of
from storage import reports
from storage.exports import write_xlsx
from storage.models import Enrollment, LeaveRequest, Photo, Punch, StudyMinutes

from .chat import create_class

TZ = ZoneInfo("Asia/Shanghai")
PRINTED = datetime(2027, 2, 10, 10, 0, tzinfo=timezone.utc)
A4_LANDSCAPE_PT = (842, 595)


class Ruler:
    """Printed widths in mm with the embedded CJK font's own metrics."""

    def __init__(self) -> None:
        self.doc = FPDF(unit="mm")
        self.doc.add_font("cjk", fname=str(pdf.font_path()))

    def __call__(self, text: str, size: float) -> float:
        self.doc.set_font("cjk", size=size)
        return self.doc.get_string_width(text)

    def close(self) -> None:
        for font in self.doc.fonts.values():  # a document never written keeps its font file open
            font.close()


@pytest.fixture(scope="module")
def ruler():
    measure = Ruler()
    yield measure
    measure.close()


@pytest.fixture
def long_class(factory):
    """A 60-class-day class (every day a class day: weeks of 7) of 30 trainees who check in and out of
    every session every day — some late, some early —, study 480 minutes and send a photo; one is on
    leave one day."""
    with factory.begin() as s:
        klass = create_class(s, size=30, start="2026-12-01", end="2027-01-29")
        tt = timetable_of(s, klass)
        days = class_days(tt)
        assert len(days) == 60
        ids = {sess.name: sess.id for sess in reports.sessions_of(s, klass.id)}
        enrollments = list(s.scalars(Enrollment.__table__.select().with_only_columns(Enrollment.id)
                                     .where(Enrollment.class_id == klass.id).order_by(Enrollment.id)))
        punches, minutes, photos = [], [], []
        for n, eid in enumerate(enrollments):
            for day in days:
                if n == 2 and day == days[3]:
                    continue  # on leave that day
                for slot in sessions_on(tt, day):
                    for kind, at in (("in", slot.start), ("out", slot.end)):
                        late, early = kind == "in" and n == 0, kind == "out" and n == 1
                        shift = timedelta(minutes=22 if late else -25 if early else (-5 if kind == "in" else 3))
                        when = datetime.combine(day, at, TZ) + shift
                        punches.append(dict(enrollment_id=eid, day=day, session_id=ids[slot.name], kind=kind,
                                            at=when, late=late, early=early, counts=True, source="test"))
                minutes.append(dict(enrollment_id=eid, day=day, lesson="", live_minutes=300, replay_minutes=180,
                                    source="test"))
                photos.append(dict(enrollment_id=eid, day=day, sha256=hashlib.sha256(f"{eid}{day}".encode()).hexdigest(),
                                   status="ok", counted=True, received_at=datetime.combine(day, time(9), TZ),
                                   source="test"))
        s.execute(insert(Punch), punches)
        s.execute(insert(StudyMinutes), minutes)
        s.execute(insert(Photo), photos)
        s.execute(insert(LeaveRequest), [dict(enrollment_id=enrollments[2], day=days[3], reason="病假", status="approved",
                                              requested_at=PRINTED, source="test")])
        klass_id = klass.id
    with factory() as s:
        yield s, s.get(type(klass), klass_id)


def test_R06_the_register_of_a_60_day_class_is_a_sheet_per_week_of_at_most_7_class_days(long_class):
    s, klass = long_class
    weekly = sheets.attendance_sheets(s, klass, TZ, PRINTED)
    days = class_days(timetable_of(s, klass))
    assert len(weekly) == len({d.isocalendar()[:2] for d in days}) == 9  # 2026-12-01 is a Tuesday
    assert [sheet.name for sheet in weekly[:2]] == ["第1周", "第2周"]
    assert weekly[0].title.endswith("考勤台账（第1周：12-01 至 12-06）")
    day_heads = [[c.text for c in sheet.header[0][2:-1]] for sheet in weekly]
    assert all(len(heads) <= 7 for heads in day_heads) and sum(map(len, day_heads)) == 60
    assert [len(heads) for heads in day_heads] == [6, 7, 7, 7, 7, 7, 7, 7, 5]
    assert (day_heads[1][0], day_heads[1][-1]) == ("12-07 周一", "12-13 周日")
    first = weekly[0].rows[0]  # the trainee who is late every morning: four punches a day, minutes, photo
    assert first[2] == "08:52迟\n11:33\n14:22迟\n17:03" and first[3:5] == [480, "✓"]
    assert weekly[0].rows[2][2 + 3 * 3] == "请假"  # on leave on the 4th class day (R07)
    assert weekly[1].rows[0][-5:] == ["14/14", "14/0", 3360, 7, 0]  # the week's totals: 7 class days
    assert weekly[0].totals[2] == "签到 60\n签退 60" and weekly[0].totals[3] == 30 * 480
    assert weekly[0].signatures[0].startswith("班主任（签字）") and weekly[0].signatures[1].startswith("培训机构（盖章）")


def test_R06_every_weekly_sheet_prints_on_a4_landscape_at_full_size_with_its_columns_on_the_page(long_class, ruler):
    s, klass = long_class
    book = load_workbook(io.BytesIO(write_xlsx(sheets.attendance_sheets(s, klass, TZ, PRINTED))))
    assert len(book.worksheets) == 9
    for ws in book.worksheets:
        setup = ws.page_setup
        assert (setup.orientation, setup.paperSize, setup.fitToWidth, setup.fitToHeight) == ("landscape", 9, 1, 0)  # 9: A4
        assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.print_title_rows  # header rows on every page
        header = [int(n) for n in ws.print_title_rows.replace("$", "").split(":")]
        assert [ws.cell(header[0], 1).value, ws.cell(header[0], 2).value] == ["序号", "姓名\n身份证号"]
        mm = {c: math.floor(7 * ws.column_dimensions[get_column_letter(c)].width + 5) * 25.4 / 96
              for c in range(1, ws.max_column + 1)}
        page = 297 - 25.4 * (ws.page_margins.left + ws.page_margins.right)
        assert sum(mm.values()) <= page  # one page wide at 100%: fitToWidth never has to shrink it
        spans = {}
        for merged in ws.merged_cells.ranges:
            low_c, low_r, high_c, high_r = range_boundaries(str(merged))
            spans[(low_r, low_c)] = (sum(mm[c] for c in range(low_c, high_c + 1)),
                                     sum(ws.row_dimensions[r].height or 15 for r in range(low_r, high_r + 1)))
        for row in ws.iter_rows(min_row=header[0]):
            for cell in row:
                if cell.value is None or cell.row > header[1] + 31:  # the table: header, 30 trainees, totals
                    continue
                size = cell.font.sz
                assert size >= 8
                width, height = spans.get((cell.row, cell.column), (mm[cell.column], ws.row_dimensions[cell.row].height))
                lines = str(cell.value).split("\n")
                for line in lines:  # each line fits its column, with room to spare for the cell's padding
                    assert ruler(line, size) <= width - 0.8, (ws.title, cell.coordinate, line, width)
                assert height >= len(lines) * size  # tall enough for its lines


def test_R06_the_weekly_register_as_pdf_is_a4_landscape_with_chinese_text_of_at_least_8_pt(long_class):
    s, klass = long_class
    data = write_pdf(sheets.attendance_sheets(s, klass, TZ, PRINTED))
    doc = pypdfium2.PdfDocument(data)
    pages = len(doc)
    try:
        text, sizes = [], []
        for index in range(len(doc)):
            page = doc[index]
            assert tuple(round(v) for v in page.get_size()) == A4_LANDSCAPE_PT
            textpage = page.get_textpage()
            count = textpage.count_chars()
            text.append(textpage.get_text_range())
            width, _ = page.get_size()
            for i in range(count):
                if not textpage.get_text_range(i, 1).strip():
                    continue
                sizes.append(pdfium_c.FPDFText_GetFontSize(textpage.raw, i))
                left, _, right, _ = textpage.get_charbox(i)
                assert 10 < left and right < width - 10  # nothing runs off the page (margins are 18 pt)
            textpage.close()
            page.close()
    finally:
        doc.close()
    joined = "".join(text)
    assert pages >= 9  # a week starts a new page
    for expected in ("考勤台账（第1周：12-01 至 12-06）", "考勤台账（第9周", "上午签到", "08:52迟", "请假",
                     "班主任（签字）", "培训机构（盖章）", "本周合计"):
        assert expected in joined
    names = [line.name for line in sheets.summary(s, klass).lines]
    assert all(name in joined for name in names)
    assert min(sizes) >= 8


def test_R06_long_session_names_wrap_in_the_header_and_a_week_of_7_days_stays_on_the_page(factory, ruler):
    sessions = (("上午理论课", "08:30", "11:30"), ("下午实操课", "14:00", "17:00"), ("晚间答疑课", "19:00", "20:30"))
    with factory.begin() as s:
        klass = create_class(s, size=3, start="2026-12-07", end="2026-12-13", sessions=sessions)
    with factory() as s:
        (sheet,) = sheets.attendance_sheets(s, s.get(type(klass), klass.id), TZ, PRINTED)
    ws = load_workbook(io.BytesIO(write_xlsx([sheet]))).active
    mm = [math.floor(7 * ws.column_dimensions[get_column_letter(c)].width + 5) * 25.4 / 96
          for c in range(1, ws.max_column + 1)]
    assert len(sheet.header[0]) == 2 + 7 + 1 and sum(mm) <= 297 - 25.4 * (ws.page_margins.left + ws.page_margins.right)
    assert sheet.header[1][0].text.split("\n")[0] == "上午理论课签到"  # wraps in its column, the order stays
    assert ruler("上午理论课签到", 8) > mm[2] - 0.8 and ruler("08:52迟", 8) <= mm[2] - 0.8
