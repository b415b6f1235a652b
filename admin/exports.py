"""Downloads: 考勤台账 (attendance register) and 合格名单 (qualification list) as xlsx or csv."""

from __future__ import annotations

import re
from urllib.parse import quote

from flask import Blueprint, Response, abort

from admin import texts
from admin.context import db, now, tz, viewer
from handlers import scope, sheets
from storage.exports import write_csv, write_xlsx

bp = Blueprint("exports", __name__, url_prefix="/exports")
KINDS = {
    "attendance": (sheets.attendance_sheet, texts.EXPORT_NAMES["attendance"]),
    "qualification": (sheets.qualification_sheet, texts.EXPORT_NAMES["qualification"]),
}
FORMATS = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}


@bp.route("/<code>/<kind>.<fmt>")
def download(code: str, kind: str, fmt: str):
    s, v = db(), viewer()
    klass = scope.class_for(s, v, code)
    if kind not in KINDS or fmt not in FORMATS:
        abort(404)
    build, label = KINDS[kind]
    sheet = build(s, klass, tz(), now())
    data = write_xlsx([sheet]) if fmt == "xlsx" else write_csv(sheet)
    filename = f"{klass.code}-{label}.{fmt}"
    response = Response(data, content_type=FORMATS[fmt])
    ascii_name = re.sub(r"[^A-Za-z0-9._-]", "_", f"{klass.code}-{kind}.{fmt}")
    response.headers["Content-Disposition"] = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
    return response
