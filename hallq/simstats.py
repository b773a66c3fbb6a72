"""The simulated day's statistics: the measures of `hallcore.measures` (the dashboard's definitions) over
the simulator's ticket records, and the Erlang C 潮汐 advice (`hallcore.erlang`): the windows a series needs
for 80 % of waits within its target at the observed arrival rate.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from hallcore import measures
from hallcore.config import HallConfig
from hallcore.erlang import DEFAULT_LEVEL, windows_needed
from hallcore.measures import EstimateErrors, Spread

#: The share of waits the Erlang C advice aims to keep within the series' target wait.
SERVICE_LEVEL = DEFAULT_LEVEL


@dataclass(slots=True)
class TicketRecord:
    """What the simulator saw of one ticket, from the replies it got (the same for the engine and the API)."""

    id: str
    label: str
    series: str
    matter: str
    source: str
    priority: str
    issued_at: dt.datetime
    ahead: int | None = None
    est_low: int | None = None
    est_high: int | None = None
    est_point: int | None = None
    printed: bool = False
    first_called_at: dt.datetime | None = None
    serving_at: dt.datetime | None = None
    ended_at: dt.datetime | None = None
    state: str = "waiting"  # waiting, called, serving, done, no_show, transferred, expired
    window: int | None = None
    recalls: int = 0
    transfers: int = 0
    no_shows: int = 0
    rating: int | None = None
    outcome: str = ""  # how the case ended (hallcore/caseoutcome.py), when it was finished

    @property
    def wait_min(self) -> float | None:
        return measures.wait_min(self.issued_at, self.first_called_at)

    @property
    def handle_min(self) -> float | None:
        return measures.handle_min(self.serving_at, self.ended_at) if self.state == "done" else None


@dataclass(slots=True)
class Advice:
    """Erlang C 潮汐 advice for one series in one hour."""

    series: str
    hour: int
    arrivals_per_h: float
    handle_min: float
    target_min: int
    windows_open: float
    windows_needed: int | None  # None: no arrivals

    def text(self) -> str:
        if self.windows_needed is None:
            return f"{self.series}: no arrivals"
        delta = self.windows_needed - self.windows_open
        word = "add" if delta > 0.05 else ("spare" if delta < -0.95 else "keep")
        return (
            f"{self.series}: peak {self.hour:02d}–{self.hour + 1:02d} {self.arrivals_per_h:.0f}/h × "
            f"{self.handle_min:.1f} min → {self.windows_needed} windows for {SERVICE_LEVEL:.0%} within "
            f"{self.target_min} min (open {self.windows_open:.1f}: {word}"
            + (f" {abs(delta):.1f})" if word != "keep" else ")")
        )


@dataclass(slots=True)
class SeriesStats:
    series: str
    name: str
    issued: int
    wait: Spread
    handle: Spread
    within_target: float | None
    target_min: int
    mae: float | None
    coverage: float | None


@dataclass(slots=True)
class DayStats:
    issued: int
    states: Counter[str]
    called: int
    wait: Spread
    handle: Spread
    within_target: float | None
    no_show_rate: float | None
    served: int
    rated: int
    ratings: Counter[int]
    participation: float | None  # 参评率
    satisfaction: float | None  # 满意率
    prechecks: Counter[str]
    bookings: Counter[str]
    pauses: Counter[str]
    refusals: Counter[str]
    mae: float | None
    coverage: float | None
    estimated: int
    mae_by_ahead: dict[str, tuple[int, float]]
    range_width_p50: float | None  # the median width of the printed ranges, minutes
    series: list[SeriesStats] = field(default_factory=list)
    advice: list[Advice] = field(default_factory=list)


def estimate_errors(records: Iterable[TicketRecord]) -> EstimateErrors:
    """How the estimates shown at issue held for these tickets."""
    return measures.estimate_errors((r.wait_min, r.est_low, r.est_high, r.est_point) for r in records)


def range_widths(records: Iterable[TicketRecord]) -> list[int]:
    """The printed ranges' widths (high − low, minutes) of the tickets whose estimate is checked (called)."""
    return [
        r.est_high - r.est_low
        for r in records
        if r.wait_min is not None
        and r.est_high is not None
        and r.est_low is not None
        and r.est_point is not None
    ]


def errors_by_ahead(records: Iterable[TicketRecord]) -> dict[str, list[float]]:
    """The estimates' absolute errors (minutes) by people ahead at issue: "0", "1-4", "5-19", "20+"."""
    by_ahead: dict[str, list[float]] = defaultdict(list)
    for r in records:
        w = r.wait_min
        if w is None or r.est_point is None or r.ahead is None:
            continue
        bucket = "0" if r.ahead == 0 else "1-4" if r.ahead < 5 else "5-19" if r.ahead < 20 else "20+"
        by_ahead[bucket].append(abs(w - r.est_point))
    return by_ahead


# ---- the day --------------------------------------------------------------------------------------------


