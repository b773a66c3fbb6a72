"""Masking of personal data for boards, screens and logs (个人信息保护法): never a full name or ID number."""

from __future__ import annotations

import re


def mask_name(name: str) -> str:
    """张三 -> 张*, 欧阳娜娜 -> 欧***: the first character only; compound surnames are not guessed."""
    name = name.strip()
    if not name:
        return ""
    return name[0] + "*" * max(1, len(name) - 1)


def mask_id(id_number: str, *, head: int = 0) -> str:
    """110101199003071234 -> **************1234 (the last 4 are what halls print on receipts).

    `head` keeps that many leading characters too (at most 6, the region code, as installers check a reader
    with): 110101********1234. A number too short to keep both shows only stars."""
    s = id_number.strip()
    head = min(head, 6)
    if len(s) <= head + 4:
        return "*" * len(s)
    return s[:head] + "*" * (len(s) - head - 4) + s[-4:]


def mask_phone(phone: str) -> str:
    """13812345678 -> 138****5678."""
    s = phone.strip()
    if len(s) < 7:
        return "*" * len(s)
    return s[:3] + "*" * (len(s) - 7) + s[-4:]


# Personal data in free text (case notes, reasons, audit details) is scrubbed by pattern when it is purged:
# what staff type may hold an ID number, a phone number or the holder's name in full (PIPL; issue 25).
ID_NUMBER_RE = re.compile(r"(?<![0-9A-Za-z])(?:[0-9]{17}[0-9Xx]|[0-9]{15})(?![0-9A-Za-z])")
MOBILE_RE = re.compile(r"(?<![0-9])(?:\+?86[- ]?)?1[3-9][0-9](?:[- ]?[0-9]){8}(?![0-9])")
LANDLINE_RE = re.compile(r"(?<![0-9])0[0-9]{2,3}-?[0-9]{7,8}(?![0-9])")
ID_MARK = "[身份证号]"
PHONE_MARK = "[电话]"
NAME_MARK = "[姓名]"
HAN = "\u3400-\u9fff"


def name_pattern(masked: str) -> re.Pattern[str] | None:
    """The full names a masked name may stand for: 张** -> 张 and two more Han characters (or a middle dot,
    as in transliterated names)."""
    if len(masked) < 2 or masked[0] == "*" or masked.strip("*") != masked[0]:
        return None
    return re.compile(re.escape(masked[0]) + f"[{HAN}·]{{{len(masked) - 1}}}")


def scrub_text(text: str, masked_names: tuple[str, ...] = ()) -> str:
    """`text` without ID numbers, phone numbers and the full (or masked) forms of `masked_names`."""
    text = ID_NUMBER_RE.sub(ID_MARK, text)
    text = MOBILE_RE.sub(PHONE_MARK, text)
    text = LANDLINE_RE.sub(PHONE_MARK, text)
    for masked in masked_names:
        pattern = name_pattern(masked)
        if pattern is not None:
            text = pattern.sub(NAME_MARK, text.replace(masked, NAME_MARK))
    return text
