"""The display's state machine without Qt: calls, recalls, zones, privacy, estimates, stale data, LED."""

from __future__ import annotations

import dataclasses
import datetime as dt

from display.controller import SERIES_PAGE_TICKS, DisplayController
from display.flow import Announce, DisplayFlow, Screen
from display.hallboard import STALE_LINE, Area, brightness_at, hall_board_areas
from drivers.codecs.hqp import Color
from hallclient.types import ConnectionState, EventItem, HallSnapshot, Heartbeat, Snapshot
from hallcore.clock import FakeClock
from hallcore.config import BrightnessStep, HallConfig, Led, Privacy, Window, Zone
from hallcore.events import TicketChanged, TicketIssued, TicketView, WindowView
from tests.fakes.halls import MONDAY_9, SHANGHAI, small_hall, ticket_view


def zoned_hall(show_names: bool = False) -> HallConfig:
    base = small_hall()
    windows = (
        Window(1, "户籍窗口", "gov", ("A",), led_address=1, zone="f1"),
        Window(2, "社保窗口", "gov", ("B",), led_address=2, zone="f1"),
        Window(3, "综合窗口", "gov", ("C",), led_address=3, zone="f2"),
    )
    return dataclasses.replace(
        base,
        windows=windows,
        zones=(Zone("f1", "一楼"), Zone("f2", "二楼", 2)),
        privacy=Privacy(show_names_on_boards=show_names),
    )


def ticket(label: str, window: int | None = None, holder: str = "") -> TicketView:
    return ticket_view(
        label,
        source="desk",
        window=window,
        window_name=f"{window}号窗口" if window else "",
        holder_masked=holder,
    )


def window_view(number: int, zone: str, current: str = "") -> WindowView:
    return WindowView(
        number, f"{number}号窗口", "open", zone, ("A",), current=current, current_state="called"
    )


def call(seq: int, label: str, window: int, zone: str, at: dt.datetime, action: str = "called") -> EventItem:
    ev = TicketChanged(
        at, action, ticket(label, window, holder="张*"), window_view(window, zone, label), {label[0]: 3}
    )
    return EventItem(seq, ev)


def make(zone: str = "", show_names: bool = False) -> tuple[DisplayFlow, FakeClock]:
    clock = FakeClock(MONDAY_9)
    flow = DisplayFlow(zoned_hall(show_names), clock, zone=zone, tz=SHANGHAI, recent_size=5)
    return flow, clock


def test_a_call_becomes_the_big_number_and_is_announced() -> None:
    flow, clock = make()
    assert flow.state().screen is Screen.STARTING
    out = flow.apply(call(1, "A001", 1, "f1", clock.now()))
    assert out == [Announce("A001", 1)]
    state = flow.state()
    assert state.screen is Screen.BOARD
    assert state.latest is not None
    assert (state.latest.label, state.latest.window, state.latest.window_name) == ("A001", 1, "1号窗口")
    assert state.latest.holder == ""  # the hall does not show names


def test_newest_first_and_a_recall_moves_the_ticket_back_to_the_top() -> None:
    flow, clock = make()
    for i, (label, w) in enumerate([("A001", 1), ("B001", 2), ("C001", 3)], start=1):
        flow.apply(call(i, label, w, "f1", clock.now()))
    out = flow.apply(call(4, "A001", 1, "f1", clock.now(), action="recalled"))
    assert out == [Announce("A001", 1, recall=True)]
    state = flow.state()
    assert state.latest is not None
    assert state.latest.recall
    assert [c.label for c in flow.calls()] == ["A001", "C001", "B001"]


def test_a_zone_display_ignores_calls_to_other_floors() -> None:
    flow, clock = make(zone="f2")
    assert flow.apply(call(1, "A001", 1, "f1", clock.now())) == []
    assert flow.apply(call(2, "C001", 3, "f2", clock.now())) == [Announce("C001", 3)]
    assert [c.label for c in flow.calls()] == ["C001"]
    state = flow.state()
    assert state.zone_name == "二楼"
    assert [s.prefix for s in state.series] == ["C"]  # only the series its windows serve


def test_masked_names_only_when_the_hall_shows_names() -> None:
    flow, clock = make(show_names=True)
    flow.apply(call(1, "A001", 1, "f1", clock.now()))
    state = flow.state()
    assert state.latest is not None
    assert state.latest.holder == "张*"


