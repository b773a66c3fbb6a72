"""The wait a ticket taken now would be told, from the last one told and the line as it is now: per person
it is the server's own estimate (handle times, open windows), only the queue length has moved. The display's
series tiles and the kiosk's home tiles both show it."""

from __future__ import annotations


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
