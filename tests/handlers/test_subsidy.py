"""R19 worked by hand: the amounts of each stage and region, and the publicity period on China's calendar."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from handlers import subsidy, workdays
from handlers.errors import Refusal
from handlers.policy import load_profile


def rules(profile: str, **overrides):
    return load_profile(profile, {"subsidy": overrides} if overrides else None).subsidy


def test_R19_pre_payment_is_standard_times_registered_times_share():
    # baotou-2020: 20% of the standard for every registered trainee: 1350 × 30 × 20% = 8100.00
    a = subsidy.amount(subsidy.PRE, Decimal("1350"), registered=30, qualified=25, rules=rules("baotou-2020"))
    assert a.amount == Decimal("8100.00") and a.basis_count == 30 and not a.capped


def test_R19_hengyang_pre_pays_30_percent_and_wuhai_20_percent_of_the_qualified():
    # hengyang-2020: 1350 × 30 × 30% = 12150.00; wuhai-2020 (by the qualified): 1350 × 25 × 20% = 6750.00
    assert subsidy.amount("pre", Decimal("1350"), 30, 25, rules("hengyang-2020")).amount == Decimal("12150.00")
    wuhai = subsidy.amount("pre", Decimal("1350"), 30, 25, rules("wuhai-2020"))
    assert wuhai.amount == Decimal("6750.00") and wuhai.basis_count == 25


def test_R19_the_pre_payment_never_exceeds_the_ceiling():
    # a class overriding the share to 50%: 1350 × 30 × 50% = 20250, but the ceiling is 20% × 1350 × 30 = 8100.00
    a = subsidy.amount("pre", Decimal("1350"), 30, 25, rules("baotou-2020", prepay_share=0.5))
    assert (a.amount, a.ceiling, a.capped) == (Decimal("8100.00"), Decimal("8100.00"), True)
    assert "不超过上限 8100.00 元" in subsidy.formula(a)


def test_R19_final_is_standard_times_qualified_minus_the_pre_payment():
    # baotou-2020: 1350 × 25 − 8100 = 25650.00
    final = subsidy.amount("final", Decimal("1350"), 30, 25, rules("baotou-2020"))
    assert (final.prepaid, final.amount) == (Decimal("8100.00"), Decimal("25650.00"))
    assert subsidy.formula(final).startswith("补贴标准 1350 元 × 合格学员 25 人 − 已预拨 8100.00 元 = 25650.00 元")
    # shapingba-2020 pre-pays nothing: 1350 × 25 = 33750.00
    shapingba = subsidy.amount("final", Decimal("1350"), 30, 25, rules("shapingba-2020"))
    assert shapingba.amount == Decimal("33750.00")
    assert subsidy.formula(shapingba) == "补贴标准 1350 元 × 合格学员 25 人 = 33750.00 元（本政策配置不预拨）"
    # hengyang-2020 pre-paid 12150 for 30 registered; only 5 qualified: 1350 × 5 − 12150 = −5400.00 (paid back)
    assert subsidy.amount("final", Decimal("1350"), 30, 5, rules("hengyang-2020")).amount == Decimal("-5400.00")


def test_R19_yuan_are_cut_to_the_cent_never_rounded_up():
    # 1350.55 × 3 × 30% = 1215.495 → 1215.49
    assert subsidy.amount("pre", Decimal("1350.55"), 3, 3, rules("hengyang-2020")).amount == Decimal("1215.49")


def test_R19_publicity_counts_working_days_across_national_day():
    # 2026: 10-01..10-07 off for National Day, Saturday 10-10 a make-up working day.
    # From Tuesday 09-29: 09-29, 09-30, 10-08, 10-09, 10-10 → the 5th working day is 2026-10-10.
    assert workdays.working_days_from(date(2026, 9, 29), 5) == [
        date(2026, 9, 29), date(2026, 9, 30), date(2026, 10, 8), date(2026, 10, 9), date(2026, 10, 10)]
    # starting on a holiday, the first working day after it is day 1: 10-08, 10-09, 10-10, 10-12, 10-13
    assert workdays.working_days_from(date(2026, 10, 1), 5)[-1] == date(2026, 10, 13)


def test_R19_a_year_the_calendar_does_not_know_is_refused_naming_it():
    # 12-28..12-31 are four working days; the fifth would be in 2027, whose holidays are not published yet
    with pytest.raises(Refusal) as refused:
        workdays.working_days_from(date(2026, 12, 28), 5)
    assert "2027 年" in str(refused.value)