def test_an_old_call_is_shown_but_not_spoken(caplog: object) -> None:
    flow, clock = make()
    at = clock.now()
    clock.advance(flow.speak_max_age_s + 1)
    assert flow.apply(call(1, "A001", 1, "f1", at)) == []
    assert [c.label for c in flow.calls()] == ["A001"]


def test_the_board_goes_stale_when_the_server_is_gone_and_back_when_it_returns() -> None:
    flow, clock = make()
    flow.apply(Heartbeat(0))
    flow.connection_changed(ConnectionState.LIVE)
    flow.connection_changed(ConnectionState.RECONNECTING)
    clock.advance(flow.stale_after_s - 1)
    assert not flow.state().stale  # a short blip is not worth alarming anyone
    clock.advance(2)
    state = flow.state()
    assert state.stale
    assert state.stale_for_s >= flow.stale_after_s
    flow.connection_changed(ConnectionState.LIVE)
    assert not flow.state().stale
    flow.connection_changed(ConnectionState.OFFLINE)
    assert flow.state().stale  # the stream itself says it gave up


def test_snapshot_replaces_the_picture_and_keeps_the_zone() -> None:
    flow, clock = make(zone="f1")
    calls = [
        call(n, label, w, "", clock.now()).event
        for n, label, w in ((1, "B001", 2), (2, "A002", 1), (3, "C002", 3))
    ]
    snap = HallSnapshot(
        seq=9,
        at=clock.now(),
        windows=(),
        waiting={"A": 4, "B": 0},
        recent_calls=tuple(c for c in calls if isinstance(c, TicketChanged)),  # oldest first, as the server
    )
    assert flow.apply(Snapshot(9, snap)) == []  # a snapshot is history: nothing is read out
    assert [c.label for c in flow.calls()] == ["A002", "B001"]
    waiting = {s.prefix: s.waiting for s in flow.state().series}
    assert waiting == {"A": 4, "B": 0}


def test_estimate_is_the_last_range_scaled_to_the_queue_now() -> None:
    flow, clock = make()
    t = dataclasses.replace(ticket("A004"), state="waiting")
    flow.apply(EventItem(1, TicketIssued(clock.now(), t, 3, 10, 20, {"A": 4})))
    (a,) = [s for s in flow.state().series if s.prefix == "A"]
    assert (a.waiting, a.low_min, a.high_min) == (4, 13, 27)
    flow.apply(call(2, "A001", 1, "f1", clock.now()))  # waiting now 3 (from the event)
    (a,) = [s for s in flow.state().series if s.prefix == "A"]
    assert (a.waiting, a.low_min, a.high_min) == (3, 10, 20)
    (b,) = [s for s in flow.state().series if s.prefix == "B"]
    assert (b.waiting, b.low_min, b.high_min) == (0, 0, 0)


def test_hall_board_rows_newest_first_then_the_welcome_line() -> None:
    led = Led(hall_rows=3)
    areas = hall_board_areas(led, [("A002", 1), ("B001", 12)])
    assert areas == {
        1: Area("请A002号到1号窗口", Color.RED),
        2: Area("请B001号到12号窗口", Color.GREEN),
        3: Area(""),
        4: Area("欢迎光临", Color.AMBER),
    }
    stale = hall_board_areas(led, [("A002", 1)], stale=True)
    assert [stale[i].text for i in (1, 2, 3)] == ["", "", ""]
    assert stale[4].text == STALE_LINE


def test_brightness_follows_the_time_of_day() -> None:
    steps = (
        BrightnessStep(dt.time(8), 12),
        BrightnessStep(dt.time(12), 15),
        BrightnessStep(dt.time(17), 8),
    )
    assert brightness_at(steps, dt.time(7, 59)) == 8  # the night keeps the evening level
    assert brightness_at(steps, dt.time(8)) == 12
    assert brightness_at(steps, dt.time(13)) == 15
    assert brightness_at(steps, dt.time(23)) == 8
    assert brightness_at((), dt.time(9)) is None


def test_the_controller_turns_the_series_page_every_ten_seconds_and_redraws_each_tick() -> None:
    flow = DisplayFlow(small_hall(), FakeClock(MONDAY_9), tz=SHANGHAI)
    drawn: list[int] = []
    controller = DisplayController(flow, led=flow.config.led)  # Qt-free: no app, no loop needed
    controller.on_change = lambda: drawn.append(controller.state.series_page)
    for _ in range(SERIES_PAGE_TICKS * 2):
        controller.tick()
    assert drawn == [0] * (SERIES_PAGE_TICKS - 1) + [1] * SERIES_PAGE_TICKS + [2]
