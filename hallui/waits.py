"""The wait a ticket taken now would be told, from the last one told and the line as it is now: per person
it is the server's own estimate (handle times, open windows), only the queue length has moved. The display's
series tiles and the kiosk's home tiles both show it."""

from __future__ import annotations

from collections.abc import Mapping

from hallcore.estimates import WaitEstimate


def scaled_estimate(
    low: int | None, high: int | None, ahead: int, waiting: int
) -> tuple[int | None, int | None]:
    """(low, high) minutes for the `waiting` people now, from (`low`, `high`) told with `ahead` people ahead;
    (0, 0) for an empty line, (None, None) without an estimate to scale."""
    if waiting == 0:
        return 0, 0
    if low is None or high is None:
        return None, None
    if ahead <= 0:
        return low, high
    factor = waiting / ahead
    return round(low * factor), max(round(high * factor), round(low * factor))


class TileEstimates:
    """What the kiosk's home tiles say per series: the hall's own estimate for the next ticket (the snapshot's
    `estimates`, issue 29) when the server sends one; else, from a server that does not, the last wait this
    kiosk told scaled to the line now (`series_estimates`), so a kiosk that has issued nothing yet shows
    nothing rather than a guess."""

    def __init__(self) -> None:
        self._told: dict[str, tuple[int, int, int]] = {}  # series -> (low, high, ahead) of the last ticket
        self._hall: dict[str, WaitEstimate] | None = None  # None: the server sends no estimates

    def told(self, series: str, estimate: WaitEstimate, ahead: int) -> None:
        """A ticket of `series` was issued here with `estimate` and `ahead` people before it."""
        if estimate.low_min is not None and estimate.high_min is not None:
            self._told[series] = (estimate.low_min, estimate.high_min, ahead)

    def hall_said(self, estimates: Mapping[str, WaitEstimate]) -> bool:
        """The snapshot's per-series estimates (empty from an older server); whether they changed."""
        new = dict(estimates) if estimates else None
        changed = new != self._hall
        self._hall = new
        return changed

    def tiles(self, waiting: Mapping[str, int]) -> dict[str, tuple[int, int]]:
        """Per series with an estimate, its (low, high) minutes."""
        if self._hall is None:
            return series_estimates(self._told, waiting)
        return {
            prefix: (e.low_min, e.high_min)
            for prefix, e in self._hall.items()
            if e.low_min is not None and e.high_min is not None
        }


def series_estimates(
    told: Mapping[str, tuple[int, int, int]], waiting: Mapping[str, int]
) -> dict[str, tuple[int, int]]:
    """Per series, the (low, high) of `scaled_estimate` from the last wait told (low, high, people ahead)
    and the people waiting now; series without an estimate are left out."""
    out: dict[str, tuple[int, int]] = {}
    for prefix, (low, high, ahead) in told.items():
        lo, hi = scaled_estimate(low, high, ahead, waiting.get(prefix, ahead))
        if lo is not None and hi is not None:
            out[prefix] = (lo, hi)
    return out
