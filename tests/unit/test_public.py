"""What a phone sees of an event (hallcore/public.py): the writer encodes each event once and cuts the public
copy from that encoding (`public_data`); it must be exactly `encode(public_event(event))`, for every kind of
event the engine makes, with every private field filled in."""

from __future__ import annotations

from typing import Any

from hallcore import commands as c
from hallcore.codec import encode
from hallcore.engine import Accepted, Engine
from hallcore.events import Event, TicketChanged, TicketIssued, event_data, event_text
from hallcore.model import Source
from hallcore.public import TICKET_HIDDEN, WINDOW_HIDDEN, public_data, public_event
from tests.fakes.halls import MONDAY_9, small_hall


def events_of_a_morning() -> list[Event]:
    """Issue (a 容缺 ticket with a name and a class), call, serve, pause, transfer with a reason, cancel."""
    e = Engine(small_hall())
    out: list[Event] = []

    def do(cmd: c.Command) -> None:
        got = e.handle(cmd, MONDAY_9)
        assert isinstance(got, Accepted), got
        out.extend(got.events)

    present = frozenset({"idcard"})  # the photo is tolerable: owed (容缺)
    do(c.IssueTicket("hj01", Source.DESK, "tok1", "elderly", {"resident": True}, present, "张三丰"))
    do(c.IssueTicket("sb01", Source.KIOSK, "tok2", holder_name="李四"))
    do(c.IssueTicket("sb01", Source.DESK, "tok3"))
    do(c.OpenWindow(3, "clerk3"))
    do(c.CallNext(3))
    do(c.StartServing(3))
    do(c.Transfer(3, to_series="B", reason="材料需核对"))
    do(c.CallNext(3))
    do(c.StartServing(3))
    do(c.Finish(3))
    do(c.PauseWindow(3, "休息"))
    do(c.CancelTicket(next(t.id for t in e.tickets.values() if t.token == "tok3"), "重复取号"))
    return out


def test_the_public_copy_cut_from_the_encoding_is_the_public_events_encoding() -> None:
    events = events_of_a_morning()
    kinds = {type(ev) for ev in events}
    assert {TicketIssued, TicketChanged} <= kinds
    private_seen = 0
    for ev in events:
        data = event_data(ev, 7)
        cut = public_data(data)
        assert cut == event_data(public_event(ev), 7), ev
        assert event_text(data) == event_text(event_data(ev, 7))  # the full copy was not touched
        if isinstance(ev, (TicketIssued, TicketChanged)):
            full: dict[str, Any] = data["ticket"]
            private_seen += sum(full[k] != v for k, v in encode(TICKET_HIDDEN).items())
            assert all(cut["ticket"][k] == v for k, v in encode(TICKET_HIDDEN).items())
        if isinstance(ev, TicketChanged) and ev.window is not None:
            assert all(cut["window"][k] == v for k, v in encode(WINDOW_HIDDEN).items())
            assert cut["note"] == ""
    assert private_seen >= 4  # name, class, 容缺 items, due date, call reason: the test had something to hide
