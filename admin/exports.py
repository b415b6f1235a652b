"""Downloads: 考勤台账 (attendance register, a sheet per week) and 合格名单 (qualification list) as xlsx,
csv or PDF (the same layout as the xlsx).

The 合格名单 carries full ID numbers for the roles of ``scope.sees_full_id_numbers`` (masked for a
teacher), and every download of it is recorded in the ledger (``handlers.export_log``: who, what, when).
"""

from __future__ import annotations

import re
from urllib.parse import quote

from flask import Blueprint, Response, abort

from admin import texts
from admin.context import db, now, tz, viewer, writer
from handlers import export_log, scope, sheets
from handlers.sheet_pdf import write_pdf
from storage.exports import write_csv, write_xlsx
from storage.models import Klass

bp = Blueprint("exports", __name__, url_prefix="/exports")
KINDS = {
    "attendance": (sheets.attendance_sheets, texts.EXPORT_NAMES["attendance"]),
    "qualification": (lambda *args, **kw: [sheets.qualification_sheet(*args, **kw)], texts.EXPORT_NAMES["qualification"]),
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


def attachment(data: bytes, content_type: str, filename: str, ascii_name: str) -> Response:
    """A download: ``Content-Disposition: attachment`` with the Chinese name and an ASCII fallback."""
    response = Response(data, content_type=content_type)
    ascii_name = re.sub(r"[^A-Za-z0-9._-]", "_", ascii_name)
    response.headers["Content-Disposition"] = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
    return response


def record_download(klass: Klass, what: str, full_ids: bool, detail: str = "") -> None:
    """The ledger's record of this download, in a short write of its own (the request reads only)."""
    v = viewer()
    with writer().begin() as s:
        export_log.record(s, klass, what, full_id_numbers=full_ids, actor=v.actor, source="admin", at=now(),
                         detail=detail)


@bp.route("/<code>/<kind>.<fmt>")
def download(code: str, kind: str, fmt: str):
    s, v = db(), viewer()
    klass = scope.class_for(s, v, code)
    if kind not in KINDS or fmt not in FORMATS:
        abort(404)
    build, label = KINDS[kind]
    full = kind == "qualification" and scope.sees_full_id_numbers(v)
    data = _write(fmt, build(s, klass, tz(), now(), full_ids=full) if kind == "qualification"
                  else build(s, klass, tz(), now()))
    if kind == "qualification":
        record_download(klass, export_log.QUALIFICATION, full, detail=fmt)
    return attachment(data, FORMATS[fmt], f"{klass.code}-{label}.{fmt}", f"{klass.code}-{kind}.{fmt}")
