"""What the hall's past days say about handle times (issue 29): each matter's mean time at the window, from
the call to the finish, over the finished cases of earlier days in the store.

The config's `prior_handle_min` is a guess made when the hall was set up; the store knows better after a
few days. `HandleHistory.series_priors` turns the matters' means into a prior per series (weighted by how
often each matter came), which `HandleTimes` then shrinks today's own cases towards, as it did the config's
priors; a matter with no history keeps its config prior. Built by the server from its store at start and on
each reload (`hallserver.loader`), by `hallq sim` from the simulated days before the one it scores. Pure: it
is given the cases, it reads nothing.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from hallcore.config import Matter
from hallcore.model import Ticket, TicketState

#: Past cases count as this many of today's cases in the series' mean (`HandleTimes` prior weight): the
#: history holds hundreds of cases, but today's clerks may be faster or slower than its days, so today's
#: own cases take over within the first hour.
HISTORY_PRIOR_WEIGHT = 10.0
#: A matter needs this many past cases before its mean replaces the config's prior.
MIN_CASES = 5
#: Cases longer than this (a window left holding a ticket over lunch, a clerk who forgot to finish) are not
#: handle times: left out.
MAX_CASE_MIN = 240.0


#: How many days back the server reads the history (`hallserver.loader`): a month of the hall's own days.
HISTORY_DAYS = 28


def case_minutes(
    called_at: dt.datetime | None, serving_at: dt.datetime | None, ended_at: dt.datetime | None
) -> float | None:
    """The window's time on a finished case, from its last call (else its serving start) to its finish, the
    walk to the window included, as `hallcore.engine.waits.observe_case` measures today's (None: unknown)."""
    began = called_at or serving_at
    if began is None or ended_at is None:
        return None
    return (ended_at - began).total_seconds() / 60


@dataclass(frozen=True, slots=True)
class HandleHistory:
    """Per matter: the number of past cases and their mean time at the window in minutes."""

    cases: Mapping[str, int]
    mean_min: Mapping[str, float]

    @classmethod
    def from_cases(cls, cases: Iterable[tuple[str, float]]) -> HandleHistory:
        """From (matter, minutes from the call to the finish) per finished case; times that are not finite,
        negative or over MAX_CASE_MIN are left out."""
        count: dict[str, int] = {}
        total: dict[str, float] = {}
        for matter, minutes in cases:
            if not (math.isfinite(minutes) and 0 <= minutes <= MAX_CASE_MIN):
                continue
            count[matter] = count.get(matter, 0) + 1
            total[matter] = total.get(matter, 0.0) + minutes
        return cls(count, {m: total[m] / n for m, n in count.items()})

    @classmethod
    def from_tickets(cls, tickets: Iterable[Ticket], before: dt.datetime | None = None) -> HandleHistory:
        """From finished tickets (issued before `before`, when given): the window's time on each
        (`case_minutes`)."""

        def cases() -> Iterable[tuple[str, float]]:
            for t in tickets:
                if t.state is not TicketState.DONE or (before is not None and t.issued_at >= before):
                    continue
                minutes = case_minutes(t.called_at, t.serving_at, t.ended_at)
                if minutes is not None:
                    yield t.matter, minutes

        return cls.from_cases(cases())

    def matter_means(self) -> dict[str, float]:
        """The past mean of each matter with MIN_CASES past cases or more."""
        return {m: mean for m, mean in self.mean_min.items() if self.cases.get(m, 0) >= MIN_CASES}

    def series_priors(self, matters: Iterable[Matter]) -> dict[str, float]:
        """A prior mean handle time per series: its matters' past means weighted by their past cases; a
        series none of whose matters has MIN_CASES past cases keeps the plain mean of its config priors
        (as `HandleTimes.from_matters`)."""
        weighted: dict[str, float] = {}
        weights: dict[str, int] = {}
        configured: dict[str, list[float]] = {}
        for m in matters:
            configured.setdefault(m.series, []).append(m.prior_handle_min)
            n = self.cases.get(m.code, 0)
            if n >= MIN_CASES:
                weighted[m.series] = weighted.get(m.series, 0.0) + n * self.mean_min[m.code]
                weights[m.series] = weights.get(m.series, 0) + n
        return {
            series: weighted[series] / weights[series] if series in weights else math.fsum(v) / len(v)
            for series, v in configured.items()
        }
