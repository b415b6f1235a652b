"""Records in the admin: certificate numbers and the 培训证明 PDFs (R20), the subsidy package and the
institution's bank account (R19).

Issuing and revoking are the city's (``scope.check_certificates``); the PDFs carry full ID numbers, so
they go to the roles of ``scope.sees_full_id_numbers`` only. The subsidy package has full ID numbers for
those roles and masked ones for a teacher. Each download is recorded in the ledger. The bank account is
set by the institution itself or an admin (``scope.check_set_account``).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import date

from flask import Blueprint, abort, current_app, flash, redirect, request, send_file, url_for
from sqlalchemy.orm import Session

from admin import texts
from admin.context import db, now, tz, viewer
from admin.exports import attachment, record_download
from handlers import certificates, export_log, institutions, scope, subsidy, subsidy_package
from handlers.texts import records as record_texts
from handlers.errors import Refusal
from handlers.scope import Viewer
from storage.files import FileStore
from storage.models import Institution, InstitutionAccount, Klass

bp = Blueprint("records", __name__)


@dataclass(frozen=True)
class Records:
    """What the class page shows about certificates."""

    certificates: list[certificates.Line]
    may_issue: bool
    may_download: bool
    institution: Institution
    account: InstitutionAccount | None
    may_set_account: bool
    stages: tuple[str, ...]


def context(s: Session, v: Viewer, klass: Klass) -> Records:
    institution = s.get(Institution, klass.institution_id)
    return Records(certificates.listing(s, klass), scope.may_issue_certificates(v), scope.sees_full_id_numbers(v),
                   institution, institutions.account_of(s, institution.id),
                   scope.may_set_account(v, institution.id), subsidy.STAGES)


def _back(code: str, anchor: str = "certificates"):
    return redirect(url_for("classes.class_page", code=code) + f"#{anchor}", 303)


@bp.route("/classes/<code>/certificates", methods=["POST"])
def issue_certificates(code: str):
    """R20: the city issues numbers to the class's qualified list."""
    s, v = db(), viewer()
    klass = scope.class_for(s, v, code)
    scope.check_certificates(v)
    try:
        issued = certificates.issue(s, klass, actor=v.actor, source="admin", now=now().astimezone(tz()))
        s.commit()
        message = texts.CERTS_ISSUED if issued.qualified else texts.CERTS_NONE
        flash(message.format(code=code, new=len(issued.new), kept=len(issued.kept)))
    except Refusal as exc:
        s.rollback()
        flash(str(exc), "error")
    return _back(code, "subsidy")


@bp.route("/classes/<code>/certificates/revoke", methods=["POST"])
def revoke_certificate(code: str):
    """R20: the city revokes a certificate of this class with a reason; the number is never issued again."""
    s, v = db(), viewer()
    klass = scope.class_for(s, v, code)
    scope.check_certificates(v)
    number = (request.form.get("number") or "").strip()
    if number not in {line.certificate.number for line in certificates.listing(s, klass)}:
        raise scope.OutOfScope(number)
    try:
        line, _ = certificates.revoke(s, number, request.form.get("reason") or "", actor=v.actor, source="admin",
                                      now=now())
        s.commit()
        flash(texts.CERT_REVOKED.format(number=number, name=line.name))
    except Refusal as exc:
        s.rollback()
        flash(str(exc), "error")
    return _back(code, "subsidy")


@bp.route("/classes/<code>/certificates.pdf")
def certificates_pdf(code: str):
    """The class's valid certificates in one PDF (full ID numbers: not for teachers; recorded)."""
    s, v = db(), viewer()
    klass = scope.class_for(s, v, code)
    if not scope.sees_full_id_numbers(v):
        raise scope.Forbidden("certificates:download")
    data = certificates.class_pdf(s, klass, tz())
    record_download(klass, export_log.CERTIFICATES, True, detail="pdf")
    name = record_texts.CERT_FILE_CLASS.format(code=klass.code)
    return attachment(data, "application/pdf", name, f"{klass.code}-certificates.pdf")


@bp.route("/classes/<code>/certificates/<number>.pdf")
def certificate_pdf(code: str, number: str):
    """One trainee's 培训证明 (a valid certificate of this class; full ID number: not for teachers; recorded)."""
    s, v = db(), viewer()
    klass = scope.class_for(s, v, code)
    if not scope.sees_full_id_numbers(v):
        raise scope.Forbidden("certificates:download")
    line = next((ln for ln in certificates.listing(s, klass)
                 if ln.certificate.number == number and not ln.certificate.revoked), None)
    if line is None:
        abort(404)
    data = certificates.pdf_bytes(s, klass, [line], tz())
    record_download(klass, export_log.CERTIFICATES, True, detail=number)
    name = record_texts.CERT_FILE_ONE.format(number=number, name=certificates.safe_file_name(line.name))
    return attachment(data, "application/pdf", name, f"{number}.pdf")


@bp.route("/classes/<code>/subsidy.zip")
def subsidy_download(code: str):
    """R19: the subsidy package of a stage (``?stage=pre|final&publicity_start=YYYY-MM-DD``); refused with the
    reason on the class page. Full ID numbers for the roles that submit or check it, masked for a teacher."""
    s, v = db(), viewer()
    klass = scope.class_for(s, v, code)
    stage = request.args.get("stage", "")
    if stage not in subsidy.STAGES:
        abort(400)
    moment = now().astimezone(tz())
    start = moment.date()
    if request.args.get("publicity_start"):
        try:
            start = date.fromisoformat(request.args["publicity_start"])
        except ValueError:
            flash(record_texts.SUBSIDY_BAD_START.format(value=request.args["publicity_start"][:20]), "error")
            return _back(code, "subsidy")
    full = scope.sees_full_id_numbers(v)
    out = tempfile.TemporaryFile()  # photos are streamed to disk, not held in memory; removed when closed
    try:
        subsidy_package.write(s, klass, stage, out, files=FileStore(current_app.config["DATA_DIR"] / "files"), tz=tz(),
                              now=moment, publicity_start=start, full_ids=full, actor=v.actor)
    except Refusal as exc:
        out.close()
        flash(str(exc), "error")
        return _back(code, "subsidy")
    except BaseException:
        out.close()
        raise
    record_download(klass, export_log.SUBSIDY, full, detail=stage)
    out.seek(0)
    return send_file(out, mimetype="application/zip", as_attachment=True,
                     download_name=subsidy_package.file_name(klass, stage))


@bp.route("/classes/<code>/account", methods=["POST"])
def set_account(code: str):
    """R19: the institution (or an admin) sets the bank account the subsidy is paid to."""
    s, v = db(), viewer()
    klass = scope.class_for(s, v, code)
    scope.check_set_account(v, klass.institution_id)
    institution = s.get(Institution, klass.institution_id)
    try:
        row = institutions.set_account(s, institution, request.form.get("bank") or "", request.form.get("account") or "",
                                       actor=v.actor, source="admin", now=now())
        s.commit()
        flash(record_texts.ACCOUNT_SET.format(name=institution.name, bank=row.bank, account=row.account))
    except Refusal as exc:
        s.rollback()
        flash(str(exc), "error")
    return _back(code, "subsidy")
