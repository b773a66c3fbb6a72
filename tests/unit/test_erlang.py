"""Erlang C against hand-worked and textbook values."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hallcore.erlang import erlang_b, erlang_c, mean_wait_min, service_level, windows_needed


def test_erlang_b_one_server() -> None:
    # B(1, A) = A / (1 + A)
    assert erlang_b(1, 1.0) == pytest.approx(0.5)


def test_erlang_c_two_servers_by_hand() -> None:
    # c=2, A=1: B = (1/2)/(1 + 1 + 1/2) = 0.2; C = 2·0.2 / (2 − 1·0.8) = 1/3
    assert erlang_c(2, 1.0) == pytest.approx(1 / 3)
    # c=1 is M/M/1: P(wait) = ρ.
    assert erlang_c(1, 0.5) == pytest.approx(0.5)
    assert erlang_c(5, 0.0) == 0.0


def _erlang_c_by_factorials(c: int, load: float) -> float:
    """The textbook formula, written out directly (only usable for small c)."""
    top = load**c / math.factorial(c) * c / (c - load)
    return top / (sum(load**k / math.factorial(k) for k in range(c)) + top)


@pytest.mark.parametrize(("c", "load"), [(3, 2.0), (5, 4.2), (10, 7.5), (20, 18.0)])
def test_recurrence_matches_the_factorial_formula(c: int, load: float) -> None:
    assert erlang_c(c, load) == pytest.approx(_erlang_c_by_factorials(c, load), rel=1e-9)


def test_overloaded_windows_always_wait() -> None:
    assert erlang_c(3, 3.0) == 1.0
    assert service_level(3, 1.0, 3.0, 10) == 0.0
    assert math.isinf(mean_wait_min(3, 1.0, 3.0))


def test_mean_wait_by_hand() -> None:
    # c=2, A=1 (rate 0.1/min, handle 10 min): Wq = C·h/(c−A) = (1/3)·10/1
    assert mean_wait_min(2, 0.1, 10.0) == pytest.approx(10 / 3)


def test_windows_needed_is_the_fewest() -> None:
    advice = windows_needed(1.0, 12.0, 20.0)  # 12 Erlangs
    assert advice.windows > 12
    assert advice.level >= 0.8
    assert service_level(advice.windows - 1, 1.0, 12.0, 20.0) < 0.8


def test_windows_needed_for_ten_erlangs_and_a_short_target() -> None:
    # 60 arrivals an hour of 10-minute cases (10 Erlangs), 80 % within 5 minutes: what the simulator's
    # 潮汐 advice asks.
    c = windows_needed(1.0, 10.0, 5.0).windows
    assert c > 10
    assert service_level(c, 1.0, 10.0, 5.0) >= 0.8
    assert service_level(c - 1, 1.0, 10.0, 5.0) < 0.8


def test_no_arrivals_need_no_window() -> None:
    assert windows_needed(0.0, 10.0, 20.0).windows == 0


@given(
    st.floats(min_value=0.01, max_value=5.0),
    st.floats(min_value=0.5, max_value=60.0),
    st.floats(min_value=0.0, max_value=120.0),
)
def test_more_windows_never_hurt(rate: float, handle: float, target: float) -> None:
    load = rate * handle
    c = math.floor(load) + 1
    assert service_level(c + 1, rate, handle, target) >= service_level(c, rate, handle, target) - 1e-12
    assert 0.0 <= erlang_c(c, load) <= 1.0
