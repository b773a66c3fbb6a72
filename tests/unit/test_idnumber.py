"""GB 11643 citizen ID numbers: the check character, the birth date and sex they carry, and masking."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hallcore import idnumber
from hallcore.privacy import mask_id


def test_known_numbers() -> None:
    assert idnumber.check_char("34152419550315123") == "1"
    assert idnumber.check_char("34150219980711248") == "5"
    assert idnumber.check_ok("11010519491231002x")  # lower-case x, as people type it
    assert not idnumber.check_ok("34152419550315123")
    assert not idnumber.check_ok("341524195503151232")
    assert idnumber.birth_date("341524195503151231") == dt.date(1955, 3, 15)
    assert idnumber.birth_date("341524195502301231") is None
    assert idnumber.birth_date("3415241955") is None
    assert idnumber.is_male("341524195503151231") is True
    assert idnumber.is_male("341502199807112485") is False
    assert idnumber.is_male("x") is None
    assert idnumber.parse_yyyymmdd("20280801") == dt.date(2028, 8, 1)
    for bad in ("长期", "2028081", "2028-8-1", "20281301", "２０２８０８０１"):
        assert idnumber.parse_yyyymmdd(bad) is None
    with pytest.raises(ValueError, match="17 digits"):
        idnumber.check_char("1234")


@given(body=st.from_regex(r"[0-9]{17}", fullmatch=True), position=st.integers(0, 16), delta=st.integers(1, 9))
def test_the_check_character_catches_any_single_wrong_digit(body: str, position: int, delta: int) -> None:
    number = idnumber.complete(body)
    assert idnumber.check_ok(number)
    wrong = body[:position] + str((int(body[position]) + delta) % 10) + body[position + 1 :]
    assert not idnumber.check_ok(wrong + number[17])


def test_masking_keeps_at_most_the_region_and_the_last_four() -> None:
    assert mask_id("341524195503151231", head=6) == "341524********1231"
    assert mask_id("341524195503151231", head=9) == "341524********1231"
    assert mask_id("341524195503151231") == "**************1231"
    assert mask_id("1234") == "****"
    assert mask_id("12345678", head=6) == "********"
