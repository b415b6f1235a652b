"""R04: resident ID numbers (GB 11643-1999) of the real-name roster, and masking for display.

An 18-digit number is: 6-digit region code, birth date YYYYMMDD, 3-digit sequence (odd = male), check
digit. The region is checked only for its first digit (1–8); no region table is shipped.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from handlers.texts import classes as texts

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"
_EARLIEST_BIRTH_YEAR = 1900
_GENDER_WORDS = {"男": "男", "男性": "男", "女": "女", "女性": "女"}


class InvalidIdNumber(ValueError):
    """An ID number (or the gender given with it) is wrong; ``str()`` is the Chinese reason."""


@dataclass(frozen=True)
class IdInfo:
    number: str
    birth_date: date
    gender: str  # "男" or "女"


def check_digit(first17: str) -> str:
    """GB 11643-1999 check character for the first 17 digits (R04)."""
    total = sum(int(digit) * weight for digit, weight in zip(first17, _WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11]


def parse_id_number(text: str, today: date | None = None) -> IdInfo:
    """Validate an 18-digit ID number (R04) and read its birth date and gender.

    Full-width characters and a lower-case x are normalised. ``today`` bounds the birth date
    (default: the system date). Raises InvalidIdNumber with the first problem found.
    """
    number = unicodedata.normalize("NFKC", text).strip().upper()
    if len(number) != 18:
        raise InvalidIdNumber(texts.ID_BAD_LENGTH.format(length=len(number)))
    for position, char in enumerate(number, start=1):
        if not (char in "0123456789" or (position == 18 and char == "X")):
            raise InvalidIdNumber(texts.ID_BAD_CHARS.format(position=position, char=char))
    if check_digit(number[:17]) != number[17]:
        raise InvalidIdNumber(texts.ID_BAD_CHECK_DIGIT.format(actual=number[17]))
    if number[0] not in "12345678":
        raise InvalidIdNumber(texts.ID_BAD_REGION.format(digit=number[0]))
    birth = _birth_date(number[6:14], today or date.today())
    gender = "男" if int(number[16]) % 2 == 1 else "女"
    return IdInfo(number=number, birth_date=birth, gender=gender)


def _birth_date(text: str, today: date) -> date:
    try:
        birth = date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        raise InvalidIdNumber(texts.ID_BAD_BIRTH_DATE.format(text=text)) from None
    if birth > today:
        raise InvalidIdNumber(texts.ID_BIRTH_IN_FUTURE.format(birth=birth))
    if birth.year < _EARLIEST_BIRTH_YEAR:
        raise InvalidIdNumber(texts.ID_BIRTH_TOO_OLD.format(birth=birth, year=_EARLIEST_BIRTH_YEAR))
    return birth


def check_gender(info: IdInfo, gender_text: str) -> None:
    """R04: the roster's gender (男/女, also 男性/女性) must agree with ID digit 17 (odd = male)."""
    given = _GENDER_WORDS.get(gender_text.strip())
    if given is None:
        raise InvalidIdNumber(texts.ID_GENDER_UNKNOWN.format(text=gender_text))
    if given != info.gender:
        raise InvalidIdNumber(texts.ID_GENDER_MISMATCH.format(given=given, actual=info.gender))


def make_id_number(region6: str, birth: date, seq3: int) -> str:
    """A valid ID number with its check digit, for tests and sample data (odd ``seq3`` = male)."""
    if not re.fullmatch(r"[1-8]\d{5}", region6):
        raise ValueError(f"region code must be 6 digits starting 1-8: {region6!r}")
    if not 0 <= seq3 <= 999:
        raise ValueError(f"sequence must be 0-999: {seq3!r}")
    first17 = f"{region6}{birth:%Y%m%d}{seq3:03d}"
    return first17 + check_digit(first17)


def _mask(text: str, keep_start: int, keep_end: int) -> str:
    hidden = len(text) - keep_start - keep_end
    if hidden <= 0:
        return "*" * len(text)
    return text[:keep_start] + "*" * hidden + text[len(text) - keep_end :]


def mask_id_number(number: str) -> str:
    """``"150102199003071234"`` → ``"1501**********1234"`` (first 4, last 4)."""
    return _mask(number, 4, 4)


def mask_phone(phone: str) -> str:
    """``"13812345678"`` → ``"138****5678"`` (first 3, last 4)."""
    return _mask(phone, 3, 4)
