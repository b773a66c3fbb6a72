"""`hallq sim --json`: one JSON object of the simulated day (or several seeds pooled), for scripts and the
benchmark record (bench/sim.py).

Keys: `tickets`; `wait` (`mean`, `p50`, `p90`, `max`, minutes, every called ticket) and `wait_normal` (the
same for tickets without a class, with `n`); `series` → per series `wait_mean_by_class` (class → minutes, or
null when none was called), `n_by_class`, `priority_calls` (calls whose reason is a class: "优先: …",
"预约到时"), `within_target`; `estimate` (`mae_min`, `coverage`, `mae_by_ahead`, `range_width_p50`: the
printed ranges' median width, `wide_share`: the share wider than `estimates.wide_band_min`, `by_seed`: each
day's `mae_min`, `coverage`, `range_width_p50`, `n`); `outcomes` and
`on_site_rate` (the served cases by outcome, drawn per matter kind from `hallq.sim.OUTCOME_PRIORS`, and
办结 ÷ (办结 + 受理) over 即办件); `pairs`: per class, the mean wait of its tickets
(`wait_mean`, `n`) and of the normal tickets of the same series issued within ±15 minutes of each of them
(`normal_wait_mean`, `n_normal`, one per pair), pooled over the day and the seeds — the fair comparison, since
a class's tickets come at their own hours — and the same for the pairs at the peak only (`busy`: where those
normal tickets waited 30 minutes or more on average).
"""

from __future__ import annotations

import bisect
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from hallcore import measures
from hallcore.config import MatterKind
from hallcore.measures import Spread
from hallq.simparams import SimResult
from hallq.simstats import TicketRecord, errors_by_ahead, estimate_errors, range_widths

NORMAL = "normal"
#: Pairs: normal tickets issued this close to a class's ticket count as "around it".
PAIR_WINDOW_S = 15 * 60
#: Pairs whose normal tickets waited at least this long on average are "at the peak" (`busy` in each pair):
#: past the first build's aging limit, where its rule let every normal ticket go first.
BUSY_MIN = 30.0
#: Call reasons that name a class (hallcore/engine/calling.py `call_reason`).
PRIORITY_REASONS = ("优先", "预约到时")


def class_of(r: TicketRecord) -> str:
    return r.priority or NORMAL


def _spread(values: Sequence[float]) -> dict[str, float | None]:
    if not values:
        return {"mean": None, "p50": None, "p90": None, "max": None}
    s = Spread.of(values)
    return {"mean": round(s.mean, 2), "p50": round(s.p50, 2), "p90": round(s.p90, 2), "max": round(s.max, 2)}


def _round(value: float | None, digits: int) -> float | None:
    return round(value, digits) if value is not None else None


def _mean(values: Sequence[float]) -> float | None:
    return round(statistics.fmean(values), 2) if values else None


def _seed_errors(result: SimResult) -> dict[str, Any]:
    """One day's estimate figures (the pooled ones weigh the busier days more)."""
    records = list(result.records.values())
    errors = estimate_errors(records)
    widths = range_widths(records)
    return {
        "seed": result.params.seed,
        "mae_min": _round(errors.mae, 2),
        "coverage": _round(errors.coverage, 4),
        "range_width_p50": statistics.median(widths) if widths else None,
        "n": errors.n,
    }


