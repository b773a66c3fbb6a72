"""The queue rules one by one, and every refusal the engine can give."""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable

import pytest

from hallcore import commands as c
from hallcore.engine import Accepted, Engine, RefusalCode, Refused
from hallcore.events import TicketChanged, TicketIssued
from hallcore.model import (
    BookingState,
    CallReasonKind,
    Case,
    CaseAction,
    CaseState,
    Source,
    Ticket,
    TicketState,
)
from tests.fakes.halls import MONDAY_9, SHANGHAI, small_hall

PASS = {"answers": {"resident": True}, "present": frozenset({"idcard", "photo"})}


def ok(out: Accepted | Refused) -> Accepted:
    assert isinstance(out, Accepted), out
    return out


def refused(out: Accepted | Refused, code: RefusalCode) -> Refused:
    assert isinstance(out, Refused), out
    assert out.code is code, out
    assert out.message
    assert out.message_en
    return out


def state_of(t: Ticket) -> TicketState:
    """Read through a call so mypy does not narrow a field that the engine changes behind its back."""
    return t.state


def case_state(case: Case) -> CaseState:
    return case.state


class Hall:
    """An engine with a movable clock and short-hands for the common commands."""

    def __init__(self, **cfg: object) -> None:
        self.e = Engine(small_hall(**cfg))  # type: ignore[arg-type]
        self.now = MONDAY_9
        self.n = 0

    def do(self, cmd: c.Command) -> Accepted | Refused:
        return self.e.handle(cmd, self.now)

    def later(self, minutes: float) -> None:
        self.now += dt.timedelta(minutes=minutes)

    def issue(self, matter: str = "sb01", source: Source = Source.DESK, priority: str = "") -> str:
        self.n += 1
        kw = PASS if matter == "hj01" else {}
        out = ok(self.do(c.IssueTicket(matter, source, f"tok{self.n}", priority, **kw)))  # type: ignore[arg-type]
        assert out.ticket is not None
        return out.ticket.label

    def open(self, *windows: int) -> None:
        for w in windows:
            ok(self.do(c.OpenWindow(w, f"clerk{w}")))

    def call(self, window: int) -> tuple[str, CallReasonKind]:
        out = ok(self.do(c.CallNext(window)))
        assert out.ticket is not None
        assert out.ticket.call_reason is not None
        return out.ticket.label, out.ticket.call_reason.kind

    def serve(self, window: int) -> None:
        ok(self.do(c.StartServing(window)))
        ok(self.do(c.Finish(window)))

    def ticket(self, label: str) -> object:
        t = self.e.find_ticket(label, self.now)
        assert t is not None
        return t


# ---- numbering and issuing ---------------------------------------------------------------------------


def test_numbers_per_series_per_day() -> None:
    h = Hall()
    assert [h.issue("sb01"), h.issue("sb01"), h.issue("zh01")] == ["B001", "B002", "C001"]
    h.now = MONDAY_9 + dt.timedelta(days=1)
    assert h.issue("sb01") == "B001"  # a new business day: no midnight job, the day is part of the key
    ids = {t.id for t in h.e.tickets.values()}
    assert "2026-11-23/B001" in ids
    assert "2026-11-24/B001" in ids


def test_business_day_is_the_halls_not_utc() -> None:
    h = Hall()
    h.now = dt.datetime(2026, 11, 23, 1, 0, tzinfo=dt.UTC)  # 09:00 in Shanghai
    assert ok(h.do(c.IssueTicket("sb01", Source.DESK, "t"))).ticket.id == "2026-11-23/B001"  # type: ignore[union-attr]


def test_issue_event_carries_what_a_screen_needs() -> None:
    h = Hall()
    h.open(2)
    out = ok(h.do(c.IssueTicket("sb01", Source.DESK, "t", holder_name="张三丰")))
    ev = out.events[-1]
    assert isinstance(ev, TicketIssued)
    assert ev.ticket.label == "B001"
    assert ev.ticket.matter_name == "社保卡补办"
    assert ev.ticket.holder_masked == "张**"
    assert ev.waiting == {"B": 1}
    assert "张三丰" not in repr(out.events)
    assert "tok" not in repr(out.events)  # the status token is never broadcast


def test_kiosk_ticket_is_pending_until_printed_and_never_called_before() -> None:
    h = Hall()
    h.open(1)
    out = ok(h.do(c.IssueTicket("hj01", Source.KIOSK, "t", **PASS)))  # type: ignore[arg-type]
    assert out.ticket is not None
    assert out.ticket.state is TicketState.PENDING_PRINT
    refused(h.do(c.CallNext(1)), RefusalCode.NOTHING_WAITING)
    ok(h.do(c.ConfirmPrint(out.ticket.id)))
    assert h.call(1)[0] == "A001"


def test_pending_ticket_is_not_ahead_of_anyone() -> None:
    h = Hall()
    h.open(2)
    ok(h.do(c.IssueTicket("sb01", Source.KIOSK, "t1")))
    out = ok(h.do(c.IssueTicket("sb01", Source.DESK, "t2")))
    assert out.ahead == 0


def test_unconfirmed_print_is_voided_after_the_timeout() -> None:
    h = Hall()
    out = ok(h.do(c.IssueTicket("sb01", Source.KIOSK, "t")))
    assert out.ticket is not None
    h.later(1)
    ok(h.do(c.Tick()))
    t = out.ticket
    assert state_of(t) is TicketState.PENDING_PRINT
    h.later(2)
    tick = ok(h.do(c.Tick()))
    assert state_of(t) is TicketState.VOIDED
    assert [e.action for e in tick.events if isinstance(e, TicketChanged)] == ["voided"]
    refused(h.do(c.ConfirmPrint(out.ticket.id)), RefusalCode.WRONG_STATE)


