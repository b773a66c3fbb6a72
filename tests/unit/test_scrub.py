"""Scrubbing personal data out of free text by pattern (hallcore/privacy.py; the purge of case notes, reasons
and audit details, issue 25)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hallcore.privacy import mask_name, name_pattern, scrub_text


@pytest.mark.parametrize(
    ("text", "names", "want"),
    [
        ("已回访张三丰，电话13912345678", ("张**",), "已回访[姓名]，电话[电话]"),
        ("身份证110101199003074514核对无误", (), "身份证[身份证号]核对无误"),
        ("身份证11010119900307451X", (), "身份证[身份证号]"),
        ("旧证110101900307451", (), "旧证[身份证号]"),
        ("座机0564-5123456或+86 139 1234 5678", (), "座机[电话]或[电话]"),
        ("欧阳娜娜本人来电，欧***已记录", ("欧***",), "[姓名]本人来电，[姓名]已记录"),
        ("张三要求改期", ("张*",), "[姓名]要求改期"),
        # Numbers that are not personal stay: a ticket, a count, a date, an amount.
        (
            "A001 等候 12 人，2026-11-23 办结，收费 200 元",
            ("张*",),
            "A001 等候 12 人，2026-11-23 办结，收费 200 元",
        ),
        ("20 个工作日内补齐", (), "20 个工作日内补齐"),
    ],
)
def test_scrub_text(text: str, names: tuple[str, ...], want: str) -> None:
    assert scrub_text(text, names) == want


def test_no_pattern_for_a_blank_or_odd_mask() -> None:
    assert name_pattern("") is None
    assert name_pattern("*") is None
    assert name_pattern("张") is None
    assert name_pattern("张三") is None  # not a mask


@given(st.text(alphabet="张王李赵欧阳三丰娜四光明", min_size=2, max_size=4))
def test_a_full_name_never_survives_its_mask(name: str) -> None:
    assert name not in scrub_text(f"回访{name}，已说明", (mask_name(name),))


@given(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True))
def test_a_mobile_number_never_survives(phone: str) -> None:
    assert phone not in scrub_text(f"电话{phone}。")
