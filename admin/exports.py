"""Downloads: 考勤台账 (attendance register, a sheet per week) and 合格名单 (qualification list) as xlsx,
csv or PDF (the same layout as the xlsx)."""

from __future__ import annotations

import re
from urllib.parse import quote

from flask import Blueprint, Response, abort

from admin import texts
from admin.context import db, now, tz, viewer
from handlers import scope, sheets
from handlers.sheet_pdf import write_pdf
from storage.exports import write_csv, write_xlsx

bp = Blueprint("exports", __name__, url_prefix="/exports")
KINDS = {
    "attendance": (sheets.attendance_sheets, texts.EXPORT_NAMES["attendance"]),
    "qualification": (lambda *args: [sheets.qualification_sheet(*args)], texts.EXPORT_NAMES["qualification"]),
}
FORMATS = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
    "pdf": "application/pdf",
}


def _write(fmt: str, sheets: list) -> bytes:
    if fmt == "xlsx":
        return write_xlsx(sheets)
    return write_csv(sheets) if fmt == "csv" else write_pdf(sheets)


@bp.route("/<code>/<kind>.<fmt>")
def download(code: str, kind: str, fmt: str):
    s, v = db(), viewer()
    klass = scope.class_for(s, v, code)
    if kind not in KINDS or fmt not in FORMATS:
        abort(404)
    build, label = KINDS[kind]
    data = _write(fmt, build(s, klass, tz(), now()))
    filename = f"{klass.code}-{label}.{fmt}"
    response = Response(data, content_type=FORMATS[fmt])
    ascii_name = re.sub(r"[^A-Za-z0-9._-]", "_", f"{klass.code}-{kind}.{fmt}")
    response.headers["Content-Disposition"] = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
    return response