def test_void_frees_the_cap_but_not_the_number() -> None:
    h = Hall(matter_cap=1)
    out = ok(h.do(c.IssueTicket("hj01", Source.KIOSK, "t", **PASS)))  # type: ignore[arg-type]
    assert out.ticket is not None
    refused(h.do(c.IssueTicket("hj01", Source.DESK, "t2", **PASS)), RefusalCode.CAP_REACHED)  # type: ignore[arg-type]
    assert h.e.remaining_today("hj01", h.now) == 0
    ok(h.do(c.VoidTicket(out.ticket.id, "paper out")))
    assert h.e.remaining_today("hj01", h.now) == 1
    assert h.issue("hj01") == "A002"


# ---- pre-check -----------------------------------------------------------------------------------------


def test_kiosk_requires_the_precheck() -> None:
    h = Hall()
    refused(h.do(c.IssueTicket("hj01", Source.KIOSK, "t")), RefusalCode.PRECHECK_REQUIRED)
    ok(h.do(c.IssueTicket("sb01", Source.KIOSK, "t")))  # a matter without a checklist needs none


def test_precheck_fail_issues_no_ticket_but_is_counted() -> None:
    h = Hall()
    out = ok(h.do(c.IssueTicket("hj01", Source.KIOSK, "t", answers={"resident": False}, present=frozenset())))
    assert out.ticket is None
    assert out.precheck is not None
    assert out.precheck.outcome.value == "不通过"
    assert {i.id for i in out.precheck.missing} == {"resident", "idcard", "photo"}
    assert [type(e).__name__ for e in out.events] == ["PrecheckRecorded"]
    assert h.e.tickets == {}


def test_precheck_tolerated_gives_a_ticket_with_a_due_date() -> None:
    h = Hall()
    out = ok(
        h.do(
            c.IssueTicket(
                "hj01", Source.KIOSK, "t", answers={"resident": True}, present=frozenset({"idcard"})
            )
        )
    )
    assert out.ticket is not None
    assert out.ticket.precheck == "容缺"
    assert out.ticket.missing == ("photo",)
    assert out.ticket.due == dt.date(2026, 12, 21)  # 20 working days after Monday 23 November


def test_precheck_bad_input() -> None:
    h = Hall()
    refused(
        h.do(c.IssueTicket("hj01", Source.KIOSK, "t", answers={"nope": True}, present=frozenset())),
        RefusalCode.PRECHECK_INPUT,
    )


# ---- hours and caps ------------------------------------------------------------------------------------


def test_closed_hall_says_when_it_opens() -> None:
    h = Hall()
    h.now = dt.datetime(2026, 11, 23, 7, 0, tzinfo=SHANGHAI)
    r = refused(h.do(c.IssueTicket("sb01", Source.DESK, "t")), RefusalCode.HALL_CLOSED)
    assert "08:30" in r.message
    assert r.detail["next_opening"].startswith("2026-11-23T08:30")


@pytest.mark.parametrize(
    ("now", "code"),
    [
        # closes 17:30, walk-in cut-off 30 minutes before
        pytest.param(
            dt.datetime(2026, 11, 23, 17, 10, tzinfo=SHANGHAI),
            RefusalCode.HALL_CLOSED,
            id="walk_in_cutoff_before_closing",
        ),
        pytest.param(
            dt.datetime(2026, 11, 28, 9, 30, tzinfo=SHANGHAI),
            RefusalCode.BOOKING_ONLY_DAY,
            id="saturday_is_booking_only",
        ),
        pytest.param(
            dt.datetime(2026, 10, 1, 10, 0, tzinfo=SHANGHAI), RefusalCode.HALL_CLOSED, id="holiday_is_closed"
        ),
    ],
)
def test_no_walk_in_outside_the_halls_walk_in_hours(now: dt.datetime, code: RefusalCode) -> None:
    h = Hall()
    h.now = now
    # The kiosk; the desk too except on the 5+1 Saturday, where it issues after the booked
    # (tests/unit/test_sessions.py).
    refused(h.do(c.IssueTicket("sb01", Source.KIOSK, "t")), code)
    if code is not RefusalCode.BOOKING_ONLY_DAY:
        refused(h.do(c.IssueTicket("sb01", Source.DESK, "t")), code)


def test_series_with_narrower_hours() -> None:
    from dataclasses import replace

    cfg = small_hall()
    cfg = replace(
        cfg, series=tuple(replace(s, open=dt.time(13, 0)) if s.prefix == "B" else s for s in cfg.series)
    )
    e = Engine(cfg)
    out = e.handle(c.IssueTicket("sb01", Source.DESK, "t"), MONDAY_9)
    refused(out, RefusalCode.SERIES_CLOSED)
    assert "13:00" in out.message  # type: ignore[union-attr]
    assert isinstance(e.handle(c.IssueTicket("zh01", Source.DESK, "t"), MONDAY_9), Accepted)


