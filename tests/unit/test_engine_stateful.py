"""Random command sequences against the engine, with the queue's invariants checked after every step."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from hallcore import commands as c
from hallcore.config import ClosedWindowTransfer, HallConfig
from hallcore.engine import Accepted, Engine, Refused
from hallcore.events import TicketChanged
from hallcore.model import AT_WINDOW, Source, TicketState
from hallfiles.config import read_config
from tests.fakes.halls import SHANGHAI, small_hall

ROOT = Path(__file__).resolve().parents[2]
START = dt.datetime(2026, 11, 23, 8, 35, tzinfo=SHANGHAI)  # a Monday morning


def fingerprint(e: Engine) -> str:
    """Everything observable about the engine's state (refusals must leave it identical)."""
    return repr(
        (
            sorted(e.tickets.items()),
            sorted(e.windows.items()),
            sorted(e.bookings.items()),
            sorted(e.ratings.items()),
            sorted(e.cases.items()),
            e.waiting_counts(),
        )
    )


@dataclass(frozen=True)
class Waiting:
    """What the order depends on, read before a command."""

    since: dt.datetime
    slot_at: dt.datetime | None
    priority: str
    seq: int
    rq: int
    target_window: int | None
    series: str


class EngineMachine(RuleBasedStateMachine):
    config: HallConfig

    def __init__(self) -> None:
        super().__init__()
        self.engine = Engine(self.config)
        self.now = START
        self.issued = 0
        self.first_seen: dict[str, tuple[str, dt.datetime]] = {}
        self.ratings_accepted: Counter[str] = Counter()
        self.windows = [w.number for w in self.config.windows]
        self.matters = [m.code for m in self.config.matters]
        self.series = [s.prefix for s in self.config.series]
        self.classes = ["", *(p.id for p in self.config.priority_classes if p.kiosk_selectable)]
        self.booking_codes: list[str] = []
        self.token = 0
        self.head_start = {p.id: p.head_start_min for p in self.config.priority_classes}
        self.absolute = {p.id for p in self.config.priority_classes if p.absolute}
        self.revoked: dict[str, str] = {}

    # ---- helpers ----

    def apply(self, cmd: c.Command) -> Accepted | Refused:
        before = fingerprint(self.engine)
        states_before = {tid: t.state for tid, t in self.engine.tickets.items()}
        candidates: dict[str, Waiting] = {}
        streak = 0
        if isinstance(cmd, c.CallNext) and cmd.window in self.engine.windows:
            waiting = {
                tid: Waiting(t.since, t.slot_at, t.priority, t.key[1], t.key[2], t.target_window, t.series)
                for tid, t in self.engine.tickets.items()
                if t.state is TicketState.WAITING
            }
            candidates = self.candidate_list(cmd.window, waiting)
            streak = self.engine.windows[cmd.window].priority_streak
        classes_before = {tid: t.priority for tid, t in self.engine.tickets.items()}
        out = self.engine.handle(cmd, self.now)
        if isinstance(out, Refused):
            assert fingerprint(self.engine) == before, f"refusal {out.code} changed the state"
            return out
        for tid, t in self.engine.tickets.items():
            if t.state is TicketState.CALLED and states_before.get(tid) not in (TicketState.CALLED, None):
                # Only a waiting ticket can be called: never a pending_print one.
                assert states_before[tid] is TicketState.WAITING, (
                    f"{t.label} called from {states_before[tid]}"
                )
        if isinstance(cmd, c.CallNext):
            assert out.ticket is not None
            absolute_rule = self.engine.windows[cmd.window].priority_streak == streak + 1
            self.check_order(cmd.window, out.ticket.id, candidates, absolute_rule, streak)
        if isinstance(cmd, c.RequeueNoShow):
            assert out.ticket is not None
            assert out.ticket.priority == classes_before[out.ticket.id], "a re-queued ticket lost its class"
        if isinstance(cmd, c.ReviewClass) and not cmd.confirm:
            assert out.ticket is not None
            (event,) = out.events
            assert isinstance(event, TicketChanged)
            assert event.action == "class_revoked"
            assert cmd.reason.strip() in event.note
            assert (cmd.staff or self.engine.windows[cmd.window].staff) in event.note
            assert event.ticket.claimed == classes_before[out.ticket.id] != ""
            self.revoked[out.ticket.id] = event.note
        return out

    def candidate_list(self, window: int, waiting: dict[str, Waiting]) -> dict[str, Waiting]:
        """The waiting tickets a window may call: transferred to it (or a window it covers) by name, or of a
        series it serves."""
        rt = self.engine.windows[window]
        named = {window, *rt.taken_over}
        serves = set(self.engine.series_of_window(window))
        return {
            tid: w
            for tid, w in waiting.items()
            if (w.target_window in named) or (w.target_window is None and w.series in serves)
        }

    def key(self, w: Waiting) -> tuple[float, int, int]:
        """The order key by DESIGN.md §4, from the ticket's fields alone (not the engine's heaps)."""
        hs = self.head_start.get(w.priority, 0) * 60.0 if w.priority else 0.0
        if w.slot_at is not None:
            if self.now < w.slot_at:
                return (w.since.timestamp(), w.seq, w.rq)  # an early booking: no head start before its slot
            return (w.slot_at.timestamp() - hs, w.seq, w.rq)
        return (w.since.timestamp() - hs, w.seq, w.rq)

    def effective(self, w: Waiting) -> float:
        if w.slot_at is not None and self.now >= w.slot_at:
            return w.slot_at.timestamp()
        return w.since.timestamp()

    def is_absolute(self, w: Waiting) -> bool:
        return w.priority in self.absolute and (w.slot_at is None or self.now >= w.slot_at)

    def check_order(
        self, window: int, called: str, candidates: dict[str, Waiting], absolute_rule: bool, streak: int
    ) -> None:
        x = candidates[called]
        label = self.engine.tickets[called].label
        # Nobody starves: no one is passed by a ticket that came more than the longest head start after them.
        bound = max(self.head_start.values(), default=0) * 60.0
        for tid, y in candidates.items():
            assert self.effective(x) - self.effective(y) <= bound, (
                f"{label} passed {self.engine.tickets[tid].label} by more than {bound / 60:g} min"
            )
        if absolute_rule:
            assert self.is_absolute(x), f"{label} counted as an absolute call"
            assert streak < self.config.priority.absolute_in_row, f"{label}: absolute past the run limit"
            for tid, y in candidates.items():
                if self.is_absolute(y):
                    assert self.key(y) >= self.key(x), (
                        f"{label} called before {self.engine.tickets[tid].label}"
                    )
            return
        if self.config.window_by_number[window].strict_series_order:
            return  # a strict window takes its series in order: only the bound above holds across them
        for tid, y in candidates.items():
            if not self.is_absolute(y):
                assert self.key(y) >= self.key(x), (
                    f"{label} called before {self.engine.tickets[tid].label}, which has a smaller key"
                )

    def pick(self, data: st.DataObject, *states: TicketState) -> str | None:
        ids = sorted(tid for tid, t in self.engine.tickets.items() if t.state in states)
        if not ids:
            return None
        return data.draw(st.sampled_from(ids))

    # ---- rules ----

    def window(self, data: st.DataObject, *, holding: bool = False, open_: bool = False) -> int:
        """Mostly a window where the command can apply, sometimes any window (to exercise refusals)."""
        rts = self.engine.windows.values()
        if holding:
            good = [rt.number for rt in rts if rt.current is not None]
        elif open_:
            good = [rt.number for rt in rts if rt.state.value == "open" and rt.current is None]
        else:
            good = []
        if good and data.draw(st.integers(0, 9)) > 0:
            return data.draw(st.sampled_from(sorted(good)))
        return data.draw(st.sampled_from(self.windows))

    @initialize(data=st.data())
    def open_some_windows(self, data: st.DataObject) -> None:
        for w in data.draw(st.lists(st.sampled_from(self.windows), min_size=1, max_size=6, unique=True)):
            self.apply(c.OpenWindow(w, f"staff{w}"))

    @rule(minutes=st.sampled_from([0, 1, 2, 5, 10, 20, 40]))
    def advance(self, minutes: int) -> None:
        self.now += dt.timedelta(minutes=minutes)

    @precondition(lambda self: self.engine.calendar.local(self.now).hour >= 16)
    @rule()
    def next_day(self) -> None:
        self.now = (self.now + dt.timedelta(days=1)).replace(hour=8, minute=35)

    @rule(data=st.data(), source=st.sampled_from(["kiosk", "desk", "phone"]), answer=st.booleans())
    def issue(self, data: st.DataObject, source: str, answer: bool) -> None:
        matter = data.draw(st.sampled_from(self.matters))
        prio = data.draw(st.sampled_from(self.classes))
        m = self.config.matter_by_code[matter]
        answers = {q.id: (q.expected if answer else not q.expected) for q in m.precheck.questions}
        present = frozenset(
            mat.id for mat in m.precheck.materials if data.draw(st.booleans()) or mat.required is False
        )
        self.token += 1
        out = self.apply(
            c.IssueTicket(
                matter, Source(source), f"t{self.token}", prio, answers, present, holder_name="张三"
            )
        )
        if isinstance(out, Accepted) and out.ticket is not None:
            self.issued += 1
            self.first_seen[out.ticket.id] = (out.ticket.label, out.ticket.issued_at)

    @rule(data=st.data())
    def confirm_print(self, data: st.DataObject) -> None:
        tid = self.pick(data, TicketState.PENDING_PRINT)
        if tid:
            self.apply(c.ConfirmPrint(tid))

    @rule(data=st.data())
    def void(self, data: st.DataObject) -> None:
        tid = self.pick(data, TicketState.PENDING_PRINT, TicketState.WAITING)
        if tid:
            self.apply(c.VoidTicket(tid, "printer failed"))

    @rule(data=st.data())
    def call_next(self, data: st.DataObject) -> None:
        self.apply(c.CallNext(self.window(data, open_=True)))

    @rule(data=st.data())
    def call_next_again(self, data: st.DataObject) -> None:
        self.apply(c.CallNext(self.window(data, open_=True)))

    @rule(data=st.data(), kind=st.sampled_from(["recall", "start", "finish", "no_show"]))
    def at_window(self, data: st.DataObject, kind: str) -> None:
        w = self.window(data, holding=True)
        cmds: dict[str, c.Command] = {
            "recall": c.Recall(w),
            "start": c.StartServing(w),
            "finish": c.Finish(w),
            "no_show": c.MarkNoShow(w),
        }
        self.apply(cmds[kind])

    @rule(data=st.data(), kind=st.sampled_from(["start", "finish"]))
    def serve(self, data: st.DataObject, kind: str) -> None:
        w = self.window(data, holding=True)
        self.apply(c.StartServing(w) if kind == "start" else c.Finish(w))

    @rule(data=st.data())
    def window_state(self, data: st.DataObject) -> None:
        w = self.window(data)
        kind = data.draw(st.sampled_from(["open", "close", "pause", "resume", "takeover", "end_takeover"]))
        cmd: c.Command
        if kind == "open":
            cmd = c.OpenWindow(w, f"staff{w}")
        elif kind == "close":
            cmd = c.CloseWindow(w)
        elif kind == "pause":
            cmd = c.PauseWindow(w, data.draw(st.sampled_from(["休息", "会议", "", "发呆"])))
        elif kind == "resume":
            cmd = c.ResumeWindow(w)
        else:
            partner = self.config.window_by_number[w].partner or data.draw(st.sampled_from(self.windows))
            cmd = c.TakeOver(w, partner) if kind == "takeover" else c.EndTakeOver(w, partner)
        self.apply(cmd)

    @rule(data=st.data())
    def call_specific(self, data: st.DataObject) -> None:
        tid = self.pick(data, *TicketState)
        w = data.draw(st.sampled_from(self.windows))
        if tid:
            self.apply(c.CallSpecific(w, tid, data.draw(st.sampled_from(["", "老人行动不便"]))))

    @rule(data=st.data())
    def transfer(self, data: st.DataObject) -> None:
        w = self.window(data, holding=True)
        if data.draw(st.booleans()):
            self.apply(c.Transfer(w, to_series=data.draw(st.sampled_from(self.series))))
        else:
            self.apply(c.Transfer(w, to_window=data.draw(st.sampled_from(self.windows))))

    @rule(data=st.data())
    def requeue(self, data: st.DataObject) -> None:
        tid = self.pick(data, TicketState.NO_SHOW, TicketState.DONE)
        if tid:
            self.apply(c.RequeueNoShow(tid))

    @rule(data=st.data(), confirm=st.booleans())
    def review_class(self, data: st.DataObject, confirm: bool) -> None:
        tid = self.pick(data, TicketState.WAITING, TicketState.CALLED, TicketState.SERVING)
        if tid:
            w = self.window(data, holding=True)
            reason = data.draw(st.sampled_from(["", "未满 70 周岁", "无军人证件"]))
            self.apply(c.ReviewClass(w, tid, confirm, reason, data.draw(st.sampled_from(["", "c9"]))))

    @rule(data=st.data())
    def cancel(self, data: st.DataObject) -> None:
        tid = self.pick(data, *TicketState)
        if tid:
            self.apply(c.CancelTicket(tid))

    @rule()
    def tick(self) -> None:
        self.apply(c.Tick())

    @rule(data=st.data(), score=st.integers(min_value=0, max_value=6))
    def rate(self, data: st.DataObject, score: int) -> None:
        tid = self.pick(data, TicketState.DONE, TicketState.SERVING)
        if tid:
            out = self.apply(c.Rate(tid, score))
            if isinstance(out, Accepted):
                self.ratings_accepted[tid] += 1

    @rule(data=st.data(), days=st.integers(min_value=0, max_value=2))
    def book(self, data: st.DataObject, days: int) -> None:
        matter = data.draw(st.sampled_from(self.matters))
        day = self.engine.calendar.business_day(self.now) + dt.timedelta(days=days)
        slots = self.engine.slots(matter, day)
        if not slots:
            return
        start = data.draw(st.sampled_from(slots))[0]
        code = f"B{len(self.booking_codes)}"
        out = self.apply(c.BookSlot(matter, day, start, f"person{data.draw(st.integers(0, 3))}", code))
        if isinstance(out, Accepted):
            self.booking_codes.append(code)

    @precondition(lambda self: bool(self.booking_codes))
    @rule(data=st.data())
    def check_in(self, data: st.DataObject) -> None:
        code = data.draw(st.sampled_from(self.booking_codes))
        self.token += 1
        out = self.apply(c.CheckIn(code, f"t{self.token}"))
        if isinstance(out, Accepted) and out.ticket is not None:
            self.issued += 1
            self.first_seen[out.ticket.id] = (out.ticket.label, out.ticket.issued_at)

    # ---- invariants ----

    @invariant()
    def numbers_unique_per_day(self) -> None:
        keys = Counter((t.day, t.label) for t in self.engine.tickets.values())
        assert all(n == 1 for n in keys.values())
        assert len(self.engine.tickets) == len({t.id for t in self.engine.tickets.values()})

    @invariant()
    def held_by_at_most_one_window(self) -> None:
        held = [rt.current for rt in self.engine.windows.values() if rt.current is not None]
        assert len(held) == len(set(held))
        at_window = {tid for tid, t in self.engine.tickets.items() if t.state in AT_WINDOW}
        assert set(held) == at_window

    @invariant()
    def counts_add_up(self) -> None:
        states = Counter(t.state for t in self.engine.tickets.values())
        assert sum(states.values()) == self.issued
        waiting = sum(self.engine.waiting_counts().values()) + sum(
            line.count for line in self.engine.window_lines.values()
        )
        assert waiting == states[TicketState.WAITING]

    @invariant()
    def number_and_issue_time_kept(self) -> None:
        for tid, (label, issued_at) in self.first_seen.items():
            t = self.engine.tickets[tid]
            assert (t.label, t.issued_at) == (label, issued_at)

    @invariant()
    def revoked_classes_are_audited(self) -> None:
        for tid, t in self.engine.tickets.items():
            if t.class_check == "revoked":
                assert t.priority == ""
                assert t.claimed
                assert tid in self.revoked, f"{t.label}'s class was revoked without a class_revoked event"

    @invariant()
    def one_rating_per_ticket(self) -> None:
        assert all(n == 1 for n in self.ratings_accepted.values())
        assert set(self.engine.ratings) == set(self.ratings_accepted)


def machine_for(config: HallConfig) -> type[EngineMachine]:
    return type("Machine", (EngineMachine,), {"config": config})


SETTINGS = settings(
    max_examples=100,
    stateful_step_count=80,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@pytest.mark.parametrize(
    ("absolute", "in_row", "strict", "closed"),
    [
        ((), 3, False, ClosedWindowTransfer.REFUSE),
        (("military",), 1, False, ClosedWindowTransfer.SERIES),
        (("military", "appointment"), 2, True, ClosedWindowTransfer.REFUSE),
        ((), 3, True, ClosedWindowTransfer.SERIES),
    ],
)
def test_small_hall(
    absolute: tuple[str, ...], in_row: int, strict: bool, closed: ClosedWindowTransfer
) -> None:
    cfg = small_hall(
        absolute=absolute,
        absolute_in_row=in_row,
        strict_series_order=strict,
        to_closed_window=closed,
        max_recalls=1,
        matter_cap=12,
    )
    run_state_machine_as_test(machine_for(cfg), settings=SETTINGS)


def test_county_hall() -> None:
    cfg = read_config(ROOT / "config" / "county.toml")
    run_state_machine_as_test(machine_for(cfg), settings=SETTINGS)
