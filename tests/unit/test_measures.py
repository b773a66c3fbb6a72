"""The hall measures (hallcore/measures.py) by hand, and the two percentile forms against each other."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hallcore import measures

T0 = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def test_durations_in_minutes() -> None:
    assert measures.wait_min(T0, T0 + dt.timedelta(minutes=12, seconds=30)) == 12.5
    assert measures.wait_min(T0, None) is None
    assert measures.handle_min(None, T0) is None
    assert measures.handle_min(T0, T0 + dt.timedelta(seconds=90)) == 1.5


def test_nearest_rank_by_hand() -> None:
    # P50 of 4 values is the 2nd, P90 of 10 is the 9th (0.9 × 10 is 9.000000000000002 in floating point),
    # P90 of 11 is the 10th; a percentile is always one of the values.
    assert measures.percentile([4.0, 1.0, 3.0, 2.0], 0.5) == 2.0
    assert measures.percentile([float(i) for i in range(1, 11)], 0.9) == 9.0
    assert measures.percentile([float(i) for i in range(1, 12)], 0.9) == 10.0
    assert measures.percentile([7.0], 0.0) == 7.0
    assert measures.percentile([1.0, 2.0], 1.0) == 2.0
    assert measures.percentile([], 0.5) is None
    assert measures.percentile_counted({}, 0.5) is None


@given(st.lists(st.integers(min_value=0, max_value=300), min_size=1, max_size=60), st.floats(0.0, 1.0))
def test_counted_and_listed_percentiles_agree(values: list[int], q: float) -> None:
    assert measures.percentile_counted(Counter(values), q) == measures.percentile(values, q)


def test_spread_of_nothing_is_zeros() -> None:
    assert measures.Spread.of([]) == measures.Spread(0, 0.0, 0.0, 0.0, 0.0)
    s = measures.Spread.of([10.0, 20.0, 30.0, 40.0])
    assert (s.count, s.mean, s.p50, s.p90, s.max) == (4, 25.0, 20.0, 40.0, 40.0)


def test_shares_are_none_without_a_denominator() -> None:
    assert measures.share(1, 0) is None
    assert measures.participation(3, 0) is None
    assert measures.no_show_rate(0, 0) is None
    assert measures.served_same_day(0, 0, 0) is None
    assert measures.utilisation(10.0, 0.0) is None
    assert measures.within_target([]) is None
    assert measures.satisfaction({}) is None


def test_ratings_by_hand() -> None:
    by_score = {5: 6, 4: 2, 3: 1, 2: 0, 1: 1}
    assert measures.satisfied(by_score) == 9
    assert measures.satisfaction(by_score) == pytest.approx(0.9)
    assert measures.participation(10, 20) == 0.5
    assert [s for s in range(1, 6) if measures.is_satisfied(s)] == [3, 4, 5]


def test_within_target_counts_the_target_itself() -> None:
    assert measures.within_target([(20.0, 20.0), (20.5, 20.0), (3.0, 10.0), (11.0, 10.0)]) == 0.5


def test_onsite_rate_and_utilisation_by_hand() -> None:
    assert measures.served_same_day(done=45, expired=3, cancelled=2) == 0.9
    assert measures.utilisation(serving_min=180.0, open_min=240.0) == 0.75


def test_estimate_errors_skip_incomplete_rows() -> None:
    e = measures.estimate_errors([(10.0, 5, 15, 8), (30.0, 5, 15, 10), (None, 1, 2, 1), (4.0, None, 9, 4)])
    assert e == measures.EstimateErrors(mae=11.0, coverage=0.5, n=2)
    assert measures.estimate_errors([]) == measures.EstimateErrors(None, None, 0)
