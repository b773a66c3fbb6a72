"""The simulated hall's demand: how many citizens come for which matter, how long their cases really take,
and what they answer at the pre-check (`hallq.sim` runs the day with them)."""

from __future__ import annotations

import datetime as dt
import math
import random
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hallcore.calendar import HallCalendar
from hallcore.config import HallConfig, Matter

if TYPE_CHECKING:
    from hallq.simparams import SimParams

#: Share of the day's walk-ins in each hour (a Monday: the morning peak, a lunch dip, an afternoon bump).
HOURLY_PROFILE = {8: 0.06, 9: 0.19, 10: 0.18, 11: 0.12, 12: 0.04, 13: 0.09, 14: 0.13, 15: 0.12, 16: 0.07}


@dataclass(frozen=True, slots=True)
class Demand:
    """Each matter's real mean handle time and spread, and its popularity within its series."""

    real_mean: dict[str, float]
    real_sigma: dict[str, float]
    popularity: dict[str, float]
    hour_pace: dict[int, float]  # local hour -> what the hall's cases take then, as a factor (`hour_sigma`)

    @classmethod
    def of(cls, config: HallConfig, p: SimParams) -> Demand:
        """Drawn from its own seed (the hall's: `hall_seed`, else the day's), so the day's other draws do not
        move when the model changes."""
        rng = random.Random((p.seed if p.hall_seed is None else p.hall_seed) * 7919 + 1)
        real_mean: dict[str, float] = {}
        real_sigma: dict[str, float] = {}
        popularity: dict[str, float] = {}
        by_series: dict[str, list[Matter]] = defaultdict(list)
        for m in config.matters:
            by_series[m.series].append(m)
        for matters in by_series.values():
            ranks = list(range(len(matters)))
            rng.shuffle(ranks)
            for m, rank in zip(matters, ranks, strict=True):
                popularity[m.code] = 1.0 / (rank + 1) ** 0.8
        for m in config.matters:
            real_mean[m.code] = m.prior_handle_min * p.handle_bias * rng.lognormvariate(0.0, p.matter_sigma)
            real_sigma[m.code] = rng.uniform(*p.handle_sigma)
        # From a generator of its own, so the draws above are the same with and without the hours.
        hours = random.Random((p.seed if p.hall_seed is None else p.hall_seed) * 7919 + 2)
        hour_pace = {h: hours.lognormvariate(0.0, p.hour_sigma) for h in range(24)} if p.hour_sigma else {}
        return cls(real_mean, real_sigma, popularity, hour_pace)

    def walk_ins(self, config: HallConfig, p: SimParams, capacity: dict[str, float], tz: dt.tzinfo) -> int:
        """Walk-ins for the day: enough to keep the staffed windows `load` busy over the open hours at the
        real handle times (bookings come on top)."""
        if p.arrivals is not None:
            return p.arrivals
        mean_real = sum(self.real_mean[m.code] * self.popularity[m.code] for m in config.matters) / sum(
            self.popularity.values()
        )
        hours = (
            dt.datetime.combine(p.day, p.end) - dt.datetime.combine(p.day, p.start)
        ).total_seconds() / 3600
        open_windows = sum(capacity.values())
        # Arrivals before opening or after the cut-off, and failed pre-checks, never reach a window.
        first = p.start.hour + p.start.minute / 60
        last = p.end.hour + p.end.minute / 60
        closes = HallCalendar(config.hall).closes_at(p.day)
        if closes is not None:
            local = closes.astimezone(tz)
            last = min(last, local.hour + local.minute / 60 - config.hall.cutoff_min / 60)
        inside = sum(
            share * max(0.0, min(hour + 1, last) - max(hour, first)) for hour, share in HOURLY_PROFILE.items()
        )
        reach = max(inside, 0.05) * (1 - p.precheck_fail_rate)
        return int(p.load * open_windows * hours * 60 / mean_real / reach)

    def matter_weights(
        self, config: HallConfig, capacity: dict[str, float]
    ) -> tuple[list[Matter], list[float]]:
        """Demand per matter: each series gets arrivals in proportion to the service it is staffed for
        (windows ÷ real handle time, as a hall sizes its windows), split by the matters' popularity."""
        cap = {s.prefix: capacity.get(s.prefix, 0.0) for s in config.series}
        pop_sum: dict[str, float] = defaultdict(float)
        handle: dict[str, float] = defaultdict(float)
        for m in config.matters:
            pop_sum[m.series] += self.popularity[m.code]
            handle[m.series] += self.popularity[m.code] * self.real_mean[m.code]
        matters = list(config.matters)
        weights = [
            cap[m.series]
            / (handle[m.series] / pop_sum[m.series])
            * self.popularity[m.code]
            / pop_sum[m.series]
            for m in matters
        ]
        return matters, weights


def poisson(rng: random.Random, lam: float) -> int:
    # Knuth for small means, normal approximation for large ones: good enough for arrivals.
    if lam > 50:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    k, prod, limit = 0, rng.random(), math.exp(-lam)
    while prod > limit:
        k += 1
        prod *= rng.random()
    return k


def answers_for(rng: random.Random, p: SimParams, m: Matter) -> tuple[dict[str, bool], frozenset[str]]:
    """A citizen's pre-check answers: most pass, `precheck_fail_rate` lack a hard requirement, and
    `precheck_tolerated_rate` lack a tolerable (容缺) material."""
    roll = rng.random()
    answers = {q.id: q.expected for q in m.precheck.questions}
    present = {x.id for x in m.precheck.materials}
    if roll < p.precheck_fail_rate:
        hard = [x.id for x in m.precheck.materials if x.required and not x.tolerable]
        if hard:
            present.discard(rng.choice(hard))
        elif m.precheck.questions:
            q = rng.choice(m.precheck.questions)
            answers[q.id] = not q.expected
    elif roll < p.precheck_fail_rate + p.precheck_tolerated_rate:
        soft = [x.id for x in m.precheck.materials if x.tolerable]
        if soft:
            present.discard(rng.choice(soft))
    return answers, frozenset(present)
