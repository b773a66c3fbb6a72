"""The forward model of a series' line (issue 29, hallcore/forecast.py) and its results in the engine
(hallcore/engine/forecasts.py, forecastinput.py): each input moves what it should — a planned lunch closure
the people behind it, a slow clerk the width, passers the later positions — and a result is printed only
while it is fresh."""

from __future__ import annotations

import dataclasses
import datetime as dt
import pickle

import pytest

from hallcore import commands as c
from hallcore.config import Estimates
from hallcore.engine import Engine, forecasts
from hallcore.engine.forecastinput import forecast_input
from hallcore.forecast import Forecast, ForecastInput, WindowPlan, forecast, runs_for
from hallcore.model import Source
from tests.unit.test_estimates_plan import LUNCH, at, issue_b, ok, two_b_windows, width


def at_s(hour: int, minute: int, second: int) -> dt.datetime:
    return at(hour, minute) + dt.timedelta(seconds=second)


def line(n: int, mean: float = 6.0) -> tuple[tuple[float, float], ...]:
    """`n` waiting in call order, each having waited half a minute less than the one before."""
    return tuple((-(n - i) * 0.5, mean) for i in range(n))


def busy(mean: float = 6.0, closures: tuple[tuple[float, float], ...] = ()) -> WindowPlan:
    return WindowPlan(1.0, 0.0, 1.0, mean, closures)


def spread(found: tuple[float, float, float] | None) -> float:
    assert found is not None
    return found[2] - found[0]


def median(found: tuple[float, float, float] | None) -> float:
    assert found is not None
    return found[1]


# --- the model -------------------------------------------------------------------------------------------


def test_a_planned_lunch_closure_moves_the_people_behind_it_and_not_the_first() -> None:
    plain = ForecastInput("B", 0.0, 1, line(10), (busy(), busy()), cv=0.5)
    lunch = dataclasses.replace(plain, windows=(busy(), busy(closures=((20.0, 80.0),))))
    a, b = forecast(plain), forecast(lunch)
    # Ten ahead at 6 minutes on two windows: about 29 minutes; with one window gone from minute 20, the
    # tenth waits about 37 by the inline estimate's arithmetic (whole cases here: a little more).
    assert median(a.at(9)) == pytest.approx(29, abs=3)
    assert 5 < median(b.at(9)) - median(a.at(9)) < 16
    assert median(b.at(0)) == pytest.approx(median(a.at(0)), abs=0.01)  # called before the lunch turn


def test_a_window_back_from_its_closure_serves_from_its_end() -> None:
    closed = ForecastInput("B", 0.0, 1, line(1), (WindowPlan(1.0, available_min=40.0),), cv=0.5)
    assert median(forecast(closed).at(0)) == pytest.approx(40.0)


def test_a_slow_clerk_widens_the_range() -> None:
    steady = ForecastInput("B", 0.0, 1, line(10, 8.0), (busy(8.0), busy(8.0)), cv=0.3)
    mixed = dataclasses.replace(steady, cv=1.0)  # one clerk in four twice as slow: the cases' spread
    uneven = dataclasses.replace(steady, rate_spread=0.3)  # a day off its history
    assert spread(forecast(mixed).at(9)) > spread(forecast(steady).at(9)) + 5
    assert spread(forecast(uneven).at(9)) > spread(forecast(steady).at(9)) + 5
    assert median(forecast(mixed).at(9)) == pytest.approx(median(forecast(steady).at(9)), rel=0.15)


def test_passers_make_the_later_positions_wait_longer() -> None:
    none = ForecastInput("B", 0.0, 1, line(20), (busy(), busy()), cv=0.5)
    elderly = dataclasses.replace(none, passers=((0.1, 20.0),))  # six an hour with 20 minutes' head start
    a, b = forecast(none), forecast(elderly)
    assert median(b.at(0)) == pytest.approx(median(a.at(0)), abs=0.5)  # waited long enough: nobody passes
    assert median(b.at(25)) > median(a.at(25)) + 3  # a newcomer is passed by those within 20 minutes


