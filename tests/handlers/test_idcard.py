"""R04: ID number checks of the real-name roster, and masking."""

from datetime import date

import pytest

from handlers.idcard import (
    IdInfo,
    InvalidIdNumber,
    check_digit,
    check_gender,
    mask_id_number,
    mask_phone,
    make_id_number,
    parse_id_number,
)

TODAY = date(2024, 3, 4)


def _reason(text: str) -> str:
    with pytest.raises(InvalidIdNumber) as caught:
        parse_id_number(text, today=TODAY)
    return str(caught.value)


def test_R04_accepts_the_standards_example_with_check_digit_x():
    info = parse_id_number("11010519491231002X", today=TODAY)
    assert info == IdInfo("11010519491231002X", date(1949, 12, 31), "女")


def test_R04_accepts_lower_case_x_and_full_width_digits_and_normalises():
    assert parse_id_number(" 11010519491231002x ", today=TODAY).number == "11010519491231002X"
    full_width = "１１０１０５１９４９１２３１００２Ｘ"
    assert parse_id_number(full_width, today=TODAY).number == "11010519491231002X"


def test_R04_reads_birth_date_and_gender_from_digit_17():
    male = make_id_number("150102", date(1990, 3, 7), 123)
    female = make_id_number("150102", date(1990, 3, 7), 124)
    assert parse_id_number(male, today=TODAY) == IdInfo(male, date(1990, 3, 7), "男")
    assert parse_id_number(female, today=TODAY).gender == "女"


def test_R04_make_id_number_gives_the_check_digit():
    number = make_id_number("150102", date(1990, 3, 7), 123)
    assert number.startswith("15010219900307123")
    assert len(number) == 18


def test_R04_rejects_bad_check_digit():
    number = make_id_number("150102", date(1990, 3, 7), 123)
    wrong = number[:17] + ("0" if number[17] != "0" else "1")
    reason = _reason(wrong)
    assert "校验位" in reason
    assert wrong[17] in reason


def test_R04_rejects_a_typo_in_the_middle():
    number = make_id_number("150102", date(1990, 3, 7), 123)
    typo = number[:3] + str((int(number[3]) + 1) % 10) + number[4:]
    assert "校验位" in _reason(typo)


@pytest.mark.parametrize("text, length", [("15010219900307123", 17), ("1501021990030712345", 19), ("", 0)])
def test_R04_rejects_wrong_length_naming_it(text, length):
    reason = _reason(text)
    assert "18位" in reason
    assert str(length) in reason


def test_R04_rejects_letters_naming_the_position():
    reason = _reason("1501A2199003071234")
    assert "第 5 位" in reason
    assert "A" in reason


def test_R04_rejects_x_before_the_last_position():
    assert "第 17 位" in _reason("1501021990030712X4")


def test_R04_rejects_impossible_birth_date_19900230():
    first17 = "15010219900230123"
    reason = _reason(first17 + check_digit(first17))
    assert "19900230" in reason
    assert "不存在" in reason


def test_R04_accepts_20000229_and_rejects_19000229():
    leap_day = make_id_number("150102", date(2000, 2, 29), 1)
    assert parse_id_number(leap_day, today=TODAY).birth_date == date(2000, 2, 29)
    first17 = "15010219000229001"
    assert "19000229" in _reason(first17 + check_digit(first17))


def test_R04_rejects_birth_date_in_the_future():
    reason = _reason(make_id_number("150102", date(2024, 3, 5), 1))
    assert "2024-03-05" in reason
    assert "晚于今天" in reason


def test_R04_rejects_birth_before_1900():
    first17 = "15010218991231001"
    reason = _reason(first17 + check_digit(first17))
    assert "1899-12-31" in reason
    assert "1900" in reason


@pytest.mark.parametrize("first", ["0", "9"])
def test_R04_rejects_region_code_not_starting_1_to_8(first):
    first17 = first + "5010219900307123"
    reason = _reason(first17 + check_digit(first17))
    assert "地区码" in reason
    assert first in reason


def test_R04_gender_mismatch_is_refused_naming_both():
    info = parse_id_number(make_id_number("150102", date(1990, 3, 7), 123), today=TODAY)
    check_gender(info, "男")
    check_gender(info, " 男性 ")
    with pytest.raises(InvalidIdNumber) as caught:
        check_gender(info, "女")
    assert str(caught.value).startswith("性别与身份证号不符")
    assert "“女”" in str(caught.value) and "“男”" in str(caught.value)


def test_R04_gender_must_be_male_or_female():
    info = parse_id_number("11010519491231002X", today=TODAY)
    with pytest.raises(InvalidIdNumber) as caught:
        check_gender(info, "F")
    assert "“F”" in str(caught.value)


def test_masks_show_only_the_ends():
    assert mask_id_number("150102199003071234") == "1501**********1234"
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("1234") == "****"
