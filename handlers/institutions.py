"""An institution's bank account (R19: the subsidy is paid to it; 000 §三(一)1: 开户银行账户信息).

Set with ``dingclass institution account NAME --bank B --account A`` or in the admin; one row per
institution (``institution_accounts``), changed in place, every version kept by the ledger.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from handlers import hygiene
from handlers.texts import records as texts
from handlers.errors import Refusal
from storage import ledger
from storage.models import Institution, InstitutionAccount

ACCOUNT = re.compile(r"\d{6,32}")


def by_name(s: Session, name: str) -> Institution:
    institution = s.scalar(select(Institution).where(Institution.name == name.strip()))
    if institution is None:
        raise Refusal(texts.INSTITUTION_UNKNOWN.format(name=name))
    return institution


def account_of(s: Session, institution_id: int) -> InstitutionAccount | None:
    return s.scalar(select(InstitutionAccount).where(InstitutionAccount.institution_id == institution_id))


def normal_account(text: str) -> str:
    """The account number as digits: full-width digits, spaces and hyphens people type are folded away."""
    number = re.sub(r"[\s-]", "", unicodedata.normalize("NFKC", text))
    if not ACCOUNT.fullmatch(number):
        raise Refusal(texts.ACCOUNT_BAD_NUMBER.format(value=text.strip()[:40]))
    return number


def set_account(s: Session, institution: Institution, bank: str, account: str, *, actor: str, source: str,
                now: datetime) -> InstitutionAccount:
    """R19: record the institution's bank (开户银行) and account number; every change goes in the ledger."""
    bank = hygiene.require(bank.strip(), texts.ACCOUNT_BANK_LABEL, 100)
    if not bank:
        raise Refusal(texts.ACCOUNT_NO_BANK)
    number = normal_account(account)
    row = account_of(s, institution.id)
    if row is None:
        row = InstitutionAccount(institution_id=institution.id, bank=bank, account=number, set_by=actor, set_at=now)
        s.add(row)
    elif (row.bank, row.account) == (bank, number):
        return row
    else:
        row.bank, row.account, row.set_by, row.set_at = bank, number, actor, now
    ledger.append(s, "institution.account", actor=actor, source=source, subject=row)
    return row
