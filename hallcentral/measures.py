"""The hall measures the centre shows, by the hall's own definitions (docs/web.md "Definitions").

One small home so the centre never grows a second copy: today the hall defines them in
hallserver/stats.py (SQL) and hallq/simstats.py; the refactor issue moves them into hallcore, and then
these names point there instead.
"""

from __future__ import annotations

from collections.abc import Mapping

#: 非常满意 + 满意 + 基本满意 (hallcore.model.SCORE_NAMES 5, 4, 3).
SATISFIED_SCORES = (5, 4, 3)
#: The same test as SQL, for queries over `ratings.score`.
SATISFIED_SQL = "score >= 3"


def satisfaction(by_score: Mapping[int, int]) -> float | None:
    """满意率 = (非常满意 + 满意 + 基本满意) ÷ rated; None when nothing was rated."""
    rated = sum(by_score.values())
    if not rated:
        return None
    return sum(by_score.get(s, 0) for s in SATISFIED_SCORES) / rated
