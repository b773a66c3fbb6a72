"""The queue engine: `Engine.handle(command, now) -> Accepted | Refused`.

Pure in the sense of DESIGN.md §4: deterministic, no I/O, no wall clock — `now` is passed in. It keeps
mutable, indexed state (dicts and heaps) so that issuing and calling stay O(log n). Every command is validated
completely *before* anything changes, so a refusal leaves the state exactly as it was.

`RULES` below maps each command to the function that applies it. A rule is a plain function
`(state, command, now, collector) -> Outcome` in the module of its concept:

- `issuing`: issue, print confirmation, void, cancel, the housekeeping tick;
- `calling`: call next (who and why), call a named ticket, recall, serve, finish, no-show, re-queue, transfer;
- `classes`: staff confirm or revoke a claimed priority class;
- `windows`: open, close, pause, resume, A/B takeover;
- `booking`: book a slot, cancel it, check in;
- `rating`: rate a served case, the 差评 case steps.

They work over `state.EngineState` (the tickets, windows, lines and counters), find what a command names
with `lookups`, announce changes with `views`, and keep the wait model (`waits`) current.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from hallcore import commands as c
from hallcore.engine import (
    booking,
    calling,
    classes,
    issuing,
    lookups,
    pace,
    rating,
    restore,
    views,
    waits,
    windows,
)
from hallcore.engine.state import APPOINTMENT, PENDING, WAITING, EngineState
from hallcore.model import Ticket
from hallcore.ordering import Choice, call_order
from hallcore.outcomes import Accepted, Changes, Collector, Outcome, RefusalCode, Refused

__all__ = ["APPOINTMENT", "RULES", "Accepted", "Changes", "Engine", "Outcome", "RefusalCode", "Refused"]

#: A rule: validate the command against the state, then change it and collect what changed.
Rule = Callable[[EngineState, Any, dt.datetime, Collector], Outcome]

#: Which rule applies each command.
RULES: dict[type[c.Command], Rule] = {
    c.IssueTicket: issuing.issue_ticket,
    c.ConfirmPrint: issuing.confirm_print,
    c.VoidTicket: issuing.void_ticket,
    c.CancelTicket: issuing.cancel_ticket,
    c.Tick: issuing.tick,
    c.CallNext: calling.call_next,
    c.CallSpecific: calling.call_specific,
    c.Recall: calling.recall,
    c.StartServing: calling.start_serving,
    c.Finish: calling.finish,
    c.SetOutcome: calling.set_outcome,
    c.MarkNoShow: calling.mark_no_show,
    c.RequeueNoShow: calling.requeue_no_show,
    c.Transfer: calling.transfer,
    c.ReviewClass: classes.review_class,
    c.OpenWindow: windows.open_window,
    c.CloseWindow: windows.close_window,
    c.PauseWindow: windows.pause_window,
    c.ResumeWindow: windows.resume_window,
    c.TakeOver: windows.take_over,
    c.EndTakeOver: windows.end_take_over,
    c.BookSlot: booking.book_slot,
    c.CancelBooking: booking.cancel_booking,
    c.CheckIn: booking.check_in,
    c.Rate: rating.rate,
    c.CaseStepCommand: rating.case_step,
}


class Engine(EngineState):
    """Holds a hall's live queue state and applies commands to it. Build one per hall; restore with `load`."""

    def handle(self, command: c.Command, now: dt.datetime) -> Outcome:
        """Apply one command at `now`. Never raises for bad input: a refusal says what to fix."""
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        rule = RULES.get(type(command))
        if rule is None:
            raise TypeError(f"not an engine command: {command!r}")
        return rule(self, command, now, Collector())

    # The read side shared with the rules, as methods for the shells.
    load = restore.restore
    find_ticket = lookups.find_ticket
    pick = calling.pick
    reason_for = calling.call_reason
    estimate_for = waits.estimate_for
    use_history = waits.use_history
    handle_dist = pace.handle_dist
    window_view = views.window_view
    ticket_view = views.ticket_view

    def waiting_count(self, series: str) -> int:
        line = self.lines.get(series)
        return line.count if line else 0

    def waiting_counts(self) -> dict[str, int]:
        return {s: line.count for s, line in self.lines.items()}

    def people_ahead(self, ticket_id: str, now: dt.datetime) -> int | None:
        """Waiting tickets the current order of its line would call before this one if nobody else arrived."""
        t = self.tickets.get(ticket_id)
        if t is None or t.state not in (WAITING, PENDING):
            return None
        if t.state is PENDING:
            return self.ahead_of_new(t, now)
        # Its own line alone, as any window serving it would take it: merged, no absolute run under way.
        order = call_order([self.line_of(t)], self.tickets, now.timestamp(), self.rules(strict=False), 0)
        return next(i for i, (o, _choice) in enumerate(order) if o.id == t.id)

    def people_ahead_many(self, ticket_ids: list[str], now: dt.datetime) -> dict[str, int]:
        """`people_ahead` of several waiting tickets, each line ordered once (the notices' batch: one sort per
        line, not one per subscribed ticket)."""
        by_line: dict[int, tuple[Any, set[str]]] = {}
        for tid in ticket_ids:
            t = self.tickets.get(tid)
            if t is not None and t.state is WAITING:
                line = self.line_of(t)
                by_line.setdefault(id(line), (line, set()))[1].add(tid)
        out: dict[str, int] = {}
        rules = self.rules(strict=False)
        for line, wanted in by_line.values():
            order = call_order([line], self.tickets, now.timestamp(), rules, 0)
            for i, (o, _choice) in enumerate(order):
                if o.id in wanted:
                    out[o.id] = i
        return out

    def candidates(self, window: int, now: dt.datetime) -> list[Ticket]:
        """Who waits for this window, in the order it would call them (for the clerk's list)."""
        return [t for t, _choice in self.call_order(window, now)]

    def call_order(self, window: int, now: dt.datetime) -> list[tuple[Ticket, Choice]]:
        """Who waits for this window, in the order it would call them if nobody else arrived, each with the
        choice that would take it."""
        return call_order(
            self.lines_for(window),
            self.tickets,
            now.timestamp(),
            self.rules_for(window),
            self.windows[window].priority_streak,
        )

    def remaining_today(self, matter_code: str, now: dt.datetime) -> int | None:
        """Numbers left today for a matter (the tighter of its cap and its series' cap); None = no cap."""
        m = self.config.matter_by_code.get(matter_code)
        if m is None:
            return None
        day = self.calendar.business_day(now)
        s = self.config.series_by_prefix[m.series]
        left: list[int] = []
        if m.daily_cap is not None:
            left.append(m.daily_cap - self.issued_matter.get((day, m.code), 0))
        if s.daily_cap is not None:
            left.append(s.daily_cap - self.issued_series.get((day, s.prefix), 0))
        return max(0, min(left)) if left else None

    def slots(
        self, matter_code: str, day: dt.date, now: dt.datetime | None = None
    ) -> list[tuple[dt.time, dt.time, int]]:
        """Booking slots of a day with the quota left in each. With `now`, only the slots not yet over then:
        a slot that has passed is refused by `BookSlot` (该时段已过), so a citizen is never offered it."""
        m = self.config.matter_by_code.get(matter_code)
        if m is None:
            return []
        quota = self.slot_quota(m.code)
        return [
            (a, b, quota - self.slot_taken.get((m.code, day, a), 0))
            for a, b in self.slot_times(day)
            if now is None or not booking.slot_over(self, day, b, now)
        ]
