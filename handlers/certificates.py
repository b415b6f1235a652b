"""Certificate numbers and the printable 培训证明 (R20).

The city issues a number (结业证书编号) to every trainee on the class's qualified list — qualified
(R09/R16), not removed, not marked disqualified (R15) or ineligible (R22) — once the class has ended,
if it was approved (R02) and has not lost its eligibility (R15). Issuing again only numbers trainees who
have no valid certificate yet.

**Numbers are never reused.** A number is ``<series>-<NNNNNN>``: the series is the issue year, and its
counter row (``certificate_counters``) only ever counts up — locked while a number is drawn, so two
issuers in parallel cannot draw the same one — and ``certificates.number`` is unique in the database
besides. Revoking (``revoke``) marks the certificate with who, when and why; the number stays taken.
Both the counter and every certificate are ledger facts.

The PDF (one page per trainee; :func:`class_pdf` binds a class's valid certificates into one file)
carries what R20 lists: number, name, ID number in full (it is the trainee's own document), occupation
and project, training dates, institution, issue date — plus the hours the trainee actually studied
(004: 按劳动者实际培训情况出具).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from handlers import eligibility, pdf, qualification
from handlers.texts import classes as class_texts
from handlers.texts import records as texts
from handlers.errors import Refusal
from storage import ledger
from storage.models import Certificate, CertificateCounter, ClassStatus, Enrollment, Institution, Klass, Person


@dataclass(frozen=True)
class Line:
    """A certificate with the trainee's name, for listings."""

    certificate: Certificate
    name: str


@dataclass(frozen=True)
class Issued:
    new: list[Line]
    kept: list[Line]  # valid certificates issued before
    stale: list[Line]  # valid certificates of trainees no longer on the qualified list
    qualified: int


def check_class(s: Session, klass: Klass, today: date) -> None:
    """Refuse a class that may not get certificates: not approved (R02), ineligible (R15), not ended."""
    if klass.status not in ClassStatus.COUNTING:
        raise Refusal(texts.CERT_NOT_APPROVED.format(code=klass.code, status=class_texts.STATUS_NAMES.get(klass.status, klass.status)))
    change = eligibility.latest_change(s, klass)
    if change is not None and not change.eligible:
        raise Refusal(texts.CERT_INELIGIBLE.format(code=klass.code, reason=change.reason))
    if today <= klass.end_date:
        raise Refusal(texts.CERT_NOT_ENDED.format(code=klass.code, end=klass.end_date))


def _next_number(s: Session, series: str, *, actor: str, source: str) -> str:
    """Draw the next number of ``series`` (the counter row is locked until commit; it never counts down)."""
    locked = select(CertificateCounter).where(CertificateCounter.series == series).with_for_update()
    counter = s.scalar(locked)
    if counter is None:  # the series' first number: the unique series settles a race to create the row
        try:
            with s.begin_nested():
                counter = CertificateCounter(series=series, last=0)
                s.add(counter)
                s.flush()
        except IntegrityError:  # another issuer created it first (and held it until its commit): lock that row
            counter = s.scalar(locked)
    counter.last += 1
    number = f"{series}-{counter.last:06d}"
    if s.scalar(select(Certificate.id).where(Certificate.number == number)) is not None:
        raise Refusal(texts.CERT_COUNTER_BEHIND.format(series=series, number=number))  # a rewound counter
    ledger.append(s, "certificate.counter", actor=actor, source=source, subject=counter)
    return number


def listing(s: Session, klass: Klass) -> list[Line]:
    """Every certificate of the class (revoked ones too), in number order."""
    rows = s.execute(select(Certificate, Person.name).join(Enrollment, Enrollment.id == Certificate.enrollment_id)
                     .join(Person, Person.id == Enrollment.person_id)
                     .where(Certificate.class_id == klass.id).order_by(Certificate.number))
    return [Line(cert, name) for cert, name in rows]


def issue(s: Session, klass: Klass, *, actor: str, source: str, now: datetime) -> Issued:
    """R20: a number for each trainee on the qualified list who has no valid certificate yet."""
    check_class(s, klass, now.date())
    # two issuers of one class at once: the class row is locked first (FOR NO KEY UPDATE on PostgreSQL, as for
    # per-class numbers), so the second sees the first's certificates and never numbers a trainee twice
    s.execute(select(Klass.id).where(Klass.id == klass.id).with_for_update(key_share=True))
    qualified = qualification.subsidy_list(s, klass)
    valid = {line.certificate.enrollment_id: line for line in listing(s, klass) if not line.certificate.revoked}
    new, kept = [], []
    for line in qualified:
        eid = line.total.enrollment_id
        if eid in valid:
            kept.append(valid.pop(eid))
            continue
        cert = Certificate(number=_next_number(s, f"{now:%Y}", actor=actor, source=source), class_id=klass.id,
                           enrollment_id=eid, issued_by=actor, issued_at=now)
        s.add(cert)
        ledger.append(s, "certificate.issued", actor=actor, source=source, subject=cert, class_code=klass.code)
        new.append(Line(cert, line.name))
    return Issued(new, kept, sorted(valid.values(), key=lambda line: line.certificate.number), len(qualified))


