"""The replies of a window's actions and its list of candidates."""

from __future__ import annotations

from dataclasses import dataclass

from hallcore.events import TicketView, WindowView


@dataclass(frozen=True, slots=True)
class WindowResult:
    """Reply to a window action: the window after it, and the ticket it acted on (None for open/close…)."""

    window: WindowView
    ticket: TicketView | None


@dataclass(frozen=True, slots=True)
class Candidate:
    """A waiting ticket in the order the window would call it, with why it is there."""

    ticket: TicketView
    reason: str
    reason_en: str
    waited_min: float  # since its effective time (issue, re-queue or check-in)
    head_start_min: int  # the head start its place counts now (0: none, or a booking before its slot)
