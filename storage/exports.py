"""Writing registers as people print them: xlsx (openpyxl) and csv that Excel in China opens.

A :class:`Sheet` is laid out top to bottom as an institution prints it: a title row, the class facts
(two to a row), a header of one or more rows whose cells may span columns and rows (like an HTML
table), the body, a totals row, then notes and signature lines. The xlsx is A4 landscape, fitted to the
page width, with the header repeated on every printed page and page numbers in the footer. The csv is
UTF-8 with a BOM (Excel otherwise reads it as the local code page and garbles Chinese) and the same rows.

A sheet that sets ``font_size`` is laid out to print at full size: its widths come from
:func:`column_width` of the widest text (:func:`text_mm`), they add up to no more than
``PRINTABLE_WIDTH_MM``, and every row is as tall as its wrapped lines (:func:`lines_needed`). The PDF of
a sheet (``handlers.sheet_pdf``) uses the same widths (:func:`column_mm`).

Text is always written as text: a value that starts with ``=``, ``+``, ``-`` or ``@`` never becomes a
formula (in csv it gets a leading apostrophe, the usual guard against formula injection).
"""

from __future__ import annotations

import csv
import io
import math
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
MARGIN_INCHES = 0.25  # left and right (Excel's "narrow"); top and bottom 0.6
A4_LANDSCAPE_MM = (297.0, 210.0)
PRINTABLE_WIDTH_MM = A4_LANDSCAPE_MM[0] - 2 * MARGIN_INCHES * 25.4
CELL_PADDING_MM = 1.0  # what a cell leaves free around its text, both sides together (Excel adds 5 px more)
LINE_SPACING = 1.3  # a line of text takes this many times its point size
_THIN = Side(style="thin", color="808080")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_HEAD_FILL = PatternFill("solid", fgColor="E8EEF4")
_TOTAL_FILL = PatternFill("solid", fgColor="F4F4F4")
_CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
_LEFT = Alignment(horizontal="left", vertical="center", wrap_text=False)
_WRAP_LEFT = Alignment(horizontal="left", vertical="center", wrap_text=True)
_SIGN = Alignment(horizontal="left", vertical="bottom", wrap_text=False)
DEFAULT_WIDTH = 8.43  # Excel's width of a column nobody sized


@dataclass(frozen=True)
class Cell:
    """A header cell; ``colspan``/``rowspan`` as in HTML."""

    text: str
    colspan: int = 1
    rowspan: int = 1


@dataclass
class Sheet:
    name: str
    title: str
    facts: list[tuple[str, str]]
    header: list[list[Cell]]
    rows: list[list[Any]]
    totals: list[Any] | None = None
    widths: list[float] = field(default_factory=list)  # Excel column widths (see column_mm)
    notes: list[str] = field(default_factory=list)
    font_size: float | None = None  # points; set: every cell wraps and each row is as tall as its lines
    signatures: list[str] = field(default_factory=list)  # lines with room to sign and stamp, after the notes

    @property
    def columns(self) -> int:
        return max([len(r) for r in self.rows] + [len(_layout(self.header)[0][0]) if self.header else 0] + [1])


def column_mm(width: float) -> float:
    """The printed width of an Excel column ``width`` (in the default font's digit widths: 7 px each plus
    5 px of padding at 96 dpi, as Excel lays it out)."""
    return math.floor(7 * width + 5) * 25.4 / 96


def column_width(mm: float) -> float:
    """The Excel column width (in hundredths) that prints at least ``mm`` wide (see :func:`column_mm`)."""
    pixels = math.ceil(mm * 96 / 25.4)
    width = math.ceil((pixels - 5) / 7 * 100) / 100
    while column_mm(width) < mm:
        width += 0.01
    return round(width, 2)


def text_mm(text: str, size: float) -> float:
    """One line of ``text`` printed at ``size`` points: a wide (CJK) character is one em, any other 0.56 em
    (the digits of the embedded Noto font, wider than Excel's Calibri; wider Latin letters may wrap)."""
    em = size * 25.4 / 72
    return sum(em if unicodedata.east_asian_width(ch) in "WF" else 0.56 * em for ch in text)