def day_stats(
    config: HallConfig,
    records: Iterable[TicketRecord],
    *,
    prechecks: Counter[str] | None = None,
    bookings: Counter[str] | None = None,
    pauses: Counter[str] | None = None,
    refusals: Counter[str] | None = None,
    capacity: dict[str, float] | None = None,
    tz: dt.tzinfo | None = None,
) -> DayStats:
    """The day's measures from the simulator's ticket records. `capacity` is the windows' worth of service
    each series had staffed (a window serving k series counts 1/k), for the 潮汐 advice."""
    recs = list(records)
    states = Counter(r.state for r in recs)
    waits = [w for r in recs if (w := r.wait_min) is not None]
    handles = [h for r in recs if (h := r.handle_min) is not None]
    target = {s.prefix: s.target_wait_min for s in config.series}
    called = len(waits)
    no_shows = sum(1 for r in recs if r.no_shows)
    served = states["done"]
    ratings = Counter(r.rating for r in recs if r.rating is not None)
    rated = sum(ratings.values())
    errors = estimate_errors(recs)
    by_ahead = errors_by_ahead(recs)
    stats = DayStats(
        issued=len(recs),
        states=states,
        called=called,
        wait=Spread.of(waits),
        handle=Spread.of(handles),
        within_target=measures.within_target(
            (w, target[r.series]) for r in recs if (w := r.wait_min) is not None
        ),
        no_show_rate=measures.no_show_rate(no_shows, called),
        served=served,
        rated=rated,
        ratings=ratings,
        participation=measures.participation(rated, served),
        satisfaction=measures.satisfaction(ratings),
        prechecks=prechecks or Counter(),
        bookings=bookings or Counter(),
        pauses=pauses or Counter(),
        refusals=refusals or Counter(),
        mae=errors.mae,
        coverage=errors.coverage,
        estimated=errors.n,
        mae_by_ahead={k: (len(v), statistics.fmean(v)) for k, v in sorted(by_ahead.items())},
        range_width_p50=statistics.median(widths) if (widths := range_widths(recs)) else None,
    )
    by_series: dict[str, list[TicketRecord]] = defaultdict(list)
    for r in recs:
        by_series[r.series].append(r)
    for s in config.series:
        rs = by_series.get(s.prefix, [])
        series_waits = [x for r in rs if (x := r.wait_min) is not None]
        series_handles = [x for r in rs if (x := r.handle_min) is not None]
        errs = estimate_errors(rs)
        stats.series.append(
            SeriesStats(
                s.prefix,
                s.name,
                len(rs),
                Spread.of(series_waits),
                Spread.of(series_handles),
                measures.within_target((x, s.target_wait_min) for x in series_waits),
                s.target_wait_min,
                errs.mae,
                errs.coverage,
            )
        )
        if capacity is not None and rs:
            hours = Counter(r.issued_at.astimezone(tz).hour if tz else r.issued_at.hour for r in rs)
            hour, n = max(hours.items(), key=lambda kv: (kv[1], -kv[0]))
            handle = statistics.fmean(series_handles) if series_handles else 0.0
            stats.advice.append(
                Advice(
                    s.prefix,
                    hour,
                    float(n),
                    handle,
                    s.target_wait_min,
                    capacity.get(s.prefix, 0.0),
                    windows_needed(n / 60, handle, s.target_wait_min, SERVICE_LEVEL).windows
                    if handle > 0
                    else None,
                )
            )
    return stats


def render(stats: DayStats, title: str) -> str:
    """The statistics as the text `hallq sim` prints."""
    st = stats.states
    lines = [
        title,
        f"  tickets issued {stats.issued}: " + ", ".join(f"{k} {v}" for k, v in sorted(st.items())),
        "  pre-check: " + (", ".join(f"{k} {v}" for k, v in sorted(stats.prechecks.items())) or "none"),
    ]
    if stats.bookings:
        lines.append("  bookings: " + ", ".join(f"{k} {v}" for k, v in sorted(stats.bookings.items())))
    if stats.refusals:
        lines.append("  refused: " + ", ".join(f"{k} {v}" for k, v in sorted(stats.refusals.items())))
    within = f"{stats.within_target:.0%}" if stats.within_target is not None else "–"
    lines.append(f"  calls {stats.called}; wait {stats.wait.text()}; within target {within}")
    lines.append(f"  handle {stats.handle.text()} over {stats.handle.count} served")
    ns = f"{stats.no_show_rate:.1%}" if stats.no_show_rate is not None else "–"
    lines.append(f"  no-show rate {ns}")
    if stats.pauses:
        lines.append("  pauses: " + ", ".join(f"{k} {v}" for k, v in sorted(stats.pauses.items())))
    part = f"{stats.participation:.0%}" if stats.participation is not None else "–"
    sat = f"{stats.satisfaction:.1%}" if stats.satisfaction is not None else "–"
    lines.append(f"  ratings {stats.rated} (参评率 {part}), 满意率 {sat}")
    lines.append("  per series (called; wait P50/P90/max; within target; handle P50/P90; estimate MAE):")
    for s in stats.series:
        if not s.issued:
            continue
        share = f"{s.within_target:.0%}" if s.within_target is not None else "–"
        mae = f"{s.mae:.1f}" if s.mae is not None else "–"
        waits = f"{s.wait.p50:.0f}/{s.wait.p90:.0f}/{s.wait.max:.0f} min"
        handles = f"{s.handle.p50:.0f}/{s.handle.p90:.0f} min"
        lines.append(
            f"    {s.series} {s.name}: {s.wait.count}; {waits}; {share} ≤ {s.target_min}; {handles}; {mae}"
        )
    if stats.mae is not None and stats.coverage is not None:
        lines.append(
            f"  estimates: MAE {stats.mae:.1f} min, range coverage {stats.coverage:.0%} over "
            f"{stats.estimated} tickets, median range width {stats.range_width_p50:g} min"
        )
        lines.append(
            "    MAE by people ahead at issue: "
            + ", ".join(f"{k}: {m:.1f} (n {n})" for k, (n, m) in stats.mae_by_ahead.items())
        )
    else:
        lines.append("  estimates: none checked")
    if stats.advice:
        lines.append("  潮汐 advice (Erlang C at each series' busiest hour):")
        lines.extend(f"    {a.text()}" for a in stats.advice)
    return "\n".join(lines)