def test_closing_expires_what_is_still_waiting() -> None:
    h = Hall()
    label = h.issue()
    h.now = dt.datetime(2026, 11, 23, 17, 31, tzinfo=SHANGHAI)
    out = ok(h.do(c.Tick()))
    t = h.e.tickets[f"2026-11-23/{label}"]
    assert t.state is TicketState.EXPIRED
    assert any(isinstance(e, TicketChanged) and e.action == "expired" for e in out.events)
    assert h.e.waiting_count("B") == 0


# ---- call order ----------------------------------------------------------------------------------------


def test_priority_then_issue_order_with_reasons() -> None:
    h = Hall()
    h.open(2)
    a = h.issue()
    b = h.issue(priority="elderly")
    assert h.call(2) == (b, CallReasonKind.PRIORITY)
    assert h.e.find_ticket(b, h.now).call_reason.text == "优先: 老年人（提前 20 分钟）"  # type: ignore[union-attr]
    h.serve(2)
    assert h.call(2) == (a, CallReasonKind.SERIES_ORDER)


def test_a_head_start_goes_ahead_of_those_who_came_up_to_that_much_earlier() -> None:
    h = Hall()  # elderly: 20 minutes
    h.open(2)
    early = h.issue()  # 09:00
    h.later(10)
    mid = h.issue()  # 09:10
    h.later(19)
    elderly = h.issue(priority="elderly")  # 09:29: key 09:09
    got = []
    for _ in range(3):
        got.append(h.call(2))
        h.serve(2)
    assert got == [
        (early, CallReasonKind.SERIES_ORDER),
        (elderly, CallReasonKind.PRIORITY),
        (mid, CallReasonKind.SERIES_ORDER),
    ]


def test_a_bigger_head_start_goes_first_among_classes() -> None:
    h = Hall()
    h.open(2)
    elderly = h.issue(priority="elderly")  # 09:00, key 08:40
    h.later(5)
    military = h.issue(priority="military")  # 09:05, key 08:35
    assert h.call(2)[0] == military
    h.serve(2)
    assert h.call(2)[0] == elderly


def test_an_absolute_class_goes_next_but_never_past_the_longest_head_start() -> None:
    h = Hall(absolute=("military",))  # longest head start: the booking's 60 minutes
    h.open(2)
    normal = h.issue()  # 09:00
    h.later(40)
    military = h.issue(priority="military")  # 09:40: 40 minutes after the normal ticket, within 60
    assert h.call(2) == (military, CallReasonKind.ABSOLUTE)
    assert h.e.find_ticket(military, h.now).call_reason.text == "优先: 军人（优先叫号）"  # type: ignore[union-attr]
    h.serve(2)
    h.later(30)
    late = h.issue(priority="military")  # 10:10: 70 minutes after the normal one: it may not pass it
    assert h.call(2) == (normal, CallReasonKind.SERIES_ORDER)
    h.serve(2)
    assert h.call(2) == (late, CallReasonKind.ABSOLUTE)


def test_at_most_n_absolute_calls_in_a_row() -> None:
    h = Hall(absolute=("elderly",), absolute_in_row=2)
    h.open(2)
    normal = h.issue()
    prio = [h.issue(priority="elderly") for _ in range(3)]
    calls = []
    for _ in range(4):
        calls.append(h.call(2))
        h.serve(2)
    assert [c[0] for c in calls] == [prio[0], prio[1], normal, prio[2]]
    assert calls[2][1] is CallReasonKind.NORMAL_AFTER_PRIORITY_RUN


def test_a_combined_window_merges_its_series_by_key() -> None:
    h = Hall()
    h.open(3)  # serves C, A, B
    b = h.issue("sb01")
    h.later(1)
    a = h.issue("hj01")
    h.later(1)
    cc = h.issue("zh01")
    h.later(1)
    elderly_b = h.issue("sb01", priority="elderly")
    got = []
    for _ in range(4):
        got.append(h.call(3)[0])
        h.serve(3)
    assert got == [elderly_b, b, a, cc]


def test_strict_series_order_with_a_bound() -> None:
    h = Hall(strict_series_order=True)  # window 3 takes C, then A, then B; the bound is 60 minutes
    h.open(3)
    b = h.issue("sb01")  # 09:00
    h.later(1)
    a = h.issue("hj01")
    h.later(1)
    cc = h.issue("zh01")
    got = []
    for _ in range(3):
        got.append(h.call(3))
        h.serve(3)
    assert [x[0] for x in got] == [cc, a, b]
    old_b = h.issue("sb01")  # 09:02
    h.later(61)
    new_c = h.issue("zh01")  # 10:03: more than 60 minutes after the B ticket, so it may not pass it
    assert h.call(3)[0] == old_b
    h.serve(3)
    assert h.call(3)[0] == new_c


def test_call_next_is_O_log_n_not_a_scan() -> None:
    # Behaviour, not timing: the stale heap entries left by calls are dropped lazily and never called.
    h = Hall()
    h.open(2)
    labels = [h.issue() for _ in range(50)]
    got = []
    for _ in range(50):
        got.append(h.call(2)[0])
        h.serve(2)
    assert got == labels
    refused(h.do(c.CallNext(2)), RefusalCode.NOTHING_WAITING)


# ---- at the window -------------------------------------------------------------------------------------


