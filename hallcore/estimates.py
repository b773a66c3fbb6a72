"""Wait estimates: the wait and its range over a capacity that changes as planned (DESIGN.md §4).

The inputs live by concern: handle times and shared windows' splits in `hallcore.handletimes`, the band's
learned width in `hallcore.estimatebands`, who will pass a ticket in `hallcore.passers`; the engine feeds
them (`hallcore.engine.waits`). The range is meant to hold the real wait about 80 % of the time; each
estimate is checked against the real wait when its ticket is called, so its error (MAE) and the range's
coverage are measured, and these constants can be tuned.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

# The band of estimate_wait. The sum of k handle times has a relative spread of about cv/sqrt(k), so the band
# narrows as more people are ahead: low = point × max(LOW_FLOOR, 1 − LOW_Z·r), high = point × (1 + HIGH_Z·r)
# + HIGH_PAD_MIN, with r = cv/√(ahead+1). The upper side is wider because waits are sums of right-skewed
# times. The constants were fitted by simulation (gamma handle times with cv 0.5–1, one window, the case in
# progress length-biased as in renewal theory): the band holds 78–82 % of waits for 1–40 people ahead and
# 67–80 % for the next in line, whose wait is the most spread. The textbook z = 1.28 above with a 0.5 floor
# below held only about 75 % (57–64 % for the next in line). No floor: "0–16 min" is the honest answer for
# the next in line when cases take 10 ± 10 min. HIGH_PAD covers walking to the window and the call delay.
# Real coverage is measured from logged estimates; retune here.
LOW_Z = 1.0
LOW_FLOOR = 0.0
HIGH_Z = 1.7
HIGH_PAD_MIN = 2.0


@dataclass(frozen=True, slots=True)
class WaitEstimate:
    """A wait in whole minutes: low <= point <= high, low >= 0.

    With `no_window_open` no window serves the series now, and all three are None: the kiosk says so instead
    of guessing. With `wide` the range is wider than the hall's `estimates.wide_band_min`: too wide to plan
    a morning by, so the ticket and the phone page say "人多，预计较长" instead (`widened`).
    """

    low_min: int | None
    high_min: int | None
    point_min: int | None
    no_window_open: bool = False
    wide: bool = False

    def widened(self, max_band_min: int) -> WaitEstimate:
        """This estimate, marked `wide` when its range is wider than `max_band_min` minutes."""
        if self.low_min is None or self.high_min is None or self.high_min - self.low_min <= max_band_min:
            return self
        return WaitEstimate(self.low_min, self.high_min, self.point_min, self.no_window_open, wide=True)


NO_WINDOW_OPEN = WaitEstimate(low_min=None, high_min=None, point_min=None, no_window_open=True)


def estimate_wait(
    ahead: int,
    mean_handle_min: float,
    capacity: float,
    *,
    cv: float = 1.0,
    extra: float = 0.0,
    rate_spread: float = 0.0,
) -> WaitEstimate:
    """The wait of a ticket with `ahead` people before it, in whole minutes, at a steady `capacity`.

    point = (ahead + extra + 0.5) × mean / capacity: the +0.5 is the ticket being served now, half done on
    average; `extra` is the people expected to go ahead later (priority arrivals, see `expected_passers`).
    low = point × max(0, 1 − 1.0·r) rounded down, high = point × (1 + 1.7·r) + 2 rounded up, with
    r = cv/√(ahead+extra+1) and `cv` the relative spread of one handle time (1 unless measured). Capacity 0
    (no open window serves the series) gives NO_WINDOW_OPEN. Every bound grows with `ahead` and `extra`.
    """
    if not (math.isfinite(capacity) and capacity >= 0):
        raise ValueError(f"capacity must be a finite number >= 0, got {capacity!r}")
    return estimate_planned(
        ahead, mean_handle_min, ((0.0, capacity),), cv=cv, extra=extra, rate_spread=rate_spread
    )


#: A ticket an idle window will call at once: the printing and the walk to the window.
IDLE_ESTIMATE = WaitEstimate(low_min=0, high_min=2, point_min=0)


#: A capacity profile: (minutes from now, windows' worth of service from then on), in time order, from 0.
Profile = Sequence[tuple[float, float]]


def estimate_planned(
    ahead: int,
    mean_handle_min: float,
    profile: Profile,
    *,
    cv: float = 1.0,
    extra: float = 0.0,
    rate_spread: float = 0.0,
    idle: int = 0,
    band_scale: float = 1.0,
) -> WaitEstimate:
    """`estimate_wait` over a capacity that changes as planned (`capacity_profile`): the people ahead need
    (ahead + extra + 0.5) × mean window-minutes of service, and the wait is when the profile has given that
    much (`wait_through`); the band's bounds are the times it has given the band's share of it. So a ticket
    behind a lunch turn waits through the turn, and one issued during it counts on the windows coming back.
    No capacity now and none planned gives NO_WINDOW_OPEN. `rate_spread` (`RateSpread`) widens the band by
    what the handle-time spread does not explain: r = √(cv²/(ahead+extra+1) + rate_spread²). `idle` open
    windows with nobody at them take the first `idle` people at once: a ticket among those is called now
    (IDLE_ESTIMATE), and the people ahead of a later one are counted less those windows' first calls.
    `band_scale` (`BandScale`) scales the band's relative spread.
    """
    # Why +0.5 and not the renewal-theory mean residual (1 + cv²)/2: waits are skewed, the error we report is
    # the mean *absolute* error, which the median minimises, and the median lies below the mean; for an
    # exponential residual E|X − 0.5m| < E|X − m|. The band, not the point, carries the long tail.
    if ahead < 0:
        raise ValueError(f"ahead must be >= 0, got {ahead}")
    for name, value in (("mean_handle_min", mean_handle_min), ("cv", cv), ("extra", extra)):
        if not (math.isfinite(value) and value >= 0):
            raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    for _at, capacity in profile:
        if not (math.isfinite(capacity) and capacity >= 0):
            raise ValueError(f"capacity must be a finite number >= 0, got {capacity!r}")
    if idle < 0:
        raise ValueError(f"idle must be >= 0, got {idle}")
    # Idle windows call at once only if they serve this line now. One counted idle while the profile starts
    # at 0 (a closure starting now, a window that serves later) takes nobody at once: subtracting it made the
    # people ahead -1 and divided by zero below (f811e85), and fewer than the real queue otherwise.
    serving_now = bool(profile) and profile[0][1] > 0
    if serving_now and ahead + extra < idle:
        return IDLE_ESTIMATE
    people = ahead + extra - (idle if serving_now else 0)
    work = (people + 0.5) * mean_handle_min
    point = wait_through(work, profile)
    if point is None:
        return NO_WINDOW_OPEN
    relative = band_scale * math.sqrt(cv * cv / (people + 1) + rate_spread * rate_spread)
    low = wait_through(work * max(LOW_FLOOR, 1.0 - LOW_Z * relative), profile) or 0.0
    high = (wait_through(work * (1.0 + HIGH_Z * relative), profile) or point) + HIGH_PAD_MIN
    # floor(low) <= round(point) <= ceil(high) because low <= point <= high.
    return WaitEstimate(
        low_min=max(0, math.floor(low)),
        high_min=math.ceil(high),
        point_min=math.floor(point + 0.5),
    )


def wait_through(work: float, profile: Profile) -> float | None:
    """Minutes from now until `work` window-minutes of service have been given by `profile` (None: never,
    the last capacity being 0)."""
    done = 0.0
    for i, (at, capacity) in enumerate(profile):
        until = profile[i + 1][0] if i + 1 < len(profile) else math.inf
        if capacity > 0:
            if done + capacity * (until - at) >= work:
                return at + (work - done) / capacity
            done += capacity * (until - at)
        elif until == math.inf:
            return None if work > done else at
    return None


def capacity_profile(
    windows: Iterable[tuple[float, float, Iterable[tuple[float, float]]]],
) -> list[tuple[float, float]]:
    """The windows' worth of service from now on, from each window's (share, minutes until it serves,
    planned closures as (start, end) minutes from now): a step function, as `estimate_planned` takes it."""
    steps: dict[float, float] = {0.0: 0.0}
    for share, available, closures in windows:
        if share <= 0:
            continue
        start = max(0.0, available)
        steps[start] = steps.get(start, 0.0) + share
        for begin, end in sorted(closures):
            a, b = max(begin, start), max(end, start)
            if b > a:
                steps[a] = steps.get(a, 0.0) - share
                steps[b] = steps.get(b, 0.0) + share
                start = b
    out: list[tuple[float, float]] = []
    level = 0.0
    for at in sorted(steps):
        level = max(0.0, level + steps[at])
        if out and abs(out[-1][1] - level) < 1e-12:
            continue
        out.append((at, level))
    return out
