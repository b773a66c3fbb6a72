"""A simulated hall's history: the same hall (`SimParams.hall_seed`: its matters' real handle times) on the
same weekday of earlier weeks, each day with its own clerks, absences and arrivals; the finished cases of
those days give the estimator its `HandleHistory`, as a real hall's store does (`hallserver.loader`).

The estimator sees only the history's cases, never the simulator's parameters: the history days deviate from
the plan as the scored day does, and their clerks are not the scored day's."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable

from hallcore.calendar import HallCalendar
from hallcore.config import HallConfig
from hallcore.history import HandleHistory
from hallcore.model import Ticket
from hallq.sim import simulate
from hallq.simparams import Pacer, SimParams, SimResult
from hallq.simports import EnginePort

#: Earlier days of a hall get the seeds hall_seed × this + 1, + 2, … (never a scored day's seed).
HISTORY_SEED_STRIDE = 1000


def history_days(params: SimParams, days: int, *, arrival_scale: float | None = None) -> list[SimParams]:
    """The `days` earlier days whose cases make the history of the day `params`: the same weekday 1 … `days`
    weeks before, the same hall, seeds of their own; the arrival curve `arrival_scale` (default: the
    day's own)."""
    hall = params.seed if params.hall_seed is None else params.hall_seed
    scale = params.arrival_scale if arrival_scale is None else arrival_scale
    return [
        dataclasses.replace(
            params,
            day=params.day - dt.timedelta(weeks=k),
            seed=hall * HISTORY_SEED_STRIDE + k,
            hall_seed=hall,
            arrival_scale=scale,
        )
        for k in range(1, days + 1)
    ]


def history_of(config: HallConfig, days: list[SimParams]) -> HandleHistory:
    """Run `days` (each over its calendar's hours) and gather their finished cases, with the weekday and
    hour each was handled (the hall's local time), as the server reads its store."""
    tickets: list[Ticket] = []
    cal = HallCalendar(config.hall)
    for p in days:
        opens, closes = cal.opens_at(p.day), cal.closes_at(p.day)
        if opens is None or closes is None:
            continue  # the hall was closed that day: no cases
        day = dataclasses.replace(
            p, start=opens.astimezone(cal.tz).time(), end=closes.astimezone(cal.tz).time()
        )
        result = simulate(config, day)
        assert result.engine is not None
        tickets.extend(result.engine.tickets.values())
    return HandleHistory.from_tickets(tickets, tz=cal.tz)


def simulate_with_history(
    config: HallConfig,
    params: SimParams,
    history: HandleHistory,
    *,
    on_call: Callable[[str], None] | None = None,
    pacer: Pacer | None = None,
) -> SimResult:
    """The day `params` with an estimator that starts from `history` (the hall is `params.hall_seed`'s, or
    `params.seed`'s when None: give the history days the same)."""
    port = EnginePort(config, forecast=params.estimator == "forecast")
    port.engine.use_history(history)
    hall = params.seed if params.hall_seed is None else params.hall_seed
    return simulate(
        config, dataclasses.replace(params, hall_seed=hall), port=port, on_call=on_call, pacer=pacer
    )