def test_window_state_refusals() -> None:
    h = Hall()
    h.issue()
    refused(h.do(c.CallNext(2)), RefusalCode.WINDOW_CLOSED)
    h.open(2)
    refused(h.do(c.OpenWindow(2)), RefusalCode.BAD_TRANSITION)
    refused(h.do(c.PauseWindow(2, "")), RefusalCode.REASON_REQUIRED)
    refused(h.do(c.PauseWindow(2, "发呆")), RefusalCode.UNKNOWN_PAUSE_REASON)
    refused(h.do(c.ResumeWindow(2)), RefusalCode.BAD_TRANSITION)
    ok(h.do(c.PauseWindow(2, "休息")))
    refused(h.do(c.CallNext(2)), RefusalCode.WINDOW_PAUSED)
    ok(h.do(c.ResumeWindow(2)))
    h.call(2)
    refused(h.do(c.CallNext(2)), RefusalCode.WINDOW_BUSY)
    refused(h.do(c.PauseWindow(2, "休息")), RefusalCode.WINDOW_NOT_IDLE)
    refused(h.do(c.CloseWindow(2)), RefusalCode.WINDOW_NOT_IDLE)
    refused(h.do(c.Finish(2)), RefusalCode.WRONG_STATE)
    h.serve(2)
    refused(h.do(c.Recall(2)), RefusalCode.NO_CURRENT_TICKET)
    ok(h.do(c.CloseWindow(2)))
    refused(h.do(c.CloseWindow(2)), RefusalCode.BAD_TRANSITION)


def test_recall_then_no_show_then_requeue_at_the_return_time_with_the_class() -> None:
    h = Hall(max_recalls=2)
    h.open(2)
    first = h.issue(priority="elderly")
    h.later(1)
    before = [h.issue() for _ in range(2)]
    assert h.call(2)[0] == first
    h.later(1)
    refused(h.do(c.MarkNoShow(2)), RefusalCode.RECALLS_NOT_EXHAUSTED)
    assert ok(h.do(c.Recall(2))).ticket.recalls == 1  # type: ignore[union-attr]
    h.later(1)
    ok(h.do(c.Recall(2)))
    h.later(1)
    ok(h.do(c.MarkNoShow(2)))
    h.later(25)  # 09:29: back, with the elderly head start of 20 minutes from now: key 09:09
    after = [h.issue() for _ in range(1)]
    ok(h.do(c.RequeueNoShow(first)))
    t = h.e.find_ticket(first, h.now)
    assert t is not None
    assert (t.priority, t.requeues, t.since) == ("elderly", 1, h.now)
    got = []
    for _ in range(4):
        got.append(h.call(2)[0])
        h.serve(2)
    assert got == [*before, first, *after]


def test_requeue_only_the_same_day() -> None:
    h = Hall(max_recalls=0)
    h.open(2)
    label = h.issue()
    h.call(2)
    h.later(0.5)
    ok(h.do(c.MarkNoShow(2)))
    h.now += dt.timedelta(days=1)
    refused(h.do(c.RequeueNoShow(f"2026-11-23/{label}")), RefusalCode.NOT_SAME_DAY)


def test_transfer_keeps_number_issue_time_and_place() -> None:
    h = Hall()
    h.open(1, 2)
    early_b = h.issue("sb01")
    h.later(5)
    a = h.issue("hj01")
    h.later(5)
    late_b = h.issue("sb01")
    assert h.call(1)[0] == a
    t = h.e.find_ticket(a, h.now)
    assert t is not None
    issued = t.issued_at
    ok(h.do(c.Transfer(1, to_series="B")))
    assert (t.label, t.issued_at, t.state) == (a, issued, TicketState.WAITING)
    got = []
    for _ in range(3):
        got.append(h.call(2)[0])
        h.serve(2)
    assert got == [early_b, a, late_b]  # back in B's line by its original issue time, not at the end


def test_transfer_to_a_named_window() -> None:
    h = Hall()
    h.open(1, 2, 3)
    a = h.issue("hj01")
    h.call(1)
    ok(h.do(c.Transfer(1, to_window=2)))
    refused(h.do(c.CallNext(3)), RefusalCode.NOTHING_WAITING)  # window 3 serves A but the ticket is for 2
    assert h.call(2) == (a, CallReasonKind.TRANSFERRED_HERE)


def test_transfer_refusals() -> None:
    h = Hall()
    h.open(1)
    h.issue("hj01")
    refused(h.do(c.Transfer(1, to_series="B")), RefusalCode.NO_CURRENT_TICKET)
    h.call(1)
    refused(h.do(c.Transfer(1)), RefusalCode.BAD_TARGET)
    refused(h.do(c.Transfer(1, to_series="B", to_window=2)), RefusalCode.BAD_TARGET)
    refused(h.do(c.Transfer(1, to_series="Z")), RefusalCode.UNKNOWN_SERIES)
    refused(h.do(c.Transfer(1, to_window=99)), RefusalCode.UNKNOWN_WINDOW)
    refused(h.do(c.Transfer(1, to_window=1)), RefusalCode.BAD_TARGET)


def test_call_specific_needs_a_reason_and_a_waiting_ticket() -> None:
    h = Hall()
    h.open(2)
    first = h.issue()
    second = h.issue()
    refused(h.do(c.CallSpecific(2, second, " ")), RefusalCode.REASON_REQUIRED)
    out = ok(h.do(c.CallSpecific(2, second, "行动不便")))
    assert out.ticket is not None
    assert out.ticket.call_reason is not None
    assert out.ticket.call_reason.kind is CallReasonKind.SPECIFIC
    h.serve(2)
    refused(h.do(c.CallSpecific(2, second, "再叫")), RefusalCode.WRONG_STATE)
    refused(h.do(c.CallSpecific(2, "B999", "x")), RefusalCode.UNKNOWN_TICKET)
    assert h.call(2)[0] == first


