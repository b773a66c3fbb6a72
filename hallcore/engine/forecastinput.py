"""What the forward model (`hallcore.forecast`) is given about one series, read from the engine's state at
`now`: the waiting tickets in call order with their keys and their matters' mean times, the windows counted on
for the series over the staffing plan (`waits.window_rows`: shares, when each serves, planned closures) with
the case each has in hand, the priority classes' expected arrivals and head starts, and the hall's learned
spreads. Built on the engine's thread (the writer), cheap next to the model; plain frozen data after."""

from __future__ import annotations

import datetime as dt

from hallcore.engine import waits
from hallcore.engine.state import OPEN, EngineState
from hallcore.forecast import DEFAULT_EXTRA, DEFAULT_RUNS, ForecastInput, WindowPlan
from hallcore.ordering import call_order


def forecast_input(
    s: EngineState,
    series: str,
    now: dt.datetime,
    *,
    runs: int = DEFAULT_RUNS,
    extra: int = DEFAULT_EXTRA,
    seed: int | None = None,
) -> ForecastInput:
    """The model's input for `series` at `now` (see the module docstring). `seed` defaults to the series'
    version, so the same state always gives the same result."""
    now_s = now.timestamp()
    mean, cv = waits.handle_stats(s, series)
    line = s.lines[series]
    order = call_order([line], s.tickets, now_s, s.rules(strict=False), 0) if line.count else []
    times = s.handle_times
    waiting = tuple(
        ((t.key[0] - now_s) / 60, times.mix_mean(series, mean, s.ticket_ref(t))) for t, _choice in order
    )
    plans = []
    for n, share, available, planned in waits.window_rows(s, series, now):
        rt = s.windows[n]
        busy: float | None = None
        busy_mean = 0.0
        held = s.tickets.get(rt.current) if rt.current is not None else None
        if rt.state is OPEN and held is not None:
            began = held.called_at or held.serving_at
            if began is not None:
                busy = max(0.0, (now - began).total_seconds() / 60)
                busy_mean = times.mix_mean(
                    held.series, waits.handle_stats(s, held.series)[0], s.ticket_ref(held)
                )
        plans.append(WindowPlan(share, available, busy, busy_mean, tuple(sorted(planned))))
    passers = []
    for pc in s.config.priority_classes:
        rate = s.priority_arrivals.rate(waits.arrival_key(series, pc.id), now_s)
        if rate > 0:
            head = s.bound_s / 60 if pc.absolute else pc.head_start_min
            passers.append((rate, float(head)))
    version = s.version(series)
    return ForecastInput(
        series=series,
        made_at=now_s,
        version=version,
        waiting=waiting,
        windows=tuple(plans),
        passers=tuple(passers),
        new_mean_min=mean,
        cv=cv,
        rate_spread=s.rate_spread.value(),
        runs=runs,
        extra=extra,
        seed=version if seed is None else seed,
    )
