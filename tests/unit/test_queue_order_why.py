"""One test per finding of issue 19's "Why", each seen in `hallq sim` or by hand on the first build.

They were written before the head-start model and failed on the first build's engine (aging past a limit went
ahead of every class, recall had no gap, re-queue was unlimited and dropped the class, a transfer to a closed
window was accepted, an A/B takeover left the absent window's named transfers behind, an early check-in went
ahead of walk-ins who came before it).
"""

from __future__ import annotations

import datetime as dt
import statistics

from hallcore import commands as c
from hallcore.engine import Accepted, Engine, Refused
from hallcore.model import Source, Ticket, TicketState
from tests.fakes.halls import MONDAY_9, small_hall


def ok(out: Accepted | Refused) -> Accepted:
    assert isinstance(out, Accepted), out
    return out


def no(out: Accepted | Refused, code: str) -> Refused:
    assert isinstance(out, Refused), f"accepted; expected a refusal {code!r}"
    assert out.code == code, out
    assert out.message
    assert out.message_en
    return out


class Day:
    def __init__(self) -> None:
        self.e = Engine(small_hall())
        self.now = MONDAY_9
        self.n = 0

    def do(self, cmd: c.Command) -> Accepted | Refused:
        return self.e.handle(cmd, self.now)

    def at(self, hour: int, minute: int = 0, second: int = 0) -> None:
        self.now = self.now.replace(hour=hour, minute=minute, second=second)

    def later(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)

    def issue(self, matter: str = "sb01", priority: str = "") -> Ticket:
        self.n += 1
        kw: dict[str, object] = {}
        if matter == "hj01":
            kw = {"answers": {"resident": True}, "present": frozenset({"idcard", "photo"})}
        out = ok(self.do(c.IssueTicket(matter, Source.DESK, f"t{self.n}", priority, **kw)))  # type: ignore[arg-type]
        assert out.ticket is not None
        return out.ticket

    def call(self, window: int) -> Ticket:
        out = ok(self.do(c.CallNext(window)))
        assert out.ticket is not None
        return out.ticket

    def no_show(self, window: int) -> None:
        """Recall as often as the hall asks, a minute apart (people walk slowly), then 过号."""
        for _ in range(self.e.config.no_show.max_recalls):
            self.later(60)
            ok(self.do(c.Recall(window)))
        self.later(60)
        ok(self.do(c.MarkNoShow(window)))


def test_priority_keeps_its_meaning_at_the_peak() -> None:
    """At the morning peak the first build called every normal ticket past the aging limit before any priority
    ticket, so priority tickets waited longer than the normal ones issued around them."""
    d = Day()
    d.at(9, 0)
    ok(d.do(c.OpenWindow(2, "clerk2")))
    issued: list[Ticket] = []
    elderly: Ticket | None = None
    waits: dict[str, float] = {}
    # One normal ticket a minute from 09:00 to 10:59 and one elderly at 10:00; the window takes one every
    # 2 minutes: the queue grows all morning, as at the peak.
    for minute in range(240):
        d.now = MONDAY_9 + dt.timedelta(minutes=minute)
        if minute < 120:
            issued.append(d.issue())
            if minute == 60:
                elderly = d.issue(priority="elderly")
        if minute % 2 == 0 and d.e.waiting_count("B"):
            t = d.call(2)
            waits[t.id] = (d.now - t.issued_at).total_seconds() / 60
            ok(d.do(c.StartServing(2)))
            ok(d.do(c.Finish(2)))
    assert elderly is not None
    around = [
        waits[t.id] for t in issued if abs((t.issued_at - elderly.issued_at).total_seconds()) <= 15 * 60
    ]
    assert waits[elderly.id] < statistics.fmean(around), (waits[elderly.id], statistics.fmean(around))
    # and by the head start alone: it waits for the normal tickets issued up to 20 minutes before it
    assert waits[elderly.id] <= 60 - 20 + 2


def test_recall_needs_a_minimum_gap() -> None:
    """Two taps of 重呼 and a 过号 within seconds were accepted: people walk slowly."""
    d = Day()
    ok(d.do(c.OpenWindow(2, "clerk2")))
    d.issue()
    d.call(2)
    d.later(5)
    no(d.do(c.Recall(2)), "recall_too_soon")
    d.later(30)
    ok(d.do(c.Recall(2)))
    d.later(10)
    no(d.do(c.Recall(2)), "recall_too_soon")
    d.later(30)
    ok(d.do(c.Recall(2)))
    d.later(1)
    no(d.do(c.MarkNoShow(2)), "recall_too_soon")
    d.later(30)
    ok(d.do(c.MarkNoShow(2)))