def test_ab_takeover() -> None:
    h = Hall()
    h.open(2)
    a = h.issue("hj01")
    refused(h.do(c.CallNext(2)), RefusalCode.NOTHING_WAITING)
    refused(h.do(c.TakeOver(2, 3)), RefusalCode.NOT_PARTNER)
    ok(h.do(c.TakeOver(2, 1)))
    refused(h.do(c.TakeOver(2, 1)), RefusalCode.BAD_TRANSITION)
    assert h.e.window_view(2).series == ("B", "A")
    assert h.call(2)[0] == a
    h.serve(2)
    ok(h.do(c.EndTakeOver(2, 1)))
    refused(h.do(c.EndTakeOver(2, 1)), RefusalCode.BAD_TRANSITION)
    refused(h.do(c.TakeOver(1, 2)), RefusalCode.WINDOW_CLOSED)


def test_staff_confirm_or_revoke_a_claimed_class() -> None:
    h = Hall()
    h.open(1, 2)
    normal = h.issue()
    h.later(1)
    claimed = h.issue(priority="elderly")
    other = h.issue(priority="military")
    assert normal in refused(h.do(c.ReviewClass(2, normal, confirm=True)), RefusalCode.NO_CLASS).message
    refused(h.do(c.ReviewClass(1, claimed, confirm=False, reason="未满 70 周岁")), RefusalCode.NOT_AT_WINDOW)
    refused(h.do(c.ReviewClass(2, claimed, confirm=False, reason=" ")), RefusalCode.REASON_REQUIRED)
    refused(h.do(c.ReviewClass(2, "B999", confirm=True)), RefusalCode.UNKNOWN_TICKET)
    refused(h.do(c.ReviewClass(9, claimed, confirm=True)), RefusalCode.UNKNOWN_WINDOW)
    # Revoked while waiting: the normal key, behind the ticket that came a minute before it.
    revoked = ok(h.do(c.ReviewClass(2, claimed, confirm=False, reason="未满 70 周岁", staff="c2")))
    (event,) = revoked.events
    assert isinstance(event, TicketChanged)
    assert (event.action, event.note) == ("class_revoked", "老年人：未满 70 周岁（c2）")
    assert (event.ticket.priority, event.ticket.claimed, event.ticket.class_check) == (
        "",
        "elderly",
        "revoked",
    )
    refused(h.do(c.ReviewClass(2, claimed, confirm=True)), RefusalCode.BAD_TRANSITION)
    assert h.call(2) == (other, CallReasonKind.PRIORITY)
    confirmed = ok(h.do(c.ReviewClass(2, other, confirm=True)))
    assert confirmed.events[0].action == "class_confirmed"  # type: ignore[attr-defined]
    assert h.e.find_ticket(other, h.now).class_check == "confirmed"  # type: ignore[union-attr]
    h.serve(2)
    refused(h.do(c.ReviewClass(2, other, confirm=False, reason="x")), RefusalCode.WRONG_STATE)
    assert h.call(2)[0] == normal
    h.serve(2)
    assert h.call(2)[0] == claimed


def test_recall_gap_and_requeue_limit() -> None:
    h = Hall(max_recalls=1, min_recall_gap_s=30, max_requeues=1)
    h.open(2)
    label = h.issue()
    h.call(2)
    out = refused(h.do(c.Recall(2)), RefusalCode.RECALL_TOO_SOON)
    assert out.detail == {"ticket": label, "wait_s": 30, "gap_s": 30}
    h.later(0.5)
    ok(h.do(c.Recall(2)))
    refused(h.do(c.MarkNoShow(2)), RefusalCode.RECALL_TOO_SOON)
    h.later(0.5)
    ok(h.do(c.MarkNoShow(2)))
    ok(h.do(c.RequeueNoShow(label)))
    h.call(2)
    h.later(0.5)
    ok(h.do(c.Recall(2)))
    h.later(0.5)
    ok(h.do(c.MarkNoShow(2)))
    out = refused(h.do(c.RequeueNoShow(label)), RefusalCode.REQUEUE_LIMIT)
    assert out.detail == {"ticket": label, "requeues": 1, "limit": 1}


def test_transfer_to_a_closed_window_goes_to_its_series_where_the_hall_says_so() -> None:
    from hallcore.config import ClosedWindowTransfer

    h = Hall(to_closed_window=ClosedWindowTransfer.SERIES)
    h.open(1, 3)
    a = h.issue("hj01")
    h.call(1)
    out = ok(h.do(c.Transfer(1, to_window=2)))  # window 2 (B) is closed: the ticket goes to series B
    t = out.ticket
    assert t is not None
    assert (t.series, t.target_window, t.state) == ("B", None, TicketState.WAITING)
    assert "2 号窗口未开启" in out.events[0].note  # type: ignore[attr-defined]
    assert h.call(3)[0] == a


def test_transfer_to_a_closed_window_covered_by_its_partner_is_accepted() -> None:
    h = Hall()
    h.open(1, 3)
    h.issue("zh01")
    h.call(3)
    ok(h.do(c.TakeOver(1, 2)))
    ok(h.do(c.Transfer(3, to_window=2)))
    assert h.call(1)[1] is CallReasonKind.TRANSFERRED_HERE
    assert h.e.find_ticket("C001", h.now).call_reason.text == "转入 2 号窗口（A/B 岗接管）"  # type: ignore[union-attr]
    ok(h.do(c.CloseWindow(3)))
    h.serve(1)
    h.issue("zh01")
    ok(h.do(c.OpenWindow(3, "c3")))
    h.call(3)
    ok(h.do(c.CloseWindow(1)))
    out = refused(h.do(c.Transfer(3, to_window=2)), RefusalCode.WINDOW_CLOSED)
    assert out.detail["open_windows"] == []