def sim_json(results: Sequence[SimResult]) -> dict[str, Any]:
    """The day's figures, pooled over `results` (the same hall, one result per seed)."""
    assert results, "at least one simulated day"
    config = results[0].config
    records = [r for result in results for r in result.records.values()]
    waits = [w for r in records if (w := r.wait_min) is not None]
    normal = [w for r in records if (w := r.wait_min) is not None and not r.priority]
    classes = [NORMAL, *(pc.id for pc in config.priority_classes)]
    priority_calls: dict[str, int] = defaultdict(int)
    for result in results:
        series_of = {r.label: r.series for r in result.records.values()}
        for _at, label, _window, reason in result.calls:
            if reason.startswith(PRIORITY_REASONS) and label in series_of:
                priority_calls[series_of[label]] += 1
    series: dict[str, Any] = {}
    for s in config.series:
        rs = [r for r in records if r.series == s.prefix]
        by_class: dict[str, list[float]] = {c: [] for c in classes}
        n_by_class = dict.fromkeys(classes, 0)
        for r in rs:
            n_by_class[class_of(r)] = n_by_class.get(class_of(r), 0) + 1
            if (w := r.wait_min) is not None:
                by_class.setdefault(class_of(r), []).append(w)
        called = [w for ws in by_class.values() for w in ws]
        series[s.prefix] = {
            "wait_mean_by_class": {c: _mean(ws) for c, ws in by_class.items()},
            "n_by_class": n_by_class,
            "priority_calls": priority_calls.get(s.prefix, 0),
            "within_target": _round(measures.within_target((w, s.target_wait_min) for w in called), 4),
        }
    immediate = {m.code for m in config.matters if m.kind is MatterKind.ON_THE_SPOT}
    outcomes = Counter(r.outcome for r in records if r.state == "done" and r.outcome)
    onsite = Counter(r.outcome for r in records if r.state == "done" and r.matter in immediate)
    errors = estimate_errors(records)
    by_ahead = errors_by_ahead(records)
    return {
        "hall": config.hall.id,
        "day": results[0].params.day.isoformat(),
        "seeds": [result.params.seed for result in results],
        "tickets": len(records),
        "wait": _spread(waits),
        "wait_normal": {**_spread(normal), "n": len(normal)},
        "series": series,
        "estimate": {
            "mae_min": _round(errors.mae, 2),
            "coverage": _round(errors.coverage, 4),
            "mae_by_ahead": {
                k: {"n": len(v), "mae_min": round(statistics.fmean(v), 2)}
                for k, v in sorted(by_ahead.items())
            },
            "range_width_p50": statistics.median(widths) if (widths := range_widths(records)) else None,
            "wide_share": _round(
                sum(w > config.estimates.wide_band_min for w in widths) / len(widths) if widths else None, 4
            ),
            "by_seed": [_seed_errors(result) for result in results],
        },
        "outcomes": dict(sorted(outcomes.items())),
        "on_site_rate": _round(
            measures.onsite_rate_outcomes(onsite[measures.ONSITE_DONE], onsite[measures.ONSITE_ACCEPTED]), 4
        ),
        "pairs": pairs(results, [c for c in classes if c != NORMAL]),
    }


def pairs(results: Iterable[SimResult], classes: Sequence[str]) -> dict[str, Any]:
    """Per class: its tickets' mean wait beside the normal tickets of the same series issued within ±15 min of
    each (each seed's day on its own, then pooled)."""
    own: dict[str, list[float]] = {c: [] for c in classes}
    around: dict[str, list[float]] = {c: [] for c in classes}
    busy_own: dict[str, list[float]] = {c: [] for c in classes}
    busy_around: dict[str, list[float]] = {c: [] for c in classes}
    for result in results:
        normal: dict[str, list[tuple[float, float]]] = defaultdict(list)
        for r in result.records.values():
            if not r.priority and (w := r.wait_min) is not None:
                normal[r.series].append((r.issued_at.timestamp(), w))
        for line in normal.values():
            line.sort()
        for r in result.records.values():
            w = r.wait_min
            if not r.priority or w is None or r.priority not in own:
                continue
            line = normal.get(r.series, [])
            at = r.issued_at.timestamp()
            lo = bisect.bisect_left(line, (at - PAIR_WINDOW_S, float("-inf")))
            hi = bisect.bisect_right(line, (at + PAIR_WINDOW_S, float("inf")))
            if lo == hi:
                continue  # nobody normal around it: no pair to compare
            neighbours = [x for _t, x in line[lo:hi]]
            own[r.priority].append(w)
            around[r.priority].extend(neighbours)
            if statistics.fmean(neighbours) >= BUSY_MIN:
                busy_own[r.priority].append(w)
                busy_around[r.priority].extend(neighbours)
    return {
        c: {
            "wait_mean": _mean(own[c]),
            "n": len(own[c]),
            "normal_wait_mean": _mean(around[c]),
            "n_normal": len(around[c]),
            "busy": {
                "wait_mean": _mean(busy_own[c]),
                "n": len(busy_own[c]),
                "normal_wait_mean": _mean(busy_around[c]),
                "n_normal": len(busy_around[c]),
            },
        }
        for c in classes
    }
