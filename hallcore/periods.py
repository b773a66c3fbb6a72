"""Statistics periods: a day, an ISO week, a calendar month or year around a date, or a custom range of
business days (both ends included). One home for the hall's statistics page and the centre's."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

PERIODS = ("day", "week", "month", "year", "custom")


@dataclass(frozen=True, slots=True)
class Span:
    """Business days `start`..`end`, both included."""

    start: dt.date
    end: dt.date
    period: str = "custom"

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def label(self) -> str:
        if self.start == self.end:
            return self.start.isoformat()
        return f"{self.start.isoformat()} – {self.end.isoformat()}"


def span_for(period: str, anchor: dt.date, end: dt.date | None = None) -> Span:
    """The day, ISO week (Mon–Sun), calendar month or year around `anchor`; custom: anchor..end."""
    if period == "day":
        return Span(anchor, anchor, period)
    if period == "week":
        start = anchor - dt.timedelta(days=anchor.weekday())
        return Span(start, start + dt.timedelta(days=6), period)
    if period == "month":
        start = anchor.replace(day=1)
        nxt = (start + dt.timedelta(days=32)).replace(day=1)
        return Span(start, nxt - dt.timedelta(days=1), period)
    if period == "year":
        return Span(anchor.replace(month=1, day=1), anchor.replace(month=12, day=31), period)
    if period == "custom":
        last = end or anchor
        if last < anchor:
            raise ValueError("the range ends before it starts")
        if (last - anchor).days > 3660:
            raise ValueError("a range is at most ten years")
        return Span(anchor, last, period)
    raise ValueError(f"unknown period {period!r}: one of {', '.join(PERIODS)}")