def test_cancel() -> None:
    h = Hall()
    h.open(2)
    label = h.issue()
    ok(h.do(c.CancelTicket(label, "left")))
    refused(h.do(c.CancelTicket(label)), RefusalCode.WRONG_STATE)
    refused(h.do(c.CallNext(2)), RefusalCode.NOTHING_WAITING)


# ---- ratings and cases ---------------------------------------------------------------------------------


def test_one_rating_per_served_ticket_and_bad_ones_open_a_case() -> None:
    h = Hall()
    h.open(2)
    label = h.issue()
    refused(h.do(c.Rate(label, 5)), RefusalCode.NOT_SERVED)
    h.call(2)
    h.serve(2)
    refused(h.do(c.Rate(label, 0)), RefusalCode.BAD_SCORE)
    out = ok(h.do(c.Rate(label, 2)))
    assert [type(e).__name__ for e in out.events] == ["RatingRecorded", "CaseChanged"]
    refused(h.do(c.Rate(label, 5)), RefusalCode.ALREADY_RATED)
    rating = h.e.ratings[f"2026-11-23/{label}"]
    assert (rating.window, rating.staff, rating.matter) == (2, "clerk2", "sb01")
    case = next(iter(h.e.cases.values()))
    assert case.due == dt.date(2026, 11, 30)  # 5 working days after Monday
    refused(h.do(c.CaseStepCommand(case.id, CaseAction.CLOSE, "done")), RefusalCode.BAD_TRANSITION)
    refused(h.do(c.CaseStepCommand(case.id, CaseAction.CALLBACK, "")), RefusalCode.REASON_REQUIRED)
    refused(h.do(c.CaseStepCommand("C-x", CaseAction.CALLBACK, "x")), RefusalCode.UNKNOWN_CASE)
    for action in (CaseAction.CALLBACK, CaseAction.RESOLVE, CaseAction.CLOSE):
        ok(h.do(c.CaseStepCommand(case.id, action, "回访：已解释办理时限")))
    assert case_state(case) is CaseState.CLOSED
    ok(h.do(c.CaseStepCommand(case.id, CaseAction.APPEAL, "不服")))
    assert case_state(case) is CaseState.APPEALED


def test_a_phone_rating_only_within_the_window_after_the_finish() -> None:
    """扫码评价 (issue 18): the phone may rate a finished ticket for rating.phone_window_min (30) minutes."""
    h = Hall()
    h.open(2)
    late, fresh = h.issue(), h.issue()
    h.call(2)
    h.serve(2)
    h.later(31)
    h.call(2)
    h.serve(2)
    refused(h.do(c.Rate(late, 4, "phone")), RefusalCode.RATING_CLOSED)
    ok(h.do(c.Rate(late, 4, "counter")))  # the clerk may still record one given at the window
    ok(h.do(c.Rate(fresh, 1, "phone")))
    refused(h.do(c.Rate(fresh, 5, "pad")), RefusalCode.ALREADY_RATED)  # the pad after the phone: no second
    assert h.e.cases[f"C-2026-11-23/{fresh}"].score == 1


# ---- bookings ------------------------------------------------------------------------------------------


def book(
    h: Hall,
    code: str,
    *,
    day: dt.date = dt.date(2026, 11, 24),
    at: dt.time = dt.time(10, 0),
    person: str = "p1",
) -> Accepted | Refused:
    return h.do(c.BookSlot("sb01", day, at, person, code))


def test_booking_rules() -> None:
    h = Hall()
    ok(book(h, "K1"))
    refused(book(h, "K1"), RefusalCode.DUPLICATE_CODE)
    refused(book(h, "K2", at=dt.time(10, 10)), RefusalCode.SLOT_UNKNOWN)
    refused(book(h, "K3", day=dt.date(2026, 11, 23), at=dt.time(8, 30)), RefusalCode.IN_PAST)
    refused(book(h, "K4", day=dt.date(2026, 12, 23)), RefusalCode.TOO_FAR_AHEAD)
    ok(book(h, "K5", at=dt.time(11, 0)))
    refused(book(h, "K6", at=dt.time(14, 0)), RefusalCode.PERSON_LIMIT)
    for i in range(3):
        ok(book(h, f"F{i}", person=f"other{i}"))
    refused(book(h, "F9", person="other9"), RefusalCode.SLOT_FULL)
    slots = {a: left for a, _b, left in h.e.slots("sb01", dt.date(2026, 11, 24))}
    assert slots[dt.time(10, 0)] == 0
    ok(h.do(c.CancelBooking("F0")))
    refused(h.do(c.CancelBooking("F0")), RefusalCode.BOOKING_STATE)
    refused(h.do(c.CancelBooking("nope")), RefusalCode.UNKNOWN_BOOKING)
    assert {a: left for a, _b, left in h.e.slots("sb01", dt.date(2026, 11, 24))}[dt.time(10, 0)] == 1


