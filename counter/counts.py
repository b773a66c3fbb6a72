"""Today's figures for one window, counted from the hall's events: each event once, however often it arrives
(a replay after a reconnect), and from zero again on the next business day."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from hallcore.events import Event, RatingRecorded, TicketChanged

#: Ticket events counted, by the field of `Counts` they count in.
_COUNTED = {"called": "called", "finished": "finished", "no_show": "no_show", "transferred": "transferred"}


@dataclass(slots=True)
class Counts:
    """Today's figures for this window, counted from the hall's events."""

    day: dt.date | None = None
    called: int = 0
    finished: int = 0
    no_show: int = 0
    transferred: int = 0
    rated: int = 0


class DayCounts:
    def __init__(self, window: int, tz: dt.tzinfo) -> None:
        self.window = window
        self._tz = tz
        self.counts = Counts()
        self._counted: set[tuple[str, str, str]] = set()

    def count(self, event: Event, today: dt.date) -> None:
        if event.at.astimezone(self._tz).date() != today:
            return
        if self.counts.day != today:
            self.counts = Counts(day=today)
            self._counted.clear()
        if (
            isinstance(event, TicketChanged)
            and event.window is not None
            and event.window.number == self.window
        ):
            name = _COUNTED.get(event.action)
            if name is not None:
                self._once((event.ticket.id, event.action, event.at.isoformat()), name)
        elif isinstance(event, RatingRecorded) and event.window == self.window:
            self._once((event.ticket, "rated", ""), "rated")

    def _once(self, key: tuple[str, str, str], name: str) -> None:
        if key not in self._counted:
            self._counted.add(key)
            setattr(self.counts, name, getattr(self.counts, name) + 1)
