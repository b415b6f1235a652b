"""Writing registers as people print them: xlsx (openpyxl) and csv that Excel in China opens.

A :class:`Sheet` is laid out top to bottom as an institution prints it: a title row, the class facts
(two to a row), a header of one or more rows whose cells may span columns and rows (like an HTML
table), the body, a totals row, then notes. The xlsx is A4 landscape, fitted to the page width, with
the header repeated on every printed page and page numbers in the footer. The csv is UTF-8 with a
BOM (Excel otherwise reads it as the local code page and garbles Chinese) and the same rows.

Text is always written as text: a value that starts with ``=``, ``+``, ``-`` or ``@`` never becomes a
formula (in csv it gets a leading apostrophe, the usual guard against formula injection).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_THIN = Side(style="thin", color="808080")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_HEAD_FILL = PatternFill("solid", fgColor="E8EEF4")
_TOTAL_FILL = PatternFill("solid", fgColor="F4F4F4")
_CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
_LEFT = Alignment(horizontal="left", vertical="center", wrap_text=False)


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
    widths: list[int] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def columns(self) -> int:
        return max([len(r) for r in self.rows] + [len(_layout(self.header)[0][0]) if self.header else 0] + [1])


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
    row = 1
    _text_cell(ws, row, 1, sheet.title).font = Font(size=16, bold=True)
    ws.cell(row=row, column=1).alignment = _CENTER
    ws.merge_cells(f"A1:{last}1")
    ws.row_dimensions[1].height = 28
    row += 1
    # class facts, two pairs per row, each pair spread over half the width
    half = max(ncols // 2, 1)
    for i in range(0, len(sheet.facts), 2):
        for j, (label, value) in enumerate(sheet.facts[i:i + 2]):
            start = 1 + j * half
            end = ncols if j == 1 or half * 2 > ncols else half
            end = max(end, start)
            _text_cell(ws, row, start, f"{label}：{value}").alignment = _LEFT
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
            cell.font = Font(bold=True)
            cell.fill = _HEAD_FILL
            cell.alignment = _CENTER
            cell.border = _BOX
    for r, c, rs, cs in spans:
        if rs > 1 or cs > 1:
            ws.merge_cells(start_row=header_top + r, start_column=c + 1, end_row=header_top + r + rs - 1,
                           end_column=c + cs)
    row = header_top + len(grid)
    header_bottom = row - 1
    body_top = row
    for values in sheet.rows:
        for c, value in enumerate(values, start=1):
            cell = _text_cell(ws, row, c, value)
            cell.border = _BOX
            cell.alignment = _CENTER
        row += 1
    if sheet.totals is not None:
        for c, value in enumerate(sheet.totals, start=1):
            cell = _text_cell(ws, row, c, value)
            cell.border = _BOX
            cell.font = Font(bold=True)
            cell.fill = _TOTAL_FILL
            cell.alignment = _CENTER
        row += 1
    for note in sheet.notes:
        _text_cell(ws, row, 1, note).alignment = _LEFT
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=ncols)
        row += 1
    for c, width in enumerate(sheet.widths, start=1):
        ws.column_dimensions[get_column_letter(c)].width = width
    # printing: A4 landscape, one page wide, header rows on every page, page numbers
    ws.freeze_panes = ws.cell(row=body_top, column=min(3, ncols) + 1 if ncols > 3 else 1)
    ws.print_title_rows = f"{header_top}:{header_bottom}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.6
    ws.oddFooter.center.text = "第 &P 页，共 &N 页"
    ws.print_area = f"A1:{last}{row - 1}"


def _csv_value(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def write_csv(sheet: Sheet) -> bytes:
    """The sheet as csv rows: title, facts, header rows (spans left blank), body, totals, notes."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([_csv_value(sheet.title)])
    for label, value in sheet.facts:
        writer.writerow([_csv_value(label), _csv_value(value)])
    for line in _layout(sheet.header)[0]:
        writer.writerow([_csv_value(text or "") for text in line])
    for values in sheet.rows:
        writer.writerow([_csv_value(v) for v in values])
    if sheet.totals is not None:
        writer.writerow([_csv_value(v) for v in sheet.totals])
    for note in sheet.notes:
        writer.writerow([_csv_value(note)])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
