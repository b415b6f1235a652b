"""Reading spreadsheets people bring: xlsx, and csv as Excel in China saves it.

Every cell comes back as stripped text with its spreadsheet row number, so importers can report
errors the way the user sees the file. Cells Excel stored as numbers are named in
``Row.numeric``: an 18-digit ID number typed without a leading apostrophe has lost its last digits.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from openpyxl import load_workbook

ENCODINGS = ("utf-8-sig", "gb18030")


class TableError(ValueError):
    """The file cannot be read as a table; the message is for the user."""


@dataclass(frozen=True)
class Row:
    number: int  # 1-based row number as the spreadsheet shows it
    cells: tuple[str, ...]
    numeric: frozenset[int] = frozenset()  # indexes of cells stored as numbers


def read_rows(data: bytes, filename: str, max_rows: int | None = None) -> list[Row]:
    """The non-empty rows of the first sheet; with ``max_rows``, reading stops after that many (a
    caller that gets ``max_rows`` back knows the file has at least that many and can refuse it without
    reading a huge file to its end)."""
    suffix = Path(filename).suffix.lower()
    if suffix == ".xlsx":
        return _read_xlsx(data, max_rows)
    if suffix in (".csv", ".txt"):
        return _read_csv(data, max_rows)
    raise TableError(f"不支持的文件类型 {suffix or '(无扩展名)'}：请使用 .xlsx 或 .csv")


def _read_xlsx(data: bytes, max_rows: int | None) -> list[Row]:
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken file
        raise TableError(f"无法读取 Excel 文件：{exc}") from None
    try:
        sheet = book.worksheets[0]
        rows = []
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            cells = tuple(_cell_text(v) for v in values)
            if any(cells):
                numeric = frozenset(i for i, v in enumerate(values) if isinstance(v, (int, float)) and not isinstance(v, bool))
                rows.append(Row(number, cells, numeric))
                if len(rows) == max_rows:
                    break
        return rows
    finally:
        book.close()


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _read_csv(data: bytes, max_rows: int | None) -> list[Row]:
    for encoding in ENCODINGS:
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise TableError("无法识别 CSV 文件的编码：请保存为 UTF-8 或 GB18030（Excel 默认的“CSV”格式）")
    reader = csv.reader(io.StringIO(text, newline=""))
    rows: list[Row] = []
    try:
        for number, values in enumerate(reader, start=1):
            cells = tuple(v.strip() for v in values)
            if any(cells):
                rows.append(Row(number, cells))
                if len(rows) == max_rows:
                    break
    except csv.Error:  # e.g. a cell longer than csv.field_size_limit() (128 KB)
        raise TableError(f"CSV 文件第 {reader.line_num} 行无法读取：单元格过长或引号不成对") from None
    return rows

