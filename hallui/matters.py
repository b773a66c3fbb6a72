"""Matter search, once for the kiosk and the service desk: Chinese name, English name, code, pinyin initials
("hkqr" for 户口迁入) or category, best match first.

Pinyin initials come from the config (`Matter.pinyin`): no pinyin library on the stations, and the hall's own
spelling wins. A query matches when it is a substring of any of them; initials also match as a prefix, so
people typing "hk" see every 户口 matter first. An empty query lists every matter in the config's order.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from hallcore.config import Matter


def _norm(text: str) -> str:
    return "".join(text.split()).lower()


def score(matter: Matter, query: str) -> int | None:
    """How well `matter` matches `query`: lower is better; None when it does not match."""
    q = _norm(query)
    if not q:
        return 0
    initials = _norm(matter.pinyin)
    if initials.startswith(q):
        return 0
    name = _norm(matter.name)
    if q in name:
        return 1 if name.startswith(q) else 2
    if initials and q in initials:
        return 3
    if q in _norm(matter.code):
        return 4
    if q in _norm(matter.name_en):
        return 5
    if q in _norm(matter.category):
        return 6
    return None


def search(matters: Iterable[Matter], query: str) -> list[Matter]:
    """The matters matching `query`, best first, keeping the config's order among equals."""
    found = [(s, i, m) for i, m in enumerate(matters) if (s := score(m, query)) is not None]
    found.sort(key=lambda x: (x[0], x[1]))
    return [m for _, _, m in found]


def group(matters: Sequence[Matter], by: str) -> dict[str, list[Matter]]:
    """Matters grouped by "department" (department id) or "category" (the config's category, "" last)."""
    out: dict[str, list[Matter]] = {}
    for m in matters:
        key = m.department if by == "department" else m.category
        out.setdefault(key, []).append(m)
    return out
