"""A :class:`storage.exports.Sheet` as PDF, in the same layout as its xlsx: A4 landscape, the same column
widths (:func:`storage.exports.column_mm`), the same text sizes, the header repeated on every page, the
notes and the lines to sign and stamp. Each sheet starts a new page. The document and its CJK font
come from :mod:`handlers.pdf`, the one way to make a PDF here.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from fpdf.fonts import FontFace

from handlers import pdf
from handlers.texts import reports as texts
from storage.exports import CELL_PADDING_MM, LINE_SPACING, MARGIN_INCHES, Sheet, column_mm

MARGIN_MM = MARGIN_INCHES * 25.4  # left and right, as the xlsx prints
TOP_MM = 12  # top and bottom (the page number stands in the bottom one)
DEFAULT_POINTS = 10  # a sheet that does not set its font size
PT = 25.4 / 72  # millimetres in a point
PDF_PADDING_MM = CELL_PADDING_MM * 0.35  # each side; the rest of CELL_PADDING_MM is slack for rounding
_HEAD = FontFace(fill_color=(232, 238, 244))
_TOTAL = FontFace(fill_color=(244, 244, 244))


def write_pdf(sheets: Sequence[Sheet], *, created: datetime | None = None) -> bytes:
    doc = pdf.document(orientation="landscape", title=sheets[0].title if sheets else "", created=created,
                       margin_mm=MARGIN_MM)
    doc.set_top_margin(TOP_MM)
    doc.set_auto_page_break(True, margin=TOP_MM)
    doc.alias_nb_pages()
    doc.footer = lambda: _footer(doc)  # type: ignore[method-assign]
    for sheet in sheets:
        _write_sheet(doc, sheet)
    return pdf.to_bytes(doc)


def _footer(doc: Any) -> None:
    doc.set_y(-TOP_MM * 0.75)
    doc.set_font(pdf.FONT, size=8)
    doc.cell(w=0, h=4, text=texts.PDF_PAGE.format(page=doc.page_no(), pages="{nb}"), align="C")


def _line(doc: Any, text: str, size: float, *, align: str = "L", space: float = 0) -> None:
    doc.set_font(pdf.FONT, size=size)
    doc.multi_cell(w=0, h=size * PT * LINE_SPACING, text=text, align=align, new_x="LMARGIN", new_y="NEXT",
                   wrapmode=pdf.CHAR)
    if space:
        doc.ln(space)


def _write_sheet(doc: Any, sheet: Sheet) -> None:
    size = sheet.font_size or DEFAULT_POINTS
    doc.add_page()
    _line(doc, sheet.title, size + 6, align="C", space=1)
    facts = [f"{label}：{value}" for label, value in sheet.facts]
    half = doc.epw / 2
    doc.set_font(pdf.FONT, size=size + 1)
    for i in range(0, len(facts), 2):
        for text in facts[i:i + 2]:
            doc.cell(w=half, h=(size + 1) * PT * LINE_SPACING, text=text)
        doc.ln()
    doc.ln(1)
    widths = [column_mm(w) for w in sheet.widths] or [doc.epw / max(sheet.columns, 1)] * sheet.columns
    doc.set_font(pdf.FONT, size=size)
    doc.c_margin = 0  # the table's own padding is the whole of it, as CELL_PADDING_MM assumes
    with doc.table(col_widths=widths, width=min(sum(widths), doc.epw), line_height=size * PT * LINE_SPACING,
                   text_align="CENTER", headings_style=_HEAD, num_heading_rows=len(sheet.header), repeat_headings=1,
                   wrapmode=pdf.CHAR, padding=PDF_PADDING_MM) as table:
        for header_row in sheet.header:
            row = table.row()
            for cell in header_row:
                row.cell(cell.text, colspan=cell.colspan, rowspan=cell.rowspan)
        for values in sheet.rows:
            row = table.row()
            for value in values:
                row.cell("" if value is None else str(value))
        if sheet.totals is not None:
            row = table.row()
            for value in sheet.totals:
                row.cell("" if value is None else str(value), style=_TOTAL)
    doc.c_margin = MARGIN_MM / 10
    doc.ln(2)
    for note in sheet.notes:
        _line(doc, note, size)
    for line in sheet.signatures:
        doc.ln((size + 2) * PT * LINE_SPACING * 1.5)
        _line(doc, line, size + 2)