def test_check_in_on_time_early_late_wrong_day() -> None:
    h = Hall()
    ok(book(h, "ON"))
    ok(book(h, "LATE", at=dt.time(9, 0), person="p2"))
    ok(book(h, "EARLY", at=dt.time(15, 0), person="p3"))
    refused(h.do(c.CheckIn("ON", "t")), RefusalCode.BOOKING_WRONG_DAY)
    h.now = dt.datetime(2026, 11, 24, 9, 50, tzinfo=SHANGHAI)
    refused(h.do(c.CheckIn("EARLY", "t")), RefusalCode.BOOKING_TOO_EARLY)
    on = ok(h.do(c.CheckIn("ON", "t1")))
    assert on.ticket is not None
    assert on.ticket.priority == "appointment"
    refused(h.do(c.CheckIn("ON", "t1")), RefusalCode.BOOKING_STATE)
    late = ok(h.do(c.CheckIn("LATE", "t2")))
    assert late.ticket is not None
    assert late.ticket.priority == ""  # late bookings become walk-ins
    assert h.e.bookings["ON"].state is BookingState.CHECKED_IN
    h.open(2)
    # Checked in before its 10:00 slot: a walk-in until then, due from 10:00 with its head start.
    assert on.ticket.slot_at == dt.datetime(2026, 11, 24, 10, 0, tzinfo=SHANGHAI)
    walk_in = h.issue()
    assert h.call(2) == (on.ticket.label, CallReasonKind.SERIES_ORDER)  # checked in first
    ok(h.do(c.Transfer(2, to_series="B")))  # keeps its check-in time and its slot
    h.now = dt.datetime(2026, 11, 24, 10, 0, tzinfo=SHANGHAI)
    assert h.call(2) == (on.ticket.label, CallReasonKind.BOOKING_DUE)
    h.serve(2)
    assert h.call(2)[0] == late.ticket.label
    h.serve(2)
    assert h.call(2)[0] == walk_in


def test_booking_only_saturday_accepts_check_ins() -> None:
    h = Hall()
    ok(book(h, "SAT", day=dt.date(2026, 11, 28), at=dt.time(9, 30)))
    h.now = dt.datetime(2026, 11, 28, 9, 20, tzinfo=SHANGHAI)
    assert ok(h.do(c.CheckIn("SAT", "t"))).ticket is not None


def test_missed_bookings_are_marked() -> None:
    h = Hall()
    ok(book(h, "M"))
    h.now = dt.datetime(2026, 11, 25, 9, 0, tzinfo=SHANGHAI)
    ok(h.do(c.Tick()))
    assert h.e.bookings["M"].state is BookingState.MISSED


# ---- unknown things and restore ------------------------------------------------------------------------

UNKNOWN: list[tuple[RefusalCode, Callable[[], c.Command]]] = [
    (RefusalCode.UNKNOWN_MATTER, lambda: c.IssueTicket("zz99", Source.DESK, "t")),
    (RefusalCode.UNKNOWN_WINDOW, lambda: c.CallNext(99)),
    (RefusalCode.UNKNOWN_TICKET, lambda: c.ConfirmPrint("A999")),
    (RefusalCode.UNKNOWN_PRIORITY, lambda: c.IssueTicket("sb01", Source.DESK, "t", priority="vip")),
    (RefusalCode.UNKNOWN_PRIORITY, lambda: c.IssueTicket("sb01", Source.KIOSK, "t", priority="appointment")),
    (RefusalCode.UNKNOWN_BOOKING, lambda: c.CheckIn("nope", "t")),
    (RefusalCode.UNKNOWN_CASE, lambda: c.CaseStepCommand("nope", CaseAction.CLOSE, "x")),
    (RefusalCode.UNKNOWN_MATTER, lambda: c.BookSlot("zz99", dt.date(2026, 11, 24), dt.time(10), "p", "c")),
]


@pytest.mark.parametrize(("code", "make"), UNKNOWN)
def test_unknown_things(code: RefusalCode, make: Callable[[], c.Command]) -> None:
    refused(Hall().do(make()), code)


def test_case_outcome_refusals() -> None:
    # Each outcome and its checks: tests/unit/test_case_outcomes.py; the two refusals they add, here too.
    h = Hall()
    h.open(2)
    h.issue("sb01")
    h.call(2)
    ok(h.do(c.StartServing(2)))
    refused(h.do(c.Finish(2, "不予受理", "没有理由")), RefusalCode.BAD_OUTCOME)
    out = ok(h.do(c.Finish(2, "受理")))
    assert out.ticket is not None
    h.later(h.e.config.outcomes.change_window_s / 60 + 0.1)
    refused(h.do(c.SetOutcome(2, out.ticket.id, "办结")), RefusalCode.OUTCOME_CLOSED)


def test_every_refusal_code_is_tested() -> None:
    import inspect
    import sys

    source = inspect.getsource(sys.modules[__name__])
    untested = [code.name for code in RefusalCode if f"RefusalCode.{code.name}" not in source]
    # Kept honest: a new refusal needs a test here. NOT_BOOKABLE needs a non-bookable matter in the config.
    assert untested == ["NOT_BOOKABLE"]


def test_not_bookable() -> None:
    from dataclasses import replace

    cfg = small_hall()
    cfg = replace(cfg, matters=tuple(replace(m, bookable=False) for m in cfg.matters))
    e = Engine(cfg)
    out = e.handle(c.BookSlot("sb01", dt.date(2026, 11, 24), dt.time(10), "p", "c"), MONDAY_9)
    assert isinstance(out, Refused)
    assert out.code.name == "NOT_BOOKABLE"