def lines_needed(text: str, width_mm: float, size: float) -> int:
    """How many printed lines ``text`` takes in a column ``width_mm`` wide when it wraps."""
    room = max(width_mm - CELL_PADDING_MM, 1.0)
    return sum(max(1, math.ceil(text_mm(line, size) / room)) for line in str(text).split("\n"))


def row_points(lines: int, size: float) -> float:
    """The height in points of a row of ``lines`` lines at ``size`` points."""
    return round(lines * size * LINE_SPACING + 3, 1)


def fitted_widths(sheet: Sheet, size: float, most_mm: dict[int, float] | None = None) -> list[float]:
    """Excel widths (:func:`column_width`) that hold each column's widest line at ``size`` points — of the
    header cells that span one column, the body and the totals; ``most_mm`` caps a column (by index) so
    that longer text wraps instead."""
    widest = [0.0] * sheet.columns
    grid, spans = _layout(sheet.header)
    texts = [(c, grid[r][c]) for r, c, _, cs in spans if cs == 1]
    texts += [(c, v) for values in [*sheet.rows, sheet.totals or []] for c, v in enumerate(values)]
    for c, value in texts:
        if value is not None:
            widest[c] = max([widest[c]] + [text_mm(line, size) for line in str(value).split("\n")])
    caps = most_mm or {}
    return [column_width(min(mm + CELL_PADDING_MM, caps.get(c, float("inf")))) for c, mm in enumerate(widest)]


def _layout(header: list[list[Cell]]) -> tuple[list[list[str | None]], list[tuple[int, int, int, int]]]:
    """The header as a grid (each cell's text at its top-left, ``None`` where a span covers) and the
    spans as (row, column, rowspan, colspan), 0-based."""
    grid: list[list[str | None]] = [[] for _ in header]
    taken: set[tuple[int, int]] = set()
    spans: list[tuple[int, int, int, int]] = []
    for r, row in enumerate(header):
        c = 0
        for cell in row:
            while (r, c) in taken:
                c += 1
            for dr in range(cell.rowspan):
                for dc in range(cell.colspan):
                    taken.add((r + dr, c + dc))
            spans.append((r, c, cell.rowspan, cell.colspan))
            while len(grid[r]) <= c + cell.colspan - 1:
                grid[r].append(None)
            grid[r][c] = cell.text
            c += cell.colspan
    width = max((c for _, c in taken), default=-1) + 1
    for row in grid:
        row.extend([None] * (width - len(row)))
    return grid, spans


def _text_cell(ws: Worksheet, row: int, column: int, value: Any):
    cell = ws.cell(row=row, column=column)
    cell.value = value
    if isinstance(value, str) and value.startswith("="):
        cell.data_type = "s"  # a name like "=1+1" stays text, never a formula
    return cell


