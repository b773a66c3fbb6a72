"""Masking of personal data for boards, screens and logs (个人信息保护法): never a full name or ID number."""

from __future__ import annotations


def mask_name(name: str) -> str:
    """张三 -> 张*, 欧阳娜娜 -> 欧***: the first character only; compound surnames are not guessed."""
    name = name.strip()
    if not name:
        return ""
    return name[0] + "*" * max(1, len(name) - 1)


def mask_id(id_number: str) -> str:
    """110101199003071234 -> **************1234 (the last 4 are what halls print on receipts)."""
    s = id_number.strip()
    return "*" * max(0, len(s) - 4) + s[-4:]


def mask_phone(phone: str) -> str:
    """13812345678 -> 138****5678."""
    s = phone.strip()
    if len(s) < 7:
        return "*" * len(s)
    return s[:3] + "*" * (len(s) - 7) + s[-4:]
