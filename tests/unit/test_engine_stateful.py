"""Random command sequences against the engine, with the queue's invariants checked after every step."""

from __future__ import annotations

import datetime as dt
from collections import Counter
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
from hallcore.config import HallConfig
from hallcore.engine import Accepted, Engine, Refused
from hallcore.model import AT_WINDOW, Source, TicketState
from hallserver.configfile import read_config
from tests.fakes.halls import small_hall

ROOT = Path(__file__).resolve().parents[2]
SHANGHAI = dt.timezone(dt.timedelta(hours=8))
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

    # ---- helpers ----

    def apply(self, cmd: c.Command) -> Accepted | Refused:
        before = fingerprint(self.engine)
        states_before = {tid: t.state for tid, t in self.engine.tickets.items()}
        waiting_before = {tid: t for tid, t in self.engine.tickets.items() if t.state is TicketState.WAITING}
        since_before = {tid: (t.since, t.key, t.target_window, t.series) for tid, t in waiting_before.items()}
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
            self.check_aging(cmd.window, out, since_before)
        return out

    def check_aging(
        self,
        window: int,
        out: Accepted,
        before: dict[str, tuple[dt.datetime, tuple[float, int, int], int | None, str]],
    ) -> None:
        limit = self.config.priority.aging_limit_min
        if limit is None:
            return
        assert out.ticket is not None
        serves = set(self.engine.window_view(window).series)
        eligible = {
            tid: v for tid, v in before.items() if (v[2] == window) or (v[2] is None and v[3] in serves)
        }
        cutoff = self.now - dt.timedelta(minutes=limit)
        overdue = {tid: v for tid, v in eligible.items() if v[0] <= cutoff}
        if overdue:
            first = min(overdue, key=lambda tid: (overdue[tid][0], overdue[tid][1]))
            assert out.ticket.id == first, (
                f"{out.ticket.label} called while {self.engine.tickets[first].label} waited past the limit"
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


@pytest.mark.parametrize(("aging", "ratio"), [(10, None), (10, 2), (None, 2), (30, None)])
def test_small_hall(aging: int | None, ratio: int | None) -> None:
    cfg = small_hall(aging_limit_min=aging, max_priority_in_row=ratio, max_recalls=1, matter_cap=12)
    run_state_machine_as_test(machine_for(cfg), settings=SETTINGS)


def test_county_hall() -> None:
    cfg = read_config(ROOT / "config" / "county.toml")
    run_state_machine_as_test(machine_for(cfg), settings=SETTINGS)
