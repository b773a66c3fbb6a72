"""Masking of personal data for boards, screens and logs (个人信息保护法): never a full name or ID number."""

from __future__ import annotations


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
