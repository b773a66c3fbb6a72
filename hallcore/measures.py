"""The hall measures (DOMAIN.md "Measures"), defined once: the statistics page and its exports
(`hallserver/stats.py`, `rollups.py`), the simulator (`hallq/simstats.py`) and the province centre use these
functions, and the SQL that computes the same figures over many rows is tested against them.

- wait = first call − issue; walk = serving start − call; handle = finish − serving start; time in hall =
  finish − issue; in minutes.
- P50/P90 are nearest-rank percentiles: the value at rank ⌈q·n⌉ of the n values sorted ascending.
- within target = share of called tickets whose wait ≤ their series' `target_wait_min`.
- no-show rate = no-shows ÷ called tickets.
- 参评率 = rated ÷ served (done); 满意率 = (非常满意 + 满意 + 基本满意) ÷ rated.
- 现场办结率 = 办结 ÷ (办结 + 受理) over the served cases of 即办件 matters, from the outcome the clerk
  records at the finish (`onsite_rate_outcomes`, DOMAIN.md; issue 22): the hall and the province centre
  count it the same way. Days before outcomes were recorded have none: 无数据, never 0 %. (The first build
  counted done ÷ (done + expired + cancelled), the share served the same day: `served_same_day`, kept for the
  simulator's comparisons.)
- 即办件占比: of the catalogue, 即办件 matters ÷ matters (`catalogue_immediate_share`); of the served cases,
  done 即办件 ÷ done.
- Waits and handle times over many rows are counted in tenths of a minute (the resolution pages show);
  `percentile_tenths` is the nearest-rank percentile of such a histogram, tenths above 24 h folded into one
  bucket at the largest of them (`cap_tenths`).
- utilisation = serving time ÷ open time per window (open = from `opened` to `closed`, pauses included).
- estimate MAE = mean |real wait − point estimate|; coverage = share of real waits inside the shown range.

A share is None when its denominator is 0: "nothing to show", not 0 %.
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

K = TypeVar("K", int, float)

#: 非常满意, 满意, 基本满意 (hallcore.model.SCORE_NAMES 5, 4, 3): the scores 满意率 counts as satisfied.
SATISFIED_SCORES = (5, 4, 3)
#: 不满意, 非常不满意 (hallcore.model.BAD_SCORES): 差评.
BAD_SCORES = (2, 1)

# ---- durations ---------------------------------------------------------------------------------------------


def minutes(start: dt.datetime | None, end: dt.datetime | None) -> float | None:
    """end − start in minutes; None unless both happened."""
    if start is None or end is None:
        return None
    return (end - start).total_seconds() / 60


def wait_min(issued_at: dt.datetime, first_called_at: dt.datetime | None) -> float | None:
    """wait = first call − issue."""
    return minutes(issued_at, first_called_at)


def handle_min(serving_at: dt.datetime | None, ended_at: dt.datetime | None) -> float | None:
    """handle = finish − serving start (only for a ticket that was served and finished)."""
    return minutes(serving_at, ended_at)


# ---- percentiles -------------------------------------------------------------------------------------------


def nearest_rank(q: float, n: int) -> int:
    """The 1-based rank ⌈q·n⌉ of the nearest-rank percentile (at least 1). The small tolerance keeps a
    product that floating point puts just above a whole number (0.9 × 10 = 9.000000000000002) on it."""
    return max(1, math.ceil(q * n - 1e-9))


def percentile(values: Iterable[K], q: float) -> K | None:
    """Nearest-rank percentile of `values`; None when there are none."""
    s = sorted(values)
    if not s:
        return None
    return s[min(len(s), nearest_rank(q, len(s))) - 1]


def percentile_counted(counts: Mapping[K, int], q: float) -> K | None:
    """Nearest-rank percentile of values given as value → how many times (a histogram)."""
    n = sum(counts.values())
    if n <= 0:
        return None
    rank = nearest_rank(q, n)
    seen = 0
    for v in sorted(counts):
        seen += counts[v]
        if seen >= rank:
            return v
    return max(counts)


#: Histogram resolution is 0.1 minute; values above CAP_TENTHS (24 h) share one overflow bucket, kept at the
#: largest of them (so the maximum stays exact; a percentile that falls in it reads as that maximum).
CAP_TENTHS = 14_400


def cap_tenths(hist: dict[int, int]) -> dict[int, int]:
    """Fold the tenths above CAP_TENTHS into one bucket at the largest of them (in place; returned)."""
    over = [k for k in hist if k > CAP_TENTHS]
    if len(over) <= 1:
        return hist
    top = max(over)
    n = sum(hist.pop(k) for k in over)
    hist[top] = n
    return hist


def percentile_tenths(hist: Mapping[int, int], q: float) -> float | None:
    """The nearest-rank percentile of a tenths-of-a-minute histogram (capped), in minutes."""
    tenths = percentile_counted(cap_tenths(dict(hist)), q)
    return None if tenths is None else tenths / 10


@dataclass(slots=True)
class Spread:
    """count, mean, P50, P90, max of some minutes (zeros when there are none)."""

    count: int
    mean: float
    p50: float
    p90: float
    max: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Spread:
        if not values:
            return cls(0, 0.0, 0.0, 0.0, 0.0)
        return cls(
            len(values),
            statistics.fmean(values),
            percentile(values, 0.5) or 0.0,
            percentile(values, 0.9) or 0.0,
            max(values),
        )

    def text(self) -> str:
        return f"mean {self.mean:.1f}, P50 {self.p50:.1f}, P90 {self.p90:.1f}, max {self.max:.1f} min"


# ---- shares ------------------------------------------------------------------------------------------------


def share(part: float, whole: float) -> float | None:
    """part ÷ whole; None when whole is 0."""
    return part / whole if whole else None


def mean(total: float, n: int) -> float | None:
    return total / n if n else None


def within_target(waits: Iterable[tuple[float, float]]) -> float | None:
    """Share of (wait, target) pairs with wait ≤ target (called tickets only)."""
    n = inside = 0
    for wait, target in waits:
        n += 1
        inside += wait <= target
    return share(inside, n)


def is_satisfied(score: int) -> bool:
    return score in SATISFIED_SCORES


def satisfied(by_score: Mapping[int, int]) -> int:
    """How many ratings count as satisfied (满意率's numerator)."""
    return sum(by_score.get(s, 0) for s in SATISFIED_SCORES)


def satisfaction(by_score: Mapping[int, int]) -> float | None:
    """满意率 = (非常满意 + 满意 + 基本满意) ÷ rated; None when nothing was rated."""
    return share(satisfied(by_score), sum(by_score.values()))


def participation(rated: int, served: int) -> float | None:
    """参评率 = rated ÷ served."""
    return share(rated, served)


def no_show_rate(no_shows: int, called: int) -> float | None:
    """no-shows ÷ called tickets."""
    return share(no_shows, called)


def served_same_day(done: int, expired: int, cancelled: int) -> float | None:
    """done ÷ (done + expired + cancelled): the share of those who stayed served the same day (the first
    build's 现场办结率, which is about outcomes, not visits)."""
    return share(done, done + expired + cancelled)


#: Outcomes a clerk records (issue 22) that 现场办结率 counts: concluded on the spot, and accepted with a
#: promised date (承诺).
ONSITE_DONE = "办结"
ONSITE_ACCEPTED = "受理"


def onsite_rate_outcomes(done: int, accepted: int) -> float | None:
    """现场办结率 from outcomes = 办结 ÷ (办结 + 受理) over 即办件; None until outcomes are recorded."""
    return share(done, done + accepted)


def catalogue_immediate_share(kinds: Iterable[str]) -> float | None:
    """即办件占比 of a matter catalogue: 即办件 ÷ matters (each matter's kind, "即办件" or "承诺件")."""
    ks = list(kinds)
    return share(sum(k == "即办件" for k in ks), len(ks))


def utilisation(serving_min: float, open_min: float) -> float | None:
    """Serving time ÷ open time of a window; None when it was not open."""
    return serving_min / open_min if open_min > 0 else None


@dataclass(frozen=True, slots=True)
class EstimateErrors:
    """How the estimates shown at issue held: MAE of the point estimate, share inside the range, n."""

    mae: float | None
    coverage: float | None
    n: int


def estimate_errors(
    rows: Iterable[tuple[float | None, float | None, float | None, float | None]],
) -> EstimateErrors:
    """From (real wait, low, high, point) per ticket; rows missing any of them do not count."""
    errs: list[float] = []
    inside = 0
    for wait, low, high, point in rows:
        if wait is None or low is None or high is None or point is None:
            continue
        errs.append(abs(wait - point))
        inside += low <= wait <= high
    if not errs:
        return EstimateErrors(None, None, 0)
    return EstimateErrors(statistics.fmean(errs), inside / len(errs), len(errs))
