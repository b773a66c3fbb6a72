"""Estimates: rolling handle times with a prior, the 1/k window rule, and an honest wait range."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hallcore.config import Matter
from hallcore.estimates import NO_WINDOW_OPEN, WaitEstimate, estimate_wait
from hallcore.handletimes import HandleTimes, window_capacity


def bounds(e: WaitEstimate) -> tuple[int, int, int]:
    """(low, point, high) of an estimate that has them."""
    assert e.low_min is not None
    assert e.point_min is not None
    assert e.high_min is not None
    return e.low_min, e.point_min, e.high_min


# --- estimate_wait ----------------------------------------------------------------------------------------


def test_point_counts_the_ticket_being_served_as_half_done() -> None:
    assert estimate_wait(0, 10.0, 1.0).point_min == 5
    assert estimate_wait(4, 10.0, 1.0).point_min == 45
    assert estimate_wait(4, 10.0, 2.0).point_min == 23  # 22.5 rounds half up


def test_bounds_follow_the_documented_band() -> None:
    # ahead 3, mean 10, one window: point 35; r = 1/√4 = 0.5; low 35 × 0.5 = 17.5 -> 17;
    # high 35 × 1.85 + 2 = 66.75 -> 67.
    assert estimate_wait(3, 10.0, 1.0) == WaitEstimate(low_min=17, high_min=67, point_min=35)
    # Next in line with cv 1: low reaches 0 (the case in progress may end any moment).
    assert estimate_wait(0, 10.0, 1.0) == WaitEstimate(low_min=0, high_min=16, point_min=5)


def test_band_narrows_relative_to_the_point_as_more_are_ahead() -> None:
    def width(ahead: int) -> float:
        low, point, high = bounds(estimate_wait(ahead, 10.0, 1.0))
        return (high - low) / point

    widths = [width(k) for k in (0, 3, 10, 30, 100)]
    assert widths == sorted(widths, reverse=True)


def test_measured_spread_narrows_the_band() -> None:
    steady_low, steady_point, steady_high = bounds(estimate_wait(8, 10.0, 1.0, cv=0.2))
    low, point, high = bounds(estimate_wait(8, 10.0, 1.0))
    assert steady_point == point == 85
    assert steady_low > low
    assert steady_high < high


def test_no_window_open() -> None:
    estimate = estimate_wait(5, 10.0, 0.0)
    assert estimate is NO_WINDOW_OPEN
    assert estimate.no_window_open
    assert (estimate.point_min, estimate.low_min, estimate.high_min) == (None, None, None)


def test_zero_mean_gives_only_the_pad() -> None:
    assert estimate_wait(3, 0.0, 1.0) == WaitEstimate(low_min=0, high_min=2, point_min=0)


@pytest.mark.parametrize(
    ("ahead", "mean", "capacity", "cv"),
    [
        (-1, 10.0, 1.0, 1.0),
        (0, -1.0, 1.0, 1.0),
        (0, 10.0, -1.0, 1.0),
        (0, math.nan, 1.0, 1.0),
        (0, 10.0, 1.0, -0.1),
    ],
)
def test_bad_inputs_are_refused(ahead: int, mean: float, capacity: float, cv: float) -> None:
    with pytest.raises(ValueError, match="must be"):
        estimate_wait(ahead, mean, capacity, cv=cv)


means = st.floats(min_value=0.0, max_value=600.0)
capacities = st.floats(min_value=0.01, max_value=200.0)
cvs = st.floats(min_value=0.0, max_value=3.0)


@given(ahead=st.integers(min_value=0, max_value=2000), mean=means, capacity=capacities, cv=cvs)
def test_bounds_are_ordered_whole_minutes(ahead: int, mean: float, capacity: float, cv: float) -> None:
    e = estimate_wait(ahead, mean, capacity, cv=cv)
    assert not e.no_window_open
    low, point, high = bounds(e)
    assert 0 <= low <= point <= high
    assert all(isinstance(v, int) for v in (low, point, high))


@given(
    ahead=st.integers(min_value=0, max_value=2000),
    more=st.integers(min_value=1, max_value=100),
    mean=means,
    capacity=capacities,
    cv=cvs,
)
def test_estimate_is_monotone_in_ahead(
    ahead: int, more: int, mean: float, capacity: float, cv: float
) -> None:
    a_low, a_point, a_high = bounds(estimate_wait(ahead, mean, capacity, cv=cv))
    b_low, b_point, b_high = bounds(estimate_wait(ahead + more, mean, capacity, cv=cv))
    assert a_low <= b_low
    assert a_point <= b_point
    assert a_high <= b_high


@given(ahead=st.integers(min_value=0, max_value=500), mean=means, cv=cvs)
def test_more_capacity_never_lengthens_the_estimate(ahead: int, mean: float, cv: float) -> None:
    assert (
        bounds(estimate_wait(ahead, mean, 2.0, cv=cv))[1] <= bounds(estimate_wait(ahead, mean, 1.0, cv=cv))[1]
    )


def simulated_wait(rng: random.Random, ahead: int, mean: float, cv: float) -> float:
    """One window, gamma handle times; the case in progress is length-biased, part done (renewal theory)."""
    shape = 1 / cv**2
    scale = mean / shape
    in_progress = rng.gammavariate(shape + 1, scale) * rng.random()
    return in_progress + sum(rng.gammavariate(shape, scale) for _ in range(ahead))


@pytest.mark.parametrize("cv", [0.5, 1.0])
def test_range_holds_about_eighty_percent_of_simulated_waits(cv: float) -> None:
    rng = random.Random(20261001)
    trials = 3000
    coverage = {}
    for ahead in (0, 1, 3, 10, 30):
        low, _, high = bounds(estimate_wait(ahead, 10.0, 1.0, cv=cv))
        waits = (simulated_wait(rng, ahead, 10.0, cv) for _ in range(trials))
        coverage[ahead] = sum(low <= w <= high for w in waits) / trials
    assert all(0.74 <= share <= 0.86 for ahead, share in coverage.items() if ahead > 0), coverage
    assert coverage[0] >= 0.62, coverage


# --- window_capacity --------------------------------------------------------------------------------------


def test_window_serving_k_series_counts_one_kth() -> None:
    windows = [("A",), ("A", "B"), ("B", "C", "A"), ("B",)]
    assert window_capacity(windows, "A") == pytest.approx(1 + 1 / 2 + 1 / 3)
    assert window_capacity(windows, "B") == pytest.approx(1 / 2 + 1 / 3 + 1)
    assert window_capacity(windows, "C") == pytest.approx(1 / 3)
    assert window_capacity(windows, "K") == 0.0


def test_no_open_window_for_the_series_gives_zero_capacity() -> None:
    assert window_capacity([], "A") == 0.0
    assert window_capacity([("B",), ()], "A") == 0.0
    assert estimate_wait(3, 10.0, window_capacity([("B",)], "A")).no_window_open


def test_repeated_series_in_a_window_counts_once() -> None:
    assert window_capacity([("A", "A", "B")], "A") == pytest.approx(0.5)


def test_capacities_of_all_series_add_up_to_the_windows_open() -> None:
    windows = [("A",), ("A", "B"), ("B", "C", "A"), ("D", "C")]
    assert sum(window_capacity(windows, s) for s in "ABCD") == pytest.approx(len(windows))


def test_capacity_accepts_any_iterable() -> None:
    assert window_capacity(iter([("A",), ("A", "B")]), "A") == pytest.approx(1.5)


# --- HandleTimes ------------------------------------------------------------------------------------------


def test_mean_starts_at_the_prior() -> None:
    times = HandleTimes({"A": 12.0})
    assert times.mean("A") == 12.0
    assert times.count("A") == 0
    assert times.mean("Z") == 10.0  # default prior for an unknown series
    assert HandleTimes({}, default_prior=7.0).mean("Z") == 7.0


def test_prior_weighs_as_prior_weight_observations() -> None:
    times = HandleTimes({"A": 10.0}, prior_weight=5)
    times.observe("A", 22.0)
    assert times.mean("A") == pytest.approx((5 * 10 + 22) / 6)
    times.observe("A", 16.0)
    assert times.mean("A") == pytest.approx((5 * 10 + 22 + 16) / 7)
    assert times.count("A") == 2


def test_series_are_independent() -> None:
    times = HandleTimes({"A": 10.0, "B": 4.0})
    times.observe("A", 30.0)
    assert times.mean("B") == 4.0


def test_rolling_mean_converges_from_the_prior_to_the_observations() -> None:
    times = HandleTimes({"A": 10.0})
    previous = times.mean("A")
    for _ in range(50):
        times.observe("A", 20.0)
        assert times.mean("A") > previous
        previous = times.mean("A")
    # With a full window the prior keeps 5 / 55 of the weight.
    assert times.mean("A") == pytest.approx((5 * 10 + 50 * 20) / 55)
    assert abs(times.mean("A") - 20.0) < 1.0


def test_only_the_last_window_observations_count() -> None:
    times = HandleTimes({"A": 10.0}, window=50)
    for _ in range(50):
        times.observe("A", 100.0)
    for _ in range(50):
        times.observe("A", 20.0)
    assert times.count("A") == 50
    assert times.mean("A") == pytest.approx((5 * 10 + 50 * 20) / 55)


def test_running_sum_does_not_drift() -> None:
    rng = random.Random(7)
    times = HandleTimes({"A": 10.0}, window=50)
    observed = [rng.lognormvariate(2.0, 1.0) * 1e3 for _ in range(20_003)]
    for minutes in observed:
        times.observe("A", minutes)
    exact = (5 * 10 + math.fsum(observed[-50:])) / 55
    assert times.mean("A") == pytest.approx(exact, rel=1e-12)


def test_from_matters_averages_priors_per_series() -> None:
    matters = [
        Matter(code="1", name="a", series="A", department="d", prior_handle_min=6.0),
        Matter(code="2", name="b", series="A", department="d", prior_handle_min=12.0),
        Matter(code="3", name="c", series="B", department="d", prior_handle_min=20.0),
    ]
    times = HandleTimes.from_matters(matters, window=10)
    assert times.prior("A") == 9.0
    assert times.mean("B") == 20.0
    for _ in range(30):
        times.observe("B", 8.0)
    assert times.count("B") == 10


def test_spread_starts_at_prior_cv_and_shrinks_for_steady_cases() -> None:
    times = HandleTimes({"A": 10.0})
    assert times.spread("A") == pytest.approx(10.0)
    assert times.cv("A") == pytest.approx(1.0)
    assert HandleTimes({"A": 10.0}, prior_cv=0.5).spread("A") == pytest.approx(5.0)
    for _ in range(200):
        times.observe("A", 10.0)
    assert times.cv("A") < 0.15


def test_spread_grows_for_erratic_cases() -> None:
    rng = random.Random(3)
    times = HandleTimes({"A": 10.0}, prior_cv=0.3)
    for _ in range(200):
        times.observe("A", rng.choice([2.0, 30.0]))
    assert times.cv("A") > 0.6


def test_estimate_uses_the_series_mean_and_spread() -> None:
    times = HandleTimes({"A": 10.0})
    assert times.estimate("A", 3, 1.0) == estimate_wait(3, 10.0, 1.0, cv=1.0)
    assert times.estimate("A", 3, 0.0) is NO_WINDOW_OPEN
    assert HandleTimes({"A": 0.0}).cv("A") == 0.0


@pytest.mark.parametrize("minutes", [-1.0, math.inf, math.nan])
def test_bad_observation_is_refused(minutes: float) -> None:
    times = HandleTimes({"A": 10.0})
    with pytest.raises(ValueError, match="handle time"):
        times.observe("A", minutes)
    assert times.count("A") == 0


def test_bad_configuration_is_refused() -> None:
    with pytest.raises(ValueError, match="prior 'A'"):
        HandleTimes({"A": -3.0})
    with pytest.raises(ValueError, match="prior_weight"):
        HandleTimes({}, prior_weight=0)
    with pytest.raises(ValueError, match="window"):
        HandleTimes({}, window=0)
