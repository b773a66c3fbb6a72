"""The wait a ticket taken now would be told, from the last one told and the line as it is now: per person
it is the server's own estimate (handle times, open windows), only the queue length has moved. The display's
series tiles and the kiosk's home tiles both show it."""

from __future__ import annotations

from collections.abc import Mapping


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