def revoke(s: Session, number: str, reason: str, *, actor: str, source: str, now: datetime) -> tuple[Line, Klass]:
    """R20: revoke a certificate, with a reason; its number is never issued again."""
    reason = reason.strip()
    if not reason:
        raise Refusal(texts.CERT_NO_REASON)
    cert = s.scalar(select(Certificate).where(Certificate.number == number.strip()))
    if cert is None:
        raise Refusal(texts.CERT_NO_SUCH_NUMBER.format(number=number))
    if cert.revoked:
        raise Refusal(texts.CERT_ALREADY_REVOKED.format(number=cert.number, at=cert.revoked_at, reason=cert.revoked_reason))
    klass = s.get(Klass, cert.class_id)
    cert.revoked, cert.revoked_reason, cert.revoked_by, cert.revoked_at = True, reason, actor, now
    ledger.append(s, "certificate.revoked", actor=actor, source=source, subject=cert, class_code=klass.code,
                  reason=reason)
    name = s.get(Person, s.get(Enrollment, cert.enrollment_id).person_id).name
    return Line(cert, name), klass


# --- the printable 培训证明 ---------------------------------------------------------------------------


def safe_file_name(text: str) -> str:
    """A file name part: letters (Chinese too), digits, ``-`` and ``_``; anything else becomes ``_``."""
    return re.sub(r"[^\w-]", "_", text, flags=re.UNICODE)[:60] or "_"


def _page(doc, klass: Klass, institution: str, line: Line, person: Person, summary_line, tz: ZoneInfo) -> None:
    cert = line.certificate
    doc.add_page()
    doc.ln(8)
    pdf.centered(doc, texts.CERT_PDF_TITLE, 30, height=16)
    doc.set_font(pdf.FONT, size=11)
    doc.cell(w=0, h=8, text=texts.CERT_PDF_NUMBER.format(number=cert.number), align="R", new_x="LMARGIN", new_y="NEXT")
    doc.ln(4)
    doc.set_font(pdf.FONT, size=14)
    doc.multi_cell(w=0, h=9, text=texts.CERT_PDF_BODY.format(name=line.name, start=klass.start_date, end=klass.end_date,
                                                           institution=institution, occupation=klass.occupation),
                   align="L", wrapmode=pdf.CHAR)
    doc.ln(6)
    hours = (texts.CERT_PDF_HOURS.format(earned=summary_line.hours_earned, required=summary_line.hours_required)
             if summary_line is not None else "—")
    values = (line.name, person.gender, person.id_number, klass.occupation, klass.name,
              texts.CERT_PDF_DATES.format(start=klass.start_date, end=klass.end_date), institution, hours,
              texts.CERT_PDF_ISSUED.format(day=cert.issued_at.astimezone(tz).date()))
    doc.set_font(pdf.FONT, size=12)
    for label, value in zip(texts.CERT_PDF_FIELDS, values, strict=True):
        doc.cell(w=40, h=10, text=label, border=1, align="C")
        doc.multi_cell(w=0, h=10, text=value, border=1, new_x="LMARGIN", new_y="NEXT", wrapmode=pdf.CHAR)
    doc.ln(10)
    doc.set_font(pdf.FONT, size=9)
    doc.multi_cell(w=0, h=6, text=texts.CERT_PDF_FOOTER.format(code=klass.code), align="L", wrapmode=pdf.CHAR)


def pdf_bytes(s: Session, klass: Klass, lines: list[Line], tz: ZoneInfo) -> bytes:
    """One PDF with a page for each certificate in ``lines`` (revoked ones are left out)."""
    institution = s.get(Institution, klass.institution_id).name
    summary = {line.total.enrollment_id: line for line in qualification.summary(s, klass).lines}
    doc = pdf.document(orientation="portrait", title=f"{klass.code} {texts.CERT_PDF_TITLE}",
                       created=max((line.certificate.issued_at for line in lines), default=None))
    for line in lines:
        if line.certificate.revoked:
            continue
        person = s.get(Person, s.get(Enrollment, line.certificate.enrollment_id).person_id)
        _page(doc, klass, institution, line, person, summary.get(line.certificate.enrollment_id), tz)
    if doc.page == 0:
        doc.add_page()
    return pdf.to_bytes(doc)


def class_pdf(s: Session, klass: Klass, tz: ZoneInfo) -> bytes:
    """The class's valid certificates bound in one PDF."""
    return pdf_bytes(s, klass, listing(s, klass), tz)


def files(s: Session, klass: Klass, tz: ZoneInfo) -> list[tuple[str, bytes]]:
    """``(file name, PDF)``: one per valid certificate, then the class's bound copy."""
    valid = [line for line in listing(s, klass) if not line.certificate.revoked]
    out = [(texts.CERT_FILE_ONE.format(number=line.certificate.number, name=safe_file_name(line.name)),
            pdf_bytes(s, klass, [line], tz)) for line in valid]
    out.append((texts.CERT_FILE_CLASS.format(code=safe_file_name(klass.code)), class_pdf(s, klass, tz)))
    return out