def write_xlsx(sheets: Sequence[Sheet]) -> bytes:
    book = Workbook()
    book.remove(book.active)
    for sheet in sheets:
        _write_sheet(book.create_sheet(sheet.name[:31]), sheet)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _write_sheet(ws: Worksheet, sheet: Sheet) -> None:
    ncols = sheet.columns
    last = get_column_letter(ncols)
    size = sheet.font_size
    widths = [column_mm(w) for w in sheet.widths] + [column_mm(DEFAULT_WIDTH)] * (ncols - len(sheet.widths))

    def font(bold: bool = False, larger: float = 0) -> Font:
        return Font(bold=bold, size=size + larger) if size else Font(bold=bold)

    def fit(row: int, cells: list[tuple[Any, float]], larger: float = 0) -> None:
        """With a font size, make ``row`` as tall as the most lines any of its (text, width) cells needs."""
        if size:
            lines = max([lines_needed("" if text is None else str(text), width, size + larger) for text, width in cells]
                        + [1])
            ws.row_dimensions[row].height = row_points(lines, size + larger)

    row = 1
    _text_cell(ws, row, 1, sheet.title).font = Font(size=size + 6 if size else 16, bold=True)
    ws.cell(row=row, column=1).alignment = _CENTER
    ws.merge_cells(f"A1:{last}1")
    ws.row_dimensions[1].height = row_points(1, size + 6) if size else 28
    row += 1
    # class facts, two pairs per row, each pair spread over half the width
    half = max(ncols // 2, 1)
    for i in range(0, len(sheet.facts), 2):
        for j, (label, value) in enumerate(sheet.facts[i:i + 2]):
            start = 1 + j * half
            end = ncols if j == 1 or half * 2 > ncols else half
            end = max(end, start)
            cell = _text_cell(ws, row, start, f"{label}：{value}")
            cell.alignment = _LEFT
            if size:
                cell.font = font(larger=1)
            if end > start:
                ws.merge_cells(start_row=row, start_column=start, end_row=row, end_column=end)
        row += 1
    header_top = row
    grid, spans = _layout(sheet.header)
    for r, line in enumerate(grid):
        for c, text in enumerate(line):
            cell = ws.cell(row=header_top + r, column=c + 1)
            if text is not None:
                _text_cell(ws, header_top + r, c + 1, text)
            cell.font = font(bold=True)
            cell.fill = _HEAD_FILL
            cell.alignment = _CENTER
            cell.border = _BOX
    for r, c, rs, cs in spans:
        if rs > 1 or cs > 1:
            ws.merge_cells(start_row=header_top + r, start_column=c + 1, end_row=header_top + r + rs - 1,
                           end_column=c + cs)
    for r in range(len(grid)):
        fit(header_top + r, [(grid[r][c], sum(widths[c:c + cs])) for r0, c, rs, cs in spans if r0 == r and rs == 1])
    row = header_top + len(grid)
    header_bottom = row - 1
    body_top = row
    for values in sheet.rows:
        for c, value in enumerate(values, start=1):
            cell = _text_cell(ws, row, c, value)
            cell.border = _BOX
            cell.alignment = _CENTER
            if size:
                cell.font = font()
        fit(row, list(zip(values, widths)))
        row += 1
    if sheet.totals is not None:
        for c, value in enumerate(sheet.totals, start=1):
            cell = _text_cell(ws, row, c, value)
            cell.border = _BOX
            cell.font = font(bold=True)
            cell.fill = _TOTAL_FILL
            cell.alignment = _CENTER
        fit(row, list(zip(sheet.totals, widths)))
        row += 1
    for note in sheet.notes:
        cell = _text_cell(ws, row, 1, note)
        cell.alignment = _WRAP_LEFT if size else _LEFT
        if size:
            cell.font = font()
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=ncols)
        fit(row, [(note, sum(widths))])
        row += 1
    for line in sheet.signatures:  # room above each line to sign or stamp
        cell = _text_cell(ws, row, 1, line)
        cell.alignment = _SIGN
        cell.font = font(larger=2)
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=ncols)
        ws.row_dimensions[row].height = row_points(3, size + 2 if size else 11)
        row += 1
    for c, width in enumerate(sheet.widths, start=1):
        ws.column_dimensions[get_column_letter(c)].width = width
    # printing: A4 landscape, one page wide, header rows on every page, page numbers
    # by coordinate: with no body rows the cell below the header may be a merged note (not a plain cell)
    ws.freeze_panes = f"{get_column_letter(min(3, ncols) + 1 if ncols > 3 else 1)}{body_top}"
    ws.print_title_rows = f"{header_top}:{header_bottom}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = MARGIN_INCHES
    ws.page_margins.top = ws.page_margins.bottom = 0.6
    ws.oddFooter.center.text = "第 &P 页，共 &N 页"
    ws.print_area = f"A1:{last}{row - 1}"


def _csv_value(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def write_csv(sheets: Sequence[Sheet]) -> bytes:
    """The sheets as csv rows, one after another with an empty row between: title, facts, header rows
    (spans left blank), body, totals, notes, signature lines."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    for number, sheet in enumerate(sheets):
        if number:
            writer.writerow([])
        writer.writerow([_csv_value(sheet.title)])
        for label, value in sheet.facts:
            writer.writerow([_csv_value(label), _csv_value(value)])
        for line in _layout(sheet.header)[0]:
            writer.writerow([_csv_value(text or "") for text in line])
        for values in sheet.rows:
            writer.writerow([_csv_value(v) for v in values])
        if sheet.totals is not None:
            writer.writerow([_csv_value(v) for v in sheet.totals])
        for note in [*sheet.notes, *sheet.signatures]:
            writer.writerow([_csv_value(note)])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
