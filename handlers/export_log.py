"""Who took which document with ID numbers out of the system, and when (R19, R20; R17 traceability).

Every download or export of the 合格名单, the subsidy package or the certificates appends a ledger event
``export.downloaded`` on the class's chain: the actor (who), ``data.what`` and ``data.full_id_numbers``
(what), and the event's time (when). It is recorded whether or not the copy was masked, so the list of
copies in circulation is complete.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from storage import ledger
from storage.models import Klass

QUALIFICATION = "qualification"  # 合格名单
SUBSIDY = "subsidy"  # R19 package
CERTIFICATES = "certificates"  # R20 PDFs


def record(s: Session, klass: Klass, what: str, *, full_id_numbers: bool, actor: str, source: str, at: datetime,
           detail: str = "") -> None:
    """Append the ``export.downloaded`` event (commits with ``s``)."""
    data = {"what": what, "full_id_numbers": full_id_numbers}
    if detail:
        data["detail"] = detail
    ledger.append(s, "export.downloaded", actor=actor, source=source, class_code=klass.code, data=data, at=at)
