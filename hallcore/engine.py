"""The queue engine: `Engine.handle(command, now) -> Accepted | Refused`.

Pure in the sense of DESIGN.md §4: deterministic, no I/O, no wall clock — `now` is passed in. It keeps
mutable, indexed state (dicts and heaps) so that issuing and calling stay O(log n). Every command is validated
completely *before* anything changes, so a refusal leaves the state exactly as it was.

The rules live in one module per concept (`rules_issue`, `rules_call`, `rules_window`, `rules_booking`,
`rules_rating`) over the shared state in `enginestate`; this class only puts them together and dispatches.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from hallcore import commands as c
from hallcore.config import HallConfig
from hallcore.enginestate import APPOINTMENT
from hallcore.outcomes import Accepted, Changes, Collector, Outcome, RefusalCode, Refused
from hallcore.rules_booking import BookingRules
from hallcore.rules_call import CallRules
from hallcore.rules_rating import RatingRules
from hallcore.rules_window import WindowRules

__all__ = ["APPOINTMENT", "Accepted", "Changes", "Engine", "Outcome", "RefusalCode", "Refused"]


class Engine(BookingRules, CallRules, WindowRules, RatingRules):
    """Holds a hall's live queue state and applies commands to it. Build one per hall; restore with `load`."""

    def __init__(self, config: HallConfig) -> None:
        super().__init__(config)
        self._handlers: dict[type, Callable[[Any, dt.datetime, Collector], Outcome]] = {
            c.IssueTicket: self._issue,
            c.ConfirmPrint: self._confirm_print,
            c.VoidTicket: self._void,
            c.CallNext: self._call_next,
            c.CallSpecific: self._call_specific,
            c.Recall: self._recall,
            c.StartServing: self._start,
            c.Finish: self._finish,
            c.MarkNoShow: self._no_show,
            c.RequeueNoShow: self._requeue,
            c.Transfer: self._transfer,
            c.CancelTicket: self._cancel,
            c.Tick: self._tick,
            c.OpenWindow: self._open,
            c.CloseWindow: self._close,
            c.PauseWindow: self._pause,
            c.ResumeWindow: self._resume,
            c.TakeOver: self._take_over,
            c.EndTakeOver: self._end_take_over,
            c.BookSlot: self._book,
            c.CancelBooking: self._cancel_booking,
            c.CheckIn: self._check_in,
            c.Rate: self._rate,
            c.CaseStepCommand: self._case_step,
        }

    def handle(self, command: c.Command, now: dt.datetime) -> Outcome:
        """Apply one command at `now`. Never raises for bad input: a refusal says what to fix."""
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        handler = self._handlers.get(type(command))
        if handler is None:
            raise TypeError(f"not an engine command: {command!r}")
        col = Collector()
        return handler(command, now, col)