def test_an_idle_window_calls_the_next_in_line_at_once() -> None:
    result = forecast(ForecastInput("B", 0.0, 1, line(2), (WindowPlan(1.0), busy()), cv=0.5))
    assert result.at(0) == (0.0, 0.0, 0.0)


def test_a_shared_window_serves_the_series_at_its_share() -> None:
    own = ForecastInput("B", 0.0, 1, line(10), (busy(),), cv=0.5, extra=0)
    half = dataclasses.replace(own, windows=(WindowPlan(0.5, 0.0, 1.0, 6.0),))
    assert median(forecast(half).at(9)) == pytest.approx(2 * median(forecast(own).at(9)), rel=0.2)


def test_no_window_means_no_forecast_and_far_positions_none() -> None:
    assert forecast(ForecastInput("B", 0.0, 1, line(3), ())).positions == (None,) * 23
    far = forecast(ForecastInput("B", 0.0, 1, line(150, 10.0), (busy(10.0),), extra=0))
    assert far.at(10) is not None
    assert far.at(149) is None  # 1,500 minutes away: beyond the horizon
    assert far.at(150) is None  # past the end


def test_the_same_input_gives_the_same_result_and_crosses_a_process_boundary() -> None:
    inp = ForecastInput("B", 100.0, 7, line(30), (busy(), busy(closures=((5.0, 9.0),))), ((0.05, 30.0),))
    once = forecast(inp)
    again = pickle.loads(pickle.dumps(inp))
    assert forecast(again) == once
    assert pickle.loads(pickle.dumps(once)) == once
    assert dataclasses.replace(inp, seed=8) != inp


def test_a_long_line_takes_fewer_runs_but_never_too_few() -> None:
    assert runs_for(ForecastInput("B", 0.0, 1, line(10), (busy(),))) == 100
    assert 30 <= runs_for(ForecastInput("B", 0.0, 1, line(500), (busy(),))) < 100
    assert runs_for(ForecastInput("B", 0.0, 1, line(5000), (busy(),))) == 30


@pytest.mark.parametrize(
    "bad",
    [
        {"cv": float("nan")},
        {"waiting": ((0.0, -1.0),)},
        {"windows": (WindowPlan(float("inf")),)},
        {"passers": ((-0.1, 20.0),)},
        {"band": 1.0},
        {"runs": 0},
    ],
)
def test_bad_input_is_refused_plainly(bad: dict[str, object]) -> None:
    inp = dataclasses.replace(ForecastInput("B", 0.0, 1, line(3), (busy(),)), **bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="must be"):
        forecast(inp)


# --- in the engine ---------------------------------------------------------------------------------------


def refreshed(e: Engine, now: dt.datetime) -> Forecast:
    result = forecast(forecast_input(e, "B", now))
    assert forecasts.install(e, result)
    return result


def test_the_engine_input_carries_the_plan_the_line_and_the_cases_in_hand() -> None:
    e = Engine(two_b_windows((LUNCH,)))
    ok(e, c.OpenWindow(2, "s2"), at(11))
    ok(e, c.OpenWindow(3, "s3"), at(11))
    issue_b(e, 2, at(11, 30))
    ok(e, c.CallNext(2), at(11, 30))
    issue_b(e, 3, at(11, 35))
    inp = forecast_input(e, "B", at(11, 40))
    assert len(inp.waiting) == 4
    assert [round(k, 1) for k, _m in inp.waiting] == [-10.0, -5.0, -5.0, -5.0]
    assert all(m == pytest.approx(6.0) for _k, m in inp.waiting)
    by_busy = sorted(inp.windows, key=lambda w: w.busy_min or 0)
    assert by_busy[0].busy_min is None  # window 3 idle
    assert by_busy[0].closures == ((20.0, 80.0),)  # its lunch turn, from 11:40
    assert by_busy[1].busy_min == pytest.approx(10.0)  # window 2's case was called at 11:30
    assert inp.version == e.version("B")


