"""A signed commitment letter (承诺书) for test classes: R02 approval requires one (see handlers/approval.py)."""

from __future__ import annotations

import hashlib

from storage import ledger
from storage.models import Klass

LETTER = b"%PDF-1.4 signed commitment"


def sign_commitment(s, klass: Klass, name: str = "承诺书.pdf", data: bytes = LETTER, files=None) -> None:
    """Record ``klass``'s commitment letter (stored in ``files`` when given), as the institution would."""
    sha = files.put(data) if files is not None else hashlib.sha256(data).hexdigest()
    klass.commitment_name, klass.commitment_sha256 = name, sha
    ledger.append(s, "class.commitment", actor="test", source="test", subject=klass, class_code=klass.code)