def restored(e: Engine) -> Engine:
    """A new engine loaded from copies of `e`'s rows, as the server reads them back from the database at a
    restart: the two engines share no objects."""
    fresh = Engine(e.config)
    fresh.load(
        copy.deepcopy(sorted(e.tickets.values(), key=lambda t: t.key)),
        copy.deepcopy(list(e.windows.values())),
        copy.deepcopy(list(e.bookings.values())),
        copy.deepcopy(list(e.ratings.values())),
        copy.deepcopy(list(e.cases.values())),
    )
    return fresh


def test_restore_gives_the_same_queue() -> None:
    h = Hall()
    h.open(2, 3)
    for i in range(12):
        h.issue(["sb01", "zh01", "hj01"][i % 3], priority="elderly" if i % 5 == 0 else "")
    h.call(2)
    h.later(3)
    fresh = restored(h.e)
    for w in (1, 2, 3):
        assert [t.id for t in fresh.candidates(w, h.now)] == [t.id for t in h.e.candidates(w, h.now)]
    assert fresh.handle(c.IssueTicket("sb01", Source.DESK, "x"), h.now).ticket.label == "B005"  # type: ignore[union-attr]


def test_restore_keeps_prints_handle_times_bookings_and_cases() -> None:
    """What the first restore test does not reach: a kiosk ticket waiting for its print, handle times of
    finished tickets, a booking's slot, a 差评 case still open."""
    h = Hall()
    h.open(2)
    for _ in range(3):
        h.issue("sb01")
        h.call(2)
        h.later(7)
        h.serve(2)
    served = h.e.tickets[next(iter(h.e.tickets))]
    ok(h.do(c.Rate(served.id, 1)))
    pending = h.issue("sb01", Source.KIOSK)
    tomorrow = h.now.date() + dt.timedelta(days=1)
    ok(h.do(c.BookSlot("sb01", tomorrow, dt.time(10), "person", "BK1")))
    fresh = restored(h.e)
    # The three 7-minute cases moved series B's handle time off its prior, and the restore kept that.
    assert h.e.handle_times.mean("B") != Engine(h.e.config).handle_times.mean("B")
    assert fresh.handle_times.mean("B") == h.e.handle_times.mean("B")
    assert fresh.estimate_for("B", 4) == h.e.estimate_for("B", 4)
    assert fresh.slots("sb01", tomorrow) == h.e.slots("sb01", tomorrow)
    assert fresh.remaining_today("sb01", h.now) == h.e.remaining_today("sb01", h.now)
    assert isinstance(fresh.handle(c.ConfirmPrint(pending), h.now), Accepted)
    (case,) = fresh.cases
    assert isinstance(
        fresh.handle(c.CaseStepCommand(case, CaseAction.RESOLVE, "解释清楚", "m1"), h.now), Accepted
    )
    assert isinstance(fresh.handle(c.Rate(served.id, 5), h.now), Refused)  # one rating per case, still


def test_every_command_has_exactly_one_rule() -> None:
    """The dispatch table is where a reader goes from a command to its rule: every command type is in it, and
    nothing else is."""
    import typing

    from hallcore.engine import RULES

    assert set(RULES) == set(typing.get_args(c.Command))
    assert all(rule.__module__.startswith("hallcore.engine.") for rule in RULES.values())


def test_handle_needs_an_aware_time_and_a_command() -> None:
    e = Engine(small_hall())
    with pytest.raises(ValueError, match="timezone-aware"):
        e.handle(c.Tick(), MONDAY_9.replace(tzinfo=None))
    with pytest.raises(TypeError, match="not an engine command"):
        e.handle(object(), MONDAY_9)  # type: ignore[arg-type]


def test_which_window_may_act_on_a_ticket() -> None:
    # hallcore/scope.py, the core of least privilege (tests/security/test_scope.py drives it through HTTP).
    from hallcore import scope

    h = Hall()
    h.open(1, 2)
    a = h.issue("hj01")  # series A: window 1's, window 2's partner
    assert scope.served_series(h.e, 2) == frozenset({"B"})
    assert scope.served_series(h.e, 99) == frozenset()
    problem = scope.ticket_problem(h.e, 2, scope.CANCEL, a, h.now)
    assert problem is not None
    assert "window 2" in problem.en
    assert scope.ticket_problem(h.e, 1, scope.CANCEL, a, h.now) is None
    # Window 2 covers window 1 (A/B岗): now it serves A too, and may cancel A's tickets.
    ok(h.do(c.TakeOver(2, 1)))
    assert scope.served_series(h.e, 2) == frozenset({"A", "B"})
    assert scope.ticket_problem(h.e, 2, scope.CANCEL, a, h.now) is None
    ok(h.do(c.EndTakeOver(2, 1)))
    assert scope.ticket_problem(h.e, 2, scope.CANCEL, a, h.now) is not None
    # Rating and re-queueing belong to the window that served or called it, however the queues are shared.
    assert h.call(1)[0] == a
    h.serve(1)
    for action in (scope.RATE, scope.REQUEUE):
        assert scope.ticket_problem(h.e, 1, action, a, h.now) is None
        other = scope.ticket_problem(h.e, 2, action, a, h.now)
        assert other is not None
        assert "window 1" in other.en
    # An unknown ticket is not this module's to refuse: the command answers that it does not exist.
    assert scope.ticket_problem(h.e, 1, scope.CANCEL, "A999", h.now) is None
