"""What the two paths of a statistics report produce before the figures are worked out: the SQL over the
whole range (`stats_live`) and the roll-ups of finished days merged with the days computed now
(`stats_rolled`); `stats` turns either into the page's figures."""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from hallcore import measures
from hallserver import rollup_compute

T = TypeVar("T")
Reader = Callable[[Callable[[sqlite3.Connection], T]], Awaitable[T]]

#: Group expressions over the covering index `tickets_stats` (and `ratings_stats`: same column names).
DIM_SQL = rollup_compute.TICKET_DIMS
TICKETS = "tickets INDEXED BY tickets_stats"
RANGE = "day BETWEEN :d0 AND :d1"
#: `hallcore.measures.SATISFIED_SCORES` as a test on `ratings.score`.
SATISFIED_SQL = f"score IN ({', '.join(str(s) for s in measures.SATISFIED_SCORES)})"


@dataclass(slots=True)
class Row:
    """One line of the per-dimension table (or the total)."""

    key: str
    name: str
    tickets: int = 0  # issued and not voided
    served: int = 0  # done
    no_shows: int = 0
    transfers: int = 0
    expired: int = 0
    cancelled: int = 0
    called: int = 0  # tickets with a first call (the waits below are theirs)
    wait_mean: float | None = None
    wait_p50: float | None = None
    wait_p90: float | None = None
    wait_max: float | None = None
    within_target: float | None = None
    handle_mean: float | None = None
    handle_p50: float | None = None
    handle_p90: float | None = None
    handle_max: float | None = None
    rated: int = 0
    satisfied: int = 0
    by_score: dict[int, int] = field(default_factory=dict)
    served_immediate: int = 0  # done, of a 即办件 matter
    # How the served cases ended (hallcore/caseoutcome.py): outcome -> (cases, of them 即办件).
    outcomes: dict[str, tuple[int, int]] = field(default_factory=dict)
    # (wait sum ms, within-target count, handle count, handle sum ms): summed across groups for the total.
    sums: tuple[int, int, int, int] = (0, 0, 0, 0)

    @property
    def participation(self) -> float | None:
        """参评率 = rated ÷ served."""
        return measures.participation(self.rated, self.served)

    @property
    def satisfaction(self) -> float | None:
        """满意率 = (非常满意 + 满意 + 基本满意) ÷ rated."""
        return measures.share(self.satisfied, self.rated)

    @property
    def onsite_rate(self) -> float | None:
        """现场办结率 = 办结 ÷ (办结 + 受理) over 即办件; None (无数据) before outcomes were recorded."""
        done = self.outcomes.get(measures.ONSITE_DONE, (0, 0))[1]
        accepted = self.outcomes.get(measures.ONSITE_ACCEPTED, (0, 0))[1]
        return measures.onsite_rate_outcomes(done, accepted)

    @property
    def immediate_share(self) -> float | None:
        """即办件占比 of the served cases: done 即办件 ÷ done."""
        return measures.share(self.served_immediate, self.served)

    @property
    def bad_ratings(self) -> int:
        """差评: 不满意 + 非常不满意."""
        return sum(self.by_score.get(s, 0) for s in measures.BAD_SCORES)

    def add(self, other: Row) -> None:
        """Fold `other`'s counts and sums into this row (before the figures are worked out)."""
        for name in ("tickets", "served", "no_shows", "transfers", "expired", "cancelled", "called"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.served_immediate += other.served_immediate
        self.wait_max = max_of(self.wait_max, other.wait_max)
        self.handle_max = max_of(self.handle_max, other.handle_max)
        a, b = self.sums, other.sums
        self.sums = (a[0] + b[0], a[1] + b[1], a[2] + b[2], a[3] + b[3])
        for k, (n, imm) in other.outcomes.items():
            n0, imm0 = self.outcomes.get(k, (0, 0))
            self.outcomes[k] = (n0 + n, imm0 + imm)


@dataclass(slots=True)
class Raw:
    """What the queries give, before the figures are worked out (the same from both paths)."""

    groups: list[Row]  # per group key (UTC hour for "hour"), sums not yet finished
    hists: dict[str, dict[int, int]]  # waits per group key, tenths of a minute
    handle_hists: dict[str, dict[int, int]]
    rating_groups: list[tuple[Any, int, int]]  # (group key in the rating dimension, score, count)
    rating_daily: list[tuple[str, int, int]]  # (day, rated, 满意)
    shape: list[tuple[Any, ...]]  # (day, UTC hour, tickets, called, wait sum ms, done, done 即办件)
    outcomes: dict[str, int]  # pre-checks per result (通过 / 容缺 / 不通过)
    agent: dict[str, int]  # 代办 pre-checks per outcome
    missing_by_matter: list[tuple[str, str, int]]  # (matter, item, count), unordered
    estimates: dict[str, Any]
    pauses: list[tuple[int, str, int, int]]  # window, reason, count, µs
    open_us: dict[int, int]
    serving_ms: dict[int, int]
    cases: dict[str, Any]
    staff_names: dict[str, str]
    # How served cases ended, per group key: (group key, outcome, cases, of them 即办件).
    case_outcomes: list[tuple[str, str, int, int]] = field(default_factory=list)


def mean_min(total_ms: int, n: int) -> float | None:
    """The mean of `n` durations summed in whole milliseconds, in minutes."""
    return measures.mean(total_ms / 60000, n)


def max_of(a: float | None, b: float | None) -> float | None:
    return b if a is None else a if b is None else max(a, b)


def read_staff_names(conn: sqlite3.Connection) -> dict[str, str]:
    return dict(conn.execute("SELECT code, name FROM staff").fetchall())


def case_summary(
    opened: int, closed: int, on_time: int, overdue: int, named: int, named_called: int
) -> dict[str, Any]:
    """The 差评 case figures of the page (the same from both paths)."""
    return {
        "opened": opened,
        "closed": closed,
        "closed_on_time": on_time,
        "overdue": overdue,
        "on_time_rate": measures.share(on_time, closed),
        "named": named,
        "named_called_back": named_called,
        "callback_rate": measures.share(named_called, named),
    }


def estimate_summary(n: int, error_ms: int, inside: int) -> dict[str, Any]:
    """Estimate MAE (from the error summed in whole ms) and range coverage over `n` called tickets."""
    return {"n": n, "mae": mean_min(error_ms, n), "coverage": measures.share(inside, n)}
