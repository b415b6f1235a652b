"""Printable PDFs with Chinese text (R20 certificates; any register printed as PDF builds on this).

One way to make a PDF here: :func:`document` returns an ``fpdf2`` document, A4, with the CJK font
registered and selected. The font is Noto Serif SC (SIL OFL) from the PyPI package
``pylopdf-fonts-zh-cn``, installed with the project — no system font is looked up and nothing is
downloaded — and fpdf2 embeds the subset of the glyphs a document uses, so the file prints the same on
any PC. :func:`table` draws a bordered table whose header repeats on every page; :func:`to_bytes`
gives the finished file. A fixed ``created`` time makes the same content give the same bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pylopdf_fonts_zh_cn
from fpdf import FPDF
from fpdf.enums import WrapMode
from fpdf.fonts import FontFace

FONT = "NotoSerifSC"
CHAR = WrapMode.CHAR  # wrap Chinese text anywhere (it has no spaces to wrap at)
_EPOCH = datetime(2000, 1, 1, tzinfo=timezone.utc)


def font_path() -> Path:
    """The embedded CJK font file (Noto Serif SC, OpenType)."""
    return Path(pylopdf_fonts_zh_cn.serif_path())


def document(*, orientation: str = "portrait", title: str = "", created: datetime | None = None,
             margin_mm: float = 15, size: float = 11) -> FPDF:
    """A blank A4 document with the CJK font registered and selected (``size`` points); add pages to it.

    ``created`` is stored as the file's creation date (default a fixed date, so output is reproducible)."""
    pdf = FPDF(orientation="L" if orientation.startswith("l") else "P", unit="mm", format="A4")
    pdf.set_margins(margin_mm, margin_mm, margin_mm)
    pdf.set_auto_page_break(True, margin=margin_mm)
    pdf.add_font(FONT, fname=str(font_path()))
    pdf.set_font(FONT, size=size)
    pdf.set_creator("dingclass")
    pdf.set_producer("dingclass")
    if title:
        pdf.set_title(title)
    pdf.set_creation_date(created or _EPOCH)
    return pdf


def centered(pdf: FPDF, text: str, size: float, *, height: float | None = None) -> None:
    """One centred line of ``size`` points across the page."""
    pdf.set_font(FONT, size=size)
    pdf.cell(w=0, h=height or size * 0.6, text=text, align="C", new_x="LMARGIN", new_y="NEXT")


def table(pdf: FPDF, header: Sequence[str], rows: Sequence[Sequence[Any]], widths: Sequence[float] | None = None,
          *, size: float = 9) -> None:
    """A bordered table at the cursor: the header (repeated on each new page), then ``rows`` as text."""
    pdf.set_font(FONT, size=size)
    with pdf.table(col_widths=tuple(widths) if widths else None, text_align="CENTER", line_height=size * 0.6,
                   headings_style=FontFace(fill_color=(232, 238, 244)), repeat_headings=1, wrapmode=CHAR) as grid:
        head = grid.row()
        for text in header:
            head.cell(str(text))
        for values in rows:
            line = grid.row()
            for value in values:
                line.cell("" if value is None else str(value))


def to_bytes(pdf: FPDF) -> bytes:
    return bytes(pdf.output())
