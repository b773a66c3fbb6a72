"""Citizen ID numbers (公民身份号码, GB 11643-1999): their check character, birth date and sex.

Pure functions; they never log or keep a number (see `hallcore.privacy` for how one may be shown).
"""

from __future__ import annotations

import datetime as dt
import re

from hallcore.text import Problem

# ISO 7064 MOD 11-2 as GB 11643 writes it: the weight of position i (1-based, from the left) is 2^(18-i)
# mod 11
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"
_SHAPE = re.compile(r"^[0-9]{17}[0-9X]$")


def check_char(body: str) -> str:
    """The 18th character for the first 17 digits `body`; ValueError when `body` is not 17 digits."""
    if len(body) != 17 or not body.isascii() or not body.isdigit():
        raise ValueError("the check character is computed over exactly 17 digits")
    return CHECK_CHARS[sum(int(d) * w for d, w in zip(body, WEIGHTS, strict=True)) % 11]


def well_formed(number: str) -> bool:
    """17 digits and a digit or X (a lower-case x, as people type it, counts as X)."""
    return bool(_SHAPE.match(number.upper()))


def check_ok(number: str) -> bool:
    """True when `number` is well formed and its 18th character is the GB 11643 check character."""
    return well_formed(number) and check_char(number[:17]) == number[17].upper()


def birth_date(number: str) -> dt.date | None:
    """Characters 7-14 as a date, or None when they are not a real date (or the number is not well formed)."""
    return parse_yyyymmdd(number[6:14]) if well_formed(number) else None


def parse_yyyymmdd(text: str) -> dt.date | None:
    """`YYYYMMDD` as written on a card, or None when it is not a real date."""
    if len(text) != 8 or not text.isascii() or not text.isdigit():
        return None
    try:
        return dt.date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        return None


def is_male(number: str) -> bool | None:
    """The 17th digit is odd for men and even for women; None when the number is not well formed."""
    if not well_formed(number):
        return None
    return int(number[16]) % 2 == 1


def complete(body: str) -> str:
    """`body` (17 digits) with its check character appended: test data and simulated people."""
    return body + check_char(body)


#: The oldest person a number may belong to: older birth dates are typing mistakes or made-up numbers.
MAX_AGE_YEARS = 120


def problem(number: str, today: dt.date) -> Problem | None:
    """Why `number` cannot be a resident's ID number on `today` (GB 11643: shape, check character, a real
    birth date that is not in the future, an age of at most `MAX_AGE_YEARS`), or None."""
    if not well_formed(number):
        return Problem(
            "身份证号应为 18 位（最后一位可为 X）",
            "an ID number has 18 characters: 17 digits and a digit or X",
        )
    if not check_ok(number):
        return Problem(
            "身份证号校验位不符，请核对", "the ID number's check character is wrong: check the number"
        )
    born = birth_date(number)
    if born is None:
        return Problem("身份证号中的出生日期无效", "the birth date in the ID number is not a real date")
    if born > today or (today.year - born.year) > MAX_AGE_YEARS:
        return Problem("身份证号中的出生日期不合理", "the birth date in the ID number is not plausible")
    return None
