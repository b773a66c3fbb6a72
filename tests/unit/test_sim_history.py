"""A simulated hall's history (`hallq.simhistory`): the same hall on earlier weeks, whose cases the estimator
starts the scored day from (`hallq sim --history N`)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest

from hallfiles.config import read_config
from hallq import simcli
from hallq.sim import SimParams, simulate
from hallq.simcrowd import Demand
from hallq.simhistory import history_days, history_of, simulate_with_history

COUNTY = Path(__file__).resolve().parents[2] / "config" / "county.toml"
MONDAY = dt.date(2026, 11, 23)


def test_history_days_are_the_same_hall_on_the_same_weekday_of_earlier_weeks() -> None:
    day = SimParams(MONDAY, seed=3, arrival_scale=1.3)
    days = history_days(day, 3)
    assert [d.day for d in days] == [MONDAY - dt.timedelta(weeks=k) for k in (1, 2, 3)]
    assert {d.hall_seed for d in days} == {3}
    assert len({d.seed for d in days}) == 3
    assert 3 not in {d.seed for d in days}
    assert {d.arrival_scale for d in days} == {1.3}
    assert {d.arrival_scale for d in history_days(day, 2, arrival_scale=1.0)} == {1.0}


def test_days_of_one_hall_share_its_matters_real_times_and_only_they_do() -> None:
    config = read_config(COUNTY)
    scored = SimParams(MONDAY, seed=3)
    earlier = history_days(scored, 1)[0]
    assert Demand.of(config, earlier).real_mean == Demand.of(config, scored).real_mean
    other = dataclasses.replace(earlier, hall_seed=4)
    assert Demand.of(config, other).real_mean != Demand.of(config, scored).real_mean


def test_the_history_of_earlier_days_changes_the_estimates_of_the_scored_day() -> None:
    config = read_config(COUNTY)
    scored = SimParams(MONDAY, dt.time(8, 30), dt.time(10, 0), seed=3)
    history = history_of(config, history_days(scored, 1))
    assert sum(history.cases.values()) > 50
    warm = simulate_with_history(config, scored, history)
    cold = simulate(config, scored)
    # The same citizens and calls (the estimates do not steer the day), other estimates.
    assert warm.calls == cold.calls
    points = [(r.est_point, cold.records[t].est_point) for t, r in warm.records.items()]
    assert any(a != b for a, b in points)


@pytest.mark.parametrize(
    "extra", [["--history", "-1"], ["--history", "1", "--against", "http://127.0.0.1:9", "--manager", "m"]]
)
def test_cli_refuses_a_history_it_cannot_build(extra: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert simcli.main(["--config", str(COUNTY), "--password", "p", *extra]) == 2
    assert "--history" in capsys.readouterr().err


def test_a_hall_slower_at_some_hours_is_so_on_all_its_days_and_its_history_sees_it() -> None:
    config = read_config(COUNTY)
    scored = SimParams(MONDAY, dt.time(8, 30), dt.time(11, 0), seed=3, hour_sigma=0.3)
    earlier = history_days(scored, 1)[0]
    pace = Demand.of(config, scored).hour_pace
    assert sorted(pace) == list(range(24))
    assert len(set(pace.values())) == 24  # each hour its own factor…
    assert Demand.of(config, earlier).hour_pace == pace  # …the same on the hall's other days
    flat = Demand.of(config, dataclasses.replace(scored, hour_sigma=0.0))
    assert flat.hour_pace == {}
    assert flat.real_mean == Demand.of(config, scored).real_mean  # the other draws do not move
    # The history's cases carry their local hour (the history day runs over the hall's opening hours).
    history = history_of(config, [earlier])
    hours = {hour for _m, _d, hour in history.hours}
    assert {9, 10, 15} <= hours <= set(range(8, 18))
    assert {day for _m, day in history.weekdays} == {0}


def test_cli_refuses_a_negative_hour_sigma(capsys: pytest.CaptureFixture[str]) -> None:
    assert simcli.main(["--config", str(COUNTY), "--hour-sigma", "-0.1"]) == 2
    assert "--hour-sigma" in capsys.readouterr().err