def test_requeue_is_limited_and_says_why() -> None:
    """10 of 10 re-queues of the same ticket were accepted."""
    d = Day()
    ok(d.do(c.OpenWindow(2, "clerk2")))
    t = d.issue()
    for _ in range(2):
        d.call(2)
        d.no_show(2)
        ok(d.do(c.RequeueNoShow(t.label)))
    d.call(2)
    d.no_show(2)
    out = no(d.do(c.RequeueNoShow(t.label)), "requeue_limit")
    assert "重新取号" in out.message
    assert out.detail["requeues"] == 2


def test_requeued_ticket_keeps_its_class() -> None:
    """A re-queued ticket joined as a normal one: the class was dropped."""
    d = Day()
    ok(d.do(c.OpenWindow(2, "clerk2")))
    t = d.issue(priority="elderly")
    d.call(2)
    d.no_show(2)
    ok(d.do(c.RequeueNoShow(t.label)))
    assert d.e.tickets[t.id].priority == "elderly"


def test_transfer_to_a_closed_window_is_refused_with_the_open_alternatives() -> None:
    """A transfer to a closed window was accepted: the citizen waited for a window nobody staffed."""
    d = Day()
    ok(d.do(c.OpenWindow(1, "clerk1")))
    ok(d.do(c.OpenWindow(3, "clerk3")))
    d.issue("hj01")
    d.call(1)
    out = no(d.do(c.Transfer(1, to_window=2)), "window_closed")
    assert out.detail["open_windows"] == [3]  # window 3 (综合) serves window 2's series B
    assert "3" in out.message


def test_takeover_carries_the_absent_windows_named_transfers() -> None:
    """A/B takeover left the tickets transferred by name to the absent window behind: the partner's
    call-next said nothing was waiting."""
    d = Day()
    ok(d.do(c.OpenWindow(1, "clerk1")))
    ok(d.do(c.OpenWindow(2, "clerk2")))
    first = d.issue("hj01")
    second = d.issue("hj01")
    d.call(1)
    ok(d.do(c.Transfer(1, to_window=2)))
    d.call(1)
    ok(d.do(c.Transfer(1, to_window=2)))
    ok(d.do(c.CloseWindow(2)))  # clerk 2 is called away; window 1 covers for them
    ok(d.do(c.TakeOver(1, 2)))
    assert d.call(1).id == first.id
    ok(d.do(c.StartServing(1)))
    ok(d.do(c.Finish(1)))
    ok(d.do(c.EndTakeOver(1, 2)))  # what is left goes back to window 2
    no(d.do(c.CallNext(1)), "nothing_waiting")
    ok(d.do(c.OpenWindow(2, "clerk2")))
    assert d.call(2).id == second.id


def test_early_check_in_waits_like_a_walk_in_until_its_slot() -> None:
    """A booking checked in at 09:30 for a 10:00 slot was called before a walk-in waiting since 09:10."""
    d = Day()
    ok(d.do(c.BookSlot("sb01", dt.date(2026, 11, 23), dt.time(10, 0), "p1", "BK1")))
    ok(d.do(c.BookSlot("sb01", dt.date(2026, 11, 23), dt.time(10, 0), "p2", "BK2")))
    d.at(9, 10)
    walk_in = d.issue()
    d.at(9, 30)
    booked = ok(d.do(c.CheckIn("BK1", "tb1"))).ticket
    assert booked is not None
    d.at(9, 35)
    other = ok(d.do(c.CheckIn("BK2", "tb2"))).ticket
    assert other is not None
    d.at(9, 36)
    ok(d.do(c.OpenWindow(2, "clerk2")))
    assert d.call(2).id == walk_in.id
    ok(d.do(c.StartServing(2)))
    ok(d.do(c.Finish(2)))
    late_walk_in = d.issue()  # 09:36
    # From its slot on, the booking's head start applies: it goes before the walk-in who came at 09:36.
    d.at(10, 0)
    called = d.call(2)
    assert called.id == booked.id
    assert called.call_reason is not None
    assert called.call_reason.text == "预约到时"
    assert d.e.tickets[late_walk_in.id].state is TicketState.WAITING
