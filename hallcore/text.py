"""What names and free text may contain: no control characters (Unicode category Cc: NUL, escape sequences,
line breaks in a one-line field) and no format characters (Cf: U+202E turns "exe.txt" around on a screen,
zero-width ones make two names that look the same differ). Such text is refused, not cleaned: silently
changing what a clerk or a citizen typed would be worse than saying what is wrong.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Problem:
    """Why what someone typed is refused, in Chinese and English."""

    zh: str
    en: str


REFUSED_CATEGORIES = frozenset({"Cc", "Cf"})


def bad_characters(text: str) -> list[str]:
    """The refused characters of `text`, as `U+XXXX` (each once, in order)."""
    out: dict[str, None] = {}
    for ch in text:
        if unicodedata.category(ch) in REFUSED_CATEGORIES:
            out[f"U+{ord(ch):04X}"] = None
    return list(out)


def text_problem(text: str) -> Problem | None:
    """None when `text` may be stored and shown as a name or a note."""
    bad = bad_characters(text)
    if not bad:
        return None
    which = ", ".join(bad[:3]) + ("…" if len(bad) > 3 else "")
    return Problem(
        f"含有不允许的控制字符或格式字符（{which}）",
        f"contains control or format characters ({which}), which are not allowed",
    )