def test_the_engine_prints_a_fresh_result_with_its_lunch_turn() -> None:
    plain, planned = Engine(two_b_windows()), Engine(two_b_windows((LUNCH,)))
    for e in (plain, planned):
        ok(e, c.OpenWindow(2, "s2"), at(11))
        ok(e, c.OpenWindow(3, "s3"), at(11))
        issue_b(e, 2, at(11, 39))
        ok(e, c.CallNext(2), at(11, 39))
        ok(e, c.CallNext(3), at(11, 39))
        issue_b(e, 9, at(11, 39))
        refreshed(e, at_s(11, 39, 30))
    # The phone page reads the result for a waiting ticket's position, as the ticket issued next gets it.
    seen = planned.estimate_for("B", 9, at(11, 40))
    without, with_lunch = issue_b(plain, 1, at(11, 40)), issue_b(planned, 1, at(11, 40))
    assert with_lunch.ahead == without.ahead == 9
    assert without.estimate is not None
    assert with_lunch.estimate is not None
    assert without.estimate.point_min is not None
    assert with_lunch.estimate.point_min is not None
    assert with_lunch.estimate.point_min >= without.estimate.point_min + 5
    assert seen == with_lunch.estimate


def test_a_stale_result_gives_way_to_the_inline_estimate() -> None:
    e = Engine(two_b_windows())
    ok(e, c.OpenWindow(2, "s2"), at(9))
    issue_b(e, 1, at(9))
    ok(e, c.CallNext(2), at(9))
    issue_b(e, 10, at(9))
    result = refreshed(e, at(9))
    modelled = e.estimate_for("B", 5, at_s(9, 0, 1))
    assert modelled == forecasts.estimate_from(e, "B", 5, at_s(9, 0, 1))
    # Nothing changed: the same result a minute on, less the minute.
    later = e.estimate_for("B", 5, at(9, 1))
    assert later.point_min is not None
    assert modelled.point_min is not None
    assert later.point_min == pytest.approx(modelled.point_min - 1, abs=1)
    assert not forecasts.refresh_due(e, "B", at(9, 1))
    # The line changed and the result is older than FRESH_S: the inline estimate answers until the next.
    issue_b(e, 1, at(9, 1))
    assert forecasts.refresh_due(e, "B", at_s(9, 1, 5))
    assert forecasts.estimate_from(e, "B", 5, at_s(9, 1, 5)) is None
    # An older result never replaces a newer one.
    newer = refreshed(e, at_s(9, 1, 5))
    assert not forecasts.install(e, result)
    assert e.forecasts["B"] is newer


def test_a_wide_forecast_says_busy_instead() -> None:
    e = Engine(dataclasses.replace(two_b_windows(), estimates=Estimates(wide_band_min=20)))
    ok(e, c.OpenWindow(2, "s2"), at(9))
    issue_b(e, 1, at(9))
    ok(e, c.CallNext(2), at(9))
    issue_b(e, 40, at(9))
    refreshed(e, at(9))
    out = ok(e, c.IssueTicket("sb01", Source.DESK, "far"), at(9))
    assert out.estimate is not None
    assert out.estimate == forecasts.estimate_from(e, "B", 40, at(9))
    assert out.estimate.wide
    assert width(out.estimate) > 20


def test_hallq_sim_scores_the_model_when_selected() -> None:
    """`hallq sim --estimator forecast`: the same day, estimates from the forward model made at most once a
    second of sim time per series that changed; the inline estimator stays the default."""
    from pathlib import Path

    from hallfiles.config import read_config
    from hallq import sim
    from hallq.simports import EnginePort

    config = read_config(Path(__file__).resolve().parents[2] / "config" / "county.toml")
    params = sim.SimParams(dt.date(2026, 11, 23), dt.time(8, 30), dt.time(9, 30), seed=3)
    assert params.estimator == "inline"
    port = EnginePort(config, forecast=True)
    modelled = sim.simulate(config, dataclasses.replace(params, estimator="forecast"), port=port)
    inline = sim.simulate(config, params)
    assert port.forecasts > 10
    assert len(modelled.records) == len(inline.records)  # the same citizens: only the estimates differ
    stats = modelled.stats()
    assert stats.mae is not None
    assert stats.coverage is not None
    assert [r.est_point for r in modelled.records.values()] != [r.est_point for r in inline.records.values()]
