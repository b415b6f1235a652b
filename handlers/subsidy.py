"""The subsidy amount and the publicity period (R19).

Who counts (:func:`counts`):

* **registered** — the roster, less trainees removed (R16) or marked disqualified (R15) or ineligible (R22);
* **qualified** — the qualified list (:func:`handlers.qualification.subsidy_list`): qualified (R09/R16), not
  removed, not disqualified, not ineligible.

The amount (:func:`amount`, pure, exact; yuan cut — never rounded up — to the cent):

* ``pre`` = standard × the ``subsidy.basis`` count × ``subsidy.prepay_share``, never above
  ``subsidy.prepay_ceiling`` × standard × registered; a profile that pre-pays nothing
  (``prepay_when = "none"``) has no ``pre`` stage;
* ``final`` = standard × qualified − what ``pre`` gives (0 where nothing is pre-paid); below zero it is
  what the institution pays back.

When (:func:`check`): the class must be approved or filed (R02) and not have lost its eligibility (R15);
``pre`` waits for the end of the online part (``after_online_hours``) or the city's filing
(``after_filing``); ``final`` waits for the end of the class. Without the plan's ``subsidy_standard``
or the institution's bank account there is no package.

Publicity (公示, :func:`publicity`): ``subsidy.publicity_working_days`` working days starting on the given
day (it counts when it is a working day), on China's calendar (:mod:`handlers.workdays`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction

from sqlalchemy import select
from sqlalchemy.orm import Session

from handlers import eligibility, qualification, workdays
from handlers.texts import classes as class_texts
from handlers.texts import records as texts
from handlers.classes import profile_of
from handlers.errors import Refusal
from handlers.institutions import account_of
from handlers.policy import Subsidy, format_percent
from handlers.timetable import timetable_of
from storage.models import ClassStatus, Enrollment, Institution, InstitutionAccount, Klass

PRE, FINAL = "pre", "final"
STAGES = (PRE, FINAL)


def cents(value: Fraction) -> Decimal:
    """Yuan to the cent, cut toward zero (never rounded up): 1215.495 → 1215.49."""
    hundredths = math.floor(abs(value) * 100)
    return (Decimal(hundredths if value >= 0 else -hundredths) / 100).quantize(Decimal("0.01"))


@dataclass(frozen=True)
class Amount:
    stage: str
    standard: Decimal
    registered: int
    qualified: int
    share: Fraction
    basis: str
    basis_count: int
    ceiling: Decimal  # the most the pre-payment may be
    prepaid: Decimal  # the pre-payment (the amount itself for ``pre``)
    capped: bool  # the pre-payment was cut to the ceiling
    amount: Decimal


def amount(stage: str, standard: Decimal, registered: int, qualified: int, rules: Subsidy) -> Amount:
    """R19: the pre-payment or the final payment (see the module docstring); exact, cut to the cent."""
    basis_count = registered if rules.basis == "registered" else qualified
    share = rules.prepay_share if rules.prepay_when != "none" else Fraction(0)
    price = Fraction(standard)
    wanted = price * basis_count * share
    ceiling = price * registered * rules.prepay_ceiling
    pre = min(wanted, ceiling)
    value = pre if stage == PRE else price * qualified - pre
    return Amount(stage, standard, registered, qualified, share, rules.basis, basis_count, cents(ceiling), cents(pre),
                  wanted > ceiling, cents(value))


def formula(a: Amount) -> str:
    """The amount worked out in words and numbers, for the workbook and the command line."""
    basis = texts.SUBSIDY_BASIS_NAMES[a.basis]
    pre = texts.SUBSIDY_FORMULA_PRE.format(standard=a.standard, basis=basis, count=a.basis_count,
                                           share=format_percent(a.share), amount=a.prepaid)
    if a.capped:
        pre += texts.SUBSIDY_FORMULA_CAPPED.format(ceiling=a.ceiling)
    if a.stage == PRE:
        return pre
    if not a.share:
        return texts.SUBSIDY_FORMULA_FINAL_ONLY.format(standard=a.standard, qualified=a.qualified, amount=a.amount)
    return texts.SUBSIDY_FORMULA_FINAL.format(standard=a.standard, qualified=a.qualified, prepaid=a.prepaid,
                                              amount=a.amount, pre=pre)


@dataclass(frozen=True)
class Counts:
    registered: list[int]  # enrollment ids
    qualified: list[int]


def counts(s: Session, klass: Klass) -> Counts:
    """R19: who counts as registered and as qualified (removed, disqualified, ineligible never)."""
    marked = eligibility.excluded_ids(s, klass)
    roster = s.scalars(select(Enrollment.id).where(Enrollment.class_id == klass.id, Enrollment.removed.is_(False))
                       .order_by(Enrollment.id))
    return Counts([eid for eid in roster if eid not in marked],
                  [line.total.enrollment_id for line in qualification.subsidy_list(s, klass)])


def standard_of(s: Session, klass: Klass) -> Decimal:
    standard = timetable_of(s, klass).subsidy_standard
    if standard is None:
        raise Refusal(texts.SUBSIDY_NO_STANDARD.format(code=klass.code))
    return standard


def check(s: Session, klass: Klass, stage: str, today: date) -> InstitutionAccount:
    """Refuse a package that may not be made (R02, R15, the profile's timing, missing standard or account);
    the institution's bank account otherwise."""
    rules = profile_of(klass).subsidy
    if klass.status not in ClassStatus.COUNTING:
        raise Refusal(texts.SUBSIDY_NOT_APPROVED.format(code=klass.code,
                                                        status=class_texts.STATUS_NAMES.get(klass.status, klass.status)))
    change = eligibility.latest_change(s, klass)
    if change is not None and not change.eligible:
        raise Refusal(texts.SUBSIDY_INELIGIBLE.format(code=klass.code, reason=change.reason))
    if stage == PRE and rules.prepay_when == "none":
        raise Refusal(texts.SUBSIDY_NO_PREPAY.format(code=klass.code, policy=klass.policy))
    if stage == PRE and rules.prepay_when == "after_filing" and klass.status != ClassStatus.FILED:
        raise Refusal(texts.SUBSIDY_PRE_NOT_FILED.format(code=klass.code, policy=klass.policy))
    if (stage == FINAL or rules.prepay_when == "after_online_hours") and today <= klass.end_date:
        raise Refusal(texts.SUBSIDY_NOT_ENDED.format(code=klass.code, end=klass.end_date,
                                                     stage=texts.SUBSIDY_STAGE_NAMES[stage]))
    standard_of(s, klass)
    account = account_of(s, klass.institution_id)
    if account is None:
        raise Refusal(texts.SUBSIDY_NO_ACCOUNT.format(name=s.get(Institution, klass.institution_id).name))
    return account


@dataclass(frozen=True)
class Publicity:
    start: date
    end: date
    working_days: int


def publicity(klass: Klass, start: date) -> Publicity:
    """R19: the publicity period — the profile's working days from ``start``; an unknown year is refused."""
    count = profile_of(klass).subsidy.publicity_working_days
    days = workdays.working_days_from(start, count)
    return Publicity(start, days[-1] if days else start, count)
